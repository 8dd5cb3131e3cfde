package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// inputLine is the JSON shape of one request, with the field names of the
// original Python snippet plus lambdafan's additions. The json tags say
// what encoding/json would make of a line; the differential fuzz test
// holds parseObject to them.
type inputLine struct {
	FunctionName   *string         `json:"function_name"`
	Payload        json.RawMessage `json:"payload"`
	InvocationType *string         `json:"invocation_type"`
	Region         *string         `json:"region"`
	Qualifier      *string         `json:"qualifier"`
	LogType        *string         `json:"log_type"`
	ClientContext  json.RawMessage `json:"client_context"`
	ID             json.RawMessage `json:"id"`
	ResponseStream *bool           `json:"response_stream"`
}

// inputFields are the JSON names of inputLine's fields.
var inputFields = [...]string{"function_name", "payload", "invocation_type", "region", "qualifier", "log_type", "client_context", "id", "response_stream"}

// parseObject decodes one request object, b (without surrounding
// whitespace), more strictly than encoding/json does: every key must be
// exactly one of inputFields and appear at most once. Keys are compared
// once decoded, so "function\u005fname" is function_name, while
// "Function_Name" is an unknown field (encoding/json would match it
// case-insensitively). String fields must be JSON strings or null,
// "response_stream" true, false or null, "id" a string, a number or null,
// and b exactly one JSON object. Otherwise the
// values decode as encoding/json decodes them: string escapes resolved,
// invalid UTF-8 replaced, payload and client_context kept as written.
//
// The common line (plain keys, plain string values) decodes without
// reflection and in a few allocations; only unusual spellings and
// problems go through encoding/json.
//
// A problem is returned as the field it concerns ("" when b is not a JSON
// object) and an error; the first in document order wins, except that
// invalid JSON anywhere wins over everything. After a problem with valid
// JSON, in still holds the ID when the line has exactly one "id" key whose
// value is a string or a number, so that the error can name its request;
// every other field is zero. b is not retained.
func parseObject(b []byte) (in inputLine, field string, err error) {
	if len(b) == 0 || b[0] != '{' {
		return inputLine{}, "", notAnObject(b)
	}
	var seen uint16
	dupID := false
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			// The key.
			if i >= len(b) || b[i] != '"' {
				return inputLine{}, "", syntaxError(b)
			}
			keyEnd := skipString(b, i)
			if keyEnd < 0 {
				return inputLine{}, "", syntaxError(b)
			}
			name, bit := fieldOf(b[i:keyEnd])
			i = skipSpace(b, keyEnd)
			if i >= len(b) || b[i] != ':' {
				return inputLine{}, "", syntaxError(b)
			}
			i = skipSpace(b, i+1)

			// The value. The object is level 1 of encoding/json's nesting
			// limit, so the value starts at level 1 too.
			start := i
			if i = skipValue(b, i, 1); i < 0 {
				return inputLine{}, "", syntaxError(b)
			}
			var problem error
			switch {
			case bit == 0:
				problem = fmt.Errorf("unknown field (known: %s)", strings.Join(inputFields[:], ", "))
			case seen&bit != 0:
				problem = errors.New("appears more than once")
				dupID = dupID || name == "id"
			case err == nil || name == "id":
				// After a problem only the id is still of use.
				problem = in.set(name, b[start:i])
			}
			seen |= bit
			if problem != nil && err == nil {
				field, err = name, problem
			}

			i = skipSpace(b, i)
			if i >= len(b) {
				return inputLine{}, "", syntaxError(b)
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return inputLine{}, "", syntaxError(b)
			}
			i = skipSpace(b, i+1)
		}
	}
	if i != len(b) {
		if validJSON(b[i:]) {
			return inputLine{}, "", errors.New("more than one JSON value on the line")
		}
		return inputLine{}, "", syntaxError(b)
	}
	if err != nil {
		in = inputLine{ID: in.ID}
		if dupID {
			in.ID = nil
		}
	}
	return in, field, err
}

// fieldOf returns the decoded key of the JSON string token tok and, when
// it names an inputLine field, a bit of that field's own (else 0). A known
// key without escapes, the usual case, costs no allocation.
func fieldOf(tok []byte) (string, uint16) {
	key := tok[1 : len(tok)-1]
	if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
		var s string
		if json.Unmarshal(tok, &s) == nil { // it cannot fail: tok was scanned
			key = []byte(s)
		}
	}
	for i, name := range inputFields {
		if string(key) == name {
			return name, 1 << i
		}
	}
	return string(key), 0
}

// set stores the value v (valid JSON) of the known field name, or says
// why it cannot.
func (in *inputLine) set(name string, v []byte) error {
	switch name {
	case "payload":
		in.Payload = v[:len(v):len(v)]
	case "client_context":
		in.ClientContext = v[:len(v):len(v)]
	case "id":
		if c := v[0]; c != '"' && c != '-' && !isDigit(c) && c != 'n' { // 'n': null
			return errors.New("must be a string or a number")
		}
		in.ID = v[:len(v):len(v)]
	case "response_stream":
		b, err := boolValue(v)
		if err != nil {
			return err
		}
		in.ResponseStream = b
	default:
		s, err := stringValue(v)
		if err != nil {
			return err
		}
		switch name {
		case "function_name":
			in.FunctionName = s
		case "invocation_type":
			in.InvocationType = s
		case "region":
			in.Region = s
		case "qualifier":
			in.Qualifier = s
		case "log_type":
			in.LogType = s
		}
	}
	return nil
}

// stringValue decodes the JSON string or null v.
func stringValue(v []byte) (*string, error) {
	if s, ok := plainString(v); ok {
		return &s, nil
	}
	var s *string
	if err := json.Unmarshal(v, &s); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, fmt.Errorf("must be a string, not a JSON %s", typeErr.Value)
		}
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	return s, nil
}

// boolValue decodes the JSON bool or null v (valid JSON).
func boolValue(v []byte) (*bool, error) {
	switch string(v) {
	case "true", "false":
		b := v[0] == 't'
		return &b, nil
	case "null":
		return nil, nil
	}
	return nil, fmt.Errorf("must be true or false, not %s", jsonKind(v))
}

// jsonKind names the kind of the valid JSON value v.
func jsonKind(v []byte) string {
	switch c := v[0]; {
	case c == '"':
		return "a JSON string"
	case c == '[':
		return "a JSON array"
	case c == '{':
		return "a JSON object"
	case c == 't' || c == 'f':
		return "a JSON bool"
	case c == 'n':
		return "null"
	}
	return "a JSON number"
}

// id returns the request ID of in.ID and whether it was a JSON number,
// which is kept as written.
func (in *inputLine) id() (id string, numeric bool) {
	switch {
	case len(in.ID) == 0 || string(in.ID) == "null":
		return "", false
	case in.ID[0] == '"':
		if s, err := stringValue(in.ID); err == nil { // it cannot fail: in.ID was scanned
			return *s, false
		}
		return "", false
	}
	return string(in.ID), true
}

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

// notAnObject says why b, which does not start with '{', is not a
// request.
func notAnObject(b []byte) error {
	if !validJSON(b) {
		return syntaxError(b)
	}
	return fmt.Errorf("must be a JSON object, not %s", jsonKind(b))
}

// syntaxError describes why b is not valid JSON, and where.
func syntaxError(b []byte) error {
	// A json.Decoder tells a truncated value (io.ErrUnexpectedEOF) from a
	// wrong byte; json.Unmarshal words what follows a complete value.
	err := json.NewDecoder(bytes.NewReader(b)).Decode(new(json.RawMessage))
	if err == nil {
		err = json.Unmarshal(b, new(json.RawMessage))
	}
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		return errors.New("invalid JSON")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: unexpected end of line")
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("invalid JSON: %v (at byte %d)", syntaxErr, syntaxErr.Offset)
	}
	return fmt.Errorf("invalid JSON: %v", err)
}
