package emulator

import (
	"context"
	"errors"
	"io"
	"reflect"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// Invocation is one execution of a function, as a [Handler] sees it.
type Invocation struct {
	// RequestID is the invocation's AWS request ID.
	RequestID string
	// FunctionName is the function's own name.
	FunctionName string
	// InvokedFunctionARN is the ARN the caller invoked, qualified when the
	// caller named a version or alias.
	InvokedFunctionARN string
	// Version is the version that runs ("$LATEST").
	Version string
	// Region is the region the function was invoked in: the region of
	// the credential scope the call was signed for (DefaultRegion for an
	// unsigned call to a server with NoAuth).
	Region string
	// Payload is the event, as JSON.
	Payload []byte
	// ClientContext is the decoded client context (JSON), or nil.
	ClientContext []byte
	// Deadline is when the invocation times out, a whole millisecond
	// (runtimes receive it in Unix milliseconds); an answer at or after
	// it is a timeout.
	Deadline time.Time
	// MemorySize is the function's memory in MB.
	MemorySize int
	// Log receives the function's own log output, which becomes part of
	// the invocation's log (returned for LogType Tail).
	Log io.Writer
	// Stream, when not nil, takes the response as it is produced: the
	// caller asked for it streamed (InvokeWithResponseStream). A Handler
	// may write its response there in pieces, each sent on as it is
	// written, and set Output.Streamed; or return it in Output.Payload as
	// usual, which is then sent as one piece. All writes happen before
	// Invoke returns. A Write fails when the caller is gone, past the
	// deadline, or beyond MaxStreamedResponseBytes.
	Stream io.Writer
}

// Output is what a Handler returns for one invocation.
type Output struct {
	// Payload is the function's response, or its error document when
	// Error is set.
	Payload []byte
	// Error reports that the function failed; Payload then holds the
	// error document ({"errorMessage": …, "errorType": …}).
	Error bool
	// InitDuration is the time spent starting a new execution
	// environment for this invocation (a cold start); zero when a warm
	// environment ran it.
	InitDuration time.Duration
	// MaxMemoryUsedMB is reported in the REPORT log line; 0 leaves the
	// emulator's estimate.
	MaxMemoryUsedMB int
	// Streamed reports that the response was written to
	// Invocation.Stream; Payload is then empty, or the error document
	// when Error is set (a response that failed midway).
	Streamed bool
}

// Handler runs the code of a function. The emulator calls Invoke
// concurrently, at most the function's concurrency limit at a time, with a
// ctx that expires at the function's timeout; a Handler must return when
// ctx is done.
type Handler interface {
	Invoke(ctx context.Context, inv *Invocation) Output
}

// HandlerFunc adapts a Go function to a Handler: it receives the event
// payload and returns the response payload, which must be JSON (or nil,
// answered as "null"). A returned error becomes a function error with
// errorMessage err.Error() and errorType the error's type name, or the
// result of its ErrorType() string method when it has one — the way the
// aws-lambda-go runtime reports errors.
type HandlerFunc func(ctx context.Context, inv *Invocation) ([]byte, error)

// Invoke calls f.
func (f HandlerFunc) Invoke(ctx context.Context, inv *Invocation) Output {
	out, err := f(ctx, inv)
	if err != nil {
		return Output{Payload: ErrorDocument(errorTypeOf(err), err.Error()), Error: true}
	}
	if out == nil {
		out = []byte("null")
	}
	return Output{Payload: out}
}

// ErrorDocument returns the JSON error document a runtime reports for a
// failed invocation: {"errorMessage": message, "errorType": errorType}.
func ErrorDocument(errorType, message string) []byte {
	return lambdaapi.ErrorDocument(errorType, message)
}

// FunctionError is an error a HandlerFunc can return to choose its
// errorType.
type FunctionError struct {
	Type    string
	Message string
}

// Error returns e.Message.
func (e *FunctionError) Error() string { return e.Message }

// ErrorType returns e.Type.
func (e *FunctionError) ErrorType() string { return e.Type }

// errorTypeOf names an error the way aws-lambda-go does: an ErrorType()
// method wins, else the dynamic type's name without its pointer.
func errorTypeOf(err error) string {
	var typed interface{ ErrorType() string }
	if errors.As(err, &typed) {
		return typed.ErrorType()
	}
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
