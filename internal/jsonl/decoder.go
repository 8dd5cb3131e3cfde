// Package jsonl reads invocation requests from JSON Lines (or a JSON array)
// and writes results as JSON Lines, streaming both ways.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/lambdafan/lambdafan"
)

// MaxLineBytes bounds one input line: the largest synchronous payload plus
// room for the other fields.
const MaxLineBytes = lambdafan.MaxSyncPayloadBytes + 64*1024

// Item is one request read from the input, or the reason it could not be
// read.
type Item struct {
	// Seq numbers the input's requests from 0, bad ones included, blank
	// lines excluded.
	Seq int
	// Line is the 1-based line number of a JSON Lines input, or the
	// 1-based element number of a JSON array input.
	Line int
	// Request is the decoded request; valid when Err is nil. When Err is
	// set, Request.ID (and NumericID) still hold the line's id if the line
	// is a JSON object with exactly one "id", a string or a number;
	// otherwise Request is zero.
	Request lambdafan.Request
	// NumericID reports that the request's "id" was a JSON number, which
	// Request.ID holds as written ("1", "-3.5e2"). Passing it on in
	// [Record.NumericID] writes the id back as the same number, so that
	// ids 1 and "1" stay apart.
	NumericID bool
	// Err says why the line is not a request. It is a *LineError.
	Err error
}

// LineError reports an input line that is not a valid request. It is a
// *[lambdafan.RequestError] for [errors.As] (see Unwrap), so that a
// Result carrying it is [lambdafan.OutcomeInvalid] like any request
// refused before it was sent.
type LineError struct {
	Line  int
	Field string // the offending field (key), or "" when the problem is the whole line
	Err   error
}

// Error names the line, the field when known, and the problem.
func (e *LineError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("line %d: field %s: %v", e.Line, e.Field, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

// Unwrap returns the problem as the *lambdafan.RequestError of the line's
// field, which wraps Err: errors.As finds the RequestError, errors.Is and
// errors.As reach Err through it.
func (e *LineError) Unwrap() error { return &lambdafan.RequestError{Field: e.Field, Err: e.Err} }

// Options configure a Decoder.
type Options struct {
	// Function, when set, makes every input line a bare payload for this
	// function (the --function shorthand).
	Function string
	// InvocationType, LogType and Qualifier apply to requests that do not
	// set their own.
	InvocationType lambdafan.InvocationType
	LogType        lambdafan.LogType
	Qualifier      string
	// ResponseStream applies to requests that do not set
	// "response_stream" (the --response-stream flag).
	ResponseStream bool
}

// Decode returns the requests of r as a sequence, reading lazily: JSON Lines
// (one request object per line, blank lines skipped), or, when the first
// non-blank byte is '[', a JSON array of request objects. A UTF-8 byte order
// mark at the very start of r is skipped; anywhere else it is an error.
//
// A request object's keys must be exactly (case-sensitively, once decoded)
// function_name, payload, invocation_type, region, qualifier, log_type,
// client_context, id and response_stream, each at most once. A line (or array element)
// that is not a valid request, or is longer than MaxLineBytes, yields an
// Item with Err set and reading goes on. A read error that makes the rest
// of the input unreadable ends the sequence; it is then available from the
// returned function.
// readBufferSize is the input's read buffer: large enough that a line with
// a payload of a few hundred KB is usually found whole in it, read with a
// few large reads rather than assembled from 64 KB ones.
const readBufferSize = 1 << 20

func Decode(r io.Reader, opts Options) (iter.Seq[Item], func() error) {
	var readErr error
	seq := func(yield func(Item) bool) {
		br := bufio.NewReaderSize(r, readBufferSize)
		if err := skipBOM(br); err != nil {
			readErr = err
			return
		}
		first, skipped, err := peekNonSpace(br)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			return
		}
		if first == '[' && opts.Function == "" {
			readErr = decodeArray(br, opts, yield)
			return
		}
		readErr = decodeLines(br, 1+skipped, opts, yield)
	}
	return seq, func() error { return readErr }
}

func decodeLines(br *bufio.Reader, firstLine int, opts Options, yield func(Item) bool) error {
	seq := 0
	// A line is copied once, out of the reader's buffer, and handed to its
	// Item; a line longer than the buffer is assembled in a slice of its
	// own, sized like the previous long line.
	longCap := 0
	for line := firstLine; ; line++ {
		b, err := br.ReadSlice('\n')
		owned := false
		if errors.Is(err, bufio.ErrBufferFull) {
			long := append(make([]byte, 0, max(longCap, 2*len(b))), b...)
			for errors.Is(err, bufio.ErrBufferFull) && len(long) <= MaxLineBytes {
				b, err = br.ReadSlice('\n')
				long = append(long, b...)
			}
			b, owned, longCap = long, true, len(long)
			if len(long) > MaxLineBytes {
				for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of it
					_, err = br.ReadSlice('\n')
				}
				it := Item{Seq: seq, Line: line, Err: &LineError{Line: line, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)}}
				seq++
				if !yield(it) {
					return nil
				}
				if err != nil {
					return eofIsNil(err)
				}
				continue
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read input line %d: %w", line, err)
		}
		if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 {
			if !owned {
				trimmed = bytes.Clone(trimmed)
			}
			it := decodeItem(trimmed, line, seq, opts)
			seq++
			if !yield(it) {
				return nil
			}
		}
		if err != nil { // io.EOF
			return nil
		}
	}
}

// decodeItem turns one line (or array element) into an Item. b becomes
// the item's: its Request's payload and client context are slices of it,
// not copies.
func decodeItem(b []byte, line, seq int, opts Options) Item {
	it := Item{Seq: seq, Line: line}
	lineErr := func(field string, err error) Item {
		it.Err = &LineError{Line: line, Field: field, Err: err}
		return it
	}
	if opts.Function != "" {
		if !validJSON(b) {
			return lineErr("", fmt.Errorf("payload is not valid JSON"))
		}
		it.Request = lambdafan.Request{
			FunctionName:   opts.Function,
			Payload:        b,
			InvocationType: opts.InvocationType,
			LogType:        opts.LogType,
			Qualifier:      opts.Qualifier,
			ResponseStream: opts.ResponseStream,
		}
		return it
	}
	in, field, err := parseObject(b)
	if err != nil {
		// The id, when it can be read, lets the error result name its
		// request.
		it.Request.ID, it.NumericID = in.id()
		return lineErr(field, err)
	}
	req := lambdafan.Request{
		Payload:        []byte(in.Payload),
		ClientContext:  nullIsNil(in.ClientContext),
		InvocationType: opts.InvocationType,
		LogType:        opts.LogType,
		Qualifier:      opts.Qualifier,
		ResponseStream: opts.ResponseStream,
	}
	if in.ResponseStream != nil {
		req.ResponseStream = *in.ResponseStream
	}
	if in.Payload == nil || string(in.Payload) == "null" {
		req.Payload = nil
	}
	if in.FunctionName != nil {
		req.FunctionName = *in.FunctionName
	}
	if in.InvocationType != nil {
		req.InvocationType = lambdafan.InvocationType(*in.InvocationType)
	}
	if in.LogType != nil {
		req.LogType = lambdafan.LogType(*in.LogType)
	}
	if in.Region != nil {
		req.Region = *in.Region
	}
	if in.Qualifier != nil {
		req.Qualifier = *in.Qualifier
	}
	req.ID, it.NumericID = in.id()
	it.Request = req
	return it
}

func nullIsNil(b json.RawMessage) any {
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	return []byte(b)
}

func eofIsNil(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// skipBOM consumes a UTF-8 byte order mark (EF BB BF) at the start of br,
// which some Windows editors write and JSON parsers may ignore (RFC 8259
// section 8.1). Only a read error other than io.EOF is returned.
func skipBOM(br *bufio.Reader) error {
	b, err := br.Peek(3)
	if string(b) == "\xef\xbb\xbf" {
		_, err = br.Discard(3)
		return err
	}
	return eofIsNil(err)
}

// peekNonSpace returns the first non-whitespace byte without consuming it,
// and the number of newlines in the whitespace before it, which it
// consumes.
func peekNonSpace(br *bufio.Reader) (first byte, newlines int, err error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, newlines, err
		}
		switch b {
		case '\n':
			newlines++
			continue
		case ' ', '\t', '\r':
			continue
		}
		return b, newlines, br.UnreadByte()
	}
}
