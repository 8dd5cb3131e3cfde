package jsonl

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan"
)

func decodeAll(t *testing.T, input string, opts Options) ([]Item, error) {
	t.Helper()
	seq, readErr := Decode(strings.NewReader(input), opts)
	items := slices.Collect(seq)
	return items, readErr()
}

func TestDecode_Lines(t *testing.T) {
	input := "\n\n" + `{"function_name":"f","payload":{"a":1},"invocation_type":"Event","region":"eu-west-1","qualifier":"live","log_type":"Tail","client_context":{"custom":{}},"id":"x1"}` + "\n" +
		"   \n" +
		`{"function_name":"g","id":42}` + "\r\n" +
		`{"function_name":"h","payload":"just a string"}` // no trailing newline
	items, err := decodeAll(t, input, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 {
		t.Fatalf("got %d items, want 3", len(items))
	}
	want := []struct {
		seq, line int
		req       lambdafan.Request
	}{
		{0, 3, lambdafan.Request{ID: "x1", FunctionName: "f", Payload: []byte(`{"a":1}`), InvocationType: lambdafan.Event, Region: "eu-west-1", Qualifier: "live", LogType: lambdafan.LogTail, ClientContext: []byte(`{"custom":{}}`)}},
		{1, 5, lambdafan.Request{ID: "42", FunctionName: "g"}},
		{2, 6, lambdafan.Request{FunctionName: "h", Payload: []byte(`"just a string"`)}},
	}
	for i, w := range want {
		it := items[i]
		if it.Err != nil {
			t.Errorf("item %d: unexpected error %v", i, it.Err)
			continue
		}
		if it.Seq != w.seq || it.Line != w.line {
			t.Errorf("item %d: seq %d line %d, want seq %d line %d", i, it.Seq, it.Line, w.seq, w.line)
		}
		got := it.Request
		if got.ID != w.req.ID || got.FunctionName != w.req.FunctionName || got.InvocationType != w.req.InvocationType ||
			got.Region != w.req.Region || got.Qualifier != w.req.Qualifier || got.LogType != w.req.LogType ||
			string(asBytes(got.Payload)) != string(asBytes(w.req.Payload)) || string(asBytes(got.ClientContext)) != string(asBytes(w.req.ClientContext)) {
			t.Errorf("item %d: got %+v\nwant %+v", i, got, w.req)
		}
	}
}

func asBytes(v any) []byte {
	b, _ := v.([]byte)
	return b
}

func TestDecode_BadLinesDoNotStopTheRun(t *testing.T) {
	input := strings.Join([]string{
		`{"function_name":"ok1"}`,
		`{"function_name":"f",`,                       // truncated JSON
		`{"function_name":17}`,                        // wrong type
		`{"function_name":"f","paylod":{}}`,           // unknown field
		`{"function_name":"f","id":{"a":1}}`,          // bad id
		`{"function_name":"f"} {"function_name":"g"}`, // two values
		`not json`,
		`{"function_name":"ok2"}`,
	}, "\n")
	items, err := decodeAll(t, input, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 8 {
		t.Fatalf("got %d items, want 8 (one per non-blank line)", len(items))
	}
	wantField := []string{"", "", "function_name", "paylod", "id", "", "", ""}
	for i, it := range items {
		bad := i != 0 && i != 7
		if (it.Err != nil) != bad {
			t.Errorf("line %d: err = %v, want error: %v", it.Line, it.Err, bad)
			continue
		}
		if !bad {
			continue
		}
		var le *LineError
		if !errors.As(it.Err, &le) || le.Line != i+1 || le.Field != wantField[i] {
			t.Errorf("line %d: error %#v, want a LineError for line %d field %q", i+1, it.Err, i+1, wantField[i])
		}
		if !strings.HasPrefix(it.Err.Error(), "line ") {
			t.Errorf("line %d: message %q does not name the line", i+1, it.Err)
		}
	}
}

func TestDecode_Array(t *testing.T) {
	input := ` [ {"function_name":"a","payload":[1,2]},
	{"function_name":"b","bogus":1},
	{"function_name":"c"} ]`
	items, err := decodeAll(t, input, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].Request.FunctionName != "a" || string(asBytes(items[0].Request.Payload)) != "[1,2]" ||
		items[1].Err == nil || items[2].Request.FunctionName != "c" || items[2].Line != 3 {
		t.Errorf("items = %+v", items)
	}
}

func TestDecode_ArrayTruncated(t *testing.T) {
	items, err := decodeAll(t, `[{"function_name":"a"}, {"function_name":`, Options{})
	if err == nil || len(items) != 1 {
		t.Errorf("got %d items, err %v; want 1 item and a read error", len(items), err)
	}
}

func TestDecode_FunctionShorthand(t *testing.T) {
	items, err := decodeAll(t, "{\"n\":1}\n[1,2]\n\"s\"\n{bad\n", Options{Function: "fn", InvocationType: lambdafan.DryRun})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 {
		t.Fatalf("got %d items", len(items))
	}
	for i, want := range []string{`{"n":1}`, `[1,2]`, `"s"`} {
		r := items[i].Request
		if items[i].Err != nil || r.FunctionName != "fn" || r.InvocationType != lambdafan.DryRun || string(asBytes(r.Payload)) != want {
			t.Errorf("item %d = %+v, %v", i, r, items[i].Err)
		}
	}
	if items[3].Err == nil {
		t.Error("invalid JSON payload line was accepted")
	}
}

func TestDecode_LongLines(t *testing.T) {
	payload := strings.Repeat("x", 200_000) // longer than the reader's buffer
	tooLong := strings.Repeat("y", MaxLineBytes+10)
	input := `{"function_name":"f","payload":"` + payload + `"}` + "\n" + tooLong + "\n" + `{"function_name":"g"}`
	items, err := decodeAll(t, input, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 {
		t.Fatalf("got %d items, want 3", len(items))
	}
	if items[0].Err != nil || len(asBytes(items[0].Request.Payload)) != len(payload)+2 {
		t.Errorf("long line: %v, payload %d bytes", items[0].Err, len(asBytes(items[0].Request.Payload)))
	}
	if items[1].Err == nil || !strings.Contains(items[1].Err.Error(), "longer than") {
		t.Errorf("too-long line: %v", items[1].Err)
	}
	if items[2].Err != nil || items[2].Request.FunctionName != "g" || items[2].Line != 3 {
		t.Errorf("line after the long one: %+v", items[2])
	}
}

func TestDecode_Empty(t *testing.T) {
	items, err := decodeAll(t, " \n\n", Options{})
	if err != nil || len(items) != 0 {
		t.Errorf("got %d items, %v", len(items), err)
	}
}
