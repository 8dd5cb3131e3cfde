// Command bench measures lambdafan against its peers and against the
// ceiling of unsigned net/http, on loopback, in one run:
//
//	go run ./bench                       # every scenario, 3 repetitions
//	go run ./bench -scenarios cpu -reps 5 -o table.md
//	go run ./bench -smoke                # tiny N: checks the harness works
//
// It starts a fake Lambda endpoint in a child process (re-executing itself
// with -serve) and runs each client variant in its own child process
// (-client, or the lambdafan binary it builds), so that each one's CPU
// time and peak RSS come from the kernel's accounting of that process
// alone. Variants run interleaved (A B C D A B C D …) so that drift of the
// shared machine spreads over all of them; the table shows medians. See
// docs/BENCHMARKS.md for the columns and the results.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		names      = fs.String("scenarios", "all", "comma-separated scenario names or prefixes (cpu, latency, large, memory, cpu-tls-h2, …), or all")
		clients    = fs.String("clients", "", "comma-separated client variants to run (default: each scenario's): "+strings.Join(allVariants, ","))
		n          = fs.Int("n", 0, "invocations per run, overriding each scenario's N")
		reps       = fs.Int("reps", 3, "repetitions of each variant, interleaved")
		smoke      = fs.Bool("smoke", false, "tiny runs (N=50, one repetition) to check the harness")
		out        = fs.String("o", "", "also write the Markdown table to `FILE`")
		profileDir = fs.String("cpuprofile", "", "write each client child's CPU profile into `DIR`")

		serveMode = fs.Bool("serve", false, "(internal) run the fake Lambda endpoint")
		delay     = fs.Duration("delay", 0, "(internal, -serve) execution time of each invocation")
		tlsMode   = fs.String("tls", "off", "(internal, -serve) off, h1 or h2")
		cert      = fs.String("cert", "", "(internal, -serve) server certificate file")
		key       = fs.String("key", "", "(internal, -serve) server key file")
		streams   = fs.Int("max-streams", 128, "(internal, -serve) HTTP/2 concurrent streams per connection, as Lambda reportedly allows")

		clientMode = fs.String("client", "", "(internal) run this client variant")
		url        = fs.String("url", "", "(internal, -client) endpoint URL")
		conc       = fs.Int("c", 64, "(internal, -client) concurrency")
		payload    = fs.Int("payload", 100, "(internal, -client) payload bytes")
		cpuProfile = fs.String("cpuprofile-file", "", "(internal, -client) CPU profile file")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if os.Getenv(childEnv) != "" {
		switch {
		case *serveMode:
			return runServer(serverOptions{delay: *delay, tls: *tlsMode, certFile: *cert, keyFile: *key, maxStreams: *streams})
		case *clientMode != "":
			return runClient(*clientMode, job{url: *url, n: *n, c: *conc, payload: makePayload(*payload)}, *cpuProfile)
		}
	}
	if *smoke {
		*reps = 1
	}
	list, err := selectScenarios(*names, *clients, *n, *smoke)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	table, ok, err := runAll(list, *reps, *profileDir, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	fmt.Fprint(stdout, table)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(table), 0o644); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
	}
	if !ok {
		fmt.Fprintln(stderr, "bench: some invocations failed (see the table)")
		return 1
	}
	return 0
}

// runAll runs the scenarios and returns the Markdown report, and whether
// every invocation succeeded.
func runAll(list []scenario, reps int, profileDir string, log io.Writer) (string, bool, error) {
	self, err := os.Executable()
	if err != nil {
		return "", false, err
	}
	dir, err := os.MkdirTemp("", "lambdafan-bench-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(dir)
	log = &lockedWriter{w: log} // shared by the children's standard errors
	r := &runner{self: self, dir: dir, profileDir: profileDir, log: log}
	if r.certs, err = makeCerts(dir); err != nil {
		return "", false, err
	}
	if slices.ContainsFunc(list, func(s scenario) bool {
		return slices.Contains(s.variants, "cli") || slices.Contains(s.variants, "cli-stdout")
	}) {
		if r.cli, err = buildCLI(dir, log); err != nil {
			return "", false, err
		}
	}
	var notes []string
	if slices.ContainsFunc(list, func(s scenario) bool { return slices.Contains(s.variants, pythonVariant) }) {
		if r.python, err = findPython(); err != nil {
			note := fmt.Sprintf("%s skipped: %v", pythonVariant, err)
			fmt.Fprintln(log, "bench:", note)
			notes = append(notes, note)
			list = withoutVariant(list, pythonVariant)
		}
	}
	var rows []row
	ok := true
	for _, s := range list {
		fmt.Fprintf(log, "bench: %s: N=%d C=%d delay=%v tls=%s payload=%dB: %s × %d\n",
			s.name, s.n, s.c, s.delay, s.tls, s.payload, strings.Join(s.variants, " "), reps)
		results, err := r.runScenario(s, reps)
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", s.name, err)
		}
		for _, v := range s.variants {
			row := summarize(s, v, results[v])
			ok = ok && row.failed == 0
			rows = append(rows, row)
		}
	}
	return markdown(rows, reps, notes), ok, nil
}

// withoutVariant drops variant from every scenario, and the scenarios
// left with none.
func withoutVariant(list []scenario, variant string) []scenario {
	var out []scenario
	for _, s := range list {
		s.variants = slices.DeleteFunc(slices.Clone(s.variants), func(v string) bool { return v == variant })
		if len(s.variants) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// runScenario runs every variant of s reps times, interleaved, against one
// fake endpoint process.
func (r *runner) runScenario(s scenario, reps int) (map[string][]measurement, error) {
	srv, err := r.startServer(s)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	results := map[string][]measurement{}
	for rep := range reps {
		for _, v := range s.variants {
			start := time.Now()
			m, err := r.runVariant(s, v, srv, rep)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(r.log, "bench:   %-11s rep %d: %.2fs, %.1f µs CPU/invoke, %.2f context switches/invoke, %d new conns, %d failed (%v)\n",
				v, rep+1, m.wall, m.cpu/float64(s.n), float64(m.csw)/float64(s.n), m.server.Conns, m.failed, time.Since(start).Round(time.Millisecond))
			results[v] = append(results[v], m)
		}
	}
	return results, nil
}

// lockedWriter serializes writes to w. It is safe for concurrent use.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// buildCLI builds the lambdafan command of this module into dir.
func buildCLI(dir string, log io.Writer) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(dir, "lambdafan")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/lambdafan")
	cmd.Dir = root
	cmd.Stderr = log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the lambdafan binary: %w", err)
	}
	return bin, nil
}
