package jsonl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzDecode checks the parser's contract on arbitrary input: it never
// panics, yields exactly one item per non-blank line of JSON Lines input
// (good or bad, not counting a leading byte order mark), numbers them in
// order, and every bad item names its line. For a JSON array input it
// checks the element splitter against encoding/json: a valid array yields
// one item per element, each as decoded on its own; an invalid one ends
// with a read error or has a bad item.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"function_name":"f","payload":{"a":1}}`,
		"{\"function_name\":\"f\"}\n\n{\"function_name\":\"g\",\"invocation_type\":\"Event\",\"region\":\"eu-west-1\"}\n",
		`{"function_name":"f","payload":"\u00e9\ud83d\ude00","id":12}`,
		`{"function_name":"f",`,
		`{"function_name":1}`,
		`{"fn":"f"}`,
		"\xff\xfe",
		"{}\r\n{}\r\n",
		`[{"function_name":"a"},{"function_name":"b"}]`,
		"\xef\xbb\xbf{\"function_name\":\"f\"}\n\xef\xbb\xbf{}",
		` [ {"function_name":"a\"]}","payload":[{"x":"\\"}, 1.5e3]} , 7, "s", null, [] ] `,
		`[{"function_name":"a"} x]`, `[1 2]`, `[{]}]`, `[,]`, `[1,]`, `[]]`, `["\"]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		seq, readErr := Decode(bytes.NewReader(data), Options{})
		var items []Item
		for it := range seq {
			if it.Seq != len(items) {
				t.Fatalf("item seq %d after %d items", it.Seq, len(items))
			}
			items = append(items, it)
			if it.Err != nil && !strings.Contains(it.Err.Error(), "line ") {
				t.Fatalf("error %q does not name its line", it.Err)
			}
		}
		body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a leading BOM is skipped
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		if len(trimmed) > 0 && trimmed[0] == '[' {
			checkArray(t, body, items, readErr())
			return
		}
		if readErr() != nil {
			t.Fatalf("JSON Lines input gave a read error: %v", readErr())
		}
		want := 0
		for line := range bytes.SplitSeq(body, []byte("\n")) {
			if len(bytes.TrimSpace(line)) > 0 {
				want++
			}
		}
		if len(items) != want {
			t.Fatalf("%d items for %d non-blank lines", len(items), want)
		}
	})
}

// checkArray checks what Decode made of a JSON array input against
// encoding/json.
func checkArray(t *testing.T, input []byte, items []Item, readErr error) {
	t.Helper()
	var elems []json.RawMessage
	if json.Unmarshal(input, &elems) != nil {
		if readErr != nil || slices.ContainsFunc(items, func(it Item) bool { return it.Err != nil }) {
			return
		}
		t.Fatalf("invalid array %q gave %d good items and no read error", input, len(items))
	}
	if readErr != nil {
		t.Fatalf("valid array %q: read error %v", input, readErr)
	}
	if len(items) != len(elems) {
		t.Fatalf("valid array %q: %d items for %d elements", input, len(items), len(elems))
	}
	for i, elem := range elems {
		if want := decodeItem(elem, i+1, i, Options{}); !reflect.DeepEqual(items[i], want) {
			t.Fatalf("array %q element %d: got %+v, want %+v", input, i+1, items[i], want)
		}
	}
}

// FuzzParseObject holds the strict object decoder to encoding/json (a
// json.Decoder with DisallowUnknownFields, reading exactly one value):
// whatever parseObject accepts, encoding/json accepts and decodes the same
// way, so whatever encoding/json rejects, parseObject rejects; and what
// parseObject alone rejects breaks one of its stricter rules: a key not
// spelt exactly, a repeated key, an id that is neither a string nor a
// number, or a line that is null.
func FuzzParseObject(f *testing.F) {
	for _, s := range []string{
		benchLine,
		`{"function_name":"f","payload":{"a":[1,2]},"invocation_type":"Event","region":"eu-west-1","qualifier":"live","log_type":"Tail","client_context":{"x":1},"id":12}`,
		`{"function_name":"f","function_name":"g"}`, `{"Function_Name":"f"}`, `{"function_name":null}`, `{"function_name":"f\u00e9"}`,
		`{"function\u005fname":"f"}`, `{"function_name":"f","id":"a","id":"a"}`, `{"id":true}`, `null`, `[]`,
		`{"function_name":"f","payload":null,"id":"a\"b"}`, `{ "payload" : "x" , "function_name" : "f" }`, `{}`, `{"fn":1}`,
		`{"function_name":"f","response_stream":true}`, `{"response_stream":"true"}`, `{"response_stream":null,"response_stream":false}`, `{"response_stream":1}`,
		`{"function_name":"f"} x`, `{"function_name":"f"}}`, "{\"function_name\":\"\xff\"}", "{\"\xff\":1}", `{"function_name":1}`,
		`{"payload":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
		`{"payload":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = bytes.Trim(data, " \t\r\n")
		strict, field, err := parseObject(data)

		var loose inputLine
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		looseErr := dec.Decode(&loose)
		if looseErr == nil {
			if _, end := dec.Token(); end != io.EOF {
				looseErr = fmt.Errorf("more after the value: %v", end)
			}
		}

		switch {
		case err == nil && looseErr != nil:
			t.Fatalf("parseObject accepted %q, encoding/json: %v", data, looseErr)
		case err == nil && !reflect.DeepEqual(strict, loose):
			t.Fatalf("%q: parseObject %+v, encoding/json %+v", data, strict, loose)
		case err != nil && looseErr == nil:
			msg := err.Error()
			stricter := string(data) == "null" && field == "" ||
				strings.HasPrefix(msg, "unknown field") && !slices.Contains(inputFields[:], field) ||
				msg == "appears more than once" && slices.Contains(inputFields[:], field) ||
				msg == "must be a string or a number" && field == "id"
			if !stricter {
				t.Fatalf("parseObject rejected %q (field %q: %v), which encoding/json accepts", data, field, err)
			}
		}
		if err != nil && !reflect.DeepEqual(strict, inputLine{ID: strict.ID}) {
			t.Fatalf("%q: rejected, yet fields other than the id are set: %+v", data, strict)
		}
	})
}
