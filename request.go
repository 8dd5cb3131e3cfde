package lambdafan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// InvocationType selects how Lambda runs the function (the
// X-Amz-Invocation-Type header).
type InvocationType string

// The invocation types accepted by the Invoke API.
const (
	// RequestResponse runs the function synchronously and returns its
	// response. It is the default.
	RequestResponse InvocationType = "RequestResponse"
	// Event queues the function for asynchronous execution; Lambda answers
	// 202 Accepted as soon as the event is queued.
	Event InvocationType = "Event"
	// DryRun checks that the function exists and that the caller may
	// invoke it, without running it; Lambda answers 204 No Content.
	DryRun InvocationType = "DryRun"
)

// Valid reports whether t is one of the invocation types Lambda accepts.
// The empty string is valid and means [RequestResponse].
func (t InvocationType) Valid() bool {
	switch t {
	case "", RequestResponse, Event, DryRun:
		return true
	}
	return false
}

// orDefault returns t, or RequestResponse when t is empty.
func (t InvocationType) orDefault() InvocationType {
	if t == "" {
		return RequestResponse
	}
	return t
}

// LogType selects whether Lambda returns the tail of the execution log (the
// X-Amz-Log-Type header). It applies to synchronous invocations only.
type LogType string

// The log types accepted by the Invoke API.
const (
	// LogNone returns no log. It is the default.
	LogNone LogType = "None"
	// LogTail returns the last 4 KB of the execution log in the result.
	LogTail LogType = "Tail"
)

// Valid reports whether l is one of the log types Lambda accepts. The empty
// string is valid and means [LogNone].
func (l LogType) Valid() bool {
	switch l {
	case "", LogNone, LogTail:
		return true
	}
	return false
}

// Request is one Lambda invocation.
type Request struct {
	// ID is an optional caller-supplied identifier, copied unchanged into
	// the Result so results can be joined back to their requests.
	ID string

	// FunctionName names the function in any form the Invoke API accepts:
	// "my-function", "my-function:alias", "123456789012:function:my-function"
	// or a full ARN "arn:aws:lambda:us-west-2:123456789012:function:my-function".
	// A full ARN carries its region, which is used when Region is empty.
	FunctionName string

	// Payload is the event passed to the function. []byte and
	// json.RawMessage values are sent as they are (they must hold JSON);
	// nil sends an empty body; any other value is encoded with
	// encoding/json.
	Payload any

	// InvocationType is RequestResponse (the default when empty), Event or
	// DryRun.
	InvocationType InvocationType

	// Region is the AWS region to invoke the function in. Empty means the
	// region of FunctionName's ARN, or else the client's default region.
	Region string

	// Qualifier is an optional version or alias ("$LATEST", "3", "live").
	Qualifier string

	// LogType is None (the default when empty) or Tail.
	LogType LogType

	// ClientContext is optional information passed to the function, which
	// must encode to a JSON object. []byte and json.RawMessage values are
	// sent as they are; other values are encoded with encoding/json. It is
	// sent base64-encoded in the X-Amz-Client-Context header (at most
	// [MaxClientContextBytes] once encoded).
	ClientContext any

	// ResponseStream invokes the function through InvokeWithResponseStream
	// instead of Invoke, for functions that stream their response (up to
	// [MaxStreamedPayloadBytes] instead of 6 MB). InvocationType must then
	// be RequestResponse or DryRun. The Result is what Invoke's would be:
	// Payload holds the streamed bytes, all of them (memory is the
	// caller's to budget: up to 200 MB per request in flight, unless
	// PayloadWriter takes them); a function error reported at the end of
	// the stream is a *[FunctionError]; the log tail comes from the
	// stream's end. A stream cut short is a *[TransportError] with Sent
	// set: the function ran, its answer is incomplete. See also
	// [Client.InvokeStream] to read one stream as it arrives.
	ResponseStream bool

	// PayloadWriter, when set, takes the response payload instead of
	// Result.Payload: each attempt that Lambda answers with the function's
	// response (HTTP 200) calls it once, with the Result as known at that
	// point (status, request ID, executed version, attempts), before any
	// byte of the payload, and writes the payload to the writer it
	// returns as it is read from the connection, so that it is never held
	// whole in memory (a writer with a ReadFrom method, such as a
	// *bytes.Buffer or an *os.File, takes it without an intermediate
	// copy). Result.Payload then stays empty. Another attempt
	// calls it again, and what the earlier writer received is void; that
	// happens only when Config.RetryUnsafe retries an answer cut short. An error from it or
	// from the writer ends the attempt with a *[TransportError] (Sent set)
	// wrapping [ErrPayloadWrite], which is never retried. Error answers of
	// the API (HTTP status ≥ 300) stay in Result.Payload. lambdafan never
	// closes the writer. It is called from the goroutine making the
	// attempt: concurrently for different requests.
	PayloadWriter func(head Result) (io.Writer, error)
}

// Size limits the Invoke API enforces, checked before a request is sent.
const (
	// MaxSyncPayloadBytes is the largest request payload of a synchronous
	// (RequestResponse or DryRun) invocation: 6 MB (6,291,456 bytes).
	MaxSyncPayloadBytes = lambdaapi.MaxSyncPayloadBytes
	// MaxAsyncPayloadBytes is the largest request payload of an Event
	// invocation: 1 MB (1,048,576 bytes).
	MaxAsyncPayloadBytes = lambdaapi.MaxAsyncPayloadBytes
	// MaxClientContextBytes is the largest base64-encoded client context:
	// 3,583 bytes.
	MaxClientContextBytes = lambdaapi.MaxClientContextBytes
	// MaxStreamedPayloadBytes is the largest response a function may
	// stream through InvokeWithResponseStream: 200 MB (209,715,200
	// bytes). A longer stream is refused ([ErrResponseTooLarge]) rather
	// than collected.
	MaxStreamedPayloadBytes = lambdaapi.MaxStreamedResponseBytes
)

// encodeJSONValue turns a Payload or ClientContext value into the bytes to
// send: raw bytes pass through, anything else is JSON-encoded.
func encodeJSONValue(field string, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	case json.RawMessage:
		return v, nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, &RequestError{Field: field, Err: fmt.Errorf("cannot encode as JSON: %w", err)}
		}
		return b, nil
	}
}

// isJSONObject reports whether b holds exactly one JSON object.
func isJSONObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}
