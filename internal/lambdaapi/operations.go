package lambdaapi

// SigningName is the service name Lambda's SigV4 signatures are scoped to
// (the API model's signingName).
const SigningName = "lambda"

// The paths of the API's function resources (the API model's requestUri
// of each operation). A function's path is FunctionsPath + "/" + its
// FunctionName, escaped as one path segment ([EscapePathSegment]);
// operations on it add a segment.
const (
	// FunctionsPath is the collection of functions of API version
	// 2015-03-31: ListFunctions is GET FunctionsPath, Invoke is POST
	// FunctionsPath/{FunctionName}/InvocationsSegment.
	FunctionsPath = "/2015-03-31/functions"
	// InvocationsSegment ends Invoke's path.
	InvocationsSegment = "invocations"
	// StreamFunctionsPath is the collection of functions of API version
	// 2021-11-15, that of InvokeWithResponseStream: POST
	// StreamFunctionsPath/{FunctionName}/StreamInvocationsSegment.
	StreamFunctionsPath = "/2021-11-15/functions"
	// StreamInvocationsSegment ends InvokeWithResponseStream's path.
	StreamInvocationsSegment = "response-streaming-invocations"
	// QualifierParam is the query parameter naming a version or alias.
	QualifierParam = "Qualifier"
)

// InvokePath returns Invoke's path for an already escaped FunctionName.
func InvokePath(escapedName string) string {
	return FunctionsPath + "/" + escapedName + "/" + InvocationsSegment
}
