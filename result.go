package lambdafan

import (
	"context"
	"errors"
	"time"
)

// Result is the outcome of one [Request]. Every request produces exactly
// one Result, whether it succeeded, was rejected before sending, or failed.
type Result struct {
	// Index is the request's position in the input, counting from 0. It
	// is -1 in a Result the Client did not make: one a program builds
	// for a request it never passed to the Client (an input line that is
	// not a request, say), so that every request has its Result.
	Index int
	// ID is the Request's ID, unchanged.
	ID string
	// FunctionName is the Request's function name, unchanged.
	FunctionName string
	// Region is the region the request was sent to; empty when the request
	// was rejected before a region could be chosen.
	Region string
	// InvocationType is the invocation type used.
	InvocationType InvocationType

	// StatusCode is the HTTP status of the last attempt: 200
	// (RequestResponse), 202 (Event), 204 (DryRun), or an error status. It
	// is 0 when no HTTP response was received.
	StatusCode int
	// Payload is the response body: the function's result for a
	// successful RequestResponse invocation, its error document when
	// FunctionError is set, and the raw error body of a failed call.
	Payload []byte
	// FunctionError is the X-Amz-Function-Error header ("Unhandled" or
	// "Handled"): the function ran and failed. Empty otherwise.
	FunctionError string
	// LogTail is the decoded tail (last 4 KB) of the execution log, present
	// when the request asked for LogType Tail.
	LogTail string
	// ExecutedVersion is the function version that ran
	// (X-Amz-Executed-Version), e.g. "$LATEST" or "3".
	ExecutedVersion string
	// RequestID is the AWS request ID (x-amzn-RequestId) of the last
	// attempt.
	RequestID string

	// Attempts is the number of HTTP attempts made: 0 when the request was
	// rejected before sending, more than 1 when it was retried.
	Attempts int
	// Throttles is the number of those attempts Lambda throttled (HTTP
	// 429), whether or not a later attempt succeeded.
	Throttles int
	// Latency is the time from the first attempt's start to the end of the
	// last, including retry waits.
	Latency time.Duration
	// Start is when the first attempt started, as Latency counts it: when
	// the client took the request up for it, before the rate cap and the
	// adaptive limits admitted it. It is the zero Time when no attempt was
	// made (the request was invalid, or stopped or cancelled before it
	// was sent). When it is set, End - Start is Latency.
	Start time.Time
	// End is when the result was settled: the last attempt ended, or the
	// request was rejected, stopped or cancelled without one. It is set
	// on every Result the client returns.
	End time.Time

	// Err is nil on success. Otherwise it is a *[RequestError] (invalid
	// request, not sent), a *[FunctionError] (the function ran and failed),
	// a *[InvokeError] (Lambda answered with an error status), a
	// *[TransportError] (no response; its Sent says whether the function
	// may have run), an error wrapping [ErrCredentials] (credentials
	// refused or unobtainable, among them a *[CredentialsError]; not
	// sent), [ErrStopped] (the stream was stopped before the request was
	// sent), or a context error. [Result.Outcome] classifies them.
	Err error
}

// OK reports whether the invocation succeeded: Lambda accepted it and, for
// synchronous invocations, the function returned without error.
func (r *Result) OK() bool { return r.Err == nil }

// Outcome classifies a Result for summaries and exit codes.
type Outcome int

// The outcomes a Result can have.
const (
	// OutcomeOK: the invocation succeeded.
	OutcomeOK Outcome = iota
	// OutcomeFunctionError: the function ran and failed.
	OutcomeFunctionError
	// OutcomeThrottled: Lambda throttled the request (HTTP 429) and it was
	// not retried to success.
	OutcomeThrottled
	// OutcomeInvalid: the request was invalid and never sent.
	OutcomeInvalid
	// OutcomeNotSent: the request never reached Lambda — the run was
	// stopped or cancelled before it was sent, or no connection could be
	// made — so the function did not run for it and it can be sent again.
	OutcomeNotSent
	// OutcomeUnknown: the request was sent but no answer came back (the
	// connection broke or timed out, or the run was aborted while it was
	// in flight): the function may or may not have run.
	OutcomeUnknown
	// OutcomeError: any other failure (an error answer from Lambda such as
	// 404 or 500, refused credentials).
	OutcomeError
)

// String returns the outcome's name as used in summaries: "ok",
// "function_error", "throttled", "invalid", "not_sent", "unknown" or
// "error".
func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeFunctionError:
		return "function_error"
	case OutcomeThrottled:
		return "throttled"
	case OutcomeInvalid:
		return "invalid"
	case OutcomeNotSent:
		return "not_sent"
	case OutcomeUnknown:
		return "unknown"
	default:
		return "error"
	}
}

// Outcome classifies the result.
func (r *Result) Outcome() Outcome {
	if r.Err == nil {
		return OutcomeOK
	}
	var fe *FunctionError
	if errors.As(r.Err, &fe) {
		return OutcomeFunctionError
	}
	var ie *InvokeError
	if errors.As(r.Err, &ie) && ie.Throttled() {
		return OutcomeThrottled
	}
	var re *RequestError
	if errors.As(r.Err, &re) {
		return OutcomeInvalid
	}
	if errors.Is(r.Err, ErrCredentials) {
		return OutcomeError
	}
	var te *TransportError
	switch {
	case errors.As(r.Err, &te) && te.Sent:
		return OutcomeUnknown
	case te != nil, errors.Is(r.Err, ErrStopped),
		errors.Is(r.Err, context.Canceled), errors.Is(r.Err, context.DeadlineExceeded):
		// A context error that is not a TransportError ended the request
		// before its first attempt: an attempt cut short is a
		// TransportError, and a later cancellation keeps the last
		// attempt's error.
		return OutcomeNotSent
	}
	return OutcomeError
}
