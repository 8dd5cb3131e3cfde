package runreport

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/lambdalog"
	"github.com/lambdafan/lambdafan/internal/progress"
)

// Aggregator folds results into what a report shows, one at a time. Its
// memory is bounded whatever the number of results: time buckets
// (maxBuckets), histograms, and tables cut at maxGroups, maxErrorClasses
// and maxSlowest rows. It is safe for concurrent use.
type Aggregator struct {
	summary *progress.Summary
	usage   *lambdalog.Usage

	mu      sync.Mutex
	series  series
	latency *hdrhistogram.Histogram // µs, of the requests that reached Lambda
	groups  map[groupKey]*group
	errors  map[errorKey]*errorClass
	slowest slowHeap
	// from and to span the timed results; timed and untimed count the
	// results with and without start and end times.
	from, to       time.Time
	timed, untimed int64
}

// New returns an empty Aggregator.
func New() *Aggregator {
	return &Aggregator{
		summary: progress.NewSummary(time.Time{}),
		usage:   lambdalog.NewUsage(),
		latency: hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
		groups:  map[groupKey]*group{},
		errors:  map[errorKey]*errorClass{},
	}
}

// Add folds in one result.
func (a *Aggregator) Add(rec *Record) {
	rep, hasReport := a.usage.Add(lambdalog.Invocation{Status: rec.Status, Tail: rec.Log, RequestID: rec.RequestID})
	a.summary.AddEntry(progress.Entry{Outcome: rec.Outcome, Attempts: rec.Attempts, Throttles: rec.Throttles,
		Latency: rec.Latency, ErrKind: rec.ErrKind, ErrType: rec.ErrType, ErrStatus: rec.ErrStatus})
	// As in the summary, latency is that of the requests that reached
	// Lambda: the others would only add the time they waited.
	reached := rec.Attempts > 0 && rec.Outcome != lambdafan.OutcomeNotSent
	us := max(1, rec.Latency.Microseconds())

	a.mu.Lock()
	defer a.mu.Unlock()
	if start, end := rec.StartedAt, rec.EndedAt; !start.IsZero() && !end.IsZero() && !end.Before(start) {
		a.timed++
		if a.from.IsZero() || start.Before(a.from) {
			a.from = start
		}
		if end.After(a.to) {
			a.to = end
		}
		a.series.cover(start, end)
		b := a.series.at(end)
		b.outcomes[rec.Outcome]++
		if rec.Limit > 0 {
			b.limitSum += int64(rec.Limit)
			b.limits++
		}
		if reached {
			if b.latency == nil {
				b.latency = newBucketHistogram()
			}
			_ = b.latency.RecordValue(us) // above 1 h: clamped by the error
			a.series.addBusy(start, end)
		}
		a.series.at(start).throttles += int64(rec.Throttles)
	} else {
		a.untimed++
	}
	a.groupOf(rec).add(rec, reached, &rep, hasReport)
	if rec.ErrKind != "" {
		a.addError(rec)
	}
	if reached {
		_ = a.latency.RecordValue(us)
		a.addSlow(rec)
	}
}

// Lambda returns the cold starts and cost of the results so far, at
// prices p.
func (a *Aggregator) Lambda(p lambdalog.Prices) lambdalog.Summary { return a.usage.Summary(p) }
