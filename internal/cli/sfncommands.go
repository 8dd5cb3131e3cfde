package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lambdafan/lambdafan/internal/sfnrun"
)

// executionFlags are the flags of collect and stop.
type executionFlags struct {
	arn, profile, region string
	output, summaryJSON  string
	quiet                bool
	progress             string
	pollInterval         time.Duration
}

func parseExecutionFlags(cmd, usage string, withOutput bool, args []string, stderr io.Writer) (*executionFlags, error) {
	o := &executionFlags{}
	fs := newFlagSet(cmd, usage, stderr)
	fs.StringVar(&o.profile, "profile", "", "shared config `PROFILE` for credentials (default: AWS_PROFILE or default)")
	fs.StringVar(&o.region, "region", "", "the execution's `REGION` (default: the one in its ARN)")
	if withOutput {
		fs.StringVar(&o.output, "o", "", "write results to `FILE` instead of standard output (a local file, s3://bucket/key, .gz)")
		fs.StringVar(&o.output, "output", "", "same as -o")
		fs.StringVar(&o.summaryJSON, "summary-json", "", "also write the summary as JSON to `FILE`")
		fs.BoolVar(&o.quiet, "q", false, "print no progress and no summary")
		fs.BoolVar(&o.quiet, "quiet", false, "same as -q")
		fs.StringVar(&o.progress, "progress", "auto", "progress line on standard error while the execution runs: auto (when it is a terminal), always, never")
		fs.DurationVar(&o.pollInterval, "sfn-poll", sfnrun.DefaultPollInterval, "how often to poll the execution's progress")
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		return nil, usagef("%s takes one execution ARN (the one invoke --via stepfunctions printed), got %d arguments", cmd, fs.NArg())
	}
	o.arn = fs.Arg(0)
	if !strings.HasPrefix(o.arn, "arn:") || !strings.Contains(o.arn, ":execution:") {
		return nil, usagef("%q is not a Step Functions execution ARN (arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME)", o.arn)
	}
	if o.region == "" {
		o.region = regionOfARN(o.arn)
	}
	switch o.progress {
	case "", "auto", "always", "never":
	default:
		return nil, usagef("--progress %q: use auto, always or never", o.progress)
	}
	if withOutput && o.pollInterval <= 0 {
		return nil, usagef("--sfn-poll must be positive")
	}
	return o, nil
}

// runCollect implements `lambdafan collect`: it follows an execution
// started by invoke --via stepfunctions until it ends, then writes its
// results.
func runCollect(ctx context.Context, args []string, stdio Stdio, signals <-chan os.Signal) int {
	o, err := parseExecutionFlags("collect", collectUsage, true, args, stdio.Err)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	out := outputOptions{output: o.output, summaryJSON: o.summaryJSON, quiet: o.quiet}
	if err := out.check(); err != nil {
		return exitStatus(err, stdio.Err)
	}
	env, err := newSFNEnv(ctx, o.profile, o.region, o.pollInterval, stdio)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	p, err := env.runner.Poll(ctx, o.arn, "")
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	if !p.Done() {
		total := 0
		if in, err := sfnrun.ParseRunInput(p.Input); err == nil {
			total = in.Run.Items
		}
		if !o.quiet {
			fmt.Fprintf(stdio.Err, "lambdafan: the execution is %s; following it until it ends (Ctrl-C leaves it running)\n", p.Status)
		}
		var interrupted bool
		p, interrupted, err = env.watch(ctx, o.arn, total, o.progress, o.quiet, signals)
		switch {
		case interrupted:
			fmt.Fprintf(stdio.Err, "\nlambdafan: detached; the execution runs on. %s\n", collectHint(o.arn, o.output))
			return ExitInterrupted
		case err != nil:
			return exitStatus(fmt.Errorf("following the execution: %w", err), stdio.Err)
		}
	}
	return env.collectEnded(ctx, o.arn, p, out)
}

// runStop implements `lambdafan stop`: it stops an execution started by
// invoke --via stepfunctions.
func runStop(ctx context.Context, args []string, stdio Stdio) int {
	o, err := parseExecutionFlags("stop", stopUsage, false, args, stdio.Err)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	env, err := newSFNEnv(ctx, o.profile, o.region, 0, stdio)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	if err := env.runner.Stop(ctx, o.arn, "stopped with lambdafan stop"); err != nil {
		return exitStatus(err, stdio.Err)
	}
	fmt.Fprintf(stdio.Err, "lambdafan: stopped %s: no child starts any more; those running are aborted, and an invocation they had sent may still run to its end.\n%s\n",
		o.arn, collectHint(o.arn, ""))
	return ExitOK
}

const collectUsage = `Usage: lambdafan collect [flags] EXECUTION_ARN

Follows an execution that lambdafan invoke --via stepfunctions started
(with --detach, or left by Ctrl-C) until it ends, showing the progress line,
then writes its results: one JSON line per request of the input, as a local
run writes them, so that lambdafan summary and other tools read them alike.
Requests the run refused before starting get their results too. Collect
again as often as needed, also after the execution failed or was stopped:
requests whose children never started are not_sent, those whose outcome
is not known are unknown (they may have run).

Examples:
  lambdafan collect -o results.jsonl arn:aws:states:eu-west-1:123456789012:execution:lambdafan:lambdafan-20261130T101500Z-1a2b3c4d
  lambdafan collect -o s3://my-bucket/run1/results.jsonl.gz --summary-json summary.json ARN

Flags:
`

const stopUsage = `Usage: lambdafan stop [flags] EXECUTION_ARN

Stops an execution that lambdafan invoke --via stepfunctions started: no
child execution starts any more, and those running are aborted (an
invocation they already sent may still run to its end). lambdafan collect
then writes the results of what finished.

Flags:
`
