package progress

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
	got.Latency, got.Histogram, got.Statuses, got.Errors = LatencyReport{}, nil, nil, nil
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
	// 106 latencies: 1..100 ms, 1 s, 2, 1, 5, 5 and 3 ms; not the hours
	// of the requests never sent.
	if r.Latency.Count != 106 || r.Latency.Min < 0.999 || r.Latency.Min > 1.001 || r.Latency.P50 < 45 || r.Latency.P50 > 55 ||
		r.Latency.P95 < 90 || r.Latency.P95 > 97 || r.Latency.P99 < 99 || r.Latency.P99 > 101 ||
		r.Latency.P999 < 999 || r.Latency.P999 > 1001 || r.Latency.Max < 999 || r.Latency.Max > 1001 {
		t.Errorf("latency %+v", r.Latency)
	}
	var histogramTotal int64
	for _, b := range r.Histogram {
		histogramTotal += b.Count
	}
	if len(r.Histogram) != numBuckets || histogramTotal != 106 || r.Histogram[9] != (Bucket{FromMS: 500, ToMS: 1000, Count: 1}) {
		t.Errorf("histogram of %d buckets counting %d: %+v", len(r.Histogram), histogramTotal, r.Histogram)
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

func TestSummary_StatusesAreBounded(t *testing.T) {
	s := NewSummary(time.Unix(0, 0))
	for i := range 1000 {
		s.AddEntry(Entry{Outcome: lambdafan.OutcomeError, Status: 1000 + i, Attempts: 1})
	}
	r := s.Report(time.Unix(1, 0))
	var total int64
	for _, sc := range r.Statuses {
		total += sc.Count
	}
	last := r.Statuses[len(r.Statuses)-1]
	if len(r.Statuses) != maxStatuses+1 || total != 1000 || last.Status != OtherStatus || last.Count != 900 {
		t.Errorf("%d statuses counting %d, the last %+v", len(r.Statuses), total, last)
	}
	if got := last.String(); got != "other: 900 error" {
		t.Errorf("String() = %q", got)
	}
}
