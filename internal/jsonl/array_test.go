package jsonl

import (
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

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

func TestDecode_ArrayElements(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    []string // per item: the function name, or "!" for an error item
		wantErr string   // a substring of the read error, "" for none
	}{
		{"empty", `[]`, nil, ""},
		{"empty with space", " [ \n ] \n", nil, ""},
		{"one", `[{"function_name":"a"}]`, []string{"a"}, ""},
		{"space around elements", "[ {\"function_name\":\"a\"} ,\n\t{\"function_name\":\"b\"}\r\n]", []string{"a", "b"}, ""},
		{"brackets and quotes in strings", `[{"function_name":"a\"]},[\\","payload":"[{\"x\"}]"},{"function_name":"b","payload":[{"c":"}]"}]}]`, []string{`a"]},[\`, "b"}, ""},
		{"nested", `[{"function_name":"a","payload":[[{"x":[]}],{}]},{"function_name":"b"}]`, []string{"a", "b"}, ""},
		{"scalars", `[1, "s" ,true,null,{"function_name":"b"}]`, []string{"!", "!", "!", "!", "b"}, ""},
		{"invalid element", `[{"function_name" "a"}, nul, {"function_name":"b"}]`, []string{"!", "!", "b"}, ""},
		{"element too deep", `[` + strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1) + `,{"function_name":"b"}]`, []string{"!", "b"}, ""},
		{"payload as deep as allowed", `[{"function_name":"a","payload":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}]`, []string{"a"}, ""},
		{"trailing space", "[{\"function_name\":\"a\"}]  \n", []string{"a"}, ""},
		{"trailing comma", `[{"function_name":"a"},]`, []string{"a"}, "element 2: invalid character ']' looking for the element"},
		{"leading comma", `[,{"function_name":"a"}]`, nil, "element 1: invalid character ',' looking for the element"},
		{"double comma", `[{"function_name":"a"},,{"function_name":"b"}]`, []string{"a"}, "element 2: invalid character ','"},
		{"garbage between elements", `[{"function_name":"a"} x, {"function_name":"b"}]`, []string{"a"}, "element 1: invalid character 'x' after the element"},
		{"missing comma", `[{"function_name":"a"} {"function_name":"b"}]`, []string{"a"}, "element 1: invalid character '{' after the element"},
		{"missing comma after a scalar", `[1 2]`, []string{"!"}, "element 1: invalid character '2' after the element"},
		{"scalar then object", `[1{"function_name":"b"}]`, []string{"!"}, "element 1: invalid character '{' after the element"},
		{"mismatched bracket", `[{"function_name":"a"], {"function_name":"b"}]`, nil, "element 1: invalid character ']' closing '{'"},
		{"stray brace", `[{"function_name":"a"}}]`, []string{"a"}, "element 1: invalid character '}' after the element"},
		{"stray brace after a scalar", `[1}]`, []string{"!"}, "element 1: invalid character '}' after the element"},
		{"stray brace first", `[}]`, nil, "element 1: invalid character '}' looking for the element"},
		{"unterminated", `[{"function_name":"a"}, {"function_name":`, []string{"a"}, "element 2: unexpected EOF"},
		{"no closing bracket", `[{"function_name":"a"}`, []string{"a"}, "element 1: unexpected EOF"},
		{"no closing bracket after a scalar", "[1 \n", []string{"!"}, "element 1: unexpected EOF"},
		{"no element", `[`, nil, "element 1: unexpected EOF"},
		{"unterminated string", `[{"function_name":"a}]`, nil, "element 1: unexpected EOF"},
		{"data after the array", `[{"function_name":"a"}] x`, []string{"a"}, "invalid character 'x' after the array"},
		{"second array", "[{\"function_name\":\"a\"}]\n[{\"function_name\":\"b\"}]", []string{"a"}, "invalid character '[' after the array"},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"byte by byte", iotest.OneByteReader},
	}
	for _, rd := range readers {
		for _, tt := range tests {
			t.Run(rd.name+"/"+tt.name, func(t *testing.T) {
				seq, readErr := Decode(rd.wrap(strings.NewReader(tt.input)), Options{})
				items := slices.Collect(seq)
				err := readErr()
				if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
					t.Errorf("read error %v, want one containing %q", err, tt.wantErr)
				}
				if len(items) != len(tt.want) {
					t.Fatalf("got %d items %+v, want %d", len(items), items, len(tt.want))
				}
				for i, it := range items {
					if it.Seq != i || it.Line != i+1 {
						t.Errorf("item %d: seq %d line %d, want seq %d line %d", i, it.Seq, it.Line, i, i+1)
					}
					if tt.want[i] == "!" {
						if le := lineErrorOf(t, it); le.Line != i+1 {
							t.Errorf("item %d: error names line %d", i, le.Line)
						}
					} else if it.Err != nil || it.Request.FunctionName != tt.want[i] {
						t.Errorf("item %d: function %q error %v, want function %q", i, it.Request.FunctionName, it.Err, tt.want[i])
					}
				}
			})
		}
	}
}

// TestDecode_ArrayElementLimit checks that an element may be MaxLineBytes
// long, not longer.
func TestDecode_ArrayElementLimit(t *testing.T) {
	element := func(size int) string {
		const head, tail = `{"function_name":"f","payload":"`, `"}`
		return head + strings.Repeat("x", size-len(head)-len(tail)) + tail
	}
	input := "[" + element(MaxLineBytes) + ",\n" + element(MaxLineBytes+1) + "]"
	items, err := decodeAll(t, input, Options{})
	if err != nil || len(items) != 2 {
		t.Fatalf("got %d items, read error %v; want 2 items", len(items), err)
	}
	if items[0].Err != nil || len(asBytes(items[0].Request.Payload)) != MaxLineBytes-len(`{"function_name":"f","payload":}`) {
		t.Errorf("element of MaxLineBytes: error %v, payload of %d bytes", items[0].Err, len(asBytes(items[0].Request.Payload)))
	}
	if items[1].Err == nil || !strings.Contains(items[1].Err.Error(), "element longer than") {
		t.Errorf("element of MaxLineBytes+1: error %v", items[1].Err)
	}
}

// TestDecode_ArrayLongElement checks that an element far longer than
// MaxLineBytes is an error item that costs no more memory than the limit,
// and that the elements after it are read.
func TestDecode_ArrayLongElement(t *testing.T) {
	const size = 50 << 20
	input := io.MultiReader(
		strings.NewReader(`[{"function_name":"a"},`+"\n"+`{"function_name":"big","payload":"`),
		io.LimitReader(repeatReader('x'), size),
		strings.NewReader(`"}, {"function_name":"c"}]`),
	)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	seq, readErr := Decode(input, Options{})
	items := slices.Collect(seq)
	runtime.ReadMemStats(&after)
	if err := readErr(); err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 {
		t.Fatalf("got %d items, want 3", len(items))
	}
	if items[0].Err != nil || items[0].Request.FunctionName != "a" || items[2].Err != nil || items[2].Request.FunctionName != "c" || items[2].Line != 3 {
		t.Errorf("items around the long one: %+v, %+v", items[0], items[2])
	}
	if le := lineErrorOf(t, items[1]); le.Line != 2 || le.Field != "" || !strings.Contains(le.Error(), "element longer than") {
		t.Errorf("long element: %v (line %d)", le, le.Line)
	}
	// Keeping MaxLineBytes of the element costs up to about twice that as
	// its buffer grows; holding the element whole would cost more than
	// its 50 MB.
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 3*MaxLineBytes {
		t.Errorf("decoding allocated %d MB, want at most %d MB", allocated>>20, 3*MaxLineBytes>>20)
	}
}

// repeatReader reads as an endless run of one byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}
