package lambdaapi

// Header names of Invoke and InvokeWithResponseStream, in the canonical
// form net/http uses as map keys (textproto.CanonicalMIMEHeaderKey), so
// that a header map can be read and written with them directly. Header
// names are case-insensitive on the wire.
const (
	// HeaderInvocationType is the request's InvocationType
	// (InvocationRequestResponse, InvocationEvent, InvocationDryRun).
	HeaderInvocationType = "X-Amz-Invocation-Type"
	// HeaderLogType is the request's LogType (LogTypeNone, LogTypeTail);
	// it applies to synchronous invocations only.
	HeaderLogType = "X-Amz-Log-Type"
	// HeaderClientContext is the request's ClientContext, base64-encoded
	// JSON of at most MaxClientContextBytes.
	HeaderClientContext = "X-Amz-Client-Context"
	// HeaderFunctionError is set on a 200 answer when the function failed
	// (FunctionErrorUnhandled or FunctionErrorHandled); the body is then
	// an error document ([FunctionErrorDocument]). "The status code in
	// the API response doesn't reflect function errors."
	HeaderFunctionError = "X-Amz-Function-Error"
	// HeaderLogResult is the last LogTailBytes of the execution log,
	// base64-encoded, when the request asked for LogTypeTail.
	HeaderLogResult = "X-Amz-Log-Result"
	// HeaderExecutedVersion is the version of the function that ran, e.g.
	// "$LATEST" or "3".
	HeaderExecutedVersion = "X-Amz-Executed-Version"
	// HeaderRequestID is x-amzn-RequestId, the request ID of every
	// answer, success or error (rest-json protocol; captures in
	// boto/boto3#3843 and erlcloud/erlcloud#690).
	HeaderRequestID = "X-Amzn-Requestid"
	// HeaderErrorType is x-amzn-ErrorType, the error code of an error
	// answer, e.g. "TooManyRequestsException" (rest-json protocol). It
	// may carry a ":namespace" suffix.
	HeaderErrorType = "X-Amzn-Errortype"
	// HeaderRetryAfter is the wait, in seconds, a TooManyRequestsException
	// asks for (the API model's retryAfterSeconds member).
	HeaderRetryAfter = "Retry-After"
)

// Values of HeaderInvocationType, the API model's InvocationType enum.
// RequestResponse is the default when the header is absent.
const (
	InvocationRequestResponse = "RequestResponse"
	InvocationEvent           = "Event"
	InvocationDryRun          = "DryRun"
)

// Values of HeaderLogType, the API model's LogType enum. None is the
// default when the header is absent.
const (
	LogTypeNone = "None"
	LogTypeTail = "Tail"
)

// Values of HeaderFunctionError. Unhandled: "The runtime didn't handle
// the error. For example, the function ran out of memory or timed out."
// Handled: "The runtime caught an error thrown by the function and
// formatted it into a JSON document." Today's runtimes report every
// function error as Unhandled (real answers in erlcloud/erlcloud#690 and
// boto3 captures).
const (
	FunctionErrorUnhandled = "Unhandled"
	FunctionErrorHandled   = "Handled"
)
