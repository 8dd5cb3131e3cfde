package runreport

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestReport_large builds the report of a synthetic run streamed through
// ParseRecord and an Aggregator, as `lambdafan report` does, and checks
// that the report stays small: its size does not grow with the run. The
// run has LAMBDAFAN_REPORT_N results (default 20,000; docs/REPORT.md gives
// the figures for 1,000,000); with LAMBDAFAN_REPORT_MAX_SECONDS set, the
// build must also take no longer than that, and with LAMBDAFAN_REPORT_OUT
// the report is written there; with LAMBDAFAN_REPORT_RESULTS the results
// too (to time `lambdafan report` on them).
func TestReport_large(t *testing.T) {
	n := 20_000
	if s := os.Getenv("LAMBDAFAN_REPORT_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("LAMBDAFAN_REPORT_N: %v", err)
		}
	}
	var results *bufio.Writer
	if path := os.Getenv("LAMBDAFAN_REPORT_RESULTS"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		results = bufio.NewWriterSize(f, 1<<20)
		defer func() {
			if err := errors.Join(results.Flush(), f.Close()); err != nil {
				t.Error(err)
			}
		}()
	}
	start := time.Now()
	a := New()
	var in int64
	syntheticRun(n, 1, func(line []byte) {
		in += int64(len(line))
		if results != nil {
			results.Write(line)
		}
		rec, err := ParseRecord(line)
		if err != nil {
			t.Fatalf("ParseRecord(%s): %v", line, err)
		}
		a.Add(&rec)
	})
	r := a.Report(Options{Sources: []string{"synthetic"}})
	var out bytes.Buffer
	if err := r.WriteHTML(&out); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("%d results (%.1f MB of JSON Lines): a report of %d bytes in %v (%.0f results/s)",
		n, float64(in)/1e6, out.Len(), elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())

	if r.Summary.Requests != int64(n) {
		t.Errorf("the report counts %d results, want %d", r.Summary.Requests, n)
	}
	if len(r.Buckets) > maxBuckets || len(r.Slowest) > maxSlowest {
		t.Errorf("%d buckets, %d slowest: over their bounds", len(r.Buckets), len(r.Slowest))
	}
	const maxSize = 1 << 20
	if out.Len() > maxSize {
		t.Errorf("the report has %d bytes, more than %d", out.Len(), maxSize)
	}
	checkSelfContained(t, out.String())
	if s := os.Getenv("LAMBDAFAN_REPORT_MAX_SECONDS"); s != "" {
		limit, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("LAMBDAFAN_REPORT_MAX_SECONDS: %v", err)
		}
		if elapsed.Seconds() > limit {
			t.Errorf("building the report took %v, more than %gs", elapsed, limit)
		}
	}
	if path := os.Getenv("LAMBDAFAN_REPORT_OUT"); path != "" {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkAggregator_Add measures folding in one result, parsing its
// line included.
func BenchmarkAggregator_Add(b *testing.B) {
	var lines [][]byte
	syntheticRun(10_000, 2, func(line []byte) { lines = append(lines, bytes.Clone(line)) })
	a := New()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rec, err := ParseRecord(lines[i%len(lines)])
		if err != nil {
			b.Fatal(err)
		}
		a.Add(&rec)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "results/s")
}

// BenchmarkReport_WriteHTML measures rendering the report of a run.
func BenchmarkReport_WriteHTML(b *testing.B) {
	a := New()
	syntheticRun(50_000, 3, func(line []byte) {
		rec, err := ParseRecord(line)
		if err != nil {
			b.Fatal(err)
		}
		a.Add(&rec)
	})
	r := a.Report(Options{})
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if err := r.WriteHTML(&out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(out.Len()), "B/report")
}
