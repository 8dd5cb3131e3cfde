package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// scenario is one row group of the table: a fake endpoint configuration
// and a workload that every client variant runs.
type scenario struct {
	name     string
	delay    time.Duration // the fake function's execution time
	tls      string        // "off", "h1" (TLS, HTTP/1.1 only) or "h2" (TLS, HTTP/2 offered)
	n, c     int
	payload  int // request (and echoed response) payload bytes
	variants []string
}

// ideal is the wall time of a latency-bound run with no client overhead:
// N·L/C. It is zero for CPU-bound scenarios.
func (s scenario) ideal() time.Duration {
	return time.Duration(s.n/s.c) * s.delay
}

// allVariants are the clients compared in each scenario, in the order they
// are run (interleaved across repetitions). "lambdafan-writer" is the
// library taking payloads through a PayloadWriter into pooled buffers, as
// "raw-signed" reads them. "raw" is the ceiling;
// "raw-signed" the same client signing each request as Lambda requires,
// the baseline of a straightforward signed fan-out; "cli-stdout" is the
// CLI without its crash journal; "python-aiohttp" the approach lambdafan
// replaces, run when its modules are installed.
var allVariants = []string{"lambdafan", "lambdafan-writer", "cli", "cli-stdout", "sdk-default", "sdk-tuned", "raw", "raw-signed", pythonVariant}

func scenarios() []scenario {
	cpu := func(name, tls string) scenario {
		return scenario{name: name, tls: tls, n: 20_000, c: 64, payload: 100, variants: allVariants}
	}
	lat := func(name, tls string) scenario {
		return scenario{name: name, delay: 50 * time.Millisecond, tls: tls, n: 20_000, c: 1000, payload: 100, variants: allVariants}
	}
	mem := func(name string, n int) scenario {
		return scenario{name: name, tls: "off", n: n, c: 64, payload: 100, variants: []string{"cli"}}
	}
	return []scenario{
		cpu("cpu-http", "off"),
		cpu("cpu-tls-h2", "h2"),
		cpu("cpu-tls-h1", "h1"),
		lat("latency-http", "off"),
		lat("latency-tls-h2", "h2"),
		lat("latency-tls-h1", "h1"),
		{name: "large-256k", tls: "off", n: 2000, c: 16, payload: 256 << 10, variants: allVariants},
		mem("memory-100k", 100_000),
		mem("memory-1m", 1_000_000),
	}
}

// selectScenarios picks scenarios by name ("all", or a comma-separated
// list of names or name prefixes such as "cpu,latency-http") and applies
// the -n, -variants and -smoke overrides.
func selectScenarios(names, variants string, n int, smoke bool) ([]scenario, error) {
	var out []scenario
	for _, s := range scenarios() {
		if names != "all" && !slices.ContainsFunc(strings.Split(names, ","), func(p string) bool {
			return p != "" && strings.HasPrefix(s.name, p)
		}) {
			continue
		}
		if smoke {
			s.n, s.c = 50, min(s.c, 25)
		}
		if n > 0 {
			s.n = n
		}
		if variants != "" {
			want := strings.Split(variants, ",")
			s.variants = slices.DeleteFunc(slices.Clone(s.variants), func(v string) bool { return !slices.Contains(want, v) })
		}
		if len(s.variants) > 0 {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenario matches %q (with clients %q)", names, variants)
	}
	return out, nil
}
