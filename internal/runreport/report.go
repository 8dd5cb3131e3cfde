package runreport

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/lambdafan/lambdafan"

	"github.com/lambdafan/lambdafan/internal/lambdalog"
	"github.com/lambdafan/lambdafan/internal/progress"
)

// Options are what a report says besides the results.
type Options struct {
	// Title heads the report; "" means "lambdafan run report".
	Title string
	// Sources name the results the report is of (files, S3 locations, or
	// the run's output).
	Sources []string
	// Prices price the invocations; the zero value means the built-in
	// prices for x86_64.
	Prices lambdalog.Prices
	// Generated is when the report was made; zero means now.
	Generated time.Time
}

// Report is what an HTML report shows, built by [Aggregator.Report].
type Report struct {
	Title     string
	Sources   []string
	Generated time.Time
	// Summary counts the results as `lambdafan summary` does; Outcomes
	// counts them by outcome.
	Summary  progress.Report
	Outcomes [numOutcomes]int64
	// Lambda has the cold starts and the cost estimate.
	Lambda lambdalog.Summary
	// From and To are the first start and the last end of the results
	// with times; Timed and Untimed count the results with and without.
	From, To       time.Time
	Timed, Untimed int64
	// BucketWidth is the width of Buckets, the time series.
	BucketWidth time.Duration
	Buckets     []Bucket
	// Histogram holds the latencies of the requests that reached Lambda,
	// in bins of equal width on a log scale.
	Histogram []Bin
	// Groups are the function and region pairs, most results first.
	Groups []Group
	// Errors are the error classes, most frequent first.
	Errors []ErrorClass
	// Slowest are the slowest requests, slowest first.
	Slowest []Slow
}

// Bucket is one interval of the time series.
type Bucket struct {
	Start time.Time
	// Outcomes counts the results settled in the interval, by outcome.
	Outcomes [numOutcomes]int64
	// Throttles counts the throttled attempts of requests that started in
	// the interval.
	Throttles int64
	// InFlight is the average number of requests in flight; Limit the
	// average adaptive concurrency limit, 0 when unknown.
	InFlight, Limit float64
	// Latency holds the percentiles of the requests settled in the
	// interval; HasLatency is false when there were none.
	Latency    lambdalog.Percentiles
	HasLatency bool
}

// Bin is one bar of the latency histogram: Count requests took from
// FromMS to ToMS milliseconds.
type Bin struct {
	FromMS, ToMS float64
	Count        int64
}

// Group is one row of the function and region table.
type Group struct {
	Function, Region string
	Count            int64
	Outcomes         [numOutcomes]int64
	// P50 and P99 are latency percentiles in ms; HasLatency is false when
	// no request of the group reached Lambda.
	P50, P99    float64
	HasLatency  bool
	Invocations int64
	Reports     int64
	ColdStarts  int64
	GBSeconds   float64
	// CostUSD prices the group's GB-seconds at the first tier's price and
	// its invocations as requests.
	CostUSD float64
}

// OutcomeCount is a number of results with one outcome.
type OutcomeCount struct {
	Outcome lambdafan.Outcome
	Count   int64
}

// OK is the number of the group's results that succeeded.
func (g *Group) OK() int64 { return g.Outcomes[lambdafan.OutcomeOK] }

// OtherOutcomes counts the group's results by outcome, less the
// successes and the outcomes none of them had.
func (g *Group) OtherOutcomes() []OutcomeCount {
	var out []OutcomeCount
	for o, n := range g.Outcomes {
		if o != int(lambdafan.OutcomeOK) && n > 0 {
			out = append(out, OutcomeCount{lambdafan.Outcome(o), n})
		}
	}
	return out
}

// ErrorClass is one row of the error table.
type ErrorClass struct {
	Kind, Type string
	Status     int
	Count      int64
	Samples    []Sample
}

// histogramBins is the number of bars of the latency histogram.
const histogramBins = 40

// Report returns the report of the results added so far.
func (a *Aggregator) Report(opts Options) *Report {
	if opts.Title == "" {
		opts.Title = "lambdafan run report"
	}
	if opts.Prices.Tiers == nil {
		opts.Prices = lambdalog.DefaultPrices(lambdalog.DefaultArch)
	}
	if opts.Generated.IsZero() {
		opts.Generated = time.Now()
	}
	r := &Report{
		Title: opts.Title, Sources: opts.Sources, Generated: opts.Generated.UTC(),
		Summary: a.summary.Report(time.Time{}), Lambda: a.usage.Summary(opts.Prices),
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	r.From, r.To, r.Timed, r.Untimed = a.from.UTC(), a.to.UTC(), a.timed, a.untimed
	r.BucketWidth = a.series.width
	for i := range a.series.buckets {
		r.Buckets = append(r.Buckets, bucketOf(&a.series, i))
	}
	r.Histogram = a.histogram()
	for k, g := range a.groups {
		r.Groups = append(r.Groups, groupRow(k, g, opts.Prices))
		for o, n := range g.outcomes {
			r.Outcomes[o] += n
		}
	}
	slices.SortFunc(r.Groups, func(x, y Group) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Function, y.Function), cmp.Compare(x.Region, y.Region))
	})
	for k, c := range a.errors {
		r.Errors = append(r.Errors, ErrorClass{Kind: k.kind, Type: k.typ, Status: k.status, Count: c.count, Samples: c.samples})
	}
	slices.SortFunc(r.Errors, func(x, y ErrorClass) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Type, y.Type), cmp.Compare(x.Status, y.Status))
	})
	r.Slowest = slices.Clone(a.slowest)
	slices.SortFunc(r.Slowest, func(x, y Slow) int { return cmp.Or(cmp.Compare(y.Latency, x.Latency), cmp.Compare(x.Line, y.Line)) })
	return r
}

func bucketOf(s *series, i int) Bucket {
	b := &s.buckets[i]
	out := Bucket{Start: s.start(i), Outcomes: b.outcomes, Throttles: b.throttles,
		InFlight: b.busy.Seconds() / s.width.Seconds()}
	if b.limits > 0 {
		out.Limit = float64(b.limitSum) / float64(b.limits)
	}
	if h := b.latency; h != nil && h.TotalCount() > 0 {
		ms := func(q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1000 }
		out.Latency = lambdalog.Percentiles{P50: ms(50), P90: ms(90), P99: ms(99), Max: float64(h.Max()) / 1000}
		out.HasLatency = true
	}
	return out
}

func groupRow(k groupKey, g *group, p lambdalog.Prices) Group {
	row := Group{Function: k.function, Region: k.region, Outcomes: g.outcomes, Invocations: g.invocations,
		Reports: g.reports, ColdStarts: g.coldStarts, GBSeconds: lambdalog.GBSeconds(g.mbms)}
	for _, n := range g.outcomes {
		row.Count += n
	}
	if h := g.latency; h != nil && h.TotalCount() > 0 {
		row.P50, row.P99, row.HasLatency = float64(h.ValueAtQuantile(50))/1000, float64(h.ValueAtQuantile(99))/1000, true
	}
	row.CostUSD = row.GBSeconds*p.FirstTierUSD() + p.RequestsUSD(g.invocations)
	return row
}

// histogram bins the latencies on a log scale between the fastest and
// the slowest.
func (a *Aggregator) histogram() []Bin {
	h := a.latency
	if h.TotalCount() == 0 {
		return nil
	}
	lo, hi := float64(max(1, h.Min())), float64(h.Max())
	if hi <= lo {
		return []Bin{{FromMS: lo / 1000, ToMS: hi / 1000, Count: h.TotalCount()}}
	}
	bins := make([]Bin, histogramBins)
	step := math.Log(hi/lo) / histogramBins
	for i := range bins {
		bins[i].FromMS = lo * math.Exp(step*float64(i)) / 1000
		bins[i].ToMS = lo * math.Exp(step*float64(i+1)) / 1000
	}
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		v := (float64(bar.From) + float64(bar.To)) / 2
		i := int(math.Log(max(v, lo)/lo) / step)
		bins[min(max(i, 0), histogramBins-1)].Count += bar.Count
	}
	return bins
}
