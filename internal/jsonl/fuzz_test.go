package jsonl

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDecode checks the parser's contract on arbitrary input: it never
// panics, yields exactly one item per non-blank line of JSON Lines input
// (good or bad), numbers them in order, and every bad item names its line.
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
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		seq, readErr := Decode(bytes.NewReader(data), Options{})
		n, lastSeq := 0, -1
		for it := range seq {
			if it.Seq != lastSeq+1 {
				t.Fatalf("item seq %d after %d", it.Seq, lastSeq)
			}
			lastSeq = it.Seq
			n++
			if it.Err != nil && !strings.Contains(it.Err.Error(), "line ") {
				t.Fatalf("error %q does not name its line", it.Err)
			}
		}
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		if len(trimmed) > 0 && trimmed[0] == '[' {
			return // array input: counted by elements, not lines
		}
		if readErr() != nil {
			t.Fatalf("JSON Lines input gave a read error: %v", readErr())
		}
		want := 0
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) > 0 {
				want++
			}
		}
		if n != want {
			t.Fatalf("%d items for %d non-blank lines", n, want)
		}
	})
}
