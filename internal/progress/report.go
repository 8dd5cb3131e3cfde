package progress

import (
	"encoding/json"
	"fmt"
	"io"
)

// Report is a snapshot of a Summary, as printed and as written by
// --summary-json.
type Report struct {
	// Requests is the number of results, bad input lines included.
	Requests int64 `json:"requests"`
	// OK, FunctionErrors, Throttled, Invalid, NotSent, Unknown and
	// OtherErrors count results by outcome; they add up to Requests.
	// Invalid and NotSent count the requests never sent.
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
	// Latency sums up the latencies of the requests that reached Lambda,
	// in milliseconds, from the first attempt's start to the end of the
	// last, retry waits included.
	Latency LatencyReport `json:"latency_ms"`
	// Histogram counts the same latencies in fixed, log-scaled buckets
	// (upper bounds 1, 2, 5, 10, 20, 50, … ms up to 1,000 s, and one
	// unbounded), every bucket listed, empty ones included.
	Histogram []Bucket `json:"latency_histogram"`
	// Statuses breaks the results down by the HTTP status of their last
	// attempt and, within each status, by outcome, in ascending order of
	// status with no response (0) last.
	Statuses []StatusCount `json:"statuses"`
	// Errors breaks the failed results down by error kind, type and HTTP
	// status, most frequent first.
	Errors []ErrorCount `json:"errors"`
}

// LatencyReport holds latency statistics in milliseconds. Its values are
// those of a histogram with three significant digits: within 0.1 % of
// the exact ones. All are 0 when Count is.
type LatencyReport struct {
	// Count is the number of latencies measured: the requests that
	// reached Lambda.
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	// P999 is the 99.9th percentile.
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

// OtherStatus is the Status of the StatusCount that counts together the
// statuses seen after the first 100 distinct ones.
const OtherStatus = -1

// StatusCount is the number of results whose last attempt got one HTTP
// status, by outcome.
type StatusCount struct {
	// Status is the HTTP status; 0 means no HTTP response (the request
	// was invalid or never sent, or its answer was lost), and
	// [OtherStatus] the statuses beyond the first 100.
	Status int   `json:"status"`
	Count  int64 `json:"count"`
	// Outcomes counts the results by outcome, named as in the result
	// lines' "outcome" field ("ok", "function_error", …); outcomes that
	// no result had are left out.
	Outcomes map[string]int64 `json:"outcomes"`
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

// Failed reports whether any request did not succeed.
func (r *Report) Failed() bool { return r.Requests != r.OK }

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
