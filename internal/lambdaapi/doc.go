// Package lambdaapi holds the facts of the AWS Lambda Invoke API that the
// client (package lambdafan), the emulator and the Step Functions runner
// must agree on, so that each is written once: the operations' paths and
// signing name, header names and values, payload limits, the shapes of
// error documents and request IDs, and the forms of a FunctionName.
//
// It states the API; it holds no client or server logic and no state.
// Each fact cites where it comes from:
//
//   - the Invoke and InvokeWithResponseStream API references,
//     https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html and
//     https://docs.aws.amazon.com/lambda/latest/api/API_InvokeWithResponseStream.html;
//   - the Lambda service model every AWS SDK is generated from
//     (botocore/data/lambda/2015-03-31/service-2.json, aws-sdk-go-v2
//     service/lambda), cited as "the API model";
//   - Lambda's quotas, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html;
//   - captures of real answers, cited by the issue that shows them, where
//     the references say nothing (header spelling, body members).
package lambdaapi
