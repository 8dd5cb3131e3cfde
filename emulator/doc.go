// Package emulator is a local, Lambda-compatible Invoke API endpoint: the
// target lambdafan uses for --local runs and `lambdafan serve`, and an
// in-process test server for users' own tests.
//
// A [Server] implements POST /2015-03-31/functions/{name}/invocations with
// the real API's wire format — status codes, X-Amz-Function-Error,
// X-Amz-Executed-Version, x-amzn-RequestId, x-amzn-ErrorType and the
// error bodies real Lambda sends — so any AWS SDK or the AWS CLI can
// be pointed at it with an endpoint URL. It verifies SigV4 signatures,
// enforces reserved and account concurrency with real 429
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
// The package never imports the lambdafan client.
package emulator
