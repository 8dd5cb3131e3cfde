package runreport

import (
	"fmt"
	"math"
	"strings"

	"github.com/lambdafan/lambdafan"
)

// outcomeColor is the color of an outcome in the charts.
func outcomeColor(o lambdafan.Outcome) string {
	switch o {
	case lambdafan.OutcomeOK:
		return "#2e9e5b"
	case lambdafan.OutcomeFunctionError:
		return "#e8883a"
	case lambdafan.OutcomeThrottled:
		return "#8e5bd0"
	case lambdafan.OutcomeInvalid:
		return "#8a9099"
	case lambdafan.OutcomeNotSent:
		return "#5aa0e0"
	case lambdafan.OutcomeUnknown:
		return "#d6b21f"
	}
	return "#d64541"
}

// Colors of the other series.
const (
	colorP50      = "#2f6fd0"
	colorP90      = "#e8883a"
	colorP99      = "#d64541"
	colorThrottle = "#8e5bd0"
	colorInFlight = "#1f9aa8"
	colorLimit    = "#c2410c"
	colorBars     = "#2f6fd0"
)

// timePlot starts a chart whose x axis is the report's time series, in
// seconds since its first bucket.
func (r *Report) timePlot(label string) *plot {
	p := newPlot(label)
	p.x1 = float64(len(r.Buckets)) * r.BucketWidth.Seconds()
	return p
}

// timeAxis names the x axis of the time charts.
func (r *Report) timeAxis() string {
	return fmt.Sprintf("time since %s UTC (buckets of %s)", r.Buckets[0].Start.Format("2006-01-02 15:04:05.000"), formatElapsed(r.BucketWidth.Seconds()))
}

// ThroughputChart draws the results settled per second, stacked by
// outcome.
func (r *Report) ThroughputChart() string {
	p := r.timePlot("Results per second by outcome")
	w := r.BucketWidth.Seconds()
	top := 0.0
	for _, b := range r.Buckets {
		total := int64(0)
		for _, n := range b.Outcomes {
			total += n
		}
		top = math.Max(top, float64(total)/w)
	}
	p.y1 = niceCeil(top)
	p.axes(timeTicks(p.x1), linearTicks(0, p.y1, 5, formatNumber), r.timeAxis(), "results/s")
	var keys []legendKey
	stack := make([]float64, len(r.Buckets))
	for o := range lambdafan.Outcome(numOutcomes) {
		var path strings.Builder
		for i, b := range r.Buckets {
			n := b.Outcomes[o]
			if n == 0 {
				continue
			}
			rate := float64(n) / w
			x0, x1 := p.px(float64(i)*w), p.px(float64(i+1)*w)
			y0, y1 := p.py(stack[i]), p.py(stack[i]+rate)
			stack[i] += rate
			fmt.Fprintf(&path, "M%.1f %.1fH%.1fV%.1fH%.1fZ", x0, y0, math.Max(x1-0.3, x0+0.6), y1, x0)
		}
		if path.Len() > 0 {
			fmt.Fprintf(&p.b, `<path fill="%s" d="%s"/>`, outcomeColor(o), path.String())
			keys = append(keys, legendKey{o.String(), outcomeColor(o)})
		}
	}
	p.legend(keys)
	return p.done()
}

// LatencyChart draws the p50, p90 and p99 latency of the requests settled
// in each bucket, on a log scale.
func (r *Report) LatencyChart() string {
	p := r.timePlot("Latency percentiles over time")
	lo, hi := math.Inf(1), 0.0
	for _, b := range r.Buckets {
		if b.HasLatency {
			lo, hi = math.Min(lo, b.Latency.P50), math.Max(hi, b.Latency.P99)
		}
	}
	if hi == 0 {
		p.y0, p.y1 = 0, 1
		p.axes(timeTicks(p.x1), nil, r.timeAxis(), "latency ms")
		p.message("no request reached Lambda")
		return p.done()
	}
	p.logY = true
	p.y0, p.y1 = math.Pow(10, math.Floor(math.Log10(math.Max(lo, 0.001)))), math.Pow(10, math.Ceil(math.Log10(hi*1.0001)))
	p.axes(timeTicks(p.x1), logTicks(p.y0, p.y1, formatNumber), r.timeAxis(), "latency ms (log scale)")
	w := r.BucketWidth.Seconds()
	points := 0
	for _, b := range r.Buckets {
		if b.HasLatency {
			points++
		}
	}
	for _, s := range []struct {
		label, color string
		v            func(*Bucket) float64
	}{
		{"p50", colorP50, func(b *Bucket) float64 { return b.Latency.P50 }},
		{"p90", colorP90, func(b *Bucket) float64 { return b.Latency.P90 }},
		{"p99", colorP99, func(b *Bucket) float64 { return b.Latency.P99 }},
	} {
		var path, dots strings.Builder
		cmd := "M"
		for i := range r.Buckets {
			b := &r.Buckets[i]
			if !b.HasLatency {
				cmd = "M"
				continue
			}
			x, y := p.px((float64(i)+0.5)*w), p.py(s.v(b))
			fmt.Fprintf(&path, "%s%.1f %.1f", cmd, x, y)
			cmd = "L"
			if points <= 60 {
				fmt.Fprintf(&dots, `<circle cx="%.1f" cy="%.1f" r="3.5"/>`, x, y)
			}
		}
		fmt.Fprintf(&p.b, `<path fill="none" stroke="%s" stroke-width="1.8" d="%s"/><g fill="%s">%s</g>`, s.color, path.String(), s.color, dots.String())
	}
	p.legend([]legendKey{{"p50", colorP50}, {"p90", colorP90}, {"p99", colorP99}})
	return p.done()
}

// ThrottleChart draws the throttled attempts per second, by the start of
// their request.
func (r *Report) ThrottleChart() string {
	p := r.timePlot("Throttled attempts per second")
	w := r.BucketWidth.Seconds()
	top := 0.0
	for _, b := range r.Buckets {
		top = math.Max(top, float64(b.Throttles)/w)
	}
	if top == 0 {
		p.y1 = 1
		p.axes(timeTicks(p.x1), linearTicks(0, 1, 2, formatNumber), r.timeAxis(), "throttled attempts/s")
		p.message("no attempt was throttled")
		return p.done()
	}
	p.y1 = niceCeil(top)
	p.axes(timeTicks(p.x1), linearTicks(0, p.y1, 5, formatNumber), r.timeAxis(), "throttled attempts/s (by request start)")
	var path strings.Builder
	for i, b := range r.Buckets {
		if b.Throttles > 0 {
			x0, x1 := p.px(float64(i)*w), p.px(float64(i+1)*w)
			fmt.Fprintf(&path, "M%.1f %.1fH%.1fV%.1fH%.1fZ", x0, p.py(0), math.Max(x1-0.3, x0+0.6), p.py(float64(b.Throttles)/w), x0)
		}
	}
	fmt.Fprintf(&p.b, `<path fill="%s" d="%s"/>`, colorThrottle, path.String())
	p.legend([]legendKey{{"throttled attempts", colorThrottle}})
	return p.done()
}

// InFlightChart draws the average number of requests in flight, from the
// results' start and end times, and the adaptive concurrency limit where
// it is known.
func (r *Report) InFlightChart() string {
	p := r.timePlot("Requests in flight")
	top, limits := 0.0, false
	for _, b := range r.Buckets {
		top = math.Max(top, math.Max(b.InFlight, b.Limit))
		limits = limits || b.Limit > 0
	}
	p.y1 = niceCeil(math.Max(top, 1))
	p.axes(timeTicks(p.x1), linearTicks(0, p.y1, 5, formatNumber), r.timeAxis(), "in flight (average per bucket)")
	w := r.BucketWidth.Seconds()
	var path strings.Builder
	fmt.Fprintf(&path, "M%.1f %.1f", p.px(0), p.py(0))
	for i, b := range r.Buckets {
		y := p.py(b.InFlight)
		fmt.Fprintf(&path, "L%.1f %.1fL%.1f %.1f", p.px(float64(i)*w), y, p.px(float64(i+1)*w), y)
	}
	fmt.Fprintf(&path, "L%.1f %.1fZ", p.px(p.x1), p.py(0))
	fmt.Fprintf(&p.b, `<path fill="%s" fill-opacity="0.35" stroke="%s" stroke-width="1.5" d="%s"/>`, colorInFlight, colorInFlight, path.String())
	keys := []legendKey{{"in flight", colorInFlight}}
	if limits {
		var line strings.Builder
		cmd := "M"
		for i, b := range r.Buckets {
			if b.Limit == 0 {
				cmd = "M"
				continue
			}
			y := p.py(b.Limit)
			fmt.Fprintf(&line, "%s%.1f %.1fL%.1f %.1f", cmd, p.px(float64(i)*w), y, p.px(float64(i+1)*w), y)
			cmd = "L"
		}
		fmt.Fprintf(&p.b, `<path fill="none" stroke="%s" stroke-width="1.8" stroke-dasharray="5 3" d="%s"/>`, colorLimit, line.String())
		keys = append(keys, legendKey{"adaptive limit", colorLimit})
	}
	p.legend(keys)
	return p.done()
}

// HistogramChart draws the latency histogram on a log scale of latency.
func (r *Report) HistogramChart() string {
	p := newPlot("Latency histogram")
	if len(r.Histogram) == 0 {
		p.x0, p.x1, p.y1 = 0, 1, 1
		p.axes(nil, nil, "latency ms", "requests")
		p.message("no request reached Lambda")
		return p.done()
	}
	first, last := r.Histogram[0], r.Histogram[len(r.Histogram)-1]
	p.logX = true
	p.x0, p.x1 = first.FromMS, math.Max(last.ToMS, first.FromMS*1.01)
	top := int64(0)
	for _, b := range r.Histogram {
		top = max(top, b.Count)
	}
	p.y1 = niceCeil(float64(top))
	p.axes(logTicks(p.x0, p.x1, formatNumber), linearTicks(0, p.y1, 5, formatNumber), "latency ms (log scale)", "requests")
	var path strings.Builder
	for _, b := range r.Histogram {
		if b.Count == 0 {
			continue
		}
		x0, x1 := p.px(b.FromMS), p.px(math.Max(b.ToMS, b.FromMS*1.0001))
		fmt.Fprintf(&path, "M%.1f %.1fH%.1fV%.1fH%.1fZ", x0, p.py(0), math.Max(x1-1, x0+1), p.py(float64(b.Count)), x0)
	}
	fmt.Fprintf(&p.b, `<path fill="%s" d="%s"/>`, colorBars, path.String())
	return p.done()
}

// niceCeil rounds v up to a round axis maximum.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	step := niceStep(v / 5)
	return math.Ceil(v*1.05/step) * step
}
