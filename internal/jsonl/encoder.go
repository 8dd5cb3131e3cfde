package jsonl

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lambdafan/lambdafan"
)

// Record is one output line: a result and where its request came from.
type Record struct {
	// Line is the request's input line (see Item.Line).
	Line int
	// Result is the invocation's result. For an input line that was not a
	// valid request, only ID and Err (a *LineError) are set.
	Result *lambdafan.Result
	// NumericID says to write Result.ID as a JSON number, as it was in the
	// input (see [Item.NumericID]). An ID that is not a valid JSON number
	// is written as a string all the same.
	NumericID bool
	// PayloadFile, when set, says where the response payload was written
	// instead of being embedded (--payload-dir).
	PayloadFile *PayloadFile
}

// PayloadFile is a response payload written to a file of its own.
type PayloadFile struct {
	Path   string   // the file, as the run named it
	Size   int64    // bytes written
	SHA256 [32]byte // of the bytes written
}

// Error kinds in the output's "error.kind" field.
const (
	KindInvalid     = "invalid"     // the request was not sent: bad input
	KindFunction    = "function"    // the function ran and failed
	KindInvoke      = "invoke"      // Lambda answered with an error status
	KindTransport   = "transport"   // no HTTP response
	KindCancelled   = "cancelled"   // the run was interrupted before a response
	KindStopped     = "stopped"     // the run was stopped before the request was sent
	KindLost        = "lost"        // a run that may have sent it died before writing its result
	KindCredentials = "credentials" // no usable AWS credentials
	KindOther       = "other"
)

// AppendRecord appends rec as one JSON line (with its trailing newline) to
// b. The response payload is embedded as JSON when it is valid JSON,
// otherwise as a string with "payload_encoding": "text", or base64 with
// "payload_encoding": "base64" when it is not UTF-8.
//
// Output fields, in order, omitted when empty: line, id, function_name,
// region, invocation_type, status, outcome, payload, payload_encoding,
// function_error, log, executed_version, request_id, attempts, throttles,
// latency_ms, started_at, ended_at, error {kind, type, status, reason,
// field, sent, message}. The id is a string, or a number when
// rec.NumericID is set. started_at and ended_at are Result.Start and
// Result.End in UTC, RFC 3339 with milliseconds
// ("2026-11-30T05:59:00.123Z"), omitted when zero.
//
// With rec.PayloadFile, payload_file, payload_size and payload_sha256 (hex)
// take the place of payload and payload_encoding.
func AppendRecord(b []byte, rec Record) []byte {
	r := rec.Result
	b = append(b, `{"line":`...)
	b = strconv.AppendInt(b, int64(rec.Line), 10)
	if rec.NumericID && isNumber(r.ID) {
		b = append(b, `,"id":`...)
		b = append(b, r.ID...)
	} else {
		b = appendStringField(b, "id", r.ID)
	}
	b = appendStringField(b, "function_name", r.FunctionName)
	b = appendStringField(b, "region", r.Region)
	if r.InvocationType != "" {
		b = appendStringField(b, "invocation_type", string(r.InvocationType))
	}
	if r.StatusCode != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(r.StatusCode), 10)
	}
	b = appendStringField(b, "outcome", Outcome(r).String())
	if rec.PayloadFile != nil {
		b = appendPayloadFile(b, rec.PayloadFile)
	} else if len(r.Payload) > 0 {
		b = appendPayload(b, r.Payload)
	}
	b = appendStringField(b, "function_error", r.FunctionError)
	b = appendStringField(b, "log", r.LogTail)
	b = appendStringField(b, "executed_version", r.ExecutedVersion)
	b = appendStringField(b, "request_id", r.RequestID)
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(r.Attempts), 10)
	if r.Throttles > 0 {
		b = append(b, `,"throttles":`...)
		b = strconv.AppendInt(b, int64(r.Throttles), 10)
	}
	if r.Attempts > 0 {
		b = append(b, `,"latency_ms":`...)
		b = strconv.AppendFloat(b, float64(r.Latency.Microseconds())/1000, 'f', -1, 64)
	}
	if !r.Start.IsZero() {
		b = append(b, `,"started_at":"`...)
		b = append(appendTime(b, r.Start), '"')
	}
	if !r.End.IsZero() {
		b = append(b, `,"ended_at":"`...)
		b = append(appendTime(b, r.End), '"')
	}
	if r.Err != nil {
		b = appendError(b, r.Err)
	}
	return append(b, '}', '\n')
}

// appendTime appends t in UTC as RFC 3339 with exactly three fractional
// digits (milliseconds, truncated): "2026-11-30T05:59:00.123Z". Why not a
// layout with ".000": time.RFC3339 takes the standard library's fast path,
// which costs a quarter as much, and results are written on the hot path.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = t.AppendFormat(b, time.RFC3339) // ends in "Z" in UTC
	ms := t.Nanosecond() / int(time.Millisecond)
	return append(b[:len(b)-1], '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// ErrLost is the error of a request that an earlier run may have sent —
// its journal recorded that the request was about to be sent — but whose
// result that run never wrote, because it died (SIGKILL, a crash, power
// loss). The function may or may not have run; a resumed run reports it
// with this error instead of invoking it again.
var ErrLost = errors.New("result lost: the run that may have sent this request died before writing its result; " +
	"it was not invoked again, as the function may have run (--resume with --retry-unsafe invokes it again)")

// isNumber reports whether s is exactly one JSON number, so that writing
// it raw keeps the record valid JSON.
func isNumber(s string) bool {
	b := []byte(s)
	return len(b) > 0 && (b[0] == '-' || isDigit(b[0])) && skipNumber(b, 0) == len(b)
}

// Outcome classifies a record's result as [lambdafan.Result.Outcome]
// does, counting lost results ([ErrLost]) as unknown. (A bad input
// line's *LineError is a *lambdafan.RequestError: invalid.)
func Outcome(r *lambdafan.Result) lambdafan.Outcome {
	if errors.Is(r.Err, ErrLost) {
		return lambdafan.OutcomeUnknown
	}
	return r.Outcome()
}

// ParseOutcome reads an outcome as written in the output's "outcome"
// field.
func ParseOutcome(s string) (lambdafan.Outcome, bool) {
	for o := lambdafan.OutcomeOK; o <= lambdafan.OutcomeError; o++ {
		if o.String() == s {
			return o, true
		}
	}
	return 0, false
}

func appendPayload(b, p []byte) []byte {
	switch {
	case validJSON(p):
		b = append(b, `,"payload":`...)
		return appendCompact(b, p)
	case utf8.Valid(p):
		b = appendStringField(b, "payload", string(p))
		return appendStringField(b, "payload_encoding", "text")
	default:
		b = append(b, `,"payload":"`...)
		b = base64.StdEncoding.AppendEncode(b, p)
		b = append(b, '"')
		return appendStringField(b, "payload_encoding", "base64")
	}
}

func appendPayloadFile(b []byte, f *PayloadFile) []byte {
	b = appendStringField(b, "payload_file", f.Path)
	b = append(b, `,"payload_size":`...)
	b = strconv.AppendInt(b, f.Size, 10)
	b = append(b, `,"payload_sha256":"`...)
	b = hex.AppendEncode(b, f.SHA256[:])
	return append(b, '"')
}

// appendCompact appends valid JSON p without its insignificant newlines, so
// that the record stays on one line. Other whitespace is kept as is. In
// valid JSON every newline byte is insignificant (strings cannot hold raw
// control characters), so the newline-free runs are copied whole.
func appendCompact(b, p []byte) []byte {
	for len(p) > 0 {
		i := indexNewline(p)
		if i < 0 {
			return append(b, p...)
		}
		b = append(b, p[:i]...)
		p = p[i+1:]
	}
	return b
}

// indexNewline returns the index of the first '\n' or '\r' in p, or -1.
// Two vectorised IndexByte scans beat one IndexAny, which tests byte by
// byte.
func indexNewline(p []byte) int {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		return bytes.IndexByte(p, '\r')
	}
	if j := bytes.IndexByte(p[:i], '\r'); j >= 0 {
		return j
	}
	return i
}

// ErrorClass is how a result's error is reported: its kind and, when they
// apply, the AWS or function error type, the HTTP status, the throttle
// reason, the invalid field, and whether the request had been sent.
type ErrorClass struct {
	Kind   string // one of the Kind constants
	Type   string // the InvokeError's type, or the function's errorType
	Status int    // the InvokeError's HTTP status
	Reason string // the throttle reason
	Field  string // the invalid field
	// Sent says whether the whole request had been written; it is
	// reported (HasSent) for the kinds where that is in doubt: transport,
	// cancelled and stopped.
	Sent, HasSent bool
}

// Classify returns err's class. The order matters: a refused credential
// is an InvokeError (403) wrapped in ErrCredentials; a cancelled attempt
// is a TransportError wrapping the context's error.
func Classify(err error) ErrorClass {
	var (
		re *lambdafan.RequestError
		fe *lambdafan.FunctionError
		ie *lambdafan.InvokeError
		te *lambdafan.TransportError
	)
	switch {
	case errors.As(err, &re): // a bad input line's *LineError among them
		return ErrorClass{Kind: KindInvalid, Field: re.Field}
	case errors.As(err, &fe):
		return ErrorClass{Kind: KindFunction, Type: fe.ErrorType}
	case errors.Is(err, lambdafan.ErrCredentials):
		return ErrorClass{Kind: KindCredentials}
	case errors.Is(err, ErrLost):
		return ErrorClass{Kind: KindLost, HasSent: true, Sent: true}
	case errors.Is(err, lambdafan.ErrStopped):
		return ErrorClass{Kind: KindStopped, HasSent: true}
	case errors.As(err, &ie):
		return ErrorClass{Kind: KindInvoke, Type: ie.Type, Status: ie.StatusCode, Reason: ie.Reason}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &te):
		// "sent" says whether the request may have reached Lambda before
		// the run was cancelled: such a request may have run.
		return ErrorClass{Kind: KindCancelled, HasSent: true, Sent: errors.As(err, &te) && te.Sent}
	case errors.As(err, &te):
		return ErrorClass{Kind: KindTransport, HasSent: true, Sent: te.Sent}
	}
	return ErrorClass{Kind: KindOther}
}

func appendError(b []byte, err error) []byte {
	c := Classify(err)
	b = append(b, `,"error":{"kind":`...)
	b = appendString(b, c.Kind)
	b = appendStringField(b, "type", c.Type)
	if c.Status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(c.Status), 10)
	}
	b = appendStringField(b, "reason", c.Reason)
	b = appendStringField(b, "field", c.Field)
	if c.HasSent {
		b = append(b, `,"sent":`...)
		b = strconv.AppendBool(b, c.Sent)
	}
	b = appendStringField(b, "message", err.Error())
	return append(b, '}')
}

// appendStringField appends `,"name":"value"` when value is not empty.
func appendStringField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
