package jsonl

import (
	"bytes"
	"encoding/binary"
)

// A small JSON scanner for the hot paths: skipping and validating a value
// without decoding it. encoding/json's Valid and Decoder do the same job
// through a state machine called once per byte; this one loops over plain
// bytes, which matters for payloads of hundreds of kilobytes. It accepts
// exactly what encoding/json accepts (RFC 8259; any byte from 0x20 up inside
// strings, as encoding/json does not check UTF-8 there), except that it
// gives up past maxDepth nesting levels, as encoding/json does.

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// validJSON reports whether p is exactly one JSON value, possibly with
// surrounding whitespace, like json.Valid.
func validJSON(p []byte) bool {
	i := skipValue(p, skipSpace(p, 0), 0)
	return i >= 0 && skipSpace(p, i) == len(p)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value that starts at
// b[i], or -1 when there is none (invalid or truncated JSON).
func skipValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{':
		return skipObject(b, i, depth+1)
	case c == '[':
		return skipArray(b, i, depth+1)
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return -1
}

func skipLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// skipString returns the index just past the string that starts at b[i]
// (a '"'), or -1. Payloads are mostly long runs of plain text, so it finds
// the next quote and the next backslash with vectorised IndexByte calls and
// checks the text between for control characters eight bytes at a time;
// each byte is searched a bounded number of times, so the scan stays linear
// whatever the escapes.
func skipString(b []byte, i int) int {
	i++
	quote := -1 // the next '"' at or after i, once known
	for {
		if quote < i {
			q := bytes.IndexByte(b[i:], '"')
			if q < 0 {
				return -1
			}
			quote = i + q
		}
		plain := b[i:quote]
		bs := bytes.IndexByte(plain, '\\')
		if bs < 0 {
			if hasControl(plain) {
				return -1
			}
			return quote + 1
		}
		if hasControl(plain[:bs]) {
			return -1
		}
		if i = skipEscape(b, i+bs); i < 0 {
			return -1
		}
	}
}

// skipEscape returns the index just past the escape sequence at b[i] (a
// backslash), or -1.
func skipEscape(b []byte, i int) int {
	i++
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 1
	case 'u':
		if len(b)-i <= 4 {
			return -1
		}
		for _, h := range b[i+1 : i+5] {
			if !isHex(h) {
				return -1
			}
		}
		return i + 5
	}
	return -1
}

// hasControl reports whether p holds a byte below 0x20, which a JSON
// string cannot hold raw. It tests eight bytes at a time: a byte is below
// 0x20 exactly when subtracting 0x20 from it borrows into its high bit
// while that bit was clear.
func hasControl(p []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; len(p)-i >= 8; i += 8 {
		x := binary.LittleEndian.Uint64(p[i:])
		if (x-ones*0x20)&^x&highs != 0 {
			return true
		}
	}
	for ; i < len(p); i++ {
		if p[i] < 0x20 {
			return true
		}
	}
	return false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipNumber returns the index just past the number that starts at b[i],
// or -1: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i
}

func skipObject(b []byte, i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1
		}
		if i = skipString(b, i); i < 0 {
			return -1
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return -1
		}
		if i = skipValue(b, skipSpace(b, i+1), depth); i < 0 {
			return -1
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case '}':
			return i + 1
		case ',':
			i = skipSpace(b, i+1)
		default:
			return -1
		}
	}
}

func skipArray(b []byte, i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		if i = skipValue(b, i, depth); i < 0 {
			return -1
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ']':
			return i + 1
		case ',':
			i = skipSpace(b, i+1)
		default:
			return -1
		}
	}
}
