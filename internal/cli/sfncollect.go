package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
	"github.com/lambdafan/lambdafan/internal/progress"
	"github.com/lambdafan/lambdafan/internal/sfnrun"
	"github.com/lambdafan/lambdafan/internal/store"
)

// outputOptions are where the results of a run on Step Functions go.
type outputOptions struct {
	output      string // "" or "-": standard output
	summaryJSON string
	quiet       bool
}

// check checks, before anything starts, that the results and the summary
// can be written where asked, and that a local results file would not
// overwrite anything but results.
func (o outputOptions) check() error {
	for _, f := range []struct{ path, what string }{{o.output, "output"}, {o.summaryJSON, "--summary-json"}} {
		loc, err := store.Parse(f.path)
		if f.path == "" || f.path == "-" {
			continue
		}
		if err != nil {
			return usagef("%s: %v", f.what, err)
		}
		if loc.IsS3() || isDevice(f.path) {
			continue
		}
		if f.what == "output" {
			if err := checkOverwritable(f.path); err != nil {
				return err
			}
		}
		if err := checkWritableDir(f.path, f.what); err != nil {
			return err
		}
	}
	return nil
}

// collectEnded collects the results of the execution arn, which has ended
// as p says, and returns the exit status: that of the results, or
// ExitFailed when the execution did not succeed.
func (e *sfnEnv) collectEnded(ctx context.Context, arn string, p sfnrun.Progress, out outputOptions) int {
	in, err := sfnrun.ParseRunInput(p.Input)
	if err != nil {
		return exitStatus(fmt.Errorf("%s: %w", arn, err), e.stdio.Err)
	}
	manifest, reason, err := e.findManifest(ctx, &in.Run, p)
	if err != nil {
		return exitStatus(err, e.stdio.Err)
	}
	status := e.writeResults(ctx, *in, p, manifest, reason, out)
	if p.Status != sfnrun.ExecutionSucceeded {
		fmt.Fprintf(e.stdio.Err, "lambdafan: the execution ended %s%s\n", p.Status, errorText(p))
		status = max(status, ExitFailed)
	}
	return status
}

// errorText renders an ended execution's error and cause, if any.
func errorText(p sfnrun.Progress) string {
	switch {
	case p.Error != "" && p.Cause != "":
		return ": " + p.Error + ": " + p.Cause
	case p.Error != "" || p.Cause != "":
		return ": " + p.Error + p.Cause
	}
	return ""
}

// findManifest returns the manifest of the execution's Map Run: where a
// succeeded execution's output says it is, or else where the ResultWriter
// writes it, if it did. Without one, reason says why.
func (e *sfnEnv) findManifest(ctx context.Context, ri *sfnrun.RunInfo, p sfnrun.Progress) (*sfnrun.Manifest, string, error) {
	bucket, key := ri.Bucket, ""
	switch {
	case p.Status == sfnrun.ExecutionSucceeded && p.Output != "":
		_, d, err := sfnrun.ParseOutput(p.Output)
		if err != nil {
			return nil, "", err
		}
		bucket, key = d.Bucket, d.Key
	case p.MapRunARN != "":
		key = ri.ManifestKey(p.MapRunARN)
	default:
		return nil, fmt.Sprintf("the execution ended %s before its map run started", p.Status), nil
	}
	r, err := sfnrun.StoreOpener(e.files)(ctx, bucket, key)
	if errors.Is(err, fs.ErrNotExist) && p.Status != sfnrun.ExecutionSucceeded {
		return nil, fmt.Sprintf("the execution ended %s before its map run's results were written", p.Status), nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("map run results: %w", err)
	}
	defer r.Close()
	m, err := sfnrun.ParseManifest(r)
	if err != nil {
		return nil, "", fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return m, "", nil
}

// writeResults writes a run's results — the refused requests' kept at
// upload, then those of the Map Run — to out.output, one per request,
// prints the summary and returns the exit status they call for.
func (e *sfnEnv) writeResults(ctx context.Context, in sfnrun.RunInput, p sfnrun.Progress, m *sfnrun.Manifest, reason string, out outputOptions) int {
	ri := &in.Run
	start, stop := p.Start, p.Stop
	if start.IsZero() || stop.Before(start) {
		start, stop = time.Time{}, time.Time{} // no duration to report
	}
	summary := progress.NewSummary(start)
	w, err := e.openResults(ctx, out.output)
	if err != nil {
		return exitStatus(err, e.stdio.Err)
	}
	defer w.abort()
	if ri.LocalResultsKey != "" {
		if err := e.copyRefused(ctx, ri, w, summary); err != nil {
			return exitStatus(err, e.stdio.Err)
		}
	}
	var stats sfnrun.CollectStats
	if ri.Items > 0 {
		c := sfnrun.Collector{Open: sfnrun.StoreOpener(e.files), Converter: sfnrun.Converter{Region: ri.Region, MaxAttempts: ri.MaxAttempts}}
		var buf []byte
		stats, err = c.Collect(ctx, m, ri.Bucket, in.ItemsKey, reason, func(k sfnrun.ItemKey, r lambdafan.Result) error {
			summary.Add(&r)
			buf = jsonl.AppendRecord(buf[:0], jsonl.Record{Line: k.Line, NumericID: k.NumericID(), Result: &r})
			_, err := w.Write(buf)
			return err
		})
		if err != nil {
			return exitStatus(fmt.Errorf("collect results: %w", err), e.stdio.Err)
		}
	}
	if err := w.finish(); err != nil {
		return exitStatus(fmt.Errorf("cannot write results: %w", err), e.stdio.Err)
	}
	report := summary.Report(stop)
	if !out.quiet {
		report.WriteText(e.stdio.Err)
		if stats.Missing > 0 {
			fmt.Fprintf(e.stdio.Err, "lambdafan: %d requests have no result in the map run's results: reported as unknown (they may have run)\n", stats.Missing)
		}
		if n := stats.Duplicates + stats.Unidentified + stats.Stray; n > 0 {
			fmt.Fprintf(e.stdio.Err, "lambdafan: %d records of the map run's results were set aside: %d repeated, %d naming no request, %d for lines that were not uploaded\n",
				n, stats.Duplicates, stats.Unidentified, stats.Stray)
		}
	}
	status := ExitOK
	if out.summaryJSON != "" {
		if err := e.writeSummaryJSON(ctx, out.summaryJSON, &report); err != nil {
			fmt.Fprintf(e.stdio.Err, "lambdafan: %v\n", err)
			status = ExitFailed
		}
	}
	if report.Failed() {
		status = ExitFailed
	}
	return status
}

// copyRefused copies the results of the requests refused at upload into
// the results, and counts them.
func (e *sfnEnv) copyRefused(ctx context.Context, ri *sfnrun.RunInfo, w io.Writer, summary *progress.Summary) error {
	r, err := sfnrun.StoreOpener(e.files)(ctx, ri.Bucket, ri.LocalResultsKey)
	if err != nil {
		return fmt.Errorf("refused requests' results: %w", err)
	}
	defer r.Close()
	lines, readErr := nonBlankLines(r)
	for _, line := range lines {
		var rec summaryRecord
		outcome, ok := lambdafanOutcome(&rec, line)
		if !ok {
			return fmt.Errorf("refused requests' results: s3://%s/%s holds a line that is not a result", ri.Bucket, ri.LocalResultsKey)
		}
		summary.AddEntry(rec.entry(outcome))
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	if err := readErr(); err != nil {
		return fmt.Errorf("refused requests' results: %w", err)
	}
	return nil
}

// writeSummaryJSON writes --summary-json: to S3 as one object, or to a
// local file atomically.
func (e *sfnEnv) writeSummaryJSON(ctx context.Context, path string, r *progress.Report) error {
	if err := writeDocument(ctx, func() store.Store { return e.files }, path, r.WriteJSON); err != nil {
		return fmt.Errorf("cannot write summary: %w", err)
	}
	return nil
}

// resultsOut is a results file being written: standard output, a local
// file written beside its final name and renamed over it when finished
// (so that a failed collect leaves the earlier file whole), or an S3 or
// .gz object.
type resultsOut struct {
	*bufio.Writer
	finish func() error
	abort  func()
}

// openResults starts writing the results to name.
func (e *sfnEnv) openResults(ctx context.Context, name string) (*resultsOut, error) {
	if name == "" {
		name = "-"
	}
	loc, err := store.Parse(name)
	if err != nil {
		return nil, usagef("output: %v", err)
	}
	if !loc.IsS3() && !loc.IsStdio() && !loc.Gzip() && !isDevice(name) {
		f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
		if err != nil {
			return nil, usagef("cannot write output: %v", pathErr(err))
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		return &resultsOut{
			Writer: bw,
			finish: func() error {
				if err := errors.Join(bw.Flush(), f.Sync(), f.Close()); err != nil {
					return err
				}
				if err := os.Rename(f.Name(), name); err != nil {
					return err
				}
				return syncDir(filepath.Dir(name))
			},
			abort: func() { f.Close(); os.Remove(f.Name()) },
		}, nil
	}
	obj, err := e.files.Create(context.WithoutCancel(ctx), loc)
	if err != nil {
		return nil, usagef("cannot write output: %v", err)
	}
	bw := bufio.NewWriterSize(obj, 1<<20)
	done := false
	return &resultsOut{
		Writer: bw,
		finish: func() error {
			done = true
			return errors.Join(bw.Flush(), obj.Close())
		},
		abort: func() {
			if !done {
				obj.Abort(context.WithoutCancel(ctx))
			}
		},
	}, nil
}
