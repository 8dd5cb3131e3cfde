package jsonl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// decodeArray yields the elements of the JSON array br holds, whose '[' is
// the next byte, like decodeLines yields lines: an element that is not a
// valid request, or is longer than MaxLineBytes, yields an Item with Err
// set and decoding goes on. Only what leaves the rest of the input
// unreadable is returned as an error: a missing ',' or ']' between
// elements, an empty element, a bracket that closes the wrong kind, the
// end of the input inside the array, or anything but whitespace after it.
func decodeArray(br *bufio.Reader, opts Options, yield func(Item) bool) error {
	if _, err := br.Discard(1); err != nil { // the '['
		return fmt.Errorf("read input array: %w", err)
	}
	c, _, err := peekNonSpace(br)
	if err != nil {
		return fmt.Errorf("read input array element 1: %w", unexpectedEOF(err))
	}
	if c == ']' { // the empty array
		if _, err := br.Discard(1); err != nil {
			return fmt.Errorf("read input array: %w", err)
		}
		return afterArray(br)
	}
	er := elementReader{br: br}
	for seq := 0; ; seq++ {
		n := seq + 1
		elem, long, end, err := er.next(n)
		if elem == nil {
			return err
		}
		var it Item
		if long {
			it = Item{Seq: seq, Line: n, Err: &LineError{Line: n, Err: fmt.Errorf("element longer than %d bytes", MaxLineBytes)}}
		} else {
			it = decodeItem(bytes.Clone(elem), n, seq, opts)
		}
		if !yield(it) {
			return nil
		}
		if err != nil {
			return err
		}
		if end {
			return afterArray(br)
		}
	}
}

// afterArray checks that only whitespace follows the array, so that a
// second array or other data is not silently ignored.
func afterArray(br *bufio.Reader) error {
	c, _, err := peekNonSpace(br)
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return fmt.Errorf("read input after the array: %w", err)
	}
	return fmt.Errorf("read input after the array: invalid character %q after the array", c)
}

// unexpectedEOF turns io.EOF, which inside the array means it was cut
// short, into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// An elementReader splits a JSON array into its elements as it reads them,
// keeping at most MaxLineBytes of each. It follows strings, escapes and
// brackets, which is all it takes to find where an element ends (at ','
// or ']' outside any string or bracket); whether the element is valid JSON
// is for decodeItem to say, so a bad element does not end the array.
type elementReader struct {
	br *bufio.Reader
	// buf holds the element being read; it is reused for the next one.
	buf []byte
	// stack holds the closing bracket of each open bracket, up to
	// maxDepth of them; depth counts them all. Past maxDepth the element
	// is invalid anyway (encoding/json's limit), and only the depth is
	// needed to find its end.
	stack []byte
	depth int
}

// Element reading states.
const (
	beforeValue = iota // whitespace before the element
	inScalar           // a number, literal or other bare word at the top level
	inContainer        // inside brackets, not in a string
	inString
	inStringEscape
	afterValue // whitespace after the element
)

// next reads element n of the array, just past the '[' or ',' that comes
// before it, through the ',' or ']' that ends it. It returns the element
// without surrounding whitespace (valid until the next call); long reports
// that it was longer than MaxLineBytes, in which case the rest of it was
// read without being kept. end reports that ']' ended it. The array must
// not be empty. An error that leaves the rest of the input unreadable is
// returned with a nil elem, unless the element itself was complete, as in
// "[{} x]" or "[{}": then elem, long and end are set too, and the caller
// should use the element before giving up.
func (r *elementReader) next(n int) (elem []byte, long, end bool, err error) {
	r.buf = r.buf[:0]
	r.stack = r.stack[:0]
	r.depth = 0
	state := beforeValue
	for {
		if r.br.Buffered() == 0 {
			if _, err := r.br.Peek(1); err != nil {
				err = fmt.Errorf("read input array element %d: %w", n, unexpectedEOF(err))
				if state == afterValue || state == inScalar { // "[{}": the element is whole
					return r.buf, long, true, err
				}
				return nil, false, false, err
			}
		}
		chunk, _ := r.br.Peek(r.br.Buffered())
		start := 0 // where the element's bytes in chunk begin
		if state == beforeValue || state == afterValue {
			start = -1
		}
		i := 0
	scan:
		for ; i < len(chunk); i++ {
			c := chunk[i]
			switch state {
			case inString:
				// Skip to the next quote or backslash: payloads are mostly
				// long strings.
				j := bytes.IndexAny(chunk[i:], `"\`)
				if j < 0 {
					break scan // the whole chunk is string; kept below
				}
				i += j
				if chunk[i] == '\\' {
					state = inStringEscape
				} else if r.depth == 0 {
					state = afterValue
					long = r.keep(chunk[start:i+1], long)
					start = -1
				} else {
					state = inContainer
				}
				continue
			case inStringEscape:
				state = inString
				continue
			case beforeValue, afterValue:
				if isSpace(c) {
					continue
				}
			}
			switch c {
			case ' ', '\t', '\n', '\r':
				if state == inScalar {
					state = afterValue
					long = r.keep(chunk[start:i], long)
					start = -1
				}
			case '"', '{', '[':
				if state == afterValue || state == inScalar {
					return r.trailing(n, c, state, chunk[max(start, 0):i], long)
				}
				if state == beforeValue {
					start = i
				}
				if c == '"' {
					state = inString
					continue
				}
				state = inContainer
				if r.depth++; r.depth <= maxDepth {
					r.stack = append(r.stack, c+2) // '{'+2 == '}', '['+2 == ']'
				}
			case '}', ']':
				if state == inContainer {
					if r.depth <= maxDepth && r.stack[len(r.stack)-1] != c {
						return nil, false, false, fmt.Errorf("read input array element %d: invalid character %q closing %q", n, c, r.stack[len(r.stack)-1]-2)
					}
					if r.depth <= maxDepth {
						r.stack = r.stack[:len(r.stack)-1]
					}
					if r.depth--; r.depth == 0 {
						state = afterValue
						long = r.keep(chunk[start:i+1], long)
						start = -1
					}
					continue
				}
				if state == beforeValue { // "[1,]"
					return nil, false, false, fmt.Errorf("read input array element %d: invalid character %q looking for the element", n, c)
				}
				if c == '}' {
					return r.trailing(n, c, state, chunk[max(start, 0):i], long)
				}
				if state == inScalar {
					long = r.keep(chunk[start:i], long)
				}
				_, err := r.br.Discard(i + 1)
				return r.buf, long, true, err
			case ',':
				switch state {
				case inContainer:
					continue
				case beforeValue:
					return nil, false, false, fmt.Errorf("read input array element %d: invalid character ',' looking for the element", n)
				case inScalar:
					long = r.keep(chunk[start:i], long)
				}
				_, err := r.br.Discard(i + 1)
				return r.buf, long, false, err
			default:
				switch state {
				case afterValue:
					return r.trailing(n, c, state, nil, long)
				case beforeValue:
					start = i
					state = inScalar
				}
			}
		}
		if start >= 0 {
			long = r.keep(chunk[start:], long)
		}
		if _, err := r.br.Discard(len(chunk)); err != nil {
			return nil, false, false, fmt.Errorf("read input array element %d: %w", n, err)
		}
	}
}

// trailing ends the array at the unexpected byte c after element n,
// returning the element (with the scalar bytes before c in chunk when it
// is a bare scalar) and the error.
func (r *elementReader) trailing(n int, c byte, state int, scalar []byte, long bool) (elem []byte, _, end bool, err error) {
	if state == inScalar {
		long = r.keep(scalar, long)
	}
	return r.buf, long, true, fmt.Errorf("read input array element %d: invalid character %q after the element", n, c)
}

// keep appends p to the element unless that makes it longer than
// MaxLineBytes, and reports whether it is (or already was) too long. The
// buffer at most doubles as it grows, so that keeping an element costs at
// most about twice its size in allocations.
func (r *elementReader) keep(p []byte, long bool) bool {
	if long || len(r.buf)+len(p) > MaxLineBytes {
		return true
	}
	if need := len(r.buf) + len(p); need > cap(r.buf) {
		grown := make([]byte, len(r.buf), min(max(need, 2*cap(r.buf), 4096), MaxLineBytes))
		copy(grown, r.buf)
		r.buf = grown
	}
	r.buf = append(r.buf, p...)
	return false
}
