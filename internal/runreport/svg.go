package runreport

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
)

// plot maps data coordinates to the pixels of an SVG chart and draws its
// frame: W×H pixels, the plotting area inside the margins.
type plot struct {
	w, h                     float64
	left, right, top, bottom float64
	x0, x1, y0, y1           float64 // data ranges
	logX, logY               bool
	b                        strings.Builder
}

// newPlot starts a chart of the standard size.
func newPlot(label string) *plot {
	p := &plot{w: 960, h: 260, left: 64, right: 16, top: 28, bottom: 40}
	fmt.Fprintf(&p.b, `<svg class="chart" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-label="%s">`,
		p.w, p.h, p.w, p.h, html.EscapeString(label))
	fmt.Fprintf(&p.b, `<title>%s</title><rect class="bg" x="0" y="0" width="%g" height="%g"/>`, html.EscapeString(label), p.w, p.h)
	return p
}

func (p *plot) px(x float64) float64 {
	if p.logX {
		return p.left + (math.Log(x)-math.Log(p.x0))/(math.Log(p.x1)-math.Log(p.x0))*(p.w-p.left-p.right)
	}
	return p.left + (x-p.x0)/(p.x1-p.x0)*(p.w-p.left-p.right)
}

func (p *plot) py(y float64) float64 {
	if p.logY {
		y = math.Max(y, p.y0)
		return p.h - p.bottom - (math.Log(y)-math.Log(p.y0))/(math.Log(p.y1)-math.Log(p.y0))*(p.h-p.top-p.bottom)
	}
	return p.h - p.bottom - (y-p.y0)/(p.y1-p.y0)*(p.h-p.top-p.bottom)
}

// tick is an axis mark and its label.
type tick struct {
	v     float64
	label string
}

// axes draws the grid, the ticks and the axis labels.
func (p *plot) axes(xticks, yticks []tick, xlabel, ylabel string) {
	bottom, right := p.h-p.bottom, p.w-p.right
	for _, t := range yticks {
		y := p.py(t.v)
		fmt.Fprintf(&p.b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, p.left, y, right, y)
		fmt.Fprintf(&p.b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, p.left-6, y+4, html.EscapeString(t.label))
	}
	for _, t := range xticks {
		x := p.px(t.v)
		fmt.Fprintf(&p.b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x, bottom, x, bottom+5)
		fmt.Fprintf(&p.b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, bottom+18, html.EscapeString(t.label))
	}
	fmt.Fprintf(&p.b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, p.left, bottom, right, bottom)
	fmt.Fprintf(&p.b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, p.left, p.top, p.left, bottom)
	fmt.Fprintf(&p.b, `<text class="label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, (p.left+right)/2, p.h-4, html.EscapeString(xlabel))
	fmt.Fprintf(&p.b, `<text class="label" x="%.1f" y="%.1f" text-anchor="start">%s</text>`, 4.0, 14.0, html.EscapeString(ylabel))
}

// legend draws colored keys from the right end of the top margin.
func (p *plot) legend(keys []legendKey) {
	x := p.w - p.right
	for i := len(keys) - 1; i >= 0; i-- {
		k := keys[i]
		x -= 7*float64(len(k.label)) + 24
		fmt.Fprintf(&p.b, `<rect x="%.1f" y="8" width="12" height="12" fill="%s"/>`, x, k.color)
		fmt.Fprintf(&p.b, `<text class="tick" x="%.1f" y="18">%s</text>`, x+16, html.EscapeString(k.label))
	}
}

// legendKey is one entry of a legend.
type legendKey struct{ label, color string }

// message writes text in the middle of the plotting area.
func (p *plot) message(s string) {
	fmt.Fprintf(&p.b, `<text class="label" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`,
		(p.left+p.w-p.right)/2, (p.top+p.h-p.bottom)/2, html.EscapeString(s))
}

// done closes the chart and returns its markup.
func (p *plot) done() string {
	p.b.WriteString(`</svg>`)
	return p.b.String()
}

// linearTicks returns about n round ticks from lo to hi.
func linearTicks(lo, hi float64, n int, format func(float64) string) []tick {
	if hi <= lo {
		return []tick{{lo, format(lo)}}
	}
	step := niceStep((hi - lo) / float64(n))
	var ticks []tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, tick{v, format(v)})
	}
	return ticks
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// logTicks returns the powers of ten from lo to hi, with 2 and 5 times
// them when there are few.
func logTicks(lo, hi float64, format func(float64) string) []tick {
	var ticks []tick
	mults := []float64{1}
	if math.Log10(hi/lo) < 3 {
		mults = []float64{1, 2, 5}
	}
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for _, m := range mults {
			if v := m * math.Pow(10, e); v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				ticks = append(ticks, tick{v, format(v)})
			}
		}
	}
	return ticks
}

// timeTicks returns about 8 ticks of elapsed time over 0..span seconds,
// on round durations.
func timeTicks(span float64) []tick {
	step := 0.01
	for _, s := range []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400} {
		step = s
		if span/s <= 8 {
			break
		}
	}
	for span/step > 8 {
		step *= 2
	}
	var ticks []tick
	for v := 0.0; v <= span+step*1e-9; v += step {
		ticks = append(ticks, tick{v, formatElapsed(v)})
	}
	return ticks
}

// formatElapsed writes seconds as a short duration: "250ms", "1.5s",
// "2m30s", "8m50s", "1h5m".
func formatElapsed(s float64) string {
	if s == 0 {
		return "0"
	}
	d := time.Duration(math.Round(s*1000)) * time.Millisecond
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		m, sec := int(d/time.Minute), int(d%time.Minute/time.Second)
		if sec == 0 {
			return strconv.Itoa(m) + "m"
		}
		return strconv.Itoa(m) + "m" + strconv.Itoa(sec) + "s"
	}
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	if m == 0 {
		return strconv.Itoa(h) + "h"
	}
	return strconv.Itoa(h) + "h" + strconv.Itoa(m) + "m"
}

// formatNumber writes a tick value without needless digits.
func formatNumber(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}
