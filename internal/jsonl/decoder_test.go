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

// lineErrorOf returns the item's *LineError, failing the test when it has
// none.
func lineErrorOf(t *testing.T, it Item) *LineError {
	t.Helper()
	var le *LineError
	if !errors.As(it.Err, &le) {
		t.Fatalf("item on line %d: error %v is not a *LineError", it.Line, it.Err)
	}
	return le
}

func TestDecode_StrictObject(t *testing.T) {
	tests := []struct {
		name      string
		line      string
		wantField string // "" with wantErr "" means the line is a valid request
		wantErr   string // a substring of the error message
		wantFn    string // the function name of a valid request
	}{
		{"exact names", `{"function_name":"f","payload":1,"invocation_type":"Event","region":"r","qualifier":"q","log_type":"Tail","client_context":{},"id":"i"}`, "", "", "f"},
		{"escaped spelling of a known name", `{"function\u005fname":"f"}`, "", "", "f"},
		{"escaped value", `{"function_name":"f\u00e9"}`, "", "", "fé"},
		{"upper case", `{"FUNCTION_NAME":"f"}`, "FUNCTION_NAME", "unknown field (known: function_name, payload,", ""},
		{"capitalised", `{"function_name":"f","Payload":{}}`, "Payload", "unknown field", ""},
		{"escaped capital", `{"function_name":"f","\u0050ayload":{}}`, "Payload", "unknown field", ""},
		{"unknown", `{"function_name":"f","paylod":{}}`, "paylod", "unknown field", ""},
		{"duplicate function_name", `{"function_name":"echo","function_name":"fail"}`, "function_name", "appears more than once", ""},
		{"duplicate payload", `{"function_name":"f","payload":1,"payload":2}`, "payload", "appears more than once", ""},
		{"duplicate invocation_type", `{"function_name":"f","invocation_type":"Event","invocation_type":"DryRun"}`, "invocation_type", "appears more than once", ""},
		{"duplicate region", `{"function_name":"f","region":"a","region":"b"}`, "region", "appears more than once", ""},
		{"duplicate qualifier", `{"function_name":"f","qualifier":"1","qualifier":"2"}`, "qualifier", "appears more than once", ""},
		{"duplicate log_type", `{"function_name":"f","log_type":"Tail","log_type":"None"}`, "log_type", "appears more than once", ""},
		{"duplicate client_context", `{"function_name":"f","client_context":{},"client_context":{}}`, "client_context", "appears more than once", ""},
		{"duplicate id", `{"function_name":"f","id":"a","id":"a"}`, "id", "appears more than once", ""},
		{"duplicate null", `{"function_name":"f","region":null,"region":null}`, "region", "appears more than once", ""},
		{"duplicate spelt differently", `{"function_name":"f","function\u005fname":"f"}`, "function_name", "appears more than once", ""},
		{"first problem wins", `{"Region":"a","function_name":1}`, "Region", "unknown field", ""},
		{"wrong type", `{"function_name":17}`, "function_name", "must be a string, not a JSON number", ""},
		{"wrong type object", `{"function_name":"f","region":{}}`, "region", "must be a string, not a JSON object", ""},
		{"bad id", `{"function_name":"f","id":{"a":1}}`, "id", "must be a string or a number", ""},
		{"response_stream", `{"function_name":"f","response_stream":true}`, "", "", "f"},
		{"response_stream null", `{"function_name":"f","response_stream":null}`, "", "", "f"},
		{"response_stream a string", `{"function_name":"f","response_stream":"true"}`, "response_stream", "must be true or false, not a JSON string", ""},
		{"response_stream a number", `{"function_name":"f","response_stream":1}`, "response_stream", "must be true or false, not a JSON number", ""},
		{"duplicate response_stream", `{"function_name":"f","response_stream":true,"response_stream":true}`, "response_stream", "appears more than once", ""},
		{"not an object", `"f"`, "", "must be a JSON object, not a JSON string", ""},
		{"null", `null`, "", "must be a JSON object, not null", ""},
		{"truncated", `{"function_name":"f",`, "", "invalid JSON: unexpected end of line", ""},
		{"syntax error says where", `{"function_name" "f"}`, "", "(at byte 18)", ""},
		{"syntax error after a field error", `{"FUNCTION_NAME":"f",}`, "", "invalid JSON", ""},
		{"two values", `{"function_name":"f"} {"function_name":"g"}`, "", "more than one JSON value on the line", ""},
		{"trailing brace", `{"function_name":"f"}}`, "", "invalid JSON: invalid character '}' after top-level value", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := decodeAll(t, tt.line+"\n", Options{})
			if err != nil || len(items) != 1 {
				t.Fatalf("got %d items, read error %v; want 1 item", len(items), err)
			}
			it := items[0]
			if tt.wantErr == "" {
				if it.Err != nil || it.Request.FunctionName != tt.wantFn {
					t.Errorf("got request %+v, error %v; want function %q", it.Request, it.Err, tt.wantFn)
				}
				return
			}
			le := lineErrorOf(t, it)
			if le.Line != 1 || le.Field != tt.wantField || !strings.Contains(le.Error(), tt.wantErr) {
				t.Errorf("got line %d field %q error %q; want line 1 field %q error containing %q", le.Line, le.Field, le.Error(), tt.wantField, tt.wantErr)
			}
		})
	}
}

func TestDecode_ResponseStream(t *testing.T) {
	input := `{"function_name":"f","response_stream":true}
{"function_name":"f","response_stream":false}
{"function_name":"f","response_stream":null}
{"function_name":"f"}
`
	for _, tt := range []struct {
		def  bool
		want []bool
	}{
		{false, []bool{true, false, false, false}},
		{true, []bool{true, false, true, true}},
	} {
		items, err := decodeAll(t, input, Options{ResponseStream: tt.def})
		if err != nil || len(items) != len(tt.want) {
			t.Fatalf("%d items, %v", len(items), err)
		}
		for i, it := range items {
			if it.Err != nil || it.Request.ResponseStream != tt.want[i] {
				t.Errorf("default %v, line %d: response stream %v (%v), want %v", tt.def, it.Line, it.Request.ResponseStream, it.Err, tt.want[i])
			}
		}
	}
	items, _ := decodeAll(t, "{}\n", Options{Function: "f", ResponseStream: true})
	if len(items) != 1 || !items[0].Request.ResponseStream {
		t.Errorf("--function lines do not take the default: %+v", items)
	}
}

func TestDecode_BOM(t *testing.T) {
	const bom = "\xef\xbb\xbf"
	tests := []struct {
		name      string
		input     string
		opts      Options
		wantFns   []string // the function names of the items, "" for an error item
		wantLines []int
	}{
		{"lines", bom + `{"function_name":"a"}` + "\n" + `{"function_name":"b"}`, Options{}, []string{"a", "b"}, []int{1, 2}},
		{"lines after blank lines", bom + "\n\n" + `{"function_name":"a"}`, Options{}, []string{"a"}, []int{3}},
		{"array", bom + `[{"function_name":"a"},{"function_name":"b"}]`, Options{}, []string{"a", "b"}, []int{1, 2}},
		{"array after space", bom + " \n [{\"function_name\":\"a\"}]", Options{}, []string{"a"}, []int{1}},
		{"function", bom + `{"n":1}` + "\n" + `{"n":2}`, Options{Function: "fn"}, []string{"fn", "fn"}, []int{1, 2}},
		{"only a BOM", bom, Options{}, nil, nil},
		{"BOM on a later line", `{"function_name":"a"}` + "\n" + bom + `{"function_name":"b"}`, Options{}, []string{"a", ""}, []int{1, 2}},
		{"BOM after space", " " + bom + `{"function_name":"a"}`, Options{}, []string{""}, []int{1}},
		{"two BOMs", bom + bom + `{"function_name":"a"}`, Options{}, []string{""}, []int{1}},
		{"BOM in the function's first line", bom + bom + `{"n":1}`, Options{Function: "fn"}, []string{""}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := decodeAll(t, tt.input, tt.opts)
			if err != nil {
				t.Fatalf("read error: %v", err)
			}
			if len(items) != len(tt.wantFns) {
				t.Fatalf("got %d items %+v, want %d", len(items), items, len(tt.wantFns))
			}
			for i, it := range items {
				if tt.wantFns[i] == "" {
					lineErrorOf(t, it)
				} else if it.Err != nil || it.Request.FunctionName != tt.wantFns[i] {
					t.Errorf("item %d: request %+v, error %v; want function %q", i, it.Request, it.Err, tt.wantFns[i])
				}
				if it.Line != tt.wantLines[i] {
					t.Errorf("item %d: line %d, want %d", i, it.Line, tt.wantLines[i])
				}
			}
		})
	}
}

func TestDecode_ID(t *testing.T) {
	tests := []struct {
		name        string
		id          string // the id's JSON text
		wantID      string
		wantNumeric bool
		wantErr     bool
	}{
		{"number", `1`, "1", true, false},
		{"string of digits", `"1"`, "1", false, false},
		{"number kept as written", `-3.5e2`, "-3.5e2", true, false},
		{"big number", `123456789012345678901234567890`, "123456789012345678901234567890", true, false},
		{"negative zero", `-0`, "-0", true, false},
		{"string with escapes", `"a\u0062"`, "ab", false, false},
		{"null", `null`, "", false, false},
		{"empty string", `""`, "", false, false},
		{"leading zero", `01`, "", false, true},
		{"trailing dot", `1.`, "", false, true},
		{"lone minus", `-`, "", false, true},
		{"plus sign", `+1`, "", false, true},
		{"leading dot", `.5`, "", false, true},
		{"hex", `0x1F`, "", false, true},
		{"bare exponent", `1e`, "", false, true},
		{"NaN", `NaN`, "", false, true},
		{"bool", `true`, "", false, true},
		{"array", `[1]`, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := decodeAll(t, `{"function_name":"f","id":`+tt.id+`}`, Options{})
			if err != nil || len(items) != 1 {
				t.Fatalf("got %d items, read error %v; want 1 item", len(items), err)
			}
			it := items[0]
			if tt.wantErr {
				lineErrorOf(t, it)
				return
			}
			if it.Err != nil || it.Request.ID != tt.wantID || it.NumericID != tt.wantNumeric {
				t.Errorf("got ID %q numeric %v error %v; want ID %q numeric %v", it.Request.ID, it.NumericID, it.Err, tt.wantID, tt.wantNumeric)
			}
		})
	}
}

// TestDecode_InvalidLineKeepsID checks that a bad line still names its
// request when its id can be read, so that its error result can too.
func TestDecode_InvalidLineKeepsID(t *testing.T) {
	tests := []struct {
		name        string
		line        string
		wantField   string
		wantID      string
		wantNumeric bool
	}{
		{"wrong type after the id", `{"id":"x","function_name":1}`, "function_name", "x", false},
		{"wrong type before the id", `{"function_name":1,"id":"x"}`, "function_name", "x", false},
		{"numeric id", `{"id":7,"Payload":{}}`, "Payload", "7", true},
		{"unknown field before the id", `{"Payload":{},"id":-1.5}`, "Payload", "-1.5", true},
		{"duplicate key", `{"id":"x","function_name":"f","function_name":"g"}`, "function_name", "x", false},
		{"escaped id", `{"region":[1],"id":"\u0078"}`, "region", "x", false},
		{"duplicate id", `{"id":"x","id":"y","function_name":1}`, "id", "", false},
		{"duplicate id after an error", `{"function_name":1,"id":"x","id":"y"}`, "function_name", "", false},
		{"same id twice", `{"id":"x","id":"x"}`, "id", "", false},
		{"bad id", `{"id":true,"function_name":1}`, "id", "", false},
		{"null id", `{"id":null,"function_name":1}`, "function_name", "", false},
		{"not an object", `["id","x"]`, "", "", false},
		{"truncated", `{"id":"x",`, "", "", false},
		{"syntax error after the id", `{"id":"x","function_name" "f"}`, "", "", false},
		{"two values", `{"id":"x"} {"id":"y"}`, "", "", false},
		{"not JSON", `id: x`, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A first line keeps '[' lines from making the input an array.
			items, err := decodeAll(t, `{"function_name":"f"}`+"\n"+tt.line, Options{})
			if err != nil || len(items) != 2 {
				t.Fatalf("got %d items, read error %v; want 2 items", len(items), err)
			}
			it := items[1]
			le := lineErrorOf(t, it)
			if le.Field != tt.wantField {
				t.Errorf("field %q, want %q (error %v)", le.Field, tt.wantField, le)
			}
			if it.Request.ID != tt.wantID || it.NumericID != tt.wantNumeric {
				t.Errorf("ID %q numeric %v, want ID %q numeric %v", it.Request.ID, it.NumericID, tt.wantID, tt.wantNumeric)
			}
		})
	}
}
