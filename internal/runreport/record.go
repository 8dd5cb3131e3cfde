package runreport

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
)

// Record is what a report uses of one result.
type Record struct {
	Line         int
	ID           string
	FunctionName string
	Region       string
	// Status is the HTTP status of the last attempt; 0 without a response.
	Status    int
	Outcome   lambdafan.Outcome
	Log       string
	RequestID string
	Attempts  int
	Throttles int
	Latency   time.Duration
	// StartedAt is when the first attempt started, EndedAt when the result
	// was settled; zero when unknown (results of lambdafan versions that
	// did not write them, or requests never sent).
	StartedAt, EndedAt time.Time
	// ErrKind, ErrType, ErrStatus and ErrMessage are the result's error,
	// as in its "error" object; ErrKind is empty on success.
	ErrKind, ErrType string
	ErrStatus        int
	ErrMessage       string
	// Limit is the adaptive concurrency limit (all regions together) when
	// the run received the result, or 0 when unknown: results files do
	// not hold it, only a running invoke knows it.
	Limit int
}

// resultLine is the JSON of a result line (see jsonl.AppendRecord), less
// the payload.
type resultLine struct {
	Line         *int            `json:"line"`
	ID           json.RawMessage `json:"id"`
	FunctionName string          `json:"function_name"`
	Region       string          `json:"region"`
	Status       int             `json:"status"`
	Outcome      *string         `json:"outcome"`
	Log          string          `json:"log"`
	RequestID    string          `json:"request_id"`
	Attempts     int             `json:"attempts"`
	Throttles    int             `json:"throttles"`
	LatencyMS    float64         `json:"latency_ms"`
	StartedAt    string          `json:"started_at"`
	EndedAt      string          `json:"ended_at"`
	Error        *struct {
		Kind    string `json:"kind"`
		Type    string `json:"type"`
		Status  int    `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

// errNotAResult is the error of a line that is not a lambdafan result.
var errNotAResult = errors.New("not a lambdafan result")

// ParseRecord reads one result line as lambdafan writes it. Its
// "started_at" and "ended_at" (RFC 3339) are optional: when only one is
// there, the other is derived from "latency_ms".
func ParseRecord(b []byte) (Record, error) {
	var l resultLine
	if err := json.Unmarshal(b, &l); err != nil {
		return Record{}, fmt.Errorf("%w: %w", errNotAResult, err)
	}
	if l.Line == nil || *l.Line <= 0 || l.Outcome == nil {
		return Record{}, errNotAResult
	}
	outcome, ok := jsonl.ParseOutcome(*l.Outcome)
	if !ok {
		return Record{}, fmt.Errorf("%w: unknown outcome %q", errNotAResult, *l.Outcome)
	}
	r := Record{
		Line: *l.Line, ID: idString(l.ID), FunctionName: l.FunctionName, Region: l.Region, Status: l.Status,
		Outcome: outcome, Log: l.Log, RequestID: l.RequestID, Attempts: l.Attempts, Throttles: l.Throttles,
		Latency: time.Duration(l.LatencyMS * float64(time.Millisecond)),
	}
	if e := l.Error; e != nil {
		r.ErrKind, r.ErrType, r.ErrStatus, r.ErrMessage = e.Kind, e.Type, e.Status, e.Message
	}
	r.StartedAt, r.EndedAt = parseTime(l.StartedAt), parseTime(l.EndedAt)
	switch {
	case r.StartedAt.IsZero() && !r.EndedAt.IsZero():
		r.StartedAt = r.EndedAt.Add(-r.Latency)
	case r.EndedAt.IsZero() && !r.StartedAt.IsZero():
		r.EndedAt = r.StartedAt.Add(r.Latency)
	}
	return r, nil
}

// idString returns a result's id: a JSON string unquoted, a number as
// written.
func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// parseTime reads an RFC 3339 time; one that is missing, malformed or out
// of the range a run can have (1971 to 2200, which also keeps UnixNano
// defined) is zero.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1971 || t.Year() > 2200 {
		return time.Time{}
	}
	return t
}

// FromResult returns the record of a result as a run produces it, r being
// written for input line line. Its times are the result's own (Start,
// End); ended, when the run received the result, stands in for a result
// that has none (written by the run itself: a bad line, a lost result).
func FromResult(r *lambdafan.Result, line int, ended time.Time) Record {
	rec := Record{
		Line: line, ID: r.ID, FunctionName: r.FunctionName, Region: r.Region, Status: r.StatusCode,
		Outcome: jsonl.Outcome(r), Log: r.LogTail, RequestID: r.RequestID, Attempts: r.Attempts,
		Throttles: r.Throttles, Latency: r.Latency, StartedAt: r.Start, EndedAt: r.End,
	}
	if rec.EndedAt.IsZero() {
		rec.EndedAt = ended
	}
	if rec.StartedAt.IsZero() {
		rec.StartedAt = rec.EndedAt // never sent: an instant
	}
	if r.Err != nil {
		c := jsonl.Classify(r.Err)
		rec.ErrKind, rec.ErrType, rec.ErrStatus, rec.ErrMessage = c.Kind, c.Type, c.Status, r.Err.Error()
	}
	return rec
}
