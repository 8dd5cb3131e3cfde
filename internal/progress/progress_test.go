package progress

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan"
)

func TestSummary_Report(t *testing.T) {
	start := time.Unix(1000, 0)
	s := NewSummary(start)
	for i := range 100 {
		r := lambdafan.Result{Attempts: 1, Latency: time.Duration(i+1) * time.Millisecond}
		s.Add(&r, lambdafan.OutcomeOK)
	}
	s.Add(&lambdafan.Result{Attempts: 3, Latency: time.Second}, lambdafan.OutcomeThrottled)
	s.Add(&lambdafan.Result{Attempts: 1, Latency: time.Millisecond}, lambdafan.OutcomeFunctionError)
	s.Add(&lambdafan.Result{Err: errors.New("bad line")}, lambdafan.OutcomeInvalid)
	s.Add(&lambdafan.Result{Attempts: 2, Latency: 5 * time.Millisecond}, lambdafan.OutcomeError)

	r := s.Report(start.Add(2 * time.Second))
	if r.Requests != 104 || r.OK != 100 || r.Throttled != 1 || r.FunctionErrors != 1 || r.Invalid != 1 || r.OtherErrors != 1 {
		t.Errorf("counts %+v", r)
	}
	if r.Attempts != 106 || r.Retried != 2 || r.Throughput != 52 || r.DurationSeconds != 2 {
		t.Errorf("attempts %d retried %d throughput %v duration %v", r.Attempts, r.Retried, r.Throughput, r.DurationSeconds)
	}
	// 103 latencies: 1..100 ms, 1 ms, 5 ms and 1 s (the bad line has none).
	if r.Latency.P50 < 45 || r.Latency.P50 > 55 || r.Latency.P99 < 99 || r.Latency.P99 > 101 || r.Latency.Max < 999 || r.Latency.Max > 1001 {
		t.Errorf("latency %+v", r.Latency)
	}
	if !r.Failed() {
		t.Error("a report with failures says none failed")
	}
	var text bytes.Buffer
	r.WriteText(&text)
	for _, want := range []string{"104 requests in 2.00s (52/s): 100 ok, 1 function errors, 1 throttled, 1 invalid, 1 other errors", "p99 ", "2 requests retried"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	r.WriteJSON(&js)
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back != r {
		t.Errorf("JSON report does not round-trip: %v\n%s", err, js.String())
	}
}

func TestMeter_Line(t *testing.T) {
	start := time.Unix(1000, 0)
	s := NewSummary(start)
	for range 30 {
		s.Add(&lambdafan.Result{Attempts: 1}, lambdafan.OutcomeOK)
	}
	s.Add(&lambdafan.Result{Attempts: 1}, lambdafan.OutcomeError)
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
		got, err := countNonBlankLines(write(strings.Repeat("f", i+1), tt.content), nil)
		if err != nil || got != tt.want {
			t.Errorf("%q: %d, %v; want %d", tt.content, got, err, tt.want)
		}
	}
}
