// Package progress keeps a run's statistics and shows them: a live progress
// line while invocations run and a summary at the end.
package progress

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lambdafan/lambdafan"
)

// Summary accumulates results. It is safe for concurrent use.
type Summary struct {
	mu       sync.Mutex
	start    time.Time
	outcomes [lambdafan.OutcomeError + 1]int64
	attempts int64
	retried  int64
	latency  *hdrhistogram.Histogram // microseconds
}

// NewSummary starts a summary at time start.
func NewSummary(start time.Time) *Summary {
	// 1 µs to 1 hour at 3 significant digits: a few tens of KB, whatever N.
	return &Summary{start: start, latency: hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)}
}

// Add records one result with its outcome.
func (s *Summary) Add(r *lambdafan.Result, o lambdafan.Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[o]++
	s.attempts += int64(r.Attempts)
	if r.Attempts > 1 {
		s.retried++
	}
	if r.Attempts > 0 {
		_ = s.latency.RecordValue(max(1, r.Latency.Microseconds())) // values above 1 h are clamped by the error
	}
}

// Report is a snapshot of a Summary, as printed and as written by
// --summary-json.
type Report struct {
	// Requests is the number of results, bad input lines included.
	Requests int64 `json:"requests"`
	// OK, FunctionErrors, Throttled, Invalid and OtherErrors count results
	// by outcome; they add up to Requests.
	OK             int64 `json:"ok"`
	FunctionErrors int64 `json:"function_errors"`
	Throttled      int64 `json:"throttled"`
	Invalid        int64 `json:"invalid"`
	OtherErrors    int64 `json:"other_errors"`
	// Attempts counts HTTP attempts; Retried counts requests that needed
	// more than one.
	Attempts int64 `json:"attempts"`
	Retried  int64 `json:"retried"`
	// DurationSeconds is the run's wall time; Throughput is Requests per
	// second over it.
	DurationSeconds float64 `json:"duration_seconds"`
	Throughput      float64 `json:"throughput_per_second"`
	// Latency percentiles of requests that were sent, in milliseconds.
	Latency LatencyReport `json:"latency_ms"`
}

// LatencyReport holds latency percentiles in milliseconds.
type LatencyReport struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Failed reports whether any request did not succeed.
func (r *Report) Failed() bool { return r.Requests != r.OK }

// Report returns the summary as of now.
func (s *Summary) Report(now time.Time) Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := Report{
		OK:             s.outcomes[lambdafan.OutcomeOK],
		FunctionErrors: s.outcomes[lambdafan.OutcomeFunctionError],
		Throttled:      s.outcomes[lambdafan.OutcomeThrottled],
		Invalid:        s.outcomes[lambdafan.OutcomeInvalid],
		OtherErrors:    s.outcomes[lambdafan.OutcomeError],
		Attempts:       s.attempts,
		Retried:        s.retried,
	}
	r.Requests = r.OK + r.FunctionErrors + r.Throttled + r.Invalid + r.OtherErrors
	d := now.Sub(s.start)
	r.DurationSeconds = d.Seconds()
	if d > 0 {
		r.Throughput = float64(r.Requests) / d.Seconds()
	}
	if s.latency.TotalCount() > 0 {
		ms := func(us int64) float64 { return float64(us) / 1000 }
		r.Latency = LatencyReport{
			P50:  ms(s.latency.ValueAtQuantile(50)),
			P90:  ms(s.latency.ValueAtQuantile(90)),
			P99:  ms(s.latency.ValueAtQuantile(99)),
			Max:  ms(s.latency.Max()),
			Mean: s.latency.Mean() / 1000,
		}
	}
	return r
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%d requests in %.2fs (%.0f/s): %d ok, %d function errors, %d throttled, %d invalid, %d other errors\n"+
		"latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f   attempts %d (%d requests retried)\n",
		r.Requests, r.DurationSeconds, r.Throughput, r.OK, r.FunctionErrors, r.Throttled, r.Invalid, r.OtherErrors,
		r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.Attempts, r.Retried)
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Done returns the number of results recorded so far and how many of
// them failed.
func (s *Summary) Done() (done, failed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for o, n := range s.outcomes {
		done += n
		if lambdafan.Outcome(o) != lambdafan.OutcomeOK {
			failed += n
		}
	}
	return done, failed
}
