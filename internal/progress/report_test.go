package progress

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
)

var update = flag.Bool("update", false, "rewrite testdata/summary.* from the actual output")

// goldenReport is the report of a made-up run of 1,000 requests with
// every outcome, five statuses and none, and latencies from 0.3 ms to
// 20 s, 10 s after it started.
func goldenReport() Report {
	start := time.Date(2026, 11, 30, 5, 59, 0, 0, time.UTC)
	s := NewSummary(start)
	add := func(n int, r lambdafan.Result) {
		for range n {
			s.Add(&r)
		}
	}
	for i := range 900 {
		// From 0.3 ms, 1 % longer each: up to 2.3 s.
		latency := time.Duration(300 * math.Pow(1.01, float64(i)) * float64(time.Microsecond))
		s.Add(&lambdafan.Result{StatusCode: 200, Attempts: 1, Latency: latency})
	}
	add(40, lambdafan.Result{StatusCode: 200, Attempts: 2, Throttles: 1, Latency: 120 * time.Millisecond})
	add(2, lambdafan.Result{StatusCode: 202, Attempts: 1, Latency: 8 * time.Millisecond})
	add(1, lambdafan.Result{StatusCode: 204, Attempts: 1, Latency: 4 * time.Millisecond})
	add(20, lambdafan.Result{StatusCode: 200, Attempts: 1, Latency: 15 * time.Millisecond,
		Err: &lambdafan.FunctionError{Kind: "Unhandled", ErrorType: "ValueError"}})
	add(10, lambdafan.Result{StatusCode: 429, Attempts: 3, Throttles: 3, Latency: 2 * time.Second,
		Err: &lambdafan.InvokeError{StatusCode: 429, Type: "TooManyRequestsException"}})
	add(5, lambdafan.Result{StatusCode: 404, Attempts: 1, Latency: 6 * time.Millisecond,
		Err: &lambdafan.InvokeError{StatusCode: 404, Type: "ResourceNotFoundException"}})
	add(5, lambdafan.Result{StatusCode: 500, Attempts: 1, Latency: 30 * time.Millisecond,
		Err: &lambdafan.InvokeError{StatusCode: 500, Type: "ServiceException"}})
	add(8, lambdafan.Result{Err: &jsonl.LineError{Line: 3, Field: "payload", Err: errors.New("bad")}})
	add(6, lambdafan.Result{Latency: time.Minute, Err: lambdafan.ErrStopped})
	add(3, lambdafan.Result{Attempts: 1, Latency: 20 * time.Second, Err: &lambdafan.TransportError{Sent: true, Err: errors.New("reset")}})
	return s.Report(start.Add(10 * time.Second))
}

// TestReport_Golden compares the text and JSON summaries of goldenReport
// with testdata/summary.txt and testdata/summary.json (go test -update
// rewrites them).
func TestReport_Golden(t *testing.T) {
	r := goldenReport()
	var text, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct {
		file string
		got  []byte
	}{{"summary.txt", text.Bytes()}, {"summary.json", js.Bytes()}} {
		path := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(path, g.got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g.got, want) {
			t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, g.got)
		}
	}
}

// TestReport_NoLatency: a run where no request reached Lambda says so,
// and shows no histogram.
func TestReport_NoLatency(t *testing.T) {
	s := NewSummary(time.Time{})
	s.Add(&lambdafan.Result{Err: &jsonl.LineError{Line: 1, Err: errors.New("bad")}})
	r := s.Report(time.Time{})
	var text bytes.Buffer
	r.WriteText(&text)
	want := "1 requests: 0 ok, 0 function errors, 0 throttled, 1 invalid, 0 not sent, 0 unknown, 0 other errors\n" +
		"latency ms: none (no request reached Lambda)\n" +
		"statuses: none: 1 invalid\n" +
		"attempts 0 (0 requests retried, 0 attempts throttled)\n" +
		"errors: 1 invalid\n"
	if text.String() != want {
		t.Errorf("got\n%s\nwant\n%s", text.String(), want)
	}
}
