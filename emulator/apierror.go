package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// apiError is an error answer of the Invoke API in Lambda's rest-json wire
// format: the error code in the x-amzn-ErrorType header and a JSON body
// whose exact shape depends on which layer of Lambda answers, so each
// error carries its own:
//
//   - errors of the Lambda service itself are {"Type": "User"|"Service",
//     "message"|"Message": …}, the message member spelled the way the
//     Lambda API model spells it for that error (lower case for most,
//     "Message" for ResourceNotFoundException, ServiceException and the
//     EC2 errors — botocore service-2.json; real 404 bodies
//     {"Type":"User","Message":"Function not found: …"} in
//     aarondfrancis/sidecar#23 and #154), plus "Reason" for throttles
//     ({"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded",
//     "Type":"User","message":"Rate Exceeded."} as captured in Arc XP's
//     documentation);
//   - errors of AWS's request front end (signature checks, the 6 MB
//     request limit) carry no "Type": {"message": …} — a real 403
//     InvalidSignatureException from Lambda is exactly
//     {"message":"The request signature we calculated … for details."}
//     (192 bytes, erlcloud/erlcloud#690).
type apiError struct {
	status int
	code   string // x-amzn-ErrorType, e.g. "ResourceNotFoundException"
	// kind is the body's "Type": "User" for client faults, "Service" for
	// server faults, "" to leave it out.
	kind    string
	message string
	// capitalMessage spells the message member "Message" instead of
	// "message".
	capitalMessage bool
	reason         string        // TooManyRequestsException only
	retryAfter     time.Duration // Retry-After header, whole seconds; 0 sends none
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func userError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, kind: lambdaapi.ErrorKindUser, message: fmt.Sprintf(format, args...)}
}

// frontEndError is an error answered before the request reaches Lambda
// itself: its body has only a message.
func frontEndError(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

// body renders the JSON body, members in the order real answers show them.
func (e *apiError) body() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	if e.reason != "" {
		b.WriteString(`"Reason":`)
		writeJSONString(&b, e.reason)
		b.WriteByte(',')
	}
	if e.kind != "" {
		b.WriteString(`"Type":`)
		writeJSONString(&b, e.kind)
		b.WriteByte(',')
	}
	if e.capitalMessage {
		b.WriteString(`"Message":`)
	} else {
		b.WriteString(`"message":`)
	}
	writeJSONString(&b, e.message)
	b.WriteByte('}')
	return b.Bytes()
}

// writeJSONString writes s as a JSON string without escaping <, > and &,
// as AWS does not.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode appends a newline
}

func (e *apiError) write(w http.ResponseWriter, requestID string) {
	body := e.body()
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	h[lambdaapi.HeaderRequestID] = []string{requestID}
	h[lambdaapi.HeaderErrorType] = []string{e.code}
	if e.retryAfter > 0 {
		h[lambdaapi.HeaderRetryAfter] = []string{strconv.Itoa(int((e.retryAfter + time.Second - 1) / time.Second))}
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// contentTypeJSON is the Content-Type of every answer with a body; shared,
// never modified.
var contentTypeJSON = []string{"application/json"}

// Errors of the Invoke API the emulator produces.

func errFunctionNotFound(arn string) *apiError {
	e := userError(http.StatusNotFound, "ResourceNotFoundException", "Function not found: %s", arn)
	e.capitalMessage = true
	return e
}

// errRegionMismatch answers a call naming a function by an ARN of another
// region than the endpoint's: 404 "Functions from 'eu-west-1' are not
// reachable in this region ('us-east-1')" (Fraudmarc/fraudmarc-ce#21,
// alexcasalboni/aws-lambda-power-tuning#18).
func errRegionMismatch(arnRegion, region string) *apiError {
	e := userError(http.StatusNotFound, "ResourceNotFoundException",
		"Functions from '%s' are not reachable in this region ('%s')", arnRegion, region)
	e.capitalMessage = true
	return e
}

// errThrottled is Lambda's 429. Concurrency throttles say "Rate
// Exceeded." (Arc XP capture, bcongdon/corral#11); the caller rate limit
// says "Rate exceeded" (raw body in fyoorer/ShadowClone#46).
func errThrottled(reason string) *apiError {
	msg := "Rate Exceeded."
	if reason == "CallerRateLimitExceeded" {
		msg = "Rate exceeded"
	}
	e := userError(http.StatusTooManyRequests, "TooManyRequestsException", "%s", msg)
	e.reason = reason
	return e
}

// errBusy answers a request the emulator has no room for — its
// request-bytes budget or its Event queue is full — the way Lambda
// throttles a caller: 429 TooManyRequestsException with Reason
// CallerRateLimitExceeded, the answer real Lambda gives Event invocations
// sent faster than it takes them (raw body in fyoorer/ShadowClone#46,
// whose client, Lithops, invokes with InvocationType Event). A 429 tells
// every SDK and lambdafan that nothing ran and the call may be retried
// after a backoff, where a 503 would leave a synchronous caller unsure.
func errBusy() *apiError {
	return errThrottled("CallerRateLimitExceeded")
}

// errAccessDenied answers a call naming a function of another account:
// the caller's credentials are the emulator account's, and no other
// account's function has a resource-based policy granting them anything.
// Lambda answers 403 AccessDeniedException with this message whether or
// not the function exists (a captured `aws lambda invoke` of a
// nonexistent function of another account reads "User:
// arn:aws:iam::…:user/… is not authorized to perform:
// lambda:InvokeFunction on resource:
// arn:aws:lambda:us-east-1:123456789012:function:nonexistent-function
// because no resource-based policy allows the lambda:InvokeFunction
// action"; the same suffix in awslabs/aws-automated-incident-response-and-forensics#13),
// with a body of just {"Message": …} (the raw 403 body in
// danilop/LambdAuth#37). The caller is the account's root user: the
// emulator has one key pair and no IAM users.
func errAccessDenied(partition, account, action, resource string) *apiError {
	e := frontEndError(http.StatusForbidden, "AccessDeniedException",
		"User: arn:"+partition+":iam::"+account+":root is not authorized to perform: "+action+
			" on resource: "+resource+" because no resource-based policy allows the "+action+" action")
	e.capitalMessage = true
	return e
}

// errSyncTooLarge answers a request body over the synchronous limit. Lambda
// answers RequestEntityTooLargeException, not the RequestTooLargeException
// its API model declares (aws/aws-sdk-go#3080, aws/aws-sdk#45,
// awslabs/aws-athena-query-federation#793), with a body of just
// {"Message": …} (a captured 413 from Lambda's front end), so SDKs decode
// it as a generic API error with that code.
func errSyncTooLarge() *apiError {
	e := frontEndError(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
		"Request must be smaller than "+strconv.Itoa(MaxSyncPayloadBytes)+" bytes for the InvokeFunction operation")
	e.capitalMessage = true
	return e
}

// errEventTooLarge answers an Event payload over the asynchronous limit:
// "264496 byte payload is too large for the Event invocation type (limit
// 262144 bytes)" with code RequestEntityTooLargeException (ASFHyP3/hyp3#2241,
// faultline/faultline#12), here with today's 1 MB limit. Its body shape is
// not captured anywhere we found; it mirrors the synchronous one.
func errEventTooLarge(size int) *apiError {
	e := frontEndError(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
		fmt.Sprintf("%d byte payload is too large for the Event invocation type (limit %d bytes)", size, MaxAsyncPayloadBytes))
	e.capitalMessage = true
	return e
}

// errValidation is AWS's front-end answer to a parameter outside the API
// model's constraints, e.g. "1 validation error detected: Value 'dry_run'
// at 'invocationType' failed to satisfy constraint: Member must satisfy
// enum value set: [DryRun, RequestResponse, Event]" (ex-aws/ex_aws#442;
// for functionName: gabehollombe-aws/step-functions-workshop#27).
func errValidation(value, member, constraint string) *apiError {
	return frontEndError(http.StatusBadRequest, "ValidationException",
		"1 validation error detected: Value '"+value+"' at '"+member+"' failed to satisfy constraint: "+constraint)
}

func errInvalidParameter(format string, args ...any) *apiError {
	return userError(http.StatusBadRequest, "InvalidParameterValueException", format, args...)
}

func errInvalidRequestContent(message string) *apiError {
	return userError(http.StatusBadRequest, "InvalidRequestContentException", "%s", message)
}

// errServiceException is Lambda's 500; its message is the one Lambda
// sends (mentum/lambdaws#49).
func errServiceException() *apiError {
	return &apiError{status: http.StatusInternalServerError, code: "ServiceException", kind: lambdaapi.ErrorKindService,
		message: "An error occurred and the request cannot be processed.", capitalMessage: true}
}
