package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
	"github.com/lambdafan/lambdafan/internal/sfnrun"
	"github.com/lambdafan/lambdafan/internal/store"
)

// runInvokeSFN implements invoke --via stepfunctions: it checks and
// uploads the requests, creates or updates the state machine, starts the
// execution, follows it, and collects its results.
func runInvokeSFN(ctx context.Context, opts *invokeOptions, stdio Stdio, signals <-chan os.Signal) int {
	env, err := newSFNEnv(ctx, opts.profile, opts.region, opts.sfn.pollInterval, stdio)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	out := outputOptions{output: opts.output, summaryJSON: opts.summaryJSON, quiet: opts.quiet}
	if opts.output != "" && opts.output != "-" && opts.output == opts.input {
		return exitStatus(usagef("output %s is the input file: the run would overwrite its own requests; write the results to another file", opts.output), stdio.Err)
	}
	if err := out.check(); err != nil {
		return exitStatus(err, stdio.Err)
	}
	awsCfg := env.aws
	awsCfg.Region = env.region
	client, err := lambdafan.New(lambdafan.Config{AWS: awsCfg})
	if err != nil {
		return exitStatus(usagef("%v", err), stdio.Err)
	}
	run, err := env.upload(ctx, opts, client, signals)
	if errors.Is(err, errInterruptedBeforeStart) {
		fmt.Fprintf(stdio.Err, "\nlambdafan: %v\n", err)
		return ExitInterrupted
	}
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	if run.info.Items == 0 {
		// Nothing to invoke: the results are the refusals, already made.
		if !opts.quiet {
			fmt.Fprintf(stdio.Err, "lambdafan: no request of %s can be invoked; no execution started\n", opts.input)
		}
		return env.writeResults(ctx, run.input, sfnrun.Progress{Status: sfnrun.ExecutionSucceeded}, nil, "", out)
	}
	spec, err := env.spec(ctx, opts, run)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	def, err := spec.Definition()
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	if !opts.quiet {
		fmt.Fprintf(stdio.Err, "lambdafan: %d requests uploaded to s3://%s/%s (%d refused, their results kept for the results file)\n",
			run.info.Items, run.info.Bucket, run.input.ItemsKey, run.info.Lines-run.info.Items)
		fmt.Fprintf(stdio.Err, "lambdafan: estimated cost of the run:\n  %s\n", strings.ReplaceAll(sfnrun.EstimateCost(run.info.Items, spec, run.longest).String(), "\n", "\n  "))
	}
	target, ensured, err := env.runner.EnsureStateMachine(ctx, opts.sfn.stateMachine, opts.sfn.roleARN, def)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	input, err := json.Marshal(run.input)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	if signaled(signals) {
		fmt.Fprintf(stdio.Err, "\nlambdafan: %v\n", errInterruptedBeforeStart)
		return ExitInterrupted
	}
	arn, err := env.runner.Start(ctx, target, run.name, input)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	if !opts.quiet {
		fmt.Fprintf(stdio.Err, "lambdafan: state machine %s %s (%s children); started execution\n", opts.sfn.stateMachine, ensured, spec.ChildType)
	}
	fmt.Fprintln(stdio.Err, arn) // the handle of the run, also with -q
	hint := collectHint(arn, opts.output)
	if opts.sfn.detach {
		fmt.Fprintf(stdio.Err, "lambdafan: detached; the execution runs on. %s\n", hint)
		return ExitOK
	}
	p, interrupted, err := env.watch(ctx, arn, run.info.Items, opts.progress, opts.quiet, signals)
	switch {
	case interrupted:
		fmt.Fprintf(stdio.Err, "\nlambdafan: detached; the execution runs on (lambdafan stop %s stops it). %s\n", arn, hint)
		return ExitInterrupted
	case err != nil:
		fmt.Fprintf(stdio.Err, "lambdafan: following the execution: %v\n%s\n", err, hint)
		return ExitFailed
	}
	return env.collectEnded(ctx, arn, p, out)
}

// errInterruptedBeforeStart ends a run interrupted while its requests
// were being checked and uploaded: nothing was started.
var errInterruptedBeforeStart = errors.New("interrupted before the execution started: nothing was invoked")

// signaled reports whether an interrupt has come, without waiting for
// one. Until the execution starts, an interrupt ends the run; after, it
// detaches from it.
func signaled(signals <-chan os.Signal) bool {
	select {
	case <-signals:
		return true
	default:
		return false
	}
}

// collectHint says how to collect a run's results later.
func collectHint(arn, output string) string {
	if output == "" || output == "-" {
		output = "RESULTS"
	}
	return fmt.Sprintf("Collect its results with: lambdafan collect -o %s %s", output, arn)
}

// uploaded is a run whose requests are in the work directory.
type uploaded struct {
	name  string // the execution's name, which names the run's folder
	input sfnrun.RunInput
	info  *sfnrun.RunInfo // &input.Run
	// clientContexts counts the items with a client context; sync the
	// distinct functions invoked RequestResponse (for the child type).
	clientContexts int
	sync           map[[2]string]bool
	longest        time.Duration // the longest function timeout found, see spec
}

// maxTimeoutLookups bounds the distinct functions whose timeouts --sfn-child-type
// auto looks up; a run over more gets STANDARD children.
const maxTimeoutLookups = 100

// upload reads the requests and checks each as a local run would: the
// valid ones are written to the work directory as Map items, the others'
// results to the work directory's local results, which collect copies
// into the results file.
func (e *sfnEnv) upload(ctx context.Context, opts *invokeOptions, client *lambdafan.Client, signals <-chan os.Signal) (*uploaded, error) {
	inLoc, err := store.Parse(opts.input)
	if err != nil {
		return nil, usagef("input: %v", err)
	}
	if !inLoc.IsS3() && !inLoc.IsStdio() {
		if _, err := checkInputFile(opts.input); err != nil {
			return nil, err
		}
	}
	in, err := e.files.Open(ctx, inLoc)
	if err != nil {
		return nil, usagef("cannot read input: %v", pathErr(err))
	}
	defer in.Close()

	name := runName(time.Now())
	work := opts.sfn.work
	runDir := work.Key() + "runs/" + name + "/"
	u := &uploaded{name: name, sync: map[[2]string]bool{}}
	u.input = sfnrun.RunInput{ItemsKey: runDir + "items.jsonl", Run: sfnrun.RunInfo{
		Version:       sfnrun.RunInfoVersion,
		Input:         opts.input,
		Region:        e.region,
		Bucket:        work.Bucket(),
		ResultsPrefix: work.Key() + "results",
		MaxAttempts:   opts.maxAttempts,
	}}
	u.info = &u.input.Run
	items, err := e.create(ctx, work.Bucket(), u.input.ItemsKey)
	if err != nil {
		return nil, usagef("--work-dir: %v", err)
	}
	defer items.Abort(context.WithoutCancel(ctx))
	refusedKey := runDir + "refused.jsonl"
	refused, err := e.create(ctx, work.Bucket(), refusedKey)
	if err != nil {
		return nil, usagef("--work-dir: %v", err)
	}
	defer refused.Abort(context.WithoutCancel(ctx))

	ids := newIDTracker()
	var buf []byte
	decoded, readErr := jsonl.Decode(in, opts.decodeOptions())
	for it := range decoded {
		if signaled(signals) {
			return nil, errInterruptedBeforeStart
		}
		u.info.Lines++
		ids.add(it.Request.ID, it.NumericID)
		item, err := u.check(ctx, client, &it, e.region)
		if err == nil {
			u.info.Items++
			if _, err := items.Write(append(item, '\n')); err != nil {
				return nil, fmt.Errorf("upload items: %w", err)
			}
			continue
		}
		r := lambdafan.Result{Index: -1, ID: it.Request.ID, Err: err}
		if it.Err == nil {
			r.FunctionName, r.InvocationType = it.Request.FunctionName, orRequestResponse(it.Request.InvocationType)
		}
		buf = jsonl.AppendRecord(buf[:0], jsonl.Record{Line: it.Line, NumericID: it.NumericID, Result: &r})
		if _, err := refused.Write(buf); err != nil {
			return nil, fmt.Errorf("upload refused requests' results: %w", err)
		}
	}
	if err := readErr(); err != nil {
		return nil, usagef("input: %v (nothing was started)", err)
	}
	if n := ids.repeated(); n > 0 {
		fmt.Fprintf(e.stdio.Err, "lambdafan: warning: %d ids appear on more than one input line; each request still has its own result: match results to requests by \"line\", not by \"id\"\n", n)
	}
	if u.info.Lines == 0 {
		fmt.Fprintf(e.stdio.Err, "lambdafan: warning: %s holds no requests\n", opts.input)
	}
	if err := items.Close(); err != nil {
		return nil, fmt.Errorf("upload items: %w", err)
	}
	if u.info.Items < u.info.Lines {
		if err := refused.Close(); err != nil {
			return nil, fmt.Errorf("upload refused requests' results: %w", err)
		}
		u.info.LocalResultsKey = refusedKey
	}
	return u, nil
}

// check checks the request of it as a local run would, and as Step
// Functions needs it (in the state machine's region, small enough to be
// an item), and returns its item.
func (u *uploaded) check(ctx context.Context, client *lambdafan.Client, it *jsonl.Item, region string) ([]byte, error) {
	if it.Err != nil {
		return nil, it.Err
	}
	r, err := client.Resolve(ctx, it.Request)
	if err != nil {
		return nil, err
	}
	if r.Region != region {
		return nil, &lambdafan.RequestError{Field: "region", Err: fmt.Errorf(
			"%s: the state machine runs in %s and invokes functions there; run the requests of %s separately (--region %s)", r.Region, region, r.Region, r.Region)}
	}
	item, err := sfnrun.NewItem(it.Line, it.Request.ID, it.NumericID, r)
	if err != nil {
		return nil, err
	}
	if r.ClientContext != "" {
		u.clientContexts++
	}
	if r.InvocationType == lambdafan.RequestResponse && len(u.sync) <= maxTimeoutLookups {
		u.sync[[2]string{r.FunctionName, r.Qualifier}] = true
	}
	return item, nil
}

// orRequestResponse returns t, or RequestResponse for the default "".
func orRequestResponse(t lambdafan.InvocationType) lambdafan.InvocationType {
	if t == "" {
		return lambdafan.RequestResponse
	}
	return t
}

// create starts writing the object at key in bucket.
func (e *sfnEnv) create(ctx context.Context, bucket, key string) (store.Object, error) {
	loc, err := store.Parse("s3://" + bucket + "/" + key)
	if err != nil {
		return nil, err
	}
	return e.files.Create(ctx, loc)
}

// runName names a run, and its execution: the time, and random bytes so
// that two runs started in the same second differ. Execution names take
// letters, digits, - and _.
func runName(now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return "lambdafan-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// spec returns the state machine of the run: the flags, the client
// contexts the items carry, and the children's type.
func (e *sfnEnv) spec(ctx context.Context, opts *invokeOptions, u *uploaded) (sfnrun.Spec, error) {
	spec := sfnrun.Spec{
		Bucket:         u.info.Bucket,
		ResultsPrefix:  u.info.ResultsPrefix,
		MaxConcurrency: opts.concurrency,
		TaskTimeout:    opts.timeout,
		MaxAttempts:    opts.maxAttempts,
		MaxBackoff:     opts.maxBackoff,
	}
	switch u.clientContexts {
	case 0:
	case u.info.Items:
		spec.ClientContext = sfnrun.AllClientContext
	default:
		spec.ClientContext = sfnrun.SomeClientContext
	}
	switch opts.sfn.childType {
	case "standard":
		spec.ChildType = sfnrun.Standard
	case "express":
		spec.ChildType = sfnrun.Express
		fmt.Fprintf(e.stdio.Err, "lambdafan: EXPRESS children, as asked: an invocation still running after %v is cut off and its result is unknown\n", sfnrun.ExpressMaxDuration)
	default:
		why := e.chooseChildType(ctx, u, &spec)
		if !opts.quiet {
			fmt.Fprintf(e.stdio.Err, "lambdafan: %s\n", why)
		}
	}
	if u.longest == 0 {
		// Not looked up: an invocation may last as long as an attempt may.
		u.longest = min(opts.timeout, sfnrun.ExpressMaxDuration)
	}
	return spec, nil
}

// chooseChildType sets spec.ChildType from the timeouts of the functions
// invoked synchronously, and says why.
func (e *sfnEnv) chooseChildType(ctx context.Context, u *uploaded, spec *sfnrun.Spec) string {
	spec.ChildType = sfnrun.Standard
	if len(u.sync) > maxTimeoutLookups {
		return fmt.Sprintf("STANDARD children: more than %d functions are invoked synchronously; their timeouts were not looked up", maxTimeoutLookups)
	}
	api := lambda.NewFromConfig(e.aws)
	var longest time.Duration
	for fq := range u.sync {
		d, err := sfnrun.FunctionTimeout(ctx, api, fq[0], fq[1])
		if err != nil {
			return fmt.Sprintf("STANDARD children: cannot tell the functions' timeouts (%v; the caller needs lambda:GetFunctionConfiguration)", err)
		}
		longest = max(longest, d)
	}
	u.longest = longest
	if longest == 0 {
		u.longest = sfnrun.QuickCall
	}
	var why string
	spec.ChildType, why = sfnrun.ChooseChildType(longest, *spec)
	return why
}
