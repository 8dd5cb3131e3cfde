package emulator

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// InvokeWithResponseStream: POST
// /2021-11-15/functions/{name}/response-streaming-invocations, signed and
// validated as Invoke is, InvocationType RequestResponse or DryRun only
// (API reference, InvokeWithResponseStream). The answer is 200 with
// Content-Type application/vnd.amazon.eventstream: the response as
// PayloadChunk events, carrying the bytes as the function streams them,
// then one InvokeComplete event with ErrorCode, ErrorDetails and LogResult
// (API reference, InvokeWithResponseStreamResponseEvent and
// InvokeWithResponseStreamCompleteEvent). A function that does not
// stream is answered with its whole response in one PayloadChunk (a
// capture of a real answer in cognitect-labs/aws-api#254 shows a buffered
// function's response in a single PayloadChunk event). Each event is a
// message of the AWS event stream encoding, written by the SDK's
// encoder, with the headers the SDK's deserializer reads: :message-type
// "event", :event-type the union member, and :content-type
// (application/octet-stream for a PayloadChunk's raw bytes, as the capture
// shows; application/json for InvokeComplete's JSON members).
//
// ErrorCode is the function error's type (the errorType of its error
// document: the Lambda-Runtime-Function-Error-Type a streaming runtime
// sent, Sandbox.Timedout, Runtime.ExitError…) and ErrorDetails the error
// document itself. No capture of a real failing stream was found; this
// follows the runtime interface emulator, which hands a trailer error to
// Lambda's front end as its type and its decoded body
// (internal/lambda-managed-instances/invoke/runtime_response_request.go).
//
// Headers are written with the first event, so that an invocation the
// emulator cancels before any output is answered like Invoke's, with a
// ServiceException. Injected faults apply before the invocation only: once
// a stream has begun there is no HTTP answer left to replace.

// MaxStreamedResponseBytes is the most a response streamed through
// InvokeWithResponseStream may carry: Lambda's 200 MB (209,715,200 bytes) for
// response streaming. The first 6 MB of a real stream go out at full speed
// and the rest at a capped bandwidth; the emulator does not throttle.
const MaxStreamedResponseBytes = lambdaapi.MaxStreamedResponseBytes

// maxEventPayloadBytes bounds the bytes of one PayloadChunk: a Handler's
// larger writes are split (an event stream message carries at most 16 MB).
const maxEventPayloadBytes = 1 << 20

// Event stream header values.
const (
	contentTypeEventStream = "application/vnd.amazon.eventstream"
	eventTypePayloadChunk  = "PayloadChunk"
	eventTypeInvokeDone    = "InvokeComplete"
)

var contentTypeEventStreamHeader = []string{contentTypeEventStream} // shared, never modified

// errStreamTooLarge fails a Write beyond MaxStreamedResponseBytes.
var errStreamTooLarge = errors.New("the response stream exceeds the maximum allowed payload size")

// handleInvokeStream serves InvokeWithResponseStream.
func (s *Server) handleInvokeStream(w http.ResponseWriter, call *apiRequest) {
	req, aerr := s.parseInvoke(call)
	if aerr == nil && req.invocationType == lambdaapi.InvocationEvent {
		// The operation's enum has no Event (API reference, order as
		// listed there). parseInvoke checks the type against Invoke's
		// enum, so a value in neither is answered with Invoke's message.
		aerr = errValidation(req.invocationType, "invocationType", "Member must satisfy enum value set: [RequestResponse, DryRun]")
	}
	if aerr != nil {
		s.writeError(w, req.requestID, aerr)
		return
	}
	if fault := s.faults.plan(call.r.Context()); fault.strikesBefore() {
		fault.apply(w, req.requestID)
		return
	}
	if req.invocationType == lambdaapi.InvocationDryRun {
		s.writeSuccess(w, &req, http.StatusNoContent, Output{}, nil)
		return
	}
	release, aerr := s.tryAcquire(req.fn)
	if aerr != nil {
		s.writeError(w, req.requestID, aerr)
		return
	}
	es := newEventStream(w, &req)
	out, logs := s.executeTo(&req, req.logTail, es)
	release()
	if req.cancelled && !es.started {
		aerr := errServiceException()
		s.writeError(w, req.requestID, aerr)
		return
	}
	var tail []byte
	if req.logTail {
		tail = logs[max(0, len(logs)-lambdaapi.LogTailBytes):]
	}
	es.finish(out, tail)
}

// eventStream is an InvokeWithResponseStream answer being written: the
// Invocation.Stream of its invocation, each Write one or more PayloadChunk
// events, flushed at once. Writes come from the invoking goroutine;
// abort, from the invocation's deadline, may come from another.
type eventStream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	req *invokeRequest
	enc *eventstream.Encoder

	started  bool  // headers written
	written  int64 // payload bytes sent
	tooLarge bool  // a Write went beyond MaxStreamedResponseBytes
	broken   bool  // a write failed: the answer is cut short

	mu       sync.Mutex
	finished bool // under mu: finish has begun, abort no longer applies
}

func newEventStream(w http.ResponseWriter, req *invokeRequest) *eventStream {
	return &eventStream{w: w, rc: http.NewResponseController(w), req: req, enc: eventstream.NewEncoder()}
}

// Write sends p as PayloadChunk events.
func (es *eventStream) Write(p []byte) (int, error) {
	if es.broken {
		return 0, errors.New("the caller is gone")
	}
	if es.written+int64(len(p)) > MaxStreamedResponseBytes {
		es.tooLarge = true
		return 0, errStreamTooLarge
	}
	n := 0
	for len(p) > 0 {
		piece := p[:min(len(p), maxEventPayloadBytes)]
		if err := es.event(eventTypePayloadChunk, "application/octet-stream", piece); err != nil {
			return n, err
		}
		n += len(piece)
		es.written += int64(len(piece))
		p = p[len(piece):]
	}
	return n, nil
}

// abort makes a write in progress fail: the invocation's deadline passed
// while the caller was not reading.
func (es *eventStream) abort() {
	es.mu.Lock()
	defer es.mu.Unlock()
	if !es.finished {
		_ = es.rc.SetWriteDeadline(time.Now())
	}
}

// completeEvent is InvokeComplete's payload
// (InvokeWithResponseStreamCompleteEvent).
type completeEvent struct {
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorDetails string `json:"ErrorDetails,omitempty"`
	LogResult    string `json:"LogResult,omitempty"`
}

// finish sends what remains of out — its payload, when the function did
// not stream it — and the InvokeComplete event.
func (es *eventStream) finish(out Output, logTail []byte) {
	es.mu.Lock()
	es.finished = true
	// Past an abort that interrupted no write, the answer can still end.
	_ = es.rc.SetWriteDeadline(time.Time{})
	es.mu.Unlock()
	if es.broken {
		return
	}
	if es.tooLarge {
		out = Output{Error: true, Payload: ErrorDocument("Function.ResponseSizeTooLarge",
			"Response payload size exceeded maximum allowed payload size ("+strconv.Itoa(MaxStreamedResponseBytes)+" bytes).")}
	}
	if !out.Error && !out.Streamed && len(out.Payload) > 0 {
		if _, err := es.Write(out.Payload); err != nil {
			return
		}
	}
	var done completeEvent
	if out.Error {
		done.ErrorCode = errorTypeOfDocument(out.Payload)
		done.ErrorDetails = string(out.Payload)
	}
	if logTail != nil {
		done.LogResult = base64.StdEncoding.EncodeToString(logTail)
	}
	body, _ := json.Marshal(done)
	_ = es.event(eventTypeInvokeDone, "application/json", body)
}

// event writes one event message and flushes it; the first writes the
// answer's headers.
func (es *eventStream) event(eventType, contentType string, payload []byte) error {
	if !es.started {
		es.started = true
		h := es.w.Header()
		h[lambdaapi.HeaderRequestID] = []string{es.req.requestID}
		h[lambdaapi.HeaderExecutedVersion] = versionHeader(es.req.version)
		h["Content-Type"] = contentTypeEventStreamHeader
		es.w.WriteHeader(http.StatusOK)
	}
	// The header order of a real PayloadChunk (cognitect-labs/aws-api#254).
	msg := eventstream.Message{
		Headers: eventstream.Headers{
			{Name: ":event-type", Value: eventstream.StringValue(eventType)},
			{Name: ":content-type", Value: eventstream.StringValue(contentType)},
			{Name: ":message-type", Value: eventstream.StringValue("event")},
		},
		Payload: payload,
	}
	err := es.enc.Encode(es.w, msg)
	if err == nil {
		err = es.rc.Flush()
	}
	if err != nil {
		es.broken = true
	}
	return err
}

// errorTypeOfDocument is the errorType of an error document, or
// "Unhandled" when it names none.
func errorTypeOfDocument(doc []byte) string {
	var d lambdaapi.FunctionErrorDocument
	if json.Unmarshal(doc, &d) == nil && d.ErrorType != "" {
		return d.ErrorType
	}
	return lambdaapi.FunctionErrorUnhandled
}
