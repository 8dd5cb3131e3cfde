package runreport

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/lambdalog"
)

// smallReport builds the report of testdata/small.jsonl: eight results
// of three functions in two regions, every outcome kind, throttles, a cold
// start, text and JSON REPORTs, an asynchronous invocation and a bad input
// line, over 500 ms from 2026-11-30T05:59:00Z.
func smallReport(t testing.TB) *Report {
	t.Helper()
	f, err := os.Open("testdata/small.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a := New()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		rec, err := ParseRecord(sc.Bytes())
		if err != nil {
			t.Fatalf("ParseRecord(%s): %v", sc.Text(), err)
		}
		a.Add(&rec)
	}
	return a.Report(Options{Sources: []string{"small.jsonl"}, Generated: time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)})
}

func TestAggregator_Report(t *testing.T) {
	r := smallReport(t)
	t0 := time.Date(2026, 11, 30, 5, 59, 0, 0, time.UTC)

	s := r.Summary
	if s.Requests != 8 || s.OK != 4 || s.FunctionErrors != 1 || s.Throttled != 1 || s.OtherErrors != 1 || s.Invalid != 1 {
		t.Errorf("summary counts = %+v", s)
	}
	if s.Attempts != 10 || s.Retried != 2 || s.ThrottledAttempts != 4 {
		t.Errorf("attempts %d, retried %d, throttled %d; want 10, 2, 4", s.Attempts, s.Retried, s.ThrottledAttempts)
	}
	if want := [numOutcomes]int64{4, 1, 1, 1, 0, 0, 1}; r.Outcomes != want {
		t.Errorf("Outcomes = %v, want %v", r.Outcomes, want)
	}
	if !r.From.Equal(t0) || !r.To.Equal(t0.Add(500*time.Millisecond)) || r.Timed != 7 || r.Untimed != 1 {
		t.Errorf("span %v to %v, %d timed, %d untimed", r.From, r.To, r.Timed, r.Untimed)
	}
	if got := r.Throughput(); got != 14 { // 7 results in 0.5 s
		t.Errorf("Throughput = %v, want 14", got)
	}

	l := r.Lambda
	if l.Invocations != 5 || l.Synchronous != 4 || l.Reports != 4 || l.ColdStarts != 1 || l.ColdStartRate != 0.25 || l.RuntimeErrors != 1 {
		t.Errorf("lambda = %+v", l)
	}
	// (141 + 90 + 100) ms × 128 MB + 40 ms × 256 MB = 52,608 MB·ms.
	if want := 52608.0 / 1024 / 1000; l.BilledGBSeconds != want {
		t.Errorf("BilledGBSeconds = %v, want %v", l.BilledGBSeconds, want)
	}
	if want := 52608.0/1024/1000*0.0000166667 + 5*0.2/1e6; math.Abs(l.Cost.TotalUSD-want) > 1e-15 {
		t.Errorf("TotalUSD = %v, want %v", l.Cost.TotalUSD, want)
	}

	// 10 ms buckets from 05:59:00.000 to .500: 51 of them.
	if r.BucketWidth != 10*time.Millisecond || len(r.Buckets) != 51 || !r.Buckets[0].Start.Equal(t0) {
		t.Fatalf("buckets: %d of %v from %v", len(r.Buckets), r.BucketWidth, r.Buckets[0].Start)
	}
	b0, b10 := r.Buckets[0], r.Buckets[10]
	if b0.InFlight != 3 || b0.Throttles != 1 || b10.InFlight != 3 || b10.Throttles != 3 {
		t.Errorf("bucket 0: %v in flight, %d throttles; bucket 10: %v, %d; want 3, 1; 3, 3", b0.InFlight, b0.Throttles, b10.InFlight, b10.Throttles)
	}
	if b10.Outcomes[lambdafan.OutcomeOK] != 2 || !b10.HasLatency || math.Abs(b10.Latency.P50-100) > 1 {
		t.Errorf("bucket 10 (100 ms): %+v", b10)
	}

	if len(r.Groups) != 4 {
		t.Fatalf("%d groups, want 4: %+v", len(r.Groups), r.Groups)
	}
	echo := r.Groups[0]
	if echo.Function != "echo" || echo.Region != "us-east-1" || echo.Count != 4 || echo.Invocations != 4 || echo.Reports != 3 || echo.ColdStarts != 1 {
		t.Errorf("first group = %+v", echo)
	}
	if want := 42368.0 / 1024 / 1000; echo.GBSeconds != want || math.Abs(echo.CostUSD-(want*0.0000166667+4*0.2/1e6)) > 1e-15 {
		t.Errorf("echo: %v GB-s, $%v", echo.GBSeconds, echo.CostUSD)
	}

	if len(r.Errors) != 4 {
		t.Fatalf("%d error classes, want 4: %+v", len(r.Errors), r.Errors)
	}
	for _, e := range r.Errors {
		if e.Count != 1 || len(e.Samples) != 1 {
			t.Errorf("error class %+v", e)
		}
	}

	var lines []int
	for _, s := range r.Slowest {
		lines = append(lines, s.Line)
	}
	if want := []int{5, 3, 1, 2, 4, 6, 7}; !equalInts(lines, want) {
		t.Errorf("slowest lines = %v, want %v", lines, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReport_WriteHTML(t *testing.T) {
	r := smallReport(t)
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	for _, want := range []string{
		`<section id="summary">`, `<section id="throughput">`, `<section id="latency">`, `<section id="throttles">`,
		`<section id="histogram">`, `<section id="lambda">`, `<section id="functions">`, `<section id="errors">`, `<section id="slowest">`,
		`aria-label="Results per second by outcome"`, `aria-label="Latency percentiles over time"`,
		`aria-label="Throttled attempts per second"`, `aria-label="Requests in flight"`, `aria-label="Latency histogram"`,
		"<th>Results</th><td>8</td>",
		"4 (50.0%)", // ok
		"10 (2 requests retried, 4 attempts throttled)", // attempts
		"1 of 4 invocations with a REPORT (25.0%)",
		"0.05137 GB-s (x86_64)",
		"ResourceNotFoundException", "TooManyRequestsException",
		"Rate &lt;exceeded&gt;", // messages are escaped
		"<code>(none)</code>",   // the bad line's empty function
		"14.0 results/s",
		"1 results have no <code>started_at</code>",
		"Since 2025-08-01 Lambda bills the init phase",
		lambdalog.PricesAsOf,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(doc, "<svg "); n != 5 {
		t.Errorf("%d charts, want 5", n)
	}
	checkSelfContained(t, doc)
}

// checkSelfContained fails when doc could make a browser fetch anything:
// a script, a stylesheet or font link, an image or frame source, a CSS
// url() or @import.
func checkSelfContained(t *testing.T, doc string) {
	t.Helper()
	for _, re := range []string{`(?i)<script`, `(?i)<link`, `(?i)<img`, `(?i)<iframe`, `(?i)<object`, `(?i)<embed`,
		`(?i)\bsrc\s*=`, `(?i)url\(`, `(?i)@import`, `(?i)href\s*=\s*"(?:https?:)?//`, `(?i)xlink:href`} {
		if m := regexp.MustCompile(re).FindString(doc); m != "" {
			t.Errorf("the report references something external: %q", m)
		}
	}
}

func TestReport_noTimes(t *testing.T) {
	// Results without started_at/ended_at (an older lambdafan's): the
	// tables are there, the time charts are not.
	a := New()
	for i := range 5 {
		rec, err := ParseRecord([]byte(`{"line":` + string(rune('1'+i)) + `,"function_name":"f","region":"r","status":200,"outcome":"ok","attempts":1,"latency_ms":12.5}`))
		if err != nil {
			t.Fatal(err)
		}
		a.Add(&rec)
	}
	r := a.Report(Options{})
	var b bytes.Buffer
	if err := r.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	if r.Timed != 0 || r.Untimed != 5 || len(r.Buckets) != 0 {
		t.Errorf("timed %d, untimed %d, %d buckets", r.Timed, r.Untimed, len(r.Buckets))
	}
	for _, want := range []string{"there is no time series to draw", `aria-label="Latency histogram"`, "--log-type Tail"} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(doc, "<svg "); n != 1 {
		t.Errorf("%d charts, want the histogram only", n)
	}
}

func TestAggregator_limit(t *testing.T) {
	// A running invoke knows its adaptive limit: each bucket averages the
	// limits seen with its results, and the in-flight chart draws them.
	a := New()
	t0 := time.Date(2026, 11, 30, 5, 59, 0, 0, time.UTC)
	for i, limit := range []int{100, 50, 60, 0} {
		end := t0.Add(time.Duration(i/2)*10*time.Millisecond + 5*time.Millisecond)
		rec := Record{Line: i + 1, Status: 200, Attempts: 1, Latency: time.Millisecond, StartedAt: end.Add(-time.Millisecond), EndedAt: end, Limit: limit}
		a.Add(&rec)
	}
	r := a.Report(Options{})
	if len(r.Buckets) != 2 || r.Buckets[0].Limit != 75 || r.Buckets[1].Limit != 60 {
		t.Fatalf("buckets %+v, want limits 75 and 60", r.Buckets)
	}
	if svg := r.InFlightChart(); !strings.Contains(svg, "adaptive limit") || !strings.Contains(svg, "stroke-dasharray") {
		t.Errorf("the in-flight chart draws no limit: %s", svg)
	}
	if svg := smallReport(t).InFlightChart(); strings.Contains(svg, "adaptive limit") {
		t.Error("a report of results files draws a limit it cannot know")
	}
}
