package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/lambdalog"
	"github.com/lambdafan/lambdafan/internal/runreport"
	"github.com/lambdafan/lambdafan/internal/store"
)

// runView sees a run's results as they are written: their cold starts and
// cost (always), and with --report the whole HTML report. It is fed the
// results in the run itself rather than reading the output back: that
// works for every output (standard output, a pipe, S3, .gz) at no second
// read, and stamps each result with the time the run received it, the
// results not carrying their own times. Its memory is bounded (see
// runreport.Aggregator). It is safe for concurrent use.
type runView struct {
	prices lambdalog.Prices
	usage  *lambdalog.Usage      // without --report
	report *runreport.Aggregator // with --report; it counts the usage too
	// limits returns the adaptive concurrency limit of the run, 0 when it
	// has none yet; it is sampled every limitSampling at most.
	limits func() int

	mu      sync.Mutex
	limit   int
	sampled time.Time
}

// limitSampling is how often --report reads the adaptive limit: reading it
// visits every limiter, too much to do for each result.
const limitSampling = 100 * time.Millisecond

func newRunView(opts *invokeOptions, limits func() int) (*runView, error) {
	prices, err := opts.cost.prices()
	if err != nil {
		return nil, err
	}
	v := &runView{prices: prices, limits: limits}
	if opts.report != "" {
		v.report = runreport.New()
	} else {
		v.usage = lambdalog.NewUsage()
	}
	return v, nil
}

// add sees one result, written for input line line.
func (v *runView) add(r *lambdafan.Result, line int) {
	if v.report != nil {
		now := time.Now()
		rec := runreport.FromResult(r, line, now)
		rec.Limit = v.limitAt(now)
		v.report.Add(&rec)
		return
	}
	v.usage.Add(lambdalog.Invocation{Status: r.StatusCode, Tail: r.LogTail, RequestID: r.RequestID})
}

// limitAt returns the adaptive limit, read again when the last reading is
// older than limitSampling at now.
func (v *runView) limitAt(now time.Time) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.limits != nil && now.Sub(v.sampled) >= limitSampling {
		v.limit, v.sampled = v.limits(), now
	}
	return v.limit
}

// totalLimit is the run's adaptive concurrency limit: the sum of the
// regions' limits, at most --concurrency; 0 before the first request.
func (env *invokeEnv) totalLimit() int {
	if env.client == nil {
		return 0
	}
	total := 0
	for _, l := range env.client.Limits() {
		if l.Function == "" {
			total += l.Limit
		}
	}
	return min(total, env.opts.concurrency)
}

// lambda returns the cold starts and cost of the results seen.
func (v *runView) lambda() lambdalog.Summary {
	if v.report != nil {
		return v.report.Lambda(v.prices)
	}
	return v.usage.Summary(v.prices)
}

// writeText prints the cold starts and cost after the run's summary.
func (v *runView) writeText(w io.Writer) {
	s := v.lambda()
	s.WriteText(w)
}

// writeReport writes --report, the HTML report of the run's results.
func (env *invokeEnv) writeReport(ctx context.Context) error {
	if env.view.report == nil {
		return nil
	}
	r := env.view.report.Report(runreport.Options{
		Title:   "lambdafan invoke " + env.inputName(),
		Sources: []string{env.resultsName()},
		Prices:  env.view.prices,
	})
	if err := writeDocument(ctx, func() store.Store { return env.storeFor(ctx) }, env.opts.report, r.WriteHTML); err != nil {
		return fmt.Errorf("cannot write --report: %w", err)
	}
	return nil
}

// resultsName says where the run's results went.
func (env *invokeEnv) resultsName() string {
	if name := env.outputName(); name != "" && name != "-" {
		return name
	}
	return "standard output"
}

// checkReportFile checks that --report can be written, and is none of the
// run's other files.
func (env *invokeEnv) checkReportFile(ctx context.Context) error {
	path := env.opts.report
	if path == "" {
		return nil
	}
	for _, other := range []struct{ path, what string }{
		{env.opts.input, "the input"}, {env.outputName(), "the results"}, {env.opts.summaryJSON, "--summary-json"},
	} {
		if other.path == path {
			return usagef("--report %s is also %s", path, other.what)
		}
	}
	loc, err := store.Parse(path)
	switch {
	case err != nil:
		return usagef("--report: %v", err)
	case loc.IsStdio():
		return usagef("--report needs a file: standard output takes the results")
	}
	return env.checkDocumentTarget(ctx, "--report", path, loc)
}
