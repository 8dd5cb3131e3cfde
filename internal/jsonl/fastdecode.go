package jsonl

import (
	"bytes"
	"unicode/utf8"
)

// fastDecodeLine decodes the common shape of a request line — one object
// whose keys are the known field names, each once, spelt exactly, with
// plain strings (no escapes, no null) for the string fields — into exactly
// what json.Decoder with DisallowUnknownFields would produce, without
// reflection and in a few allocations. Anything else (unknown, repeated or
// differently capitalised keys, escapes, null, invalid JSON) returns false
// and the caller falls back to json.Decoder, which also words the errors.
// The line b must have no surrounding whitespace; it is not retained.
func fastDecodeLine(b []byte) (in inputLine, ok bool) {
	if len(b) < 2 || b[0] != '{' {
		return in, false
	}
	var seen uint8
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == '}' {
		return in, i == len(b)-1
	}
	for {
		// The key: a plain string.
		if i >= len(b) || b[i] != '"' {
			return in, false
		}
		end := bytes.IndexByte(b[i+1:], '"')
		if end < 0 {
			return in, false
		}
		key := b[i+1 : i+1+end]
		if bytes.IndexByte(key, '\\') >= 0 {
			return in, false
		}
		field, bit := fieldOf(key)
		if bit == 0 || seen&bit != 0 {
			return in, false
		}
		seen |= bit
		i = skipSpace(b, i+1+end+1)
		if i >= len(b) || b[i] != ':' {
			return in, false
		}
		i = skipSpace(b, i+1)

		// The value.
		start := i
		if i = skipValue(b, i, 0); i < 0 {
			return in, false
		}
		value := b[start:i]
		switch field {
		case "payload":
			in.Payload = bytes.Clone(value)
		case "client_context":
			in.ClientContext = bytes.Clone(value)
		case "id":
			in.ID = bytes.Clone(value)
		default:
			s, ok := plainString(value)
			if !ok {
				return in, false
			}
			switch field {
			case "function_name":
				in.FunctionName = &s
			case "invocation_type":
				in.InvocationType = &s
			case "region":
				in.Region = &s
			case "qualifier":
				in.Qualifier = &s
			case "log_type":
				in.LogType = &s
			}
		}

		i = skipSpace(b, i)
		if i >= len(b) {
			return in, false
		}
		switch b[i] {
		case '}':
			return in, i == len(b)-1
		case ',':
			i = skipSpace(b, i+1)
		default:
			return in, false
		}
	}
}

// fieldOf returns the inputLine field named key and a bit of its own, or 0
// for an unknown key.
func fieldOf(key []byte) (string, uint8) {
	for i, name := range inputFields {
		if string(key) == name {
			return name, 1 << i
		}
	}
	return "", 0
}

// inputFields are the JSON names of inputLine's fields.
var inputFields = [...]string{"function_name", "payload", "invocation_type", "region", "qualifier", "log_type", "client_context", "id"}

// plainString returns the content of a JSON string token without escapes
// whose bytes are valid UTF-8 (json.Unmarshal would rewrite invalid UTF-8).
func plainString(tok []byte) (string, bool) {
	if len(tok) < 2 || tok[0] != '"' {
		return "", false
	}
	content := tok[1 : len(tok)-1]
	if bytes.IndexByte(content, '\\') >= 0 || !utf8.Valid(content) {
		return "", false
	}
	return string(content), true
}
