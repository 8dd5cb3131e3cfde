// Package emulator is a local, Lambda-compatible API endpoint: the target
// lambdafan uses for --local runs and `lambdafan serve`, and an
// in-process test server for users' own tests.
//
// A [Server] implements Invoke (POST /2015-03-31/functions/{name}/invocations)
// with the real API's wire format — status codes, X-Amz-Function-Error,
// X-Amz-Executed-Version, x-amzn-RequestId, x-amzn-ErrorType and the
// error bodies real Lambda sends — so any AWS SDK or the AWS CLI can
// be pointed at it with an endpoint URL. It also answers the read-only
// calls test suites make around invocations: GetFunction,
// GetFunctionConfiguration, ListFunctions, ListAliases and
// GetAccountSettings, in Lambda's JSON shapes. It verifies SigV4
// signatures, enforces reserved and account concurrency with real 429
// TooManyRequestsException answers, runs Event invocations asynchronously
// with Lambda's retries, and can inject faults (throttles, 5xx, connection
// resets, latency) for testing clients. It serves InvokeWithResponseStream
// (POST /2021-11-15/functions/{name}/response-streaming-invocations) too,
// answering with an AWS event stream of the response as the function
// streams it ([Invocation].Stream).
//
// Functions run either as Go code registered directly ([HandlerFunc]) or
// as real executables speaking the Lambda Runtime API. Package
// [github.com/lambdafan/lambdafan/emulator/functionsfile] reads function
// definitions from the YAML file `lambdafan serve --functions` takes, and
// package [github.com/lambdafan/lambdafan/emulator/emulatortest] serves an
// emulator for a test.
//
// # Requests
//
// Every request is authenticated before anything else is looked at, its
// operation and its body included: a request without a valid signature
// gets AWS's 403 (MissingAuthenticationTokenException,
// IncompleteSignatureException, InvalidSignatureException,
// UnrecognizedClientException) whatever its path, and its body is not
// read unless its signature headers passed every check that needs no
// body (access key, date, credential scope). Every x-amz-* header a
// request carries must be signed, as every AWS SDK signs them. The
// credential scope's region must be well formed (like us-east-1); any
// such region is served, Lambda's or not, and is the region of the ARNs
// the server reports and of [Invocation.Region]. A function named by an
// ARN of another account is refused with Lambda's 403
// AccessDeniedException.
//
// # Limits
//
// What the server holds in memory is bounded. Request bodies held at once
// are capped by [Config.MaxRequestBytes]; accepted Event invocations not
// yet finished by [Config.MaxQueuedEvents] and
// [Config.MaxQueuedEventBytes]. A call beyond either is answered as Lambda
// throttles a caller: 429 TooManyRequestsException with Reason
// CallerRateLimitExceeded, which tells a client nothing ran and the call
// may be retried. Bodies are limited to Lambda's 6 MB (1 MB for Event
// invocations).
//
// A Server has no timeouts of its own for reading requests: serve it with
// an http.Server that has ReadHeaderTimeout, ReadTimeout and IdleTimeout,
// as `lambdafan serve` does, and no WriteTimeout, which net/http counts
// from the end of a request's headers and would cut a synchronous
// invocation running up to [MaxTimeout].
//
// The package never imports the lambdafan client.
package emulator
