package lambdafan

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
	"github.com/lambdafan/lambdafan/internal/redact"
)

// InvokeWithResponseStream answers 200 with an event stream
// (application/vnd.amazon.eventstream): PayloadChunk events carrying the
// response's bytes as the function writes them, then one InvokeComplete
// event whose JSON says how the invocation ended (ErrorCode, ErrorDetails,
// LogResult). Each event is a message of the AWS event stream encoding,
// decoded here by the SDK's own decoder; the headers read are the ones the
// SDK's deserializer reads (:message-type, :event-type, and for errors
// :error-code/:error-message or :exception-type).

// Event stream header names and values.
const (
	esMessageType     = ":message-type"
	esEventType       = ":event-type"
	esExceptionType   = ":exception-type"
	esErrorCode       = ":error-code"
	esErrorMessage    = ":error-message"
	esPayloadChunk    = "PayloadChunk"
	esInvokeComplete  = "InvokeComplete"
	streamReadBufSize = 64 << 10
)

// streamFunctionErrorKind is the Result.FunctionError of a stream that
// ended with an error: InvokeComplete names the error's type but no kind,
// and Invoke answers the same failure with "Unhandled".
const streamFunctionErrorKind = lambdaapi.FunctionErrorUnhandled

// ErrPayloadWrite reports that a Request's PayloadWriter, or the writer it
// returned, failed. The function ran; its answer could not be stored. It
// comes wrapped in a *[TransportError] with Sent set, and [ClassifyRetry]
// never retries it.
var ErrPayloadWrite = errors.New("cannot store the response payload")

// streamTooLarge is the error of a response stream longer than
// MaxStreamedPayloadBytes. It is an [ErrResponseTooLarge] for errors.Is.
type streamTooLarge struct{}

func (streamTooLarge) Error() string {
	return "response stream longer than Lambda's limit of " + strconv.Itoa(MaxStreamedPayloadBytes) + " bytes"
}

func (streamTooLarge) Is(target error) bool { return target == ErrResponseTooLarge }

// invokeComplete is the InvokeComplete event's payload
// (InvokeWithResponseStreamCompleteEvent).
type invokeComplete struct {
	ErrorCode    string `json:"ErrorCode"`
	ErrorDetails string `json:"ErrorDetails"`
	LogResult    string `json:"LogResult"`
}

// readEventStream reads an InvokeWithResponseStream answer (HTTP 200) into
// res — its payload collected in res.Payload, or written to the request's
// PayloadWriter — and closes the body. It returns nil, a *FunctionError
// for a stream that ended with an error, or a *TransportError (Sent) for
// one cut short, malformed, too long, or that could not be stored.
func readEventStream(resp *http.Response, p *prepared, res *Result, creds aws.Credentials) error {
	defer resp.Body.Close()
	res.ExecutedVersion = resp.Header.Get(lambdaapi.HeaderExecutedVersion)
	res.Payload = nil // an earlier attempt's error answer
	sent := func(err error) error { return &TransportError{Sent: true, Err: scrubError(err, creds)} }
	var w io.Writer
	if p.payloadWriter != nil {
		var err error
		if w, err = p.payloadWriter(*res); err != nil {
			return sent(fmt.Errorf("%w: %w", ErrPayloadWrite, err))
		}
	}
	br := bufio.NewReaderSize(resp.Body, streamReadBufSize)
	dec := eventstream.NewDecoder()
	var buf []byte // reused for each message's payload
	var total int64
	for {
		msg, err := dec.Decode(br, buf)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return sent(fmt.Errorf("the response stream ended before its InvokeComplete event: %w", io.ErrUnexpectedEOF))
		}
		if err != nil {
			return sent(fmt.Errorf("read response stream: %w", err))
		}
		buf = msg.Payload[:0]
		if err := streamMessageError(&msg, creds); err != nil {
			return sent(err)
		}
		switch headerString(&msg, esEventType) {
		case esPayloadChunk:
			total += int64(len(msg.Payload))
			if total > MaxStreamedPayloadBytes {
				return sent(streamTooLarge{})
			}
			if w == nil {
				res.Payload = append(res.Payload, msg.Payload...)
			} else if _, err := w.Write(msg.Payload); err != nil {
				return sent(fmt.Errorf("%w: %w", ErrPayloadWrite, err))
			}
		case esInvokeComplete:
			var done invokeComplete
			if err := json.Unmarshal(msg.Payload, &done); err != nil {
				return sent(fmt.Errorf("read response stream: InvokeComplete event: %w", err))
			}
			// Reading on to the end of the body, a few bytes, lets the
			// connection be reused.
			_, _ = io.Copy(io.Discard, io.LimitReader(br, streamReadBufSize))
			return completeStream(&done, res)
		default:
			// An event type this client does not know (a newer API):
			// skipped, as the SDK's reader skips it.
		}
	}
}

// streamMessageError returns the error an event stream message carries:
// an "error" or "exception" message ends the stream, as does a message of
// a type the encoding does not define. Its text is scrubbed of creds.
func streamMessageError(msg *eventstream.Message, creds aws.Credentials) error {
	scrub := func(s string) string { return redact.Text(s, creds.SecretAccessKey, creds.SessionToken) }
	switch t := headerString(msg, esMessageType); t {
	case "event":
		return nil
	case "error":
		return fmt.Errorf("the response stream ended with error %s: %s",
			scrub(headerString(msg, esErrorCode)), truncate(scrub(headerString(msg, esErrorMessage)), 200))
	case "exception":
		var doc struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(msg.Payload, &doc) // a payload that is not JSON leaves no message
		return fmt.Errorf("the response stream ended with exception %s: %s",
			scrub(headerString(msg, esExceptionType)), truncate(scrub(doc.Message), 200))
	default:
		return fmt.Errorf("read response stream: message of unknown type %q", truncate(scrub(t), 40))
	}
}

// completeStream records what InvokeComplete says in res and returns the
// function's error, if any.
func completeStream(done *invokeComplete, res *Result) error {
	if done.LogResult != "" {
		if b, err := base64.StdEncoding.DecodeString(done.LogResult); err == nil {
			res.LogTail = string(b)
		}
	}
	if done.ErrorCode == "" && done.ErrorDetails == "" {
		return nil
	}
	res.FunctionError = streamFunctionErrorKind
	fe := &FunctionError{Kind: streamFunctionErrorKind, ErrorType: done.ErrorCode, Details: []byte(done.ErrorDetails)}
	var doc lambdaapi.FunctionErrorDocument
	if json.Unmarshal(fe.Details, &doc) == nil {
		fe.ErrorMessage = doc.ErrorMessage
		if fe.ErrorType == "" {
			fe.ErrorType = doc.ErrorType
		}
	}
	return fe
}

// headerString returns the value of msg's header name as a string, or ""
// when it has none.
func headerString(msg *eventstream.Message, name string) string {
	v := msg.Headers.Get(name)
	if v == nil {
		return ""
	}
	return v.String()
}

// copyPayload hands a buffered 200 answer without a function error to the
// request's PayloadWriter straight from the connection, never holding it
// whole: a writer that reads (a bytes.Buffer, an *os.File) takes it
// without an intermediate copy. It closes the body.
func copyPayload(resp *http.Response, p *prepared, res *Result, creds aws.Credentials) error {
	defer resp.Body.Close()
	if resp.ContentLength > maxResponseBytes {
		return &TransportError{Sent: true, Err: fmt.Errorf("read response: %w (Content-Length %d)", ErrResponseTooLarge, resp.ContentLength)}
	}
	if err := decodeResponse(resp, nil, res, creds); err != nil {
		return err // not for a 200 answer without X-Amz-Function-Error
	}
	w, err := p.payloadWriter(*res)
	if err != nil {
		return &TransportError{Sent: true, Err: fmt.Errorf("%w: %w", ErrPayloadWrite, err)}
	}
	body := &readErrRecorder{r: io.LimitReader(resp.Body, maxResponseBytes+1)}
	n, err := io.Copy(w, body)
	switch {
	case body.err != nil:
		return &TransportError{Sent: true, Err: scrubError(fmt.Errorf("read response: %w", body.err), creds)}
	case err != nil:
		return &TransportError{Sent: true, Err: fmt.Errorf("%w: %w", ErrPayloadWrite, err)}
	case n > maxResponseBytes:
		return &TransportError{Sent: true, Err: fmt.Errorf("read response: %w", ErrResponseTooLarge)}
	}
	return nil
}

// readErrRecorder keeps the error of its reader other than io.EOF, so that
// after an io.Copy a read error can be told from a write error.
type readErrRecorder struct {
	r   io.Reader
	err error
}

func (rr *readErrRecorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && err != io.EOF {
		rr.err = err
	}
	return n, err
}

// writeBufferedPayload hands a buffered 200 answer's payload to the
// request's PayloadWriter instead of res.Payload, and returns what
// decodeResponse says of the answer (a function error, say).
func writeBufferedPayload(resp *http.Response, body []byte, p *prepared, res *Result, creds aws.Credentials) error {
	err := decodeResponse(resp, body, res, creds)
	res.Payload = nil
	w, werr := p.payloadWriter(*res)
	if werr == nil {
		_, werr = w.Write(body)
	}
	if werr != nil {
		return &TransportError{Sent: true, Err: fmt.Errorf("%w: %w", ErrPayloadWrite, werr)}
	}
	return err
}
