package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// row is the summary of one client in one scenario over its repetitions:
// the median of each figure.
type row struct {
	scenario scenario
	variant  string
	reps     int
	wall     float64 // s
	rate     float64 // invokes/s
	cpu      float64 // client CPU µs per invoke
	allocs   float64 // per invoke; negative when unknown
	bytes    float64 // allocated bytes per invoke; negative when unknown
	rss      float64 // peak RSS, MB
	conns    float64 // new connections per run
	resumed  float64 // of which TLS resumptions
	server   float64 // server CPU µs per invoke
	proto    string
	spread   float64 // (max − min) / median of the wall times
	failed   int64   // failed invocations, all repetitions
}

func summarize(s scenario, variant string, ms []measurement) row {
	n := float64(s.n)
	med := func(f func(measurement) float64) float64 {
		v := make([]float64, len(ms))
		for i, m := range ms {
			v[i] = f(m)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	r := row{scenario: s, variant: variant, reps: len(ms)}
	r.wall = med(func(m measurement) float64 { return m.wall })
	r.rate = n / r.wall
	r.cpu = med(func(m measurement) float64 { return m.cpu / n })
	r.allocs = med(func(m measurement) float64 { return m.allocs / n })
	r.bytes = med(func(m measurement) float64 { return m.allocBytes / n })
	r.rss = med(func(m measurement) float64 { return float64(m.rss) / 1e6 })
	r.conns = med(func(m measurement) float64 { return float64(m.server.Conns) })
	r.resumed = med(func(m measurement) float64 { return float64(m.server.Resumed) })
	r.server = med(func(m measurement) float64 { return m.server.CPU / n })
	lo, hi := ms[0].wall, ms[0].wall
	var h1, h2 int64
	for _, m := range ms {
		lo, hi = min(lo, m.wall), max(hi, m.wall)
		h1 += m.server.HTTP1
		h2 += m.server.HTTP2
		r.failed += m.failed
	}
	r.spread = (hi - lo) / r.wall
	switch {
	case h1 > 0 && h2 > 0:
		r.proto = "h1+h2"
	case h2 > 0:
		r.proto = "h2"
	default:
		r.proto = "http/1.1"
	}
	return r
}

// ceiling returns the "raw" row of the same scenario, if it was run.
func ceiling(rows []row, s scenario) (row, bool) {
	i := slices.IndexFunc(rows, func(r row) bool { return r.scenario.name == s.name && r.variant == "raw" })
	if i < 0 {
		return row{}, false
	}
	return rows[i], true
}

// writeTable prints the rows as a Markdown table.
func writeTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| scenario | client | wall s | invokes/s | × ceiling | client CPU µs/invoke | × ceiling | allocs/invoke | KB alloc/invoke | peak RSS MB | protocol | new conns | server CPU µs/invoke | spread |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
	for _, r := range rows {
		s := r.scenario
		wall := fmt.Sprintf("%.2f", r.wall)
		if ideal := s.ideal(); ideal > 0 {
			wall += fmt.Sprintf(" (%.2f× ideal)", r.wall/ideal.Seconds())
		}
		rate := fmt.Sprintf("%.0f", r.rate)
		if s.payload >= 64<<10 {
			rate += fmt.Sprintf(" (%.0f MB/s)", r.rate*float64(2*s.payload)/1e6)
		}
		xRate, xCPU := "–", "–"
		if c, ok := ceiling(rows, s); ok {
			xRate = fmt.Sprintf("%.2f", r.rate/c.rate)
			xCPU = fmt.Sprintf("%.2f", r.cpu/c.cpu)
		}
		allocs, kb := "n/a", "n/a"
		if r.allocs >= 0 {
			allocs, kb = fmt.Sprintf("%.0f", r.allocs), fmt.Sprintf("%.1f", r.bytes/1024)
		}
		name := r.variant
		if r.failed > 0 {
			name += fmt.Sprintf(" (%d FAILED)", r.failed)
		}
		conns := fmt.Sprintf("%.0f", r.conns)
		if s.tls != "off" {
			conns += fmt.Sprintf(" (%.0f resumed)", r.resumed)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.1f | %s | %s | %s | %.0f | %s | %s | %.1f | %.0f%% |\n",
			s.name, name, wall, rate, xRate, r.cpu, xCPU, allocs, kb, r.rss, r.proto, conns, r.server, 100*r.spread)
	}
}

// writeTargets prints the targets (issues 6, 9 and 13) next to what this
// run achieved.
func writeTargets(w io.Writer, rows []row) {
	find := func(scenario, variant string) (row, bool) {
		i := slices.IndexFunc(rows, func(r row) bool { return r.scenario.name == scenario && r.variant == variant })
		if i < 0 {
			return row{}, false
		}
		return rows[i], true
	}
	check := func(what string, got float64, ok bool, target string) {
		mark := "met"
		if !ok {
			mark = "MISSED"
		}
		fmt.Fprintf(w, "- %s: %.2f (target %s) — %s\n", what, got, target, mark)
	}
	for _, sc := range []string{"cpu-http", "cpu-tls-h2", "cpu-tls-h1"} {
		lib, ok1 := find(sc, "lambdafan")
		raw, ok2 := find(sc, "raw")
		if ok1 && ok2 {
			check(sc+": library throughput / ceiling", lib.rate/raw.rate, lib.rate/raw.rate >= 0.85, "≥ 0.85")
			check(sc+": library CPU per invoke / ceiling", lib.cpu/raw.cpu, lib.cpu/raw.cpu <= 1.3, "≤ 1.3")
		}
		if cli, ok := find(sc, "cli"); ok && ok2 {
			check(sc+": CLI throughput / ceiling", cli.rate/raw.rate, cli.rate/raw.rate >= 0.75, "≥ 0.75")
		}

		if sdk, ok := find(sc, "sdk-default"); ok && ok1 {
			check(sc+": library throughput / SDK default", lib.rate/sdk.rate, lib.rate/sdk.rate >= 2.5, "≥ 2.5")
		}
		signed, ok3 := find(sc, "raw-signed")
		if ok1 && ok3 {
			check(sc+": library CPU per invoke / raw-signed", lib.cpu/signed.cpu, lib.cpu/signed.cpu <= 1.1, "≤ 1.1")
		}
		if cli, ok := find(sc, "cli"); ok && ok3 {
			check(sc+": CLI throughput / raw-signed", cli.rate/signed.rate, cli.rate/signed.rate >= 0.95, "≥ 0.95")
		}
	}
	for _, sc := range []string{"cpu-http", "cpu-tls-h2", "cpu-tls-h1", "latency-http", "latency-tls-h2", "latency-tls-h1", "large-256k"} {
		cli, ok1 := find(sc, "cli")
		plain, ok2 := find(sc, "cli-stdout")
		if ok1 && ok2 {
			check(sc+": CLI throughput with the crash journal / without", cli.rate/plain.rate, cli.rate/plain.rate >= 0.95, "≥ 0.95")
		}
	}
	if lib, ok := find("latency-http", "lambdafan"); ok {
		if raw, ok := find("latency-http", "raw"); ok {
			check("latency-http: library wall / ceiling wall", lib.wall/raw.wall, lib.wall/raw.wall <= 1.05, "≤ 1.05")
		}
	}
	for _, sc := range []string{"latency-tls-h2", "latency-tls-h1"} {
		if lib, ok := find(sc, "lambdafan"); ok {
			x := lib.wall / lib.scenario.ideal().Seconds()
			check(sc+": library wall / ideal", x, x <= 1.3, "≤ 1.3")
		}
	}
	if lib, ok := find("large-256k", "lambdafan"); ok {
		if raw, ok := find("large-256k", "raw"); ok {
			check("large-256k: library throughput / ceiling", lib.rate/raw.rate, lib.rate/raw.rate >= 0.9, "≥ 0.9")
		}
		if signed, ok := find("large-256k", "raw-signed"); ok {
			check("large-256k: library (Result.Payload) throughput / raw-signed", lib.rate/signed.rate, lib.rate/signed.rate >= 0.9, "≥ 0.9")
		}
		if cli, ok := find("large-256k", "cli"); ok {
			check("large-256k: CLI throughput / library", cli.rate/lib.rate, cli.rate/lib.rate >= 0.8, "≥ 0.8")
		}
	}
	if w, ok := find("large-256k", "lambdafan-writer"); ok {
		if signed, ok := find("large-256k", "raw-signed"); ok {
			check("large-256k: library (PayloadWriter) throughput / raw-signed", w.rate/signed.rate, w.rate/signed.rate >= 0.9, "≥ 0.9")
		}
	}
	if cli, ok := find("large-256k", "cli"); ok {
		check("large-256k: CLI peak RSS MB", cli.rss, cli.rss <= 100, "≤ 100")
	}
	big, ok1 := find("memory-1m", "cli")
	small, ok2 := find("memory-100k", "cli")
	if ok1 {
		check("memory-1m: CLI peak RSS MB", big.rss, big.rss <= 100, "≤ 100")
	}
	if ok1 && ok2 {
		check("memory: peak RSS 1M / 100k", big.rss/small.rss, big.rss/small.rss <= 1.25, "flat, ≤ 1.25")
	}
}

// markdown renders the whole report, with notes (variants skipped, and
// why) after the first line.
func markdown(rows []row, reps int, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Medians of %d interleaved repetitions.\n\n", reps)
	for _, n := range notes {
		fmt.Fprintf(&b, "Note: %s\n\n", n)
	}
	writeTable(&b, rows)
	fmt.Fprintln(&b)
	writeTargets(&b, rows)
	return b.String()
}
