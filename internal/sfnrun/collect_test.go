package sfnrun_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
	"github.com/lambdafan/lambdafan/internal/sfnrun"
)

// testdata/s3/BUCKET/KEY holds the objects of a work directory: the items
// of a run, and the ResultWriter output of its Map Run in the format the
// Step Functions documentation gives (ResultWriter (Map), "Transformation
// NONE" and "Exporting to Amazon S3": manifest.json with ResultFiles by
// status, SUCCEEDED_n.json / FAILED_n.json / PENDING_n.json as JSON arrays
// of child executions), with the variants met in practice: a record
// whose Input is left out ("InputDetails": {"Included": false}), FAILED
// records with Error and Cause, several files of one status, an item
// listed twice (a redriven Map Run), and an item no file lists.
func testdataOpener(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	return os.Open(filepath.Join("testdata", "s3", bucket, filepath.FromSlash(key)))
}

// collected is a result as written to a results file, decoded.
type collected struct {
	Line            int             `json:"line"`
	ID              json.RawMessage `json:"id"`
	FunctionName    string          `json:"function_name"`
	Region          string          `json:"region"`
	InvocationType  string          `json:"invocation_type"`
	Status          int             `json:"status"`
	Outcome         string          `json:"outcome"`
	Payload         json.RawMessage `json:"payload"`
	PayloadEncoding string          `json:"payload_encoding"`
	FunctionError   string          `json:"function_error"`
	Log             string          `json:"log"`
	ExecutedVersion string          `json:"executed_version"`
	RequestID       string          `json:"request_id"`
	Attempts        int             `json:"attempts"`
	LatencyMS       float64         `json:"latency_ms"`
	Error           *struct {
		Kind    string `json:"kind"`
		Type    string `json:"type"`
		Status  int    `json:"status"`
		Sent    *bool  `json:"sent"`
		Message string `json:"message"`
	} `json:"error"`
}

func collect(t *testing.T, m *sfnrun.Manifest, reason string) (map[int]collected, sfnrun.CollectStats) {
	t.Helper()
	c := sfnrun.Collector{Open: testdataOpener, Converter: sfnrun.Converter{Region: "us-east-2", MaxAttempts: 10}}
	got := map[int]collected{}
	st, err := c.Collect(t.Context(), m, "work", "run/runs/r1/items.jsonl", reason, func(k sfnrun.ItemKey, r lambdafan.Result) error {
		line := jsonl.AppendRecord(nil, jsonl.Record{Line: k.Line, NumericID: k.NumericID(), Result: &r})
		var c collected
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatalf("result line %s: %v", line, err)
		}
		if _, dup := got[c.Line]; dup {
			t.Errorf("line %d has more than one result", c.Line)
		}
		got[c.Line] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, st
}

func readManifest(t *testing.T) *sfnrun.Manifest {
	t.Helper()
	f, err := testdataOpener(t.Context(), "work", "run/results/ad9b5f27-090b-3ac6-9beb-243cd77144a7/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := sfnrun.ParseManifest(f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCollector_ResultWriterFiles(t *testing.T) {
	m := readManifest(t)
	if len(m.ResultFiles.Succeeded) != 2 || len(m.ResultFiles.Failed) != 1 || len(m.ResultFiles.Pending) != 1 {
		t.Fatalf("manifest result files = %+v", m.ResultFiles)
	}
	got, st := collect(t, m, "")
	wantLines := []int{2, 3, 4, 5, 7, 8, 9, 10, 11, 12}
	if len(got) != len(wantLines) {
		t.Errorf("%d results, want one for each of the %d items", len(got), len(wantLines))
	}
	want := sfnrun.CollectStats{Records: 10, Duplicates: 1, Unidentified: 1, Missing: 2}
	if st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}

	t.Run("response with log tail", func(t *testing.T) {
		r := got[2]
		if r.Outcome != "ok" || r.Status != 200 || string(r.Payload) != `{"n":2,"echo":true}` || r.ExecutedVersion != "$LATEST" ||
			r.RequestID != "6f0f3a3c-1111-4c1e-9c6b-0d9e8f1a2b3c" || !strings.Contains(r.Log, "hello\nEND RequestId") ||
			r.Attempts != 1 || r.Region != "us-east-2" || r.FunctionName != "echo" || string(r.ID) != `"a"` || r.LatencyMS != 64 {
			t.Errorf("line 2 = %+v", r)
		}
	})
	t.Run("retried response with numeric id", func(t *testing.T) {
		r := got[3]
		if r.Outcome != "ok" || r.Attempts != 3 || string(r.ID) != "7" || string(r.Payload) != `"plain text answer"` || r.ExecutedVersion != "3" {
			t.Errorf("line 3 = %+v", r)
		}
	})
	t.Run("function error", func(t *testing.T) {
		r := got[4]
		if r.Outcome != "function_error" || r.FunctionError != "Unhandled" || r.Status != 200 || r.Error == nil ||
			r.Error.Kind != "function" || r.Error.Type != "ValueError" || !strings.Contains(r.Error.Message, "bad value 4") ||
			!strings.Contains(string(r.Payload), `"errorType": "ValueError"`) {
			t.Errorf("line 4 = %+v (error %+v)", r, r.Error)
		}
	})
	t.Run("invoke error", func(t *testing.T) {
		r := got[5]
		if r.Outcome != "error" || r.Status != 404 || r.Error == nil || r.Error.Kind != "invoke" ||
			r.Error.Type != "ResourceNotFoundException" || r.Error.Status != 404 || r.RequestID != "51713f4c-6fa8-4c86-b86e-0e1d489811b3" ||
			strings.Contains(r.Error.Message, "Proxy: null") || len(r.ID) != 0 {
			t.Errorf("line 5 = %+v (error %+v)", r, r.Error)
		}
	})
	t.Run("throttled after every attempt, input left out", func(t *testing.T) {
		r := got[7]
		if r.Outcome != "throttled" || r.Attempts != 10 || r.Error == nil || r.Error.Status != 429 || r.InvocationType != "Event" || string(r.ID) != `"g"` {
			t.Errorf("line 7 = %+v (error %+v)", r, r.Error)
		}
	})
	t.Run("task timeout may have run", func(t *testing.T) {
		r := got[8]
		if r.Outcome != "unknown" || r.Error == nil || r.Error.Sent == nil || !*r.Error.Sent || !strings.Contains(r.Error.Message, "States.Timeout") {
			t.Errorf("line 8 = %+v (error %+v)", r, r.Error)
		}
	})
	t.Run("failed child", func(t *testing.T) {
		r := got[9]
		if r.Outcome != "unknown" || r.Error == nil || !strings.Contains(r.Error.Message, "child execution FAILED: States.Runtime") {
			t.Errorf("line 9 = %+v (error %+v)", r, r.Error)
		}
	})
	t.Run("pending child never ran", func(t *testing.T) {
		r := got[10]
		if r.Outcome != "not_sent" || r.Error == nil || r.Error.Kind != "stopped" || r.Attempts != 0 {
			t.Errorf("line 10 = %+v (error %+v)", r, r.Error)
		}
	})
	t.Run("no record", func(t *testing.T) {
		for _, line := range []int{11, 12} {
			r := got[line]
			if r.Outcome != "unknown" || r.Error == nil || !strings.Contains(r.Error.Message, "no result for this item") {
				t.Errorf("line %d = %+v (error %+v)", line, r, r.Error)
			}
		}
		if got[11].InvocationType != "DryRun" || got[11].FunctionName != "echo" {
			t.Errorf("line 11 = %+v, want the item's function and invocation type", got[11])
		}
	})
}

func TestCollector_NoManifest(t *testing.T) {
	got, st := collect(t, nil, "the execution was ABORTED")
	if st.Missing != 10 || len(got) != 10 {
		t.Fatalf("stats %+v, %d results; want all 10 items missing", st, len(got))
	}
	for line, r := range got {
		if r.Outcome != "unknown" || r.Error == nil || !strings.Contains(r.Error.Message, "the execution was ABORTED") {
			t.Errorf("line %d = %+v (error %+v)", line, r, r.Error)
		}
	}
}

func TestCollector_EmitErrorStops(t *testing.T) {
	stop := errors.New("output full")
	c := sfnrun.Collector{Open: testdataOpener, Converter: sfnrun.Converter{Region: "us-east-2", MaxAttempts: 10}}
	n := 0
	_, err := c.Collect(t.Context(), readManifest(t), "work", "run/runs/r1/items.jsonl", "", func(sfnrun.ItemKey, lambdafan.Result) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Collect = %v after %d results, want the emit error after 1", err, n)
	}
}

func TestReadRecords(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string
	}{
		{"JSON array", `[{"Name":"a","Status":"SUCCEEDED"},{"Name":"b","Status":"FAILED","Error":"E"}]`, []string{"a", "b"}},
		{"JSON Lines", "{\"Name\":\"a\"}\n{\"Name\":\"b\"}\n", []string{"a", "b"}},
		{"empty array", " [ ] ", nil},
		{"empty file", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := sfnrun.ReadRecords(strings.NewReader(tt.file), func(r *sfnrun.Record) error {
				got = append(got, r.Name)
				return nil
			})
			if err != nil || strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("ReadRecords = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if err := sfnrun.ReadRecords(strings.NewReader(`[{"Name":"a"},`), func(*sfnrun.Record) error { return nil }); err == nil {
		t.Error("a truncated file reads without error")
	}
}
