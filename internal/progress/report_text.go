package progress

import (
	"fmt"
	"io"
	"strings"

	"github.com/lambdafan/lambdafan"
)

// WriteText prints the report for people, e.g.:
//
//	109 requests in 2.00s (54/s): 101 ok, 1 function errors, 1 throttled, 1 invalid, 2 not sent, 1 unknown, 2 other errors
//	latency ms (105 requests): min 1.0  mean 13.3  p50 50.0  p90 90.0  p95 95.0  p99 99.0  p99.9 1000  max 1000
//	latency histogram ms: 0-1: 2  1-10: 12  10-100: 90  100-1k: 1
//	statuses: 200: 102 (101 ok, 1 function_error); 404: 2 error; 429: 1 throttled; none: 4 (1 invalid, 2 not_sent, 1 unknown)
//	attempts 111 (3 requests retried, 4 attempts throttled)
//	errors: 2 invoke ResourceNotFoundException (HTTP 404); 2 transport; …
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests", r.Requests)
	if r.DurationSeconds > 0 { // unknown for a summary of results files
		fmt.Fprintf(&b, " in %.2fs (%.0f/s)", r.DurationSeconds, r.Throughput)
	}
	fmt.Fprintf(&b, ": %d ok, %d function errors, %d throttled, %d invalid, %d not sent, %d unknown, %d other errors\n",
		r.OK, r.FunctionErrors, r.Throttled, r.Invalid, r.NotSent, r.Unknown, r.OtherErrors)
	if l := r.Latency; l.Count > 0 {
		fmt.Fprintf(&b, "latency ms (%d requests): min %s  mean %s  p50 %s  p90 %s  p95 %s  p99 %s  p99.9 %s  max %s\n",
			l.Count, formatMS(l.Min), formatMS(l.Mean), formatMS(l.P50), formatMS(l.P90), formatMS(l.P95),
			formatMS(l.P99), formatMS(l.P999), formatMS(l.Max))
	} else {
		b.WriteString("latency ms: none (no request reached Lambda)\n")
	}
	if line := decadeLine(r.Histogram); line != "" {
		b.WriteString("latency histogram ms: " + line + "\n")
	}
	if len(r.Statuses) > 0 {
		b.WriteString("statuses:")
		for i, s := range r.Statuses {
			if i > 0 {
				b.WriteByte(';')
			}
			b.WriteString(" " + s.String())
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "attempts %d (%d requests retried, %d attempts throttled)\n", r.Attempts, r.Retried, r.ThrottledAttempts)
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

// formatMS writes a latency in milliseconds with the digits that matter:
// 0.153, 4.2, 1234.
func formatMS(ms float64) string {
	switch {
	case ms >= 100:
		return fmt.Sprintf("%.0f", ms)
	case ms >= 1:
		return fmt.Sprintf("%.1f", ms)
	}
	return fmt.Sprintf("%.3f", ms)
}

// String describes the status and its results by outcome, e.g. "200: 102
// (101 ok, 1 function_error)", "404: 2 error", "none: 3 invalid".
func (s StatusCount) String() string {
	label := fmt.Sprint(s.Status)
	switch s.Status {
	case 0:
		label = "none"
	case OtherStatus:
		label = "other"
	}
	var parts []string
	for o := lambdafan.OutcomeOK; o <= lambdafan.OutcomeError; o++ {
		if n := s.Outcomes[o.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o))
		}
	}
	if len(parts) == 1 {
		return label + ": " + parts[0]
	}
	return fmt.Sprintf("%s: %d (%s)", label, s.Count, strings.Join(parts, ", "))
}
