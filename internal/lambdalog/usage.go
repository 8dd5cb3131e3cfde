package lambdalog

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Invocation is what a [Usage] counts of one result.
type Invocation struct {
	// Status is the result's HTTP status: 200 (the function ran; its log
	// tail may have its report) or 202 (queued, run later: charged, but
	// with no log) count as invocations; other statuses do not.
	Status int
	// Tail is the decoded log tail, if the request asked for it.
	Tail string
	// RequestID is the AWS request ID, to match the report with.
	RequestID string
}

// Usage accumulates the reports of a run's invocations: cold starts, init
// durations and billed compute. Its memory does not grow with the number
// of invocations. It is safe for concurrent use.
type Usage struct {
	mu                       sync.Mutex
	invocations, synchronous int64
	tails, reports, partial  int64
	billable, cold, restores int64
	timeouts, crashes        int64
	mbms                     int64
	init                     *hdrhistogram.Histogram // µs
}

// NewUsage returns an empty Usage.
func NewUsage() *Usage {
	return &Usage{init: newDurationHistogram()}
}

// newDurationHistogram records durations in microseconds, 1 µs to 1 hour,
// at 3 significant digits: a few tens of KB.
func newDurationHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3)
}

// Add counts inv and returns its report, parsed from its tail, if it has
// one.
func (u *Usage) Add(inv Invocation) (Report, bool) {
	var rep Report
	ok := false
	if inv.Status == 200 && inv.Tail != "" {
		rep, ok = Parse(inv.Tail, inv.RequestID)
	}
	u.AddReport(inv, rep, ok)
	return rep, ok
}

// AddReport counts inv with its already parsed report rep (ok false when
// it has none).
func (u *Usage) AddReport(inv Invocation, rep Report, ok bool) {
	if inv.Status != 200 && inv.Status != 202 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.invocations++
	if inv.Status != 200 {
		return
	}
	u.synchronous++
	if inv.Tail != "" {
		u.tails++
	}
	if !ok {
		return
	}
	u.reports++
	if rep.Partial {
		u.partial++
	}
	if rep.Billable() {
		u.billable++
		u.mbms += rep.MBMilliseconds()
	}
	if rep.ColdStart() {
		u.cold++
		_ = u.init.RecordValue(max(1, int64(rep.InitDuration*1000))) // above 1 h: clamped by the error
	}
	if rep.Restored() {
		u.restores++
	}
	switch rep.Status {
	case "timeout":
		u.timeouts++
	case "error", "failure":
		u.crashes++
	}
}

// Summary returns what u counted, with a cost estimate at prices p.
func (u *Usage) Summary(p Prices) Summary {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := Summary{
		Invocations:       u.invocations,
		Synchronous:       u.synchronous,
		LogTails:          u.tails,
		Reports:           u.reports,
		PartialReports:    u.partial,
		BilledReports:     u.billable,
		ColdStarts:        u.cold,
		SnapStartRestores: u.restores,
		Timeouts:          u.timeouts,
		RuntimeErrors:     u.crashes,
		BilledGBSeconds:   GBSeconds(u.mbms),
	}
	if u.reports > 0 {
		s.ColdStartRate = float64(u.cold) / float64(u.reports)
	}
	if u.init.TotalCount() > 0 {
		s.InitDurationMs = percentilesOf(u.init)
	}
	s.Cost = estimate(p, s.BilledGBSeconds, u.invocations)
	return s
}

// Percentiles of a duration, in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentilesOf reads the percentiles of h, a histogram of microseconds.
func percentilesOf(h *hdrhistogram.Histogram) *Percentiles {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return &Percentiles{P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)),
		P99: ms(h.ValueAtQuantile(99)), Max: ms(h.Max())}
}
