package lambdalog

import (
	"fmt"
	"io"
	"strings"
)

// Summary is what a [Usage] counted, as printed after a run's summary and
// written under "lambda" by --summary-json.
type Summary struct {
	// Invocations counts the results Lambda accepted (HTTP 200 or 202):
	// the requests it charges for. Synchronous counts those that ran while
	// the caller waited (200), the only ones that can have a log tail;
	// LogTails those that had one.
	Invocations int64 `json:"invocations"`
	Synchronous int64 `json:"synchronous"`
	LogTails    int64 `json:"log_tails"`
	// Reports counts the tails with a report, PartialReports those whose
	// report was cut by the 4 KB limit, BilledReports those with a billed
	// duration and memory size.
	Reports        int64 `json:"reports"`
	PartialReports int64 `json:"partial_reports"`
	BilledReports  int64 `json:"billed_reports"`
	// ColdStarts counts the reports with an Init Duration; ColdStartRate
	// is their share of Reports (0 to 1).
	ColdStarts    int64   `json:"cold_starts"`
	ColdStartRate float64 `json:"cold_start_rate"`
	// InitDurationMs are the percentiles of the cold starts' Init
	// Duration; nil without a cold start.
	InitDurationMs *Percentiles `json:"init_duration_ms,omitempty"`
	// SnapStartRestores counts the reports with a Restore Duration.
	SnapStartRestores int64 `json:"snapstart_restores"`
	// Timeouts and RuntimeErrors count the reports whose status was
	// timeout, or error (a runtime or extension crash).
	Timeouts      int64 `json:"timeouts"`
	RuntimeErrors int64 `json:"runtime_errors"`
	// BilledGBSeconds is the billed compute of the reports.
	BilledGBSeconds float64 `json:"billed_gb_seconds"`
	// Cost estimates what the invocations cost.
	Cost Cost `json:"cost"`
}

// Cost is an estimate of what a run's invocations cost.
type Cost struct {
	// Arch is the architecture priced.
	Arch Arch `json:"arch"`
	// DurationUSD prices BilledGBSeconds, RequestsUSD the Invocations;
	// TotalUSD is their sum.
	DurationUSD float64 `json:"duration_usd"`
	RequestsUSD float64 `json:"requests_usd"`
	TotalUSD    float64 `json:"total_usd"`
	// USDPerGBSecond is the first tier's duration price.
	USDPerGBSecond        float64 `json:"usd_per_gb_second"`
	USDPerMillionRequests float64 `json:"usd_per_million_requests"`
	PricesSource          string  `json:"prices_source"`
	PricesAsOf            string  `json:"prices_as_of,omitempty"`
	// Notes say what the estimate leaves out.
	Notes []string `json:"notes"`
}

// estimate prices gbs GB-seconds and n requests at p.
func estimate(p Prices, gbs float64, n int64) Cost {
	c := Cost{
		Arch:                  p.Arch,
		DurationUSD:           p.DurationUSD(gbs),
		RequestsUSD:           p.RequestsUSD(n),
		USDPerGBSecond:        p.FirstTierUSD(),
		USDPerMillionRequests: p.USDPerMillionRequests,
		PricesSource:          p.Source,
		PricesAsOf:            p.AsOf,
	}
	c.TotalUSD = c.DurationUSD + c.RequestsUSD
	c.Notes = costNotes(p)
	return c
}

// costNotes says what an estimate at p leaves out.
func costNotes(p Prices) []string {
	var notes []string
	if p.AsOf != "" {
		notes = append(notes, fmt.Sprintf("Prices: AWS Lambda on-demand in US East (N. Virginia), from %s, checked %s; "+
			"other regions differ (give --price-per-gb-s); duration tiers are counted as if this run were the month's only %s usage.",
			p.Source, p.AsOf, p.Arch))
	} else {
		notes = append(notes, fmt.Sprintf("Duration priced at %g USD per GB-second (--price-per-gb-s), requests at %g USD per million.",
			p.FirstTierUSD(), p.USDPerMillionRequests))
	}
	return append(notes,
		fmt.Sprintf("The architecture is not in the results: %s is priced (--arch to change it).", p.Arch),
		"Not counted: the free tier (1 million requests and 400,000 GB-s a month), Savings Plans, provisioned concurrency, "+
			"ephemeral storage above 512 MB, SnapStart cache and restore charges, data transfer.",
		"Since 2025-08-01 Lambda bills the init phase of on-demand functions (ZIP packages on managed runtimes included); "+
			"Billed Duration includes it, so cold starts are in the GB-seconds.",
		"A log tail (--log-type Tail) holds only the last 4 KB of the log: an invocation whose REPORT is not in it, "+
			"or that was asynchronous (no log), adds its request but not its duration.")
}

// WriteText prints the summary for people: cold starts and the cost
// estimate, or, when no result had a report, a hint saying how to get
// them. It prints nothing for a run that invoked nothing.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	switch {
	case s.Invocations == 0:
		return nil
	case s.Reports == 0 && s.Synchronous > 0 && s.LogTails == 0:
		fmt.Fprintf(&b, "cold starts and cost: the results have no log tail; invoke with --log-type Tail to see them (%d requests: %s)\n",
			s.Invocations, FormatUSD(s.Cost.RequestsUSD))
	case s.Reports == 0 && s.Synchronous > 0:
		fmt.Fprintf(&b, "cold starts and cost: no REPORT line in the %d log tails (a tail is the last 4 KB of the log)\n", s.LogTails)
	case s.Reports == 0:
		fmt.Fprintf(&b, "cost: %d asynchronous requests %s; their duration is unknown (no log comes back)\n",
			s.Invocations, FormatUSD(s.Cost.RequestsUSD))
	default:
		fmt.Fprintf(&b, "cold starts: %d of %d invocations with a REPORT (%.1f%%)", s.ColdStarts, s.Reports, 100*s.ColdStartRate)
		if p := s.InitDurationMs; p != nil {
			fmt.Fprintf(&b, "; init ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f", p.P50, p.P90, p.P99, p.Max)
		}
		if s.SnapStartRestores > 0 {
			fmt.Fprintf(&b, "; %d SnapStart restores", s.SnapStartRestores)
		}
		b.WriteByte('\n')
		c := &s.Cost
		fmt.Fprintf(&b, "cost estimate: %s duration (%s GB-s, %s) + %s requests (%d) = %s",
			FormatUSD(c.DurationUSD), FormatGBSeconds(s.BilledGBSeconds), c.Arch, FormatUSD(c.RequestsUSD), s.Invocations, FormatUSD(c.TotalUSD))
		if c.PricesAsOf != "" {
			fmt.Fprintf(&b, " at us-east-1 on-demand prices of %s, no free tier", c.PricesAsOf)
		}
		if n := s.Invocations - s.BilledReports; n > 0 {
			fmt.Fprintf(&b, "; %d invocations without a REPORT in their log tail: duration not counted", n)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
