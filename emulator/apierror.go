package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// apiError is an error answer of the Invoke API in Lambda's rest-json wire
// format: the error code in the x-amzn-ErrorType header and a body
// {"Type": "User"|"Service", "message": …} (plus "Reason" for throttles).
type apiError struct {
	status     int
	code       string // x-amzn-ErrorType, e.g. "ResourceNotFoundException"
	kind       string // body "Type": "User" for client faults, "Service" for server faults
	message    string
	reason     string        // TooManyRequestsException only
	retryAfter time.Duration // Retry-After header, whole seconds; 0 sends none
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func userError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, kind: "User", message: fmt.Sprintf(format, args...)}
}

func (e *apiError) write(w http.ResponseWriter, requestID string) {
	body, _ := json.Marshal(struct {
		Reason  string `json:"Reason,omitempty"`
		Type    string `json:"Type"`
		Message string `json:"message"`
	}{e.reason, e.kind, e.message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amzn-Requestid", requestID)
	h.Set("X-Amzn-Errortype", e.code)
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}

// Errors of the Invoke API the emulator produces.
func errFunctionNotFound(arn string) *apiError {
	return userError(http.StatusNotFound, "ResourceNotFoundException", "Function not found: %s", arn)
}

func errThrottled(reason string) *apiError {
	e := userError(http.StatusTooManyRequests, "TooManyRequestsException", "Rate Exceeded.")
	e.reason = reason
	return e
}

func errTooLarge(limit int) *apiError {
	return userError(http.StatusRequestEntityTooLarge, "RequestTooLargeException",
		"Request must be smaller than %d bytes for the InvokeFunction operation", limit)
}

func errInvalidParameter(format string, args ...any) *apiError {
	return userError(http.StatusBadRequest, "InvalidParameterValueException", format, args...)
}

func errServiceException(message string) *apiError {
	return &apiError{status: http.StatusInternalServerError, code: "ServiceException", kind: "Service", message: message}
}
