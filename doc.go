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
// # Configuring AWS
//
// There is one way: [Config.AWS], an aws.Config as the SDK's own clients
// take it (lambda.NewFromConfig). It supplies the credentials, the default
// region, any CA bundle and the endpoint settings; [New] only reads it, so
// it does no I/O and needs no context. [NewDefault] is the convenience for
// the common case: it loads the SDK's default configuration
// (config.LoadDefaultConfig, with any of its options) and calls New.
// Overlapping fields (a profile, a region, a credentials provider next to
// the aws.Config) were dropped so that no two settings can disagree; each
// is an option of config.LoadDefaultConfig or a field of aws.Config:
//
//   - the default chain (environment, shared profiles, SSO, web identity,
//     container and instance roles): NewDefault(ctx, cfg);
//   - a profile: NewDefault(ctx, cfg, config.WithSharedConfigProfile("p"));
//   - static credentials: New with Config.AWS = aws.Config{Region: …,
//     Credentials: credentials.NewStaticCredentialsProvider(…)};
//   - a custom endpoint (an emulator, a VPC endpoint): Config.EndpointURL,
//     or AWS.BaseEndpoint / AWS_ENDPOINT_URL_LAMBDA as the SDK reads them.
//
// Signing uses the AWS SDK for Go v2 SigV4 signer, and endpoints come from
// the Lambda service's own endpoint rules, so every partition (aws, aws-cn,
// aws-us-gov, …) and the FIPS and dual-stack variants work as they do in
// the SDK.
package lambdafan
