// Package lambdafan invokes AWS Lambda functions en masse: thousands to
// millions of Invoke calls, concurrently, each signed with SigV4, with results
// streamed back as they finish.
//
// A [Client] sends [Request] values to the Lambda Invoke API
// (POST /2015-03-31/functions/{name}/invocations) over one pooled net/http
// client sized to the configured concurrency. Every request produces exactly
// one [Result]: invalid requests, throttles, service errors and function
// errors are all reported in the Result rather than aborting the run.
//
// The three entry points are:
//
//   - [Client.Invoke] for a single request;
//   - [Client.InvokeAll] for a slice, returning results in input order;
//   - [Client.Stream] for a lazily consumed sequence of requests, yielding
//     results in completion order with memory bounded by the concurrency,
//     not by the number of requests.
//
// A request with ResponseStream set goes to InvokeWithResponseStream
// (POST /2021-11-15/functions/{name}/response-streaming-invocations)
// instead, for functions that stream responses of up to 200 MB: its
// Result collects the stream, or its PayloadWriter takes it chunk by
// chunk; [Client.InvokeStream] reads one stream as it arrives.
//
// Signing uses the AWS SDK for Go v2 SigV4 signer, credentials come from the
// SDK's default credential chain (environment, shared profiles, SSO, web
// identity, IMDS/ECS), and endpoints come from the Lambda service's own
// endpoint rules, so every partition (aws, aws-cn, aws-us-gov, …) and the
// FIPS and dual-stack variants work as they do in the SDK.
package lambdafan
