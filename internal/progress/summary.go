// Package progress keeps a run's statistics and shows them: a live progress
// line while invocations run and a summary at the end.
package progress

import (
	"cmp"
	"math"
	"slices"
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

// maxStatuses bounds the distinct HTTP statuses a summary counts, for the
// same reason (a results file may say anything); statuses past the bound
// are counted together as [OtherStatus].
const maxStatuses = 100

// numOutcomes is the number of outcomes a result can have.
const numOutcomes = int(lambdafan.OutcomeError) + 1

// Summary accumulates results. It is safe for concurrent use.
type Summary struct {
	mu                sync.Mutex
	start             time.Time
	outcomes          [numOutcomes]int64
	attempts          int64
	retried           int64
	throttledAttempts int64
	errors            map[errorKey]int64
	statuses          map[int]*[numOutcomes]int64
	latency           *hdrhistogram.Histogram // microseconds
	buckets           [numBuckets]int64
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
		start:    start,
		errors:   map[errorKey]int64{},
		statuses: map[int]*[numOutcomes]int64{},
		latency:  hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
	}
}

// Entry is what a summary counts of one result.
type Entry struct {
	Outcome lambdafan.Outcome
	// Status is the HTTP status of the last attempt; 0 when no HTTP
	// response was received.
	Status    int
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
	e := Entry{Outcome: jsonl.Outcome(r), Status: r.StatusCode, Attempts: r.Attempts, Throttles: r.Throttles, Latency: r.Latency}
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
	if e.Outcome < 0 || int(e.Outcome) >= numOutcomes {
		e.Outcome = lambdafan.OutcomeError
	}
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
	byOutcome, ok := s.statuses[e.Status]
	if !ok {
		if len(s.statuses) >= maxStatuses {
			e.Status = OtherStatus
		}
		if byOutcome, ok = s.statuses[e.Status]; !ok {
			byOutcome = new([numOutcomes]int64)
			s.statuses[e.Status] = byOutcome
		}
	}
	byOutcome[e.Outcome]++
	// Latency is the time requests took to be answered: requests that
	// never reached Lambda would only add the time they waited.
	if e.Attempts > 0 && e.Outcome != lambdafan.OutcomeNotSent {
		_ = s.latency.RecordValue(max(1, e.Latency.Microseconds())) // values above 1 h are clamped by the error
		s.buckets[bucketOf(e.Latency)]++
	}
}

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
		Histogram:         histogramReport(&s.buckets),
		Statuses:          []StatusCount{},
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
	if n := s.latency.TotalCount(); n > 0 {
		ms := func(us int64) float64 { return float64(us) / 1000 }
		r.Latency = LatencyReport{
			Count: n,
			Min:   ms(s.latency.Min()),
			Mean:  ms(int64(math.Round(s.latency.Mean()))), // to the µs, as the rest
			P50:   ms(s.latency.ValueAtQuantile(50)),
			P90:   ms(s.latency.ValueAtQuantile(90)),
			P95:   ms(s.latency.ValueAtQuantile(95)),
			P99:   ms(s.latency.ValueAtQuantile(99)),
			P999:  ms(s.latency.ValueAtQuantile(99.9)),
			Max:   ms(s.latency.Max()),
		}
	}
	for status, byOutcome := range s.statuses {
		sc := StatusCount{Status: status, Outcomes: map[string]int64{}}
		for o, n := range byOutcome {
			if n > 0 {
				sc.Outcomes[lambdafan.Outcome(o).String()] = n
				sc.Count += n
			}
		}
		r.Statuses = append(r.Statuses, sc)
	}
	slices.SortFunc(r.Statuses, func(a, b StatusCount) int { return compareStatuses(a.Status, b.Status) })
	for k, n := range s.errors {
		r.Errors = append(r.Errors, ErrorCount{Kind: k.kind, Type: k.typ, Status: k.status, Count: n})
	}
	slices.SortFunc(r.Errors, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Type, b.Type), cmp.Compare(a.Status, b.Status))
	})
	return r
}

// compareStatuses orders HTTP statuses ascending, with no response (0)
// and the statuses past the bound (OtherStatus) last.
func compareStatuses(a, b int) int {
	rank := func(s int) int {
		switch s {
		case 0:
			return 1
		case OtherStatus:
			return 2
		}
		return 0
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
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
