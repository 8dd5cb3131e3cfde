package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/gctune"
)

// invokeOptions are the flags of `lambdafan invoke`.
type invokeOptions struct {
	input       string
	output      string
	resume      string
	summaryJSON string
	report      string
	cost        costFlags
	ordered     bool
	quiet       bool
	progress    string

	decodeFlags
	payloadDir string

	region        string
	profile       string
	endpointURL   string
	fips          bool
	dualStack     bool
	allowInsecure bool

	concurrency    int
	minConcurrency int
	rate           float64
	timeout        time.Duration
	grace          time.Duration
	maxTime        time.Duration
	maxAttempts    int
	maxBackoff     time.Duration
	retryUnsafe    bool

	local     bool
	functions string

	shardFlag string
	shard     shard

	journalDir string

	sfn sfnOptions // --via stepfunctions (sfnflags.go)
}

func parseInvokeFlags(args []string, stderr io.Writer, getenv func(string) string) (*invokeOptions, error) {
	o := &invokeOptions{}
	fs := newFlagSet("invoke", invokeUsage, stderr)
	fs.StringVar(&o.output, "o", "", "write results to `FILE` instead of standard output")
	fs.StringVar(&o.output, "output", "", "same as -o")
	fs.StringVar(&o.resume, "resume", "", "finish an interrupted run: skip the requests with a final result in `FILE` and append the others' results to it")
	fs.StringVar(&o.summaryJSON, "summary-json", "", "also write the run summary as JSON to `FILE`")
	fs.StringVar(&o.report, "report", "", "also write an HTML report of the run's results to `FILE` (see lambdafan help report)")
	o.cost.register(fs)
	fs.BoolVar(&o.ordered, "ordered", false, "write results in input order (default: as they complete)")
	fs.BoolVar(&o.quiet, "q", false, "print no progress and no summary")
	fs.BoolVar(&o.quiet, "quiet", false, "same as -q")
	fs.StringVar(&o.progress, "progress", "auto", "progress line on standard error: auto (when it is a terminal), always, never, or plain (a new line every 5 s, without control characters: for CI logs)")

	o.decodeFlags.add(fs, "invoke")
	fs.StringVar(&o.payloadDir, "payload-dir", "", "write each response payload to a file of its own in `DIR` (line-LINE[-ID].payload) instead of the result line, which then gives payload_file, payload_size and payload_sha256; streamed payloads go to their file as they arrive")

	fs.StringVar(&o.region, "region", "", "default `REGION` for requests that name none (default: AWS_REGION or the profile's)")
	fs.StringVar(&o.profile, "profile", "", "shared config `PROFILE` for credentials and region (default: AWS_PROFILE or default)")
	fs.StringVar(&o.endpointURL, "endpoint-url", "", "send requests to `URL` instead of the Lambda endpoints (default: AWS_ENDPOINT_URL_LAMBDA)")
	fs.BoolVar(&o.fips, "fips", false, "use FIPS endpoints")
	fs.BoolVar(&o.dualStack, "dualstack", false, "use dual-stack (IPv6) endpoints")
	fs.BoolVar(&o.allowInsecure, "allow-insecure-endpoint", false, "allow a plain-http --endpoint-url that is not on loopback")

	fs.IntVar(&o.concurrency, "concurrency", lambdafan.DefaultConcurrency, "maximum invocations in flight")
	fs.IntVar(&o.concurrency, "c", lambdafan.DefaultConcurrency, "same as --concurrency")
	fs.IntVar(&o.minConcurrency, "min-concurrency", 1, "the lowest the in-flight limit goes when Lambda throttles")
	fs.Float64Var(&o.rate, "rate", 0, "start at most `N` invocations per second (0: no cap)")
	fs.DurationVar(&o.timeout, "timeout", lambdafan.DefaultAttemptTimeout, "maximum time of one HTTP attempt")
	fs.DurationVar(&o.grace, "grace", 30*time.Second, "after an interrupt, how long invocations in flight may take before they are aborted")
	fs.DurationVar(&o.maxTime, "max-time", 0, "maximum time of one invocation across retries (0: no limit)")
	fs.IntVar(&o.maxAttempts, "max-attempts", lambdafan.DefaultMaxAttempts, "maximum HTTP attempts per invocation (1: no retries)")
	fs.DurationVar(&o.maxBackoff, "max-backoff", lambdafan.DefaultMaxBackoff, "longest wait before a retry, also when Lambda's Retry-After asks for more")
	fs.BoolVar(&o.retryUnsafe, "retry-unsafe", false, "also retry failures after which the function may have run (may execute it twice); with --resume, also invoke again the requests whose outcome is unknown")

	fs.StringVar(&o.shardFlag, "shard", "", "invoke only shard `K/N` of the input: the lines with (line-1) mod N = K (K from 0); auto/N takes K from JOB_COMPLETION_INDEX (Kubernetes) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch); {shard} in -o, --resume and --summary-json becomes K")
	fs.StringVar(&o.journalDir, "journal-dir", defaultJournalDir(getenv), "where results bound for S3 or a .gz file are spooled, with their crash journal, until uploaded (`DIR`)")
	fs.BoolVar(&o.local, "local", false, "invoke the built-in local emulator instead of AWS (no account needed)")
	fs.StringVar(&o.functions, "functions", "", "with --local: serve the functions defined in `FILE` (YAML) instead of the built-ins")
	addSFNFlags(fs, &o.sfn)

	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch fs.NArg() {
	case 0:
		o.input = "-"
	case 1:
		o.input = fs.Arg(0)
	default:
		return nil, usagef("invoke takes one input file, got %d arguments: %q (flags go before the file)", fs.NArg(), fs.Args())
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := o.checkVia(set); err != nil {
		return nil, err
	}
	var err error
	if o.shard, err = parseShard(o.shardFlag, getenv); err != nil {
		return nil, err
	}
	o.output, o.resume, o.summaryJSON = o.shard.expand(o.output), o.shard.expand(o.resume), o.shard.expand(o.summaryJSON)
	o.report = o.shard.expand(o.report)
	o.payloadDir = o.shard.expand(o.payloadDir)
	return o, nil
}

func (o *invokeOptions) validate() error {
	switch {
	case o.concurrency < 1:
		return usagef("--concurrency must be at least 1, got %d", o.concurrency)
	case o.timeout <= 0:
		return usagef("--timeout must be positive, got %v", o.timeout)
	case o.minConcurrency < 1 || o.minConcurrency > o.concurrency:
		return usagef("--min-concurrency must be between 1 and --concurrency (%d), got %d", o.concurrency, o.minConcurrency)
	case o.rate < 0:
		return usagef("--rate must not be negative, got %v", o.rate)
	case o.resume != "" && o.output != "" && o.output != o.resume:
		return usagef("--resume appends to its file; drop -o or give it the same file")
	case o.grace < 0:
		return usagef("--grace must not be negative, got %v", o.grace)
	case o.maxTime < 0:
		return usagef("--max-time must not be negative, got %v", o.maxTime)
	case o.maxAttempts < 1:
		return usagef("--max-attempts must be at least 1, got %d", o.maxAttempts)
	case o.maxBackoff <= 0:
		return usagef("--max-backoff must be positive, got %v", o.maxBackoff)
	case o.functions != "" && !o.local:
		return usagef("--functions goes with --local (to serve a functions file on its own, use lambdafan serve --functions)")
	case o.local && o.endpointURL != "":
		return usagef("--local and --endpoint-url are exclusive: --local starts its own endpoint")
	case o.local && o.profile != "":
		return usagef("--local uses the emulator's credentials; drop --profile")
	}
	if err := o.decodeFlags.validate(); err != nil {
		return err
	}
	switch o.progress {
	case "auto", "always", "never", "plain":
	default:
		return usagef("--progress %q: use auto, always, never or plain", o.progress)
	}
	return nil
}

// gcTuning is how invoke runs collect garbage (unless GOGC is set). A run
// with small payloads has a live heap of a few MB, so collecting less often
// costs little memory and saves CPU: measured on 100,000 invocations, 8–12 %
// less CPU at 400 % than at 100 % for a peak RSS of 45 MB instead of 26 MB
// (docs/BENCHMARKS.md). With large payloads the live heap is tens of MB and
// 400 % would make it hundreds: the percentage then falls so that the heap
// stays near 64 MB, and to 50 % beyond that.
func gcTuning() gctune.Tuning {
	return gctune.Tuning{Target: 64 << 20, MinPercent: 50, MaxPercent: 400}
}

// runInvoke implements `lambdafan invoke`.
func runInvoke(ctx context.Context, args []string, stdio Stdio, signals <-chan os.Signal) int {
	opts, err := parseInvokeFlags(args, stdio.Err, osGetenv)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	if opts.sfn.via == viaStepFunctions {
		return runInvokeSFN(ctx, opts, stdio, signals)
	}
	if _, set := os.LookupEnv("GOGC"); !set {
		defer gctune.Start(gcTuning())()
	}
	stopProfiles, err := startProfiles(osGetenv)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	status := invoke(ctx, opts, stdio, signals)
	if err := stopProfiles(); err != nil {
		fmt.Fprintf(stdio.Err, "lambdafan: %v\n", err)
	}
	return status
}

func invoke(ctx context.Context, opts *invokeOptions, stdio Stdio, signals <-chan os.Signal) int {
	env, err := setUp(ctx, opts, stdio)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	defer env.close()
	return env.run(ctx, signals)
}
