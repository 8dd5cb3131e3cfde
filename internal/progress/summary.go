// Package progress keeps a run's statistics and shows them: a live progress
// line while invocations run and a summary at the end.
package progress

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
)

// maxErrorClasses bounds the distinct error classes a summary counts:
// error types come from the server, and a summary must stay small
// whatever it sends. Classes past the bound are counted together.
const maxErrorClasses = 100

// Summary accumulates results. It is safe for concurrent use.
type Summary struct {
	mu                sync.Mutex
	start             time.Time
	outcomes          [lambdafan.OutcomeError + 1]int64
	attempts          int64
	retried           int64
	throttledAttempts int64
	errors            map[errorKey]int64
	latency           *hdrhistogram.Histogram // microseconds
}

// errorKey is what the error breakdown counts by.
type errorKey struct {
	kind, typ string
	status    int
}

// NewSummary starts a summary at time start.
func NewSummary(start time.Time) *Summary {
	// 1 µs to 1 hour at 3 significant digits: a few tens of KB, whatever N.
	return &Summary{
		start:   start,
		errors:  map[errorKey]int64{},
		latency: hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
	}
}

// Entry is what a summary counts of one result.
type Entry struct {
	Outcome   lambdafan.Outcome
	Attempts  int
	Throttles int
	// Latency is the time from the first attempt's start to the end of
	// the last; counted only for requests that reached Lambda.
	Latency time.Duration
	// ErrKind, ErrType and ErrStatus classify a failure (see
	// jsonl.ErrorClass); ErrKind is empty for a success.
	ErrKind, ErrType string
	ErrStatus        int
}

// EntryOf returns the entry of a result: a request's, or a bad input
// line's (whose Err is a *jsonl.LineError).
func EntryOf(r *lambdafan.Result) Entry {
	e := Entry{Outcome: jsonl.Outcome(r), Attempts: r.Attempts, Throttles: r.Throttles, Latency: r.Latency}
	if r.Err != nil {
		c := jsonl.Classify(r.Err)
		e.ErrKind, e.ErrType, e.ErrStatus = c.Kind, c.Type, c.Status
	}
	return e
}

// Add records one result: a request's, or a bad input line's (whose Err
// is a *jsonl.LineError).
func (s *Summary) Add(r *lambdafan.Result) { s.AddEntry(EntryOf(r)) }

// AddEntry records one result's entry.
func (s *Summary) AddEntry(e Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[e.Outcome]++
	s.attempts += int64(e.Attempts)
	s.throttledAttempts += int64(e.Throttles)
	if e.Attempts > 1 {
		s.retried++
	}
	if e.ErrKind != "" {
		key := errorKey{kind: e.ErrKind, typ: e.ErrType, status: e.ErrStatus}
		if _, ok := s.errors[key]; !ok && len(s.errors) >= maxErrorClasses {
			key = errorKey{kind: "more"}
		}
		s.errors[key]++
	}
	// Latency is the time requests took to be answered: requests that
	// never reached Lambda would only add the time they waited.
	if e.Attempts > 0 && e.Outcome != lambdafan.OutcomeNotSent {
		_ = s.latency.RecordValue(max(1, e.Latency.Microseconds())) // values above 1 h are clamped by the error
	}
}

// Report is a snapshot of a Summary, as printed and as written by
// --summary-json.
type Report struct {
	// Requests is the number of results, bad input lines included.
	Requests int64 `json:"requests"`
	// OK, FunctionErrors, Throttled, Invalid, NotSent, Unknown and
	// OtherErrors count results by outcome; they add up to Requests.
	OK             int64 `json:"ok"`
	FunctionErrors int64 `json:"function_errors"`
	Throttled      int64 `json:"throttled"`
	Invalid        int64 `json:"invalid"`
	NotSent        int64 `json:"not_sent"`
	Unknown        int64 `json:"unknown"`
	OtherErrors    int64 `json:"other_errors"`
	// Attempts counts HTTP attempts; Retried counts requests that needed
	// more than one; ThrottledAttempts counts the attempts Lambda
	// throttled, including those of requests that then succeeded.
	Attempts          int64 `json:"attempts"`
	Retried           int64 `json:"retried"`
	ThrottledAttempts int64 `json:"throttled_attempts"`
	// DurationSeconds is the run's wall time; Throughput is Requests per
	// second over it. Both are 0 in a summary of results files, which do
	// not say when their requests ran.
	DurationSeconds float64 `json:"duration_seconds"`
	Throughput      float64 `json:"throughput_per_second"`
	// Latency percentiles of the requests that reached Lambda, in
	// milliseconds, from the first attempt's start to the end of the
	// last, retry waits included.
	Latency LatencyReport `json:"latency_ms"`
	// Errors breaks the failed results down by error kind, type and HTTP
	// status, most frequent first.
	Errors []ErrorCount `json:"errors"`
}

// ErrorCount is the number of results that failed with one class of
// error.
type ErrorCount struct {
	// Kind is the error kind of the result lines ("invoke", "function",
	// "transport", …); "more" counts the classes beyond the first 100.
	Kind string `json:"kind"`
	// Type is the AWS error type or the function's error type, if any.
	Type string `json:"type,omitempty"`
	// Status is the HTTP status of an error answer, if any.
	Status int   `json:"status,omitempty"`
	Count  int64 `json:"count"`
}

// String describes the class and its count, e.g. "3 invoke
// ResourceNotFoundException (HTTP 404)".
func (e ErrorCount) String() string {
	s := fmt.Sprintf("%d %s", e.Count, e.Kind)
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	return s
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
		OK:                s.outcomes[lambdafan.OutcomeOK],
		FunctionErrors:    s.outcomes[lambdafan.OutcomeFunctionError],
		Throttled:         s.outcomes[lambdafan.OutcomeThrottled],
		Invalid:           s.outcomes[lambdafan.OutcomeInvalid],
		NotSent:           s.outcomes[lambdafan.OutcomeNotSent],
		Unknown:           s.outcomes[lambdafan.OutcomeUnknown],
		OtherErrors:       s.outcomes[lambdafan.OutcomeError],
		Attempts:          s.attempts,
		Retried:           s.retried,
		ThrottledAttempts: s.throttledAttempts,
		Errors:            []ErrorCount{},
	}
	for _, n := range s.outcomes {
		r.Requests += n
	}
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
	for k, n := range s.errors {
		r.Errors = append(r.Errors, ErrorCount{Kind: k.kind, Type: k.typ, Status: k.status, Count: n})
	}
	slices.SortFunc(r.Errors, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Status, b.Status))
	})
	return r
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests", r.Requests)
	if r.DurationSeconds > 0 { // unknown for a summary of results files
		fmt.Fprintf(&b, " in %.2fs (%.0f/s)", r.DurationSeconds, r.Throughput)
	}
	fmt.Fprintf(&b, ": %d ok, %d function errors, %d throttled, %d invalid, %d not sent, %d unknown, %d other errors\n",
		r.OK, r.FunctionErrors, r.Throttled, r.Invalid, r.NotSent, r.Unknown, r.OtherErrors)
	fmt.Fprintf(&b, "latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f   attempts %d (%d requests retried, %d attempts throttled)\n",
		r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.Attempts, r.Retried, r.ThrottledAttempts)
	if len(r.Errors) > 0 {
		b.WriteString("errors:")
		for i, e := range r.Errors {
			if i == 5 {
				fmt.Fprintf(&b, "; and %d more (see --summary-json)", len(r.Errors)-i)
				break
			}
			if i > 0 {
				b.WriteByte(';')
			}
			b.WriteString(" " + e.String())
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
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
