package cli

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
	"github.com/lambdafan/lambdafan/internal/progress"
	"github.com/lambdafan/lambdafan/internal/store"
)

// ExitBrokenPipe is the exit status when standard output was closed before
// every result could be written to it, as for a process killed by SIGPIPE.
const ExitBrokenPipe = 141

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
	out := newResultWriter(env.output, env.opts.ordered, 16*env.opts.concurrency+1024, watcher.outputError)
	meter := env.startMeter(summary, start)

	readErr, stopErr := env.pump(intake, inFlight, out, summary, watcher)
	interrupted := watcher.stop()
	if meter != nil {
		meter.Stop()
	}
	status := env.report(ctx, out, summary)
	switch {
	case status == ExitBrokenPipe:
		return status
	case readErr() != nil && !interrupted:
		fmt.Fprintf(env.stdio.Err, "lambdafan: input: %v (requests after that point were not read)\n", readErr())
		return max(status, ExitFailed)
	case errors.Is(stopErr, lambdafan.ErrCredentials):
		fmt.Fprintf(env.stdio.Err, "lambdafan: stopped: %v\nFix the credentials (e.g. aws sso login), then %s\n", stopErr, env.resumeHint())
		return ExitFailed
	case stopErr != nil:
		fmt.Fprintf(env.stdio.Err, "lambdafan: stopped: %v\nFix the cause, then %s\n", stopErr, env.resumeHint())
		return ExitFailed
	case interrupted:
		fmt.Fprintf(env.stdio.Err, "lambdafan: interrupted: the output has a result for every request that was read; %s\n", env.resumeHint())
		return ExitInterrupted
	}
	return status
}

// pump feeds the decoded input through the client and writes each result.
// It returns the function that reports the input's read error (not to be
// called after an interruption, when the reader may still be blocked in a
// read of standard input) and the error that stopped the run early —
// credentials refused, or the journal failing — if any.
func (env *invokeEnv) pump(intake, inFlight context.Context, out *resultWriter, summary *progress.Summary, watcher *signalWatcher) (readErr func() error, stopErr error) {
	items, readErr := jsonl.Decode(env.input, env.opts.decodeOptions())
	queue := newReadAhead()
	var reader sync.WaitGroup
	reader.Go(func() { queue.fill(intake, items) })
	reqs, sources := env.requests(intake, queue, out, summary)
	opts := lambdafan.StreamOptions{Stop: intake.Done(), BeforeSend: env.beforeSend(sources)}
	for r := range env.client.StreamWith(inFlight, reqs, opts) {
		src := sources.take(r.Index)
		var payloadFile *jsonl.PayloadFile
		release := func() {}
		if env.payloads != nil {
			payloadFile, release = env.payloads.result(r.Index, &r)
		}
		summary.Add(&r)
		env.view.add(&r, src.line)
		out.write(src.seq, jsonl.Record{Line: src.line, NumericID: src.numericID, Result: &r, PayloadFile: payloadFile})
		release() // the record is encoded: nothing refers to the payload
		if stopErr == nil && stopsTheRun(r.Err) {
			stopErr = r.Err
		}
	}
	watcher.stopIntake() // the stream may have stopped early; the reader must too
	if !watcher.interrupted() || env.inputFile != nil {
		// After an interruption the reader may be blocked in a read of
		// standard input, which cannot be interrupted; the process is
		// about to exit, so it is left behind then.
		reader.Wait()
	}
	return readErr, stopErr
}

// stopsTheRun reports the errors after which the client stops the run:
// credentials refused or unobtainable, or the journal failing (an
// ErrStopped with a cause other than an interruption).
func stopsTheRun(err error) bool {
	if errors.Is(err, lambdafan.ErrCredentials) {
		return true
	}
	return errors.Is(err, lambdafan.ErrStopped) && err != lambdafan.ErrStopped && !errors.Is(err, context.Canceled)
}

// beforeSend returns the hook that holds each request's first attempt
// until its journal record is on disk, or nil when the run has no journal
// (output to standard output). The record was added when the request was
// read (see requests), so that it is usually on disk by then.
func (env *invokeEnv) beforeSend(sources *sourceTable) func(context.Context, int) error {
	if env.journal == nil {
		return nil
	}
	return func(ctx context.Context, index int) error {
		src := sources.get(index)
		if src.journaled == nil {
			return nil
		}
		if err := src.journaled.wait(ctx); err != nil {
			return err
		}
		env.journal.markSent(src.line)
		return nil
	}
}

// report finishes the output, prints the summary (and writes it with
// --summary-json), and returns the exit status the results call for.
func (env *invokeEnv) report(ctx context.Context, out *resultWriter, summary *progress.Summary) int {
	status := ExitOK
	wo := out.finish()
	outputOK := wo.err == nil && wo.lost == 0
	if env.outputFile != nil {
		// The results must be on disk before the journal that covers them
		// is removed.
		if err := errors.Join(env.outputFile.Sync(), env.outputFile.Close()); err != nil && wo.err == nil {
			fmt.Fprintf(env.stdio.Err, "lambdafan: cannot write results: %v\n", err)
			status, outputOK = ExitFailed, false
		}
		env.outputFile = nil
	}
	if wo.err != nil {
		status = env.reportOutputFailure(wo)
	}
	if env.mirror != nil && outputOK {
		// The spool holds every result: the target gets them all.
		if err := env.mirror.finish(ctx); err != nil {
			fmt.Fprintf(env.stdio.Err, "lambdafan: %v\nThe results are in %s; %s\n", err, env.outPath, env.resumeHint())
			status, outputOK = max(status, ExitFailed), false
		}
		env.mirror = nil
	}
	if env.journal != nil {
		var err error
		if outputOK && (env.resume == nil || !env.resume.unresolved()) {
			err = env.journal.remove()
			if err == nil && env.target != nil {
				err = os.Remove(env.outPath) // uploaded: the spool is done
			}
		} else {
			err = env.journal.close()
		}
		if err != nil {
			fmt.Fprintf(env.stdio.Err, "lambdafan: journal: %v\n", err)
			status = max(status, ExitFailed)
		}
		env.journal = nil
	}
	report := summary.Report(time.Now())
	if !env.opts.quiet {
		report.WriteText(env.stdio.Err)
		env.view.writeText(env.stdio.Err)
		if env.resume != nil {
			fmt.Fprintf(env.stdio.Err, "%d requests skipped: already finished in %s\n", env.resume.skipped, env.opts.resume)
		}
	}
	if n := env.ids.repeated(); n > 0 {
		fmt.Fprintf(env.stdio.Err, "lambdafan: warning: %d ids appear on more than one input line; each request still has its own result: match results to requests by \"line\", not by \"id\"\n", n)
	}
	if report.Requests == 0 && (env.resume == nil || env.resume.skipped == 0) {
		fmt.Fprintf(env.stdio.Err, "lambdafan: warning: %s holds no requests\n", env.inputName())
	}
	if env.opts.summaryJSON != "" {
		if err := env.writeSummary(ctx, newSummaryDocument(&report, env.view.lambda())); err != nil {
			fmt.Fprintf(env.stdio.Err, "lambdafan: %v\n", err)
			status = max(status, ExitFailed)
		}
	}
	if err := env.writeReport(ctx); err != nil {
		fmt.Fprintf(env.stdio.Err, "lambdafan: %v\n", err)
		status = max(status, ExitFailed)
	}
	if status == ExitOK && report.Failed() {
		status = ExitFailed
	}
	return status
}

// reportOutputFailure says what happened to the results the output could
// not take, and returns the exit status.
func (env *invokeEnv) reportOutputFailure(wo writeOutcome) int {
	name := "standard output"
	if env.opts.output != "" && env.opts.output != "-" || env.opts.resume != "" {
		name = env.outputName()
	}
	w := env.stdio.Err
	fmt.Fprintf(w, "lambdafan: cannot write results to %s after %d results: %v; no invocation was started after that\n", name, wo.written, wo.err)
	if wo.partially {
		fmt.Fprintf(w, "lambdafan: the last line %s received is incomplete; that result is in full below\n", name)
	}
	if wo.spilled > 0 {
		fmt.Fprintf(w, "lambdafan: the other %d results (those of the invocations then in flight, and of the requests read but not sent) are in %s\n", wo.spilled, wo.spillPath)
	}
	if env.journal == nil {
		fmt.Fprintln(w, "lambdafan: to be able to finish a run that stops early, write its results to a file (-o FILE) and use --resume FILE")
	}
	if wo.lost > 0 {
		fmt.Fprintf(w, "lambdafan: %d results could not be saved anywhere: %v\n", wo.lost, wo.spillErr)
	}
	if errors.Is(wo.err, syscall.EPIPE) {
		return ExitBrokenPipe
	}
	return ExitFailed
}

// source is where a request came from in the input.
type source struct {
	seq, line int
	numericID bool          // the request's id was a JSON number
	journaled *journalBatch // the journal record of the request; nil if none
}

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

func (t *sourceTable) get(index int) source {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[index]
}

func (t *sourceTable) take(index int) source {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[index]
	delete(t.m, index)
	return s
}

// requests adapts the decoded input to the client: valid requests are
// passed on (their input positions noted in the returned table); bad lines,
// and in a resumed run the requests already finished or lost, get their
// result written directly. It stops when intake is done.
func (env *invokeEnv) requests(intake context.Context, queue *readAhead, out *resultWriter, summary *progress.Summary) (iter.Seq[lambdafan.Request], *sourceTable) {
	sources := &sourceTable{m: map[int]source{}}
	seq := func(yield func(lambdafan.Request) bool) {
		index := 0
		for {
			it, ok := queue.next(intake)
			if !ok || !out.waitTurn(intake, it.Seq) {
				return
			}
			if !env.opts.shard.owns(it.Line) {
				out.skip(it.Seq) // another shard's
				continue
			}
			env.ids.add(it.Request.ID, it.NumericID)
			if env.resume != nil {
				switch env.resume.action(it.Line) {
				case resumeSkip:
					out.skip(it.Seq)
					continue
				case resumeLost:
					env.writeDirect(out, summary, &it, jsonl.ErrLost)
					continue
				}
			}
			if it.Err != nil {
				env.writeDirect(out, summary, &it, it.Err)
				continue
			}
			src := source{seq: it.Seq, line: it.Line, numericID: it.NumericID}
			if env.journal != nil && it.Request.InvocationType != lambdafan.DryRun {
				// DryRun never runs the function: nothing to record.
				src.journaled = env.journal.add(it.Line)
			}
			sources.put(index, src)
			req := it.Request
			if env.payloads != nil {
				req.PayloadWriter = env.payloads.writerFor(index, it.Line, req.ID)
			}
			index++
			if !yield(req) {
				return
			}
		}
	}
	return seq, sources
}

// writeDirect writes the result of an input item that is not invoked: a
// bad line, or a request whose result an earlier run lost.
func (env *invokeEnv) writeDirect(out *resultWriter, summary *progress.Summary, it *jsonl.Item, err error) {
	r := lambdafan.Result{Index: -1, ID: it.Request.ID, Err: err, End: time.Now()}
	if it.Err == nil {
		r.FunctionName = it.Request.FunctionName
		r.InvocationType = it.Request.InvocationType
		if r.InvocationType == "" {
			r.InvocationType = lambdafan.RequestResponse
		}
	}
	summary.Add(&r)
	env.view.add(&r, it.Line)
	out.write(it.Seq, jsonl.Record{Line: it.Line, NumericID: it.NumericID, Result: &r})
}

// writeSummary writes --summary-json: to S3 as one object, or to a local
// file atomically.
func (env *invokeEnv) writeSummary(ctx context.Context, d summaryDocument) error {
	if err := writeDocument(ctx, func() store.Store { return env.storeFor(ctx) }, env.opts.summaryJSON, d.write); err != nil {
		return fmt.Errorf("cannot write summary: %w", err)
	}
	return nil
}

// outputName is the file the run writes its results to.
func (env *invokeEnv) outputName() string {
	if env.opts.resume != "" {
		return env.opts.resume
	}
	return env.opts.output
}

func (env *invokeEnv) inputName() string {
	if env.opts.input == "-" {
		return "standard input"
	}
	return env.opts.input
}

// resumeHint says how to finish a run that stopped early.
func (env *invokeEnv) resumeHint() string {
	out := env.outputName()
	if out == "" || out == "-" {
		return "to be able to finish a run, write its results to a file (-o FILE) and rerun with --resume FILE"
	}
	return fmt.Sprintf("finish the run with: lambdafan invoke --resume %s [same flags] %s", out, env.opts.input)
}
