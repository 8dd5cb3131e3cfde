package runreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/lambdalog"
)

//go:embed report.html.tmpl
var reportTemplate string

// page is what the template renders: the report and its charts, drawn
// here as SVG (trusted markup: every text in it is escaped by the chart
// code).
type page struct {
	*Report
	ThroughputSVG, LatencySVG, ThrottlesSVG, InFlightSVG, HistogramSVG template.HTML
	// Columns are the outcomes, in order.
	Columns []outcomeColumn
}

// outcomeColumn is an outcome column of the tables.
type outcomeColumn struct {
	Outcome lambdafan.Outcome
	Name    string
	Color   string
}

// WriteHTML writes the report as one self-contained HTML document: inline
// CSS, inline SVG charts, no script, nothing fetched from elsewhere.
func (r *Report) WriteHTML(w io.Writer) error {
	t, err := template.New("report").Funcs(templateFuncs()).Parse(reportTemplate)
	if err != nil {
		return fmt.Errorf("report template: %w", err)
	}
	p := page{Report: r}
	if len(r.Buckets) > 0 {
		p.ThroughputSVG = template.HTML(r.ThroughputChart())
		p.LatencySVG = template.HTML(r.LatencyChart())
		p.ThrottlesSVG = template.HTML(r.ThrottleChart())
		p.InFlightSVG = template.HTML(r.InFlightChart())
	}
	p.HistogramSVG = template.HTML(r.HistogramChart())
	for o := range lambdafan.Outcome(numOutcomes) {
		p.Columns = append(p.Columns, outcomeColumn{o, o.String(), outcomeColor(o)})
	}
	if err := t.Execute(w, p); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"count":   formatCount,
		"ms":      func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
		"usd":     lambdalog.FormatUSD,
		"percent": func(part, whole int64) string { return formatPercent(part, whole) },
		"rate":    func(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" },
		"gbs":     formatGBSeconds,
		"clock":   func(t time.Time) string { return t.UTC().Format("15:04:05.000") },
		"price":   func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) },
		"utc":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000 UTC") },
		"dur":     func(d time.Duration) string { return formatElapsed(d.Seconds()) },
		"latency": func(d time.Duration) string { return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) },
		"at":      func(a [numOutcomes]int64, o lambdafan.Outcome) int64 { return a[o] },
		"outcome": func(o lambdafan.Outcome) string { return o.String() },
		"color":   outcomeColor,
	}
}

// formatCount writes n with thousands separators: 1,234,567.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + formatCount(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatGBSeconds writes GB-seconds with 4 significant digits, or whole
// with thousands separators from 10,000 on.
func formatGBSeconds(v float64) string {
	if v >= 10000 {
		return formatCount(int64(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// formatPercent writes part as a percentage of whole, "–" when whole is 0.
func formatPercent(part, whole int64) string {
	if whole == 0 {
		return "–"
	}
	return strconv.FormatFloat(100*float64(part)/float64(whole), 'f', 1, 64) + "%"
}

// Duration is the time from the first start to the last end of the
// results with times.
func (r *Report) Duration() time.Duration { return r.To.Sub(r.From) }

// Throughput is the results with times per second over Duration.
func (r *Report) Throughput() float64 {
	if d := r.Duration(); d > 0 {
		return float64(r.Timed) / d.Seconds()
	}
	return 0
}
