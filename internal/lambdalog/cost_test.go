package lambdalog

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// near reports whether a and b agree to 1e-9 relative (float rounding).
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func TestPrices_DurationUSD(t *testing.T) {
	x86, arm := DefaultPrices(ArchX86), DefaultPrices(ArchARM)
	tests := []struct {
		name string
		p    Prices
		gbs  float64
		want float64 // computed by hand from the published tiers
	}{
		// 1,000 invocations of 128 MB billed 100 ms: 12.8e6 MB·ms = 12.5 GB-s.
		{"x86 small run", x86, 12.5, 12.5 * 0.0000166667}, // 0.00020833375
		{"arm small run", arm, 12.5, 12.5 * 0.0000133334}, // 0.0001666675
		{"x86 first tier exactly", x86, 6e9, 100000.2},    // 6e9 × 0.0000166667
		{"x86 into the second tier", x86, 10e9, 160000.2}, // 100000.2 + 4e9 × 0.000015
		{"x86 into the third tier", x86, 20e9, 301667.2},  // 100000.2 + 135000 + 5e9 × 0.0000133334
		{"arm into the third tier", arm, 20e9, 248335.0},  // 100000.5 + 135001.125 + 1.25e9 × 0.0000106667
		{"flat override", FlatPrices(ArchX86, 0.0000210000), 20e9, 420000},
		{"nothing", x86, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.DurationUSD(tt.gbs); !near(got, tt.want) {
				t.Errorf("DurationUSD(%g) = %.10g, want %.10g", tt.gbs, got, tt.want)
			}
		})
	}
}

func TestGBSeconds(t *testing.T) {
	// The pricing page's example: 3 million invocations of 512 MB, 1 s each,
	// are 1,500,000 GB-s.
	if got := GBSeconds(3_000_000 * 1000 * 512); got != 1_500_000 {
		t.Errorf("GBSeconds = %v, want 1500000", got)
	}
	if got := DefaultPrices(ArchX86).RequestsUSD(3_000_000); !near(got, 0.60) {
		t.Errorf("RequestsUSD(3M) = %v, want 0.60", got)
	}
}

func TestFormatUSD(t *testing.T) {
	for v, want := range map[float64]string{0: "$0", 12.345: "$12.35", 0.01: "$0.01", 0.00040833375: "$0.000408", 1.234e-6: "$0.00000123", 0.5: "$0.50"} {
		if got := FormatUSD(v); got != want {
			t.Errorf("FormatUSD(%g) = %q, want %q", v, got, want)
		}
	}
}

func TestParseArch(t *testing.T) {
	for in, want := range map[string]Arch{"": ArchX86, "x86_64": ArchX86, "amd64": ArchX86, "arm64": ArchARM, "ARM": ArchARM} {
		if got, err := ParseArch(in); err != nil || got != want {
			t.Errorf("ParseArch(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseArch("mips"); err == nil {
		t.Error("ParseArch(mips) succeeded")
	}
}

func TestUsage(t *testing.T) {
	u := NewUsage()
	// 1,000 warm invocations of 128 MB billed 100 ms, and 10 cold ones with
	// init durations of 100 to 1,000 ms billed 100 ms plus their init.
	for i := range 1000 {
		tail := "REPORT RequestId: w\tDuration: 99.50 ms\tBilled Duration: 100 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t\n"
		if i < 10 {
			init := float64(100 * (i + 1))
			tail = "REPORT RequestId: c\tDuration: 99.50 ms\tBilled Duration: " + ftoa(100+init) + " ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\tInit Duration: " + ftoa(init) + " ms\t\n"
		}
		u.Add(Invocation{Status: 200, Tail: tail})
	}
	u.Add(Invocation{Status: 202})                         // queued: a request, no duration
	u.Add(Invocation{Status: 200})                         // no tail
	u.Add(Invocation{Status: 429, Tail: "REPORT ignored"}) // throttled: not an invocation
	s := u.Summary(DefaultPrices(ArchX86))

	if s.Invocations != 1002 || s.Synchronous != 1001 || s.LogTails != 1000 || s.Reports != 1000 || s.BilledReports != 1000 {
		t.Errorf("counts = %+v", s)
	}
	if s.ColdStarts != 10 || s.ColdStartRate != 0.01 {
		t.Errorf("cold starts = %d (rate %v), want 10 (0.01)", s.ColdStarts, s.ColdStartRate)
	}
	// MB·ms: 1000 × 100 × 128 + (100+200+…+1000) × 128 = 12,800,000 + 704,000.
	wantGBs := float64(12_800_000+5500*128) / 1024 / 1000 // 13.1875
	if !near(s.BilledGBSeconds, wantGBs) || !near(wantGBs, 13.1875) {
		t.Errorf("BilledGBSeconds = %v, want %v", s.BilledGBSeconds, wantGBs)
	}
	if c := s.Cost; !near(c.DurationUSD, 13.1875*0.0000166667) || !near(c.RequestsUSD, 1002*0.2/1e6) || !near(c.TotalUSD, c.DurationUSD+c.RequestsUSD) {
		t.Errorf("cost = %+v", c)
	}
	// Init durations 100..1000 ms: the median is 500 ms, the maximum 1000.
	if p := s.InitDurationMs; p == nil || math.Abs(p.P50-500) > 1 || math.Abs(p.Max-1000) > 1 {
		t.Errorf("init percentiles = %+v", p)
	}
	var b strings.Builder
	s.WriteText(&b)
	for _, want := range []string{"cold starts: 10 of 1000 invocations with a REPORT (1.0%)", "init ms: p50 500", "13.19 GB-s, x86_64", "2 invocations without a REPORT"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

func TestSummary_WriteText_hint(t *testing.T) {
	u := NewUsage()
	u.Add(Invocation{Status: 200})
	s := u.Summary(DefaultPrices(ArchX86))
	var b strings.Builder
	s.WriteText(&b)
	if !strings.Contains(b.String(), "--log-type Tail") {
		t.Errorf("no hint to use --log-type Tail: %q", b.String())
	}
	b.Reset()
	empty := NewUsage().Summary(DefaultPrices(ArchX86))
	empty.WriteText(&b)
	if b.Len() != 0 {
		t.Errorf("a run without invocations printed %q", b.String())
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
