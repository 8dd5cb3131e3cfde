package lambdafan

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
)

// RequestError reports a request that was rejected before it was sent
// because one of its fields is invalid. Nothing was invoked.
type RequestError struct {
	// Field names the offending Request field, using the JSON Lines input
	// names ("function_name", "invocation_type", "payload", …). It is
	// empty when no one field is at fault (an input line that is not a
	// request object).
	Field string
	// Err says what is wrong with it.
	Err error
}

// Error says which field is invalid and why.
func (e *RequestError) Error() string { return fmt.Sprintf("invalid %s: %v", e.Field, e.Err) }

// Unwrap returns the underlying cause.
func (e *RequestError) Unwrap() error { return e.Err }

// invalid builds a RequestError with a formatted message.
func invalid(field, format string, args ...any) *RequestError {
	return &RequestError{Field: field, Err: fmt.Errorf(format, args...)}
}

// InvokeError is an error answer of the Lambda Invoke API: the request
// reached Lambda and Lambda refused or failed it (HTTP status ≥ 300).
type InvokeError struct {
	// StatusCode is the HTTP status, e.g. 404 or 429.
	StatusCode int
	// Type is the AWS error type, e.g. "ResourceNotFoundException" or
	// "TooManyRequestsException", from the x-amzn-ErrorType header or the
	// error body. It is "UnknownError" when the response named none.
	Type string
	// Message is the service's error message.
	Message string
	// Reason is the throttling reason of a TooManyRequestsException, e.g.
	// "ReservedFunctionConcurrentInvocationLimitExceeded"; empty otherwise.
	Reason string
	// RequestID is the x-amzn-RequestId of the failed attempt.
	RequestID string
	// RetryAfter is the wait the service asked for in its Retry-After
	// header; zero when it asked for none. lambdafan honours it up to
	// [Config.MaxBackoff].
	RetryAfter time.Duration
}

// Error gives the AWS error type, the HTTP status, the throttle reason and
// the service's message.
func (e *InvokeError) Error() string {
	msg := fmt.Sprintf("%s (HTTP %d)", e.Type, e.StatusCode)
	if e.Reason != "" {
		msg += " " + e.Reason
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Throttled reports whether the error is a throttle (HTTP 429), which Lambda
// returns before running the function.
func (e *InvokeError) Throttled() bool { return e.StatusCode == 429 }

// throttled reports whether err is a throttle.
func throttled(err error) bool {
	var ie *InvokeError
	return errors.As(err, &ie) && ie.Throttled()
}

// FunctionError reports that the function ran and failed: Lambda answered
// 200 with an X-Amz-Function-Error header and an error document as payload,
// or, for a response stream, ended the stream with an InvokeComplete event
// naming an error (its Kind is then "Unhandled", as Invoke would say).
type FunctionError struct {
	// Kind is the X-Amz-Function-Error header: "Unhandled" or "Handled".
	Kind string
	// ErrorType and ErrorMessage come from the error document
	// ({"errorType": …, "errorMessage": …}) when the payload holds one.
	// For a response stream, ErrorType is the InvokeComplete event's
	// ErrorCode.
	ErrorType    string
	ErrorMessage string
	// Details is the error document as Lambda returned it: the payload of
	// an Invoke, the InvokeComplete event's ErrorDetails of a response
	// stream (whose payload holds what the function streamed before it
	// failed).
	Details []byte
}

// Error gives the X-Amz-Function-Error kind and the function's error type
// and message.
func (e *FunctionError) Error() string {
	msg := "function error (" + e.Kind + ")"
	if e.ErrorType != "" {
		msg += " " + e.ErrorType
	}
	if e.ErrorMessage != "" {
		msg += ": " + e.ErrorMessage
	}
	return msg
}

// TransportError reports an attempt that got no usable HTTP response: the
// connection could not be made, broke, or timed out, or the response body
// could not be read whole ([ErrResponseTooLarge] among others).
type TransportError struct {
	// Sent reports whether the whole request had been written before the
	// failure. When true the function may have run.
	Sent bool
	// Err is the underlying error from net/http.
	Err error
}

// Error says whether the request was sent and what broke.
func (e *TransportError) Error() string {
	if e.Sent {
		return fmt.Sprintf("no response after the request was sent: %v", e.Err)
	}
	return fmt.Sprintf("request not sent: %v", e.Err)
}

// Unwrap returns the underlying cause.
func (e *TransportError) Unwrap() error { return e.Err }

// ErrCredentials reports that no usable AWS credentials could be obtained,
// or that Lambda refused them (after one refresh) as expired or unknown, or
// refused the signatures made with them (a wrong secret key, a clock
// more than five minutes off).
// Results carrying it did not run the function; a Stream that meets it
// stops pulling requests.
var ErrCredentials = errors.New("AWS credentials unusable")

// CredentialsError reports that the credential provider could not supply
// credentials. A provider's message may quote secrets (a credential_process
// helper's output holds the secret key and session token, and the SDK's
// error for output it cannot parse quotes it whole), so Error gives a fixed
// message, naming the kind of provider when it can tell, instead. The
// provider's error stays reachable: errors.Is and errors.As see both
// [ErrCredentials] and Err.
//
// Results carry it in Err when an attempt could not get credentials; a
// program that fetches credentials itself can wrap the provider's error in
// one to report it the same way.
type CredentialsError struct {
	// Err is the provider's error. Its text may contain secrets: do not
	// print or log it.
	Err error
}

// Error says that the credentials are unusable and which kind of provider
// failed, never what the provider said; except that a cancellation or a
// timeout, whose text is fixed, is named.
func (e *CredentialsError) Error() string {
	what := "the credential provider failed"
	var (
		process *processcreds.ProviderError
		sso     *ssocreds.InvalidTokenError
	)
	switch {
	case errors.As(e.Err, &process):
		what = "the credential_process command failed or printed unusable credentials"
	case errors.As(e.Err, &sso):
		what = "the SSO session has expired or is invalid (aws sso login renews it)"
	}
	msg := ErrCredentials.Error() + ": " + what + " (its message is withheld: it may contain secrets)"
	switch {
	case errors.Is(e.Err, context.Canceled):
		msg += ": " + context.Canceled.Error()
	case errors.Is(e.Err, context.DeadlineExceeded):
		msg += ": " + context.DeadlineExceeded.Error()
	}
	return msg
}

// Unwrap returns ErrCredentials and the provider's error.
func (e *CredentialsError) Unwrap() []error { return []error{ErrCredentials, e.Err} }

// ErrResponseTooLarge reports a response body longer than Lambda ever
// sends: its 6 MB response limit plus 64 KiB for an error envelope
// (6,356,992 bytes). The body is discarded, not truncated. It comes
// wrapped in a *[TransportError] with Sent set, because the function may
// have run (no usable answer came back after the request was sent), and
// [ClassifyRetry] never retries it: the function would run again and most
// likely answer the same way.
var ErrResponseTooLarge = errors.New("response body larger than Lambda's limit of 6,356,992 bytes")
