package cli

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
	"github.com/lambdafan/lambdafan/internal/progress"
)

// run invokes every request of the input and writes the results, the
// progress line and the summary, and returns the exit status.
func (env *invokeEnv) run(ctx context.Context, signals <-chan os.Signal) int {
	start := time.Now()
	summary := progress.NewSummary(start)
	intake, stopIntake := context.WithCancel(ctx)
	inFlight, abort := context.WithCancel(ctx)
	defer stopIntake()
	defer abort()
	watcher := env.watchSignals(signals, stopIntake, abort)
	out := newResultWriter(env.output, env.opts.ordered, 16*env.opts.concurrency+1024)
	meter := env.startMeter(summary, start)

	credentialsErr, readErr := env.pump(intake, inFlight, out, summary, watcher)
	interrupted := watcher.stop()
	if meter != nil {
		meter.Stop()
	}
	if err := readErr(); err != nil && !interrupted {
		fmt.Fprintf(env.stdio.Err, "lambdafan: input: %v (requests after that point were not read)\n", err)
		return max(env.report(out, summary), ExitFailed)
	}
	status := env.report(out, summary)
	switch {
	case credentialsErr != nil:
		fmt.Fprintf(env.stdio.Err, "lambdafan: stopped: %v\nRefresh the credentials (e.g. aws sso login), then %s\n", credentialsErr, env.resumeHint())
		return ExitFailed
	case interrupted:
		fmt.Fprintf(env.stdio.Err, "lambdafan: interrupted: the output has a result for every request that was invoked; %s\n", env.resumeHint())
		return ExitInterrupted
	}
	return status
}

// pump feeds the decoded input through the client and writes each result.
// It returns the credentials error that stopped the run early, if any, and
// the input's read error.
func (env *invokeEnv) pump(intake, inFlight context.Context, out *resultWriter, summary *progress.Summary, watcher *signalWatcher) (credentialsErr error, readErr func() error) {
	items, readErr := jsonl.Decode(env.input, env.opts.decodeOptions())
	queue := make(chan jsonl.Item, 256)
	var reader sync.WaitGroup
	reader.Go(func() {
		defer close(queue)
		for it := range items {
			select {
			case queue <- it:
			case <-intake.Done():
				return
			}
		}
	})
	reqs, sources := env.requests(intake, queue, out, summary)
	for r := range env.client.Stream(inFlight, reqs) {
		src := sources.take(r.Index)
		summary.Add(&r, jsonl.Outcome(&r))
		out.write(src.seq, jsonl.Record{Line: src.line, Result: &r})
		if credentialsErr == nil && errors.Is(r.Err, lambdafan.ErrCredentials) {
			credentialsErr = r.Err
		}
	}
	watcher.stopIntake() // the stream may have stopped early; the reader must too
	if !watcher.interrupted() || env.inputFile != nil {
		// After an interruption the reader may be blocked in a read of
		// standard input, which cannot be interrupted; the process is
		// about to exit, so it is left behind then.
		reader.Wait()
	}
	return credentialsErr, readErr
}

// report finishes the output, prints the summary (and writes it with
// --summary-json), and returns the exit status the results call for.
func (env *invokeEnv) report(out *resultWriter, summary *progress.Summary) int {
	status := ExitOK
	if err := out.finish(); err != nil {
		fmt.Fprintf(env.stdio.Err, "lambdafan: cannot write results: %v\n", err)
		status = ExitFailed
	}
	if env.outputFile != nil {
		if err := env.outputFile.Close(); err != nil {
			fmt.Fprintf(env.stdio.Err, "lambdafan: cannot write results: %v\n", err)
			status = ExitFailed
		}
		env.outputFile = nil
	}
	report := summary.Report(time.Now())
	if !env.opts.quiet {
		report.WriteText(env.stdio.Err)
		if env.resume != nil {
			fmt.Fprintf(env.stdio.Err, "%d requests skipped: already finished in %s\n", env.resume.skipped, env.opts.resume)
		}
	}
	if env.opts.summaryJSON != "" {
		if err := writeSummaryFile(env.opts.summaryJSON, &report); err != nil {
			fmt.Fprintf(env.stdio.Err, "lambdafan: %v\n", err)
			status = ExitFailed
		}
	}
	if status == ExitOK && report.Failed() {
		status = ExitFailed
	}
	return status
}

// source is where a request came from in the input.
type source struct{ seq, line int }

// sourceTable maps the client's request indexes to input positions for
// the requests in flight. It is safe for concurrent use.
type sourceTable struct {
	mu sync.Mutex
	m  map[int]source
}

func (t *sourceTable) put(index int, s source) {
	t.mu.Lock()
	t.m[index] = s
	t.mu.Unlock()
}

func (t *sourceTable) take(index int) source {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[index]
	delete(t.m, index)
	return s
}

// requests adapts the decoded input to the client: valid requests are
// passed on (their input positions noted in the returned table); bad lines
// get their error result written directly. It stops when intake is done.
func (env *invokeEnv) requests(intake context.Context, items <-chan jsonl.Item, out *resultWriter, summary *progress.Summary) (iter.Seq[lambdafan.Request], *sourceTable) {
	sources := &sourceTable{m: map[int]source{}}
	seq := func(yield func(lambdafan.Request) bool) {
		index := 0
		for {
			var it jsonl.Item
			var ok bool
			select {
			case it, ok = <-items:
			case <-intake.Done():
				return
			}
			if !ok || !out.waitTurn(intake, it.Seq) {
				return
			}
			if env.resume != nil && env.resume.done(&it) {
				env.resume.skipped++
				out.skip(it.Seq)
				continue
			}
			if it.Err != nil {
				r := lambdafan.Result{Index: -1, Err: it.Err}
				summary.Add(&r, lambdafan.OutcomeInvalid)
				out.write(it.Seq, jsonl.Record{Line: it.Line, Result: &r})
				continue
			}
			sources.put(index, source{seq: it.Seq, line: it.Line})
			index++
			if !yield(it.Request) {
				return
			}
		}
	}
	return seq, sources
}

// startMeter starts the progress line when it is wanted: --progress always,
// or auto with standard error on a terminal.
func (env *invokeEnv) startMeter(summary *progress.Summary, start time.Time) *progress.Meter {
	if env.opts.quiet || env.opts.progress == "never" {
		return nil
	}
	if env.opts.progress == "auto" {
		f, ok := env.stdio.Err.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil
		}
	}
	m := progress.NewMeter(env.stdio.Err, summary, start, 250*time.Millisecond, env.limitStatus)
	if env.inputFile != nil {
		m.CountLines(env.opts.input)
	}
	m.Start()
	return m
}

func writeSummaryFile(path string, r *progress.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot write summary: %w", err)
	}
	if err := r.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("cannot write summary: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("cannot write summary: %w", err)
	}
	return nil
}

// resumeHint says how to finish a run that stopped early.
func (env *invokeEnv) resumeHint() string {
	out := env.opts.resume
	if out == "" {
		out = env.opts.output
	}
	if out == "" || out == "-" {
		return "to be able to finish a run, write its results to a file (-o FILE) and rerun with --resume FILE"
	}
	return fmt.Sprintf("finish the run with: lambdafan invoke --resume %s [same flags] %s", out, env.opts.input)
}

// limitStatus renders the adaptive limits for the progress line: the
// lowest current limit and the throttles so far.
func (env *invokeEnv) limitStatus() string {
	limits := env.client.Limits()
	if len(limits) == 0 {
		return ""
	}
	lowest, throttles := limits[0].Limit, int64(0)
	for _, l := range limits {
		lowest = min(lowest, l.Limit)
		throttles += l.Throttles
	}
	return fmt.Sprintf("limit %d  throttled %d", lowest, throttles)
}
