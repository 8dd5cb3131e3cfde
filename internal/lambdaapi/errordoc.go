package lambdaapi

import "encoding/json"

// FunctionErrorDocument is the JSON error document of a failed
// invocation, which a runtime posts to the Runtime API and Lambda returns
// as the payload of an answer with HeaderFunctionError, or as the
// ErrorDetails of a response stream's InvokeComplete event:
// {"errorMessage": …, "errorType": …}, possibly with more members
// ("stackTrace", "trace") that this type ignores. The member names are
// those of the runtime interface clients (aws-lambda-go's
// InvokeResponse_Error, aws-lambda-nodejs-runtime-interface-client).
type FunctionErrorDocument struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// ErrorDocument returns the error document of errorType and message:
// {"errorMessage": message, "errorType": errorType}, in that order.
func ErrorDocument(errorType, message string) []byte {
	b, _ := json.Marshal(FunctionErrorDocument{ErrorMessage: message, ErrorType: errorType})
	return b
}

// Values of the "Type" member of the JSON body of an error answer of the
// Lambda service ({"Type": "User", "message": …}; a throttle adds
// "Reason"): which side is at fault (real bodies in
// fyoorer/ShadowClone#46, aarondfrancis/sidecar#23). Errors of AWS's
// request front end (signature checks, the request size limit) have no
// "Type", only a message.
const (
	ErrorKindUser    = "User"
	ErrorKindService = "Service"
)
