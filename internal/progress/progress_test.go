package progress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
)

func TestSummary_Report(t *testing.T) {
	start := time.Unix(1000, 0)
	s := NewSummary(start)
	for i := range 100 {
		r := lambdafan.Result{Attempts: 1, Latency: time.Duration(i+1) * time.Millisecond}
		s.Add(&r)
	}
	throttle := &lambdafan.InvokeError{StatusCode: 429, Type: "TooManyRequestsException"}
	s.Add(&lambdafan.Result{Attempts: 3, Throttles: 3, Latency: time.Second, Err: throttle})
	s.Add(&lambdafan.Result{Attempts: 2, Throttles: 1, Latency: 2 * time.Millisecond}) // throttled, then ok
	s.Add(&lambdafan.Result{Attempts: 1, Latency: time.Millisecond, Err: &lambdafan.FunctionError{Kind: "Unhandled", ErrorType: "ValueError"}})
	s.Add(&lambdafan.Result{Err: &jsonl.LineError{Line: 7, Err: errors.New("bad line")}})
	s.Add(&lambdafan.Result{Attempts: 1, Latency: 5 * time.Millisecond, Err: &lambdafan.InvokeError{StatusCode: 404, Type: "ResourceNotFoundException"}})
	s.Add(&lambdafan.Result{Attempts: 1, Latency: 5 * time.Millisecond, Err: &lambdafan.InvokeError{StatusCode: 404, Type: "ResourceNotFoundException"}})
	// Never sent: after an interrupt, pulled but not started (it waited an
	// hour in the queue), and refused connections. Neither counts in the
	// latency.
	s.Add(&lambdafan.Result{Latency: time.Hour, Err: lambdafan.ErrStopped})
	s.Add(&lambdafan.Result{Attempts: 2, Latency: time.Hour, Err: &lambdafan.TransportError{Err: errors.New("connection refused")}})
	// Sent, then the answer was lost: unknown.
	s.Add(&lambdafan.Result{Attempts: 1, Latency: 3 * time.Millisecond, Err: &lambdafan.TransportError{Sent: true, Err: errors.New("reset")}})

	r := s.Report(start.Add(2 * time.Second))
	want := Report{Requests: 109, OK: 101, Throttled: 1, FunctionErrors: 1, Invalid: 1, NotSent: 2, Unknown: 1, OtherErrors: 2,
		Attempts: 111, Retried: 3, ThrottledAttempts: 4, DurationSeconds: 2, Throughput: 54.5}
	got := r
	got.Latency, got.Errors = LatencyReport{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counts\n%+v, want\n%+v", got, want)
	}
	wantErrors := []ErrorCount{
		{Kind: "invoke", Type: "ResourceNotFoundException", Status: 404, Count: 2},
		{Kind: "transport", Count: 2},
		{Kind: "function", Type: "ValueError", Count: 1},
		{Kind: "invalid", Count: 1},
		{Kind: "invoke", Type: "TooManyRequestsException", Status: 429, Count: 1},
		{Kind: "stopped", Count: 1},
	}
	if !reflect.DeepEqual(r.Errors, wantErrors) {
		t.Errorf("errors %+v\nwant %+v", r.Errors, wantErrors)
	}
	// 105 latencies: 1..100 ms, 1 s, 2, 1, 5, 5 and 3 ms; not the hours
	// of the requests never sent.
	if r.Latency.P50 < 45 || r.Latency.P50 > 55 || r.Latency.P99 < 99 || r.Latency.P99 > 101 || r.Latency.Max < 999 || r.Latency.Max > 1001 {
		t.Errorf("latency %+v", r.Latency)
	}
	if !r.Failed() {
		t.Error("a report with failures says none failed")
	}
	var text bytes.Buffer
	r.WriteText(&text)
	for _, want := range []string{
		"109 requests in 2.00s (54/s): 101 ok, 1 function errors, 1 throttled, 1 invalid, 2 not sent, 1 unknown, 2 other errors",
		"p99 ", "3 requests retried, 4 attempts throttled",
		"errors: 2 invoke ResourceNotFoundException (HTTP 404); 2 transport; 1 function ValueError;", "and 1 more (see --summary-json)",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	r.WriteJSON(&js)
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || !reflect.DeepEqual(back, r) {
		t.Errorf("JSON report does not round-trip: %v\n%s", err, js.String())
	}
}

func TestSummary_ErrorClassesAreBounded(t *testing.T) {
	s := NewSummary(time.Unix(0, 0))
	for i := range 1000 {
		s.Add(&lambdafan.Result{Attempts: 1, Err: &lambdafan.InvokeError{StatusCode: 400, Type: fmt.Sprintf("Hostile%dException", i)}})
	}
	r := s.Report(time.Unix(1, 0))
	var total int64
	for _, e := range r.Errors {
		total += e.Count
	}
	if len(r.Errors) > maxErrorClasses+1 || total != 1000 {
		t.Errorf("%d classes counting %d errors", len(r.Errors), total)
	}
}

func TestMeter_Line(t *testing.T) {
	start := time.Unix(1000, 0)
	s := NewSummary(start)
	for range 30 {
		s.Add(&lambdafan.Result{Attempts: 1})
	}
	s.Add(&lambdafan.Result{Attempts: 1, Err: &lambdafan.InvokeError{StatusCode: 500}})
	m := NewMeter(nil, s, start, time.Second, func() string { return "limit 7" })
	if got := m.Line(start.Add(10 * time.Second)); got != "31 done  3/s  1 errors  elapsed 10s  limit 7" {
		t.Errorf("line without total: %q", got)
	}
	m.SetTotal(62)
	if got := m.Line(start.Add(10 * time.Second)); got != "31/62 (50%)  3/s  1 errors  ETA 10s  elapsed 10s  limit 7" {
		t.Errorf("line with total: %q", got)
	}
}

func TestCountNonBlankLines(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	tests := []struct {
		content string
		want    int64
	}{
		{"", 0},
		{"{}\n{}\n", 2},
		{"\n  \n{}\r\n\n{}", 2},
		{"  [ {}, {} ]", -1},
	}
	for i, tt := range tests {
		got, err := countNonBlankLines(write(strings.Repeat("f", i+1), tt.content), nil, nil)
		if err != nil || got != tt.want {
			t.Errorf("%q: %d, %v; want %d", tt.content, got, err, tt.want)
		}
	}
	// One shard's share: lines 2 and 4 of five (blank line 3 not counted).
	odd := func(line int) bool { return line%2 == 0 }
	if got, err := countNonBlankLines(write("shard", "{}\n{}\n\n{}\n{}"), odd, nil); err != nil || got != 2 {
		t.Errorf("shard of the lines: %d, %v; want 2", got, err)
	}
}
