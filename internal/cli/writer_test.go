package cli

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
)

// record returns a result record with a payload of n bytes.
func record(line, n int) jsonl.Record {
	payload := []byte(`"` + strings.Repeat("x", max(n-2, 0)) + `"`)
	return jsonl.Record{Line: line, Result: &lambdafan.Result{FunctionName: "f", StatusCode: 200, Payload: payload}}
}

// TestResultWriter_largeRecordsInOrder: a record larger than the buffer is
// written straight after what was buffered before it, so the lines stay in
// the order they were written, each whole.
func TestResultWriter_largeRecordsInOrder(t *testing.T) {
	var out bytes.Buffer
	rw := newResultWriter(&out, false, 0, nil)
	sizes := []int{10, 20, 3 * flushSize, 30, flushSize, 40}
	for i, n := range sizes {
		rw.write(i, record(i+1, n))
	}
	if o := rw.finish(); o.err != nil || o.written != len(sizes) {
		t.Fatalf("finish: %+v, want %d records written", o, len(sizes))
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(sizes) {
		t.Fatalf("%d lines, want %d", len(lines), len(sizes))
	}
	for i, l := range lines {
		want := string(jsonl.AppendRecord(nil, record(i+1, sizes[i])))
		if l+"\n" != want {
			t.Errorf("line %d: %.60q… (%d bytes), want the record of line %d (%d bytes)", i+1, l, len(l), i+1, len(want)-1)
		}
	}
}

// failAfter accepts n writes, then fails every one.
type failAfter struct {
	bytes.Buffer
	n int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("broken pipe")
	}
	f.n--
	return f.Buffer.Write(p)
}

// TestResultWriter_largeRecordSpilled: once the output fails, a large
// record goes to the spill file like any other.
func TestResultWriter_largeRecordSpilled(t *testing.T) {
	out := &failAfter{n: 1}
	rw := newResultWriter(out, false, 0, func(error) {})
	rw.write(0, record(1, 2*flushSize)) // written
	rw.write(1, record(2, 2*flushSize)) // fails: spilled
	rw.write(2, record(3, 10))          // spilled at the end
	o := rw.finish()
	if o.err == nil || o.written != 1 || o.spilled != 2 || o.spillPath == "" {
		t.Fatalf("finish: %+v, want 1 written, 2 spilled", o)
	}
	defer os.Remove(o.spillPath)
	spilled, err := os.ReadFile(o.spillPath)
	if err != nil {
		t.Fatal(err)
	}
	want := string(jsonl.AppendRecord(nil, record(2, 2*flushSize))) + string(jsonl.AppendRecord(nil, record(3, 10)))
	if string(spilled) != want {
		t.Errorf("spill file holds %d bytes, want records 2 and 3 (%d bytes)", len(spilled), len(want))
	}
}
