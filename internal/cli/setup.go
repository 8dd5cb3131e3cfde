package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"golang.org/x/term"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/store"
)

// invokeEnv is everything a run needs, set up and ready: the client, the
// input and output streams, the journal, and the local emulator when
// --local.
type invokeEnv struct {
	opts   *invokeOptions
	stdio  Stdio
	client *lambdafan.Client

	input      io.Reader
	inputFile  *os.File // nil for standard input
	output     io.Writer
	outputFile *os.File     // nil for standard output
	resume     *resumeState // nil unless --resume
	journal    *journal     // nil when the output is standard output
	// outputDevice: -o names a device or a pipe, not a file.
	outputDevice bool
	// outPath is the local file the results are written to ("" for
	// standard output): -o or --resume, or for results that go to S3 or
	// to a .gz file, the spool that mirror copies there.
	outPath string
	// target is where the results go when they go through a spool.
	target *store.Location
	mirror *mirror
	// inputLoc is where the requests come from.
	inputLoc store.Location
	// files reaches local files, the standard streams and S3 (its S3
	// client is made on first use, see storeFor).
	files    store.Store
	s3Loaded bool
	ids      *idTracker
	// view sees the results for the cold starts, the cost and --report.
	view *runView
	// payloads takes the response payloads: to files with --payload-dir,
	// else to pooled buffers.
	payloads payloadSink
	closers  []func() error
}

// setUp checks everything that can be checked — the command line, the
// files, the configuration, the credentials — before it touches any
// file, then opens the input and output, so that a mistake ends the run
// with every file as it was.
func setUp(ctx context.Context, opts *invokeOptions, stdio Stdio) (_ *invokeEnv, err error) {
	env := &invokeEnv{opts: opts, stdio: stdio, input: stdio.In, output: stdio.Out, ids: newIDTracker()}
	if env.view, err = newRunView(opts, env.totalLimit); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	if err := env.checkFiles(ctx); err != nil {
		return nil, err
	}
	if err := env.newClient(ctx); err != nil {
		return nil, err
	}
	if err := env.openFiles(ctx); err != nil {
		return nil, err
	}
	return env, nil
}

// checkFiles checks the input, the output (or the results to resume) and
// the summary file without changing any of them (but for a resumed run
// whose results are in S3 or a .gz file, whose spool it fills from them).
func (env *invokeEnv) checkFiles(ctx context.Context) error {
	opts := env.opts
	var err error
	if env.inputLoc, err = store.Parse(opts.input); err != nil {
		return usagef("input: %v", err)
	}
	var input os.FileInfo
	switch {
	case env.inputLoc.IsS3():
		if _, err := env.storeFor(ctx).Stat(ctx, env.inputLoc); err != nil {
			return usagef("cannot read input: %v", err)
		}
	case !env.inputLoc.IsStdio():
		if input, err = checkInputFile(opts.input); err != nil {
			return err
		}
	}
	output := env.outputName()
	if output == "-" {
		output = ""
	}
	if output != "" && output == opts.summaryJSON {
		return usagef("--summary-json and the results go to the same file %s", output)
	}
	if output != "" && output == opts.input {
		return usagef("output %s is the input file: the run would overwrite its own requests; write the results to another file", output)
	}
	if err := env.resolveOutput(ctx, output); err != nil {
		return err
	}
	output = env.outPath
	for _, f := range []struct{ path, what string }{
		{output, "output"},
		{journalPath(output), "the output's journal"},
		{sentMarksPath(output), "the output's sent marks"},
		{opts.summaryJSON, "--summary-json"},
	} {
		if output == "" && f.what != "--summary-json" {
			continue
		}
		if err := checkNotInput(input, f.path, f.what); err != nil {
			return err
		}
	}
	switch {
	case opts.resume != "":
		if isDevice(output) {
			return usagef("--resume %s is not a file: --resume takes the results file of an earlier run", opts.resume)
		}
		if err := checkWritableDir(output, "results"); err != nil {
			return err
		}
		st, err := loadResume(output, opts.retryUnsafe)
		if err != nil {
			return err
		}
		st.name = opts.resume
		env.resume = st
	case output != "" && isDevice(output):
		// A device or a pipe (-o /dev/null): written like standard output,
		// with no journal beside it, and not resumable.
		env.outputDevice = true
	case output != "":
		if err := checkOverwritable(output); err != nil {
			return err
		}
		if _, err := os.Stat(journalPath(output)); err == nil {
			return usagef("a run writing %s did not finish (%s exists): finish it with --resume %s, or delete %s to start over",
				env.outputName(), journalPath(output), env.outputName(), journalPath(output))
		}
		if err := checkWritableDir(output, "output"); err != nil {
			return err
		}
	}
	if opts.payloadDir != "" {
		if err := checkPayloadDir(opts.payloadDir, opts.resume != "", opts.shard.owns); err != nil {
			return err
		}
	}
	if err := env.checkSummaryFile(ctx); err != nil {
		return err
	}
	return env.checkReportFile(ctx)
}

// resolveOutput works out where the results are written: the output
// itself, or for an S3 or .gz output, a spool in the journal directory
// (see mirror.go), checking that output may be written and, for a resumed
// run, filling the spool from it when this machine has none.
func (env *invokeEnv) resolveOutput(ctx context.Context, output string) error {
	if output == "" {
		return nil
	}
	loc, err := store.Parse(output)
	if err != nil {
		return usagef("output: %v", err)
	}
	if !isMirrored(loc) {
		env.outPath = output
		return nil
	}
	dir := env.opts.journalDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return usagef("--journal-dir: %v", pathErr(err))
	}
	env.target, env.outPath = &loc, spoolPath(dir, loc)
	if env.opts.resume != "" {
		return prepareMirroredResume(ctx, env.storeFor(ctx), loc, env.outPath, env.opts.retryUnsafe)
	}
	return checkMirrorTarget(ctx, env.storeFor(ctx), loc)
}

// checkSummaryFile checks that --summary-json can be written.
func (env *invokeEnv) checkSummaryFile(ctx context.Context) error {
	path := env.opts.summaryJSON
	if path == "" {
		return nil
	}
	loc, err := store.Parse(path)
	if err != nil {
		return usagef("--summary-json: %v", err)
	}
	return env.checkDocumentTarget(ctx, "--summary-json", path, loc)
}

// checkDocumentTarget checks that the document flag names (path, parsed as
// loc) can be written: an S3 location the credentials may see, or a local
// file that is not a directory, in a directory that can be written.
func (env *invokeEnv) checkDocumentTarget(ctx context.Context, flag, path string, loc store.Location) error {
	if loc.IsS3() {
		if _, err := env.storeFor(ctx).Stat(ctx, loc); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return usagef("cannot write %s: %v", flag, err)
		}
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usagef("%s %s is a directory", flag, path)
	}
	return checkWritableDir(path, flag)
}

// storeFor returns the store of the run, with an S3 client from the AWS
// configuration (the profile, the environment; AWS_ENDPOINT_URL_S3) made
// on first use. With --local too, S3 locations are real ones (or an
// S3-compatible server named by AWS_ENDPOINT_URL_S3).
func (env *invokeEnv) storeFor(ctx context.Context) store.Store {
	if !env.s3Loaded {
		env.s3Loaded = true
		env.files = newStore(ctx, env.opts.profile, env.stdio)
	}
	return env.files
}

// newStore returns a store for the standard streams of stdio, local files,
// and S3 with the AWS configuration of profile ("" for the default
// chain). Without a usable configuration, S3 locations are refused when
// used.
func newStore(ctx context.Context, profile string, stdio Stdio) store.Store {
	st := store.Store{Stdin: stdio.In, Stdout: stdio.Out}
	var loadOpts []func(*config.LoadOptions) error
	if profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(profile))
	}
	if cfg, err := config.LoadDefaultConfig(ctx, loadOpts...); err == nil {
		st.S3 = store.NewS3Client(cfg)
	}
	return st
}

// newClient builds the client: against the local emulator with --local,
// else from the AWS configuration, whose region and credentials it checks.
func (env *invokeEnv) newClient(ctx context.Context) error {
	opts := env.opts
	cfg := lambdafan.Config{
		EndpointURL:           opts.endpointURL,
		UseFIPS:               opts.fips,
		UseDualStack:          opts.dualStack,
		AllowInsecureEndpoint: opts.allowInsecure,
		Concurrency:           opts.concurrency,
		MinConcurrency:        opts.minConcurrency,
		Rate:                  opts.rate,
		AttemptTimeout:        opts.timeout,
		MaxTime:               opts.maxTime,
		MaxAttempts:           opts.maxAttempts,
		MaxBackoff:            opts.maxBackoff,
		RetryUnsafe:           opts.retryUnsafe,
	}
	if opts.local {
		local, err := startLocal(opts.functions)
		if err != nil {
			return err
		}
		env.closers = append(env.closers, local.close)
		cfg.AWS = aws.Config{
			Region:      cmp.Or(opts.region, localRegion),
			Credentials: credentials.NewStaticCredentialsProvider(local.accessKeyID, local.secretAccessKey, ""),
		}
		cfg.EndpointURL = local.url
		if !opts.quiet {
			fmt.Fprintf(env.stdio.Err, "lambdafan: using the local emulator at %s (functions: %s)\n", local.url, local.functionList())
		}
	} else if err := loadAWSConfig(ctx, opts, &cfg); err != nil {
		return err
	}
	client, err := lambdafan.New(cfg)
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	env.client = client
	return nil
}

// openFiles opens the input, and the output with its journal: a resumed
// run's files are rewritten to what it continues from; a new run's output
// is created or emptied. Results that go to S3 or a .gz file start their
// mirror.
func (env *invokeEnv) openFiles(ctx context.Context) error {
	if err := env.openInput(ctx); err != nil {
		return err
	}
	if err := env.openOutput(); err != nil {
		return err
	}
	if env.opts.payloadDir != "" {
		if err := os.MkdirAll(env.opts.payloadDir, 0o777); err != nil {
			return usagef("--payload-dir: %v", pathErr(err))
		}
		dir := newPayloadDir(env.opts.payloadDir)
		env.payloads = dir
		env.closers = append(env.closers, dir.close)
	} else {
		env.payloads = newPayloadBuffers()
	}
	if env.target == nil {
		return nil
	}
	m, err := startMirror(ctx, env.storeFor(ctx), *env.target, env.outPath)
	if err != nil {
		if env.resume == nil {
			// Nothing was written: leave no journal that would make the
			// next run refuse to start.
			env.journal.remove()
			env.journal = nil
			os.Remove(env.outPath)
		}
		return usagef("%v", err)
	}
	env.mirror = m
	return nil
}

// openInput opens the requests: a local file (which the progress line can
// count), standard input, or a stream from S3 or a .gz file.
func (env *invokeEnv) openInput(ctx context.Context) error {
	opts := env.opts
	switch {
	case env.inputLoc.IsStdio():
		if !opts.quiet {
			if f, ok := env.stdio.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				fmt.Fprintln(env.stdio.Err, "lambdafan: reading requests from the terminal, one JSON object per line; end with Ctrl-D (or name an input file)")
			}
		}
	case env.inputLoc.IsS3() || env.inputLoc.Gzip():
		r, err := env.storeFor(ctx).Open(ctx, env.inputLoc)
		if err != nil {
			return usagef("cannot read input: %v", err)
		}
		env.input = r
		env.closers = append(env.closers, r.Close)
	default:
		f, err := os.Open(opts.input)
		if err != nil {
			return usagef("cannot read input: %v", pathErr(err))
		}
		env.input, env.inputFile = f, f
		env.closers = append(env.closers, f.Close)
	}
	return nil
}

// openOutput opens the local file the results are written to (outPath).
func (env *invokeEnv) openOutput() error {
	opts := env.opts
	output := env.outPath
	var err error
	switch {
	case opts.resume != "":
		if env.journal, err = env.resume.apply(); err != nil {
			return err
		}
		if !opts.quiet {
			fmt.Fprintf(env.stdio.Err, "lambdafan: %s\n", env.resume.describe())
		}
	case env.outputDevice:
		f, err := os.OpenFile(output, os.O_WRONLY, 0)
		if err != nil {
			return usagef("cannot write output: %v", pathErr(err))
		}
		env.output = f
		env.closers = append(env.closers, f.Close)
		return nil
	case output != "":
		if env.journal, err = writeJournal(output, nil); err != nil {
			return err
		}
		f, err := os.Create(output)
		if err != nil {
			return usagef("cannot write output: %v", pathErr(err))
		}
		env.output, env.outputFile = f, f
		return nil
	default:
		return nil
	}
	f, err := os.OpenFile(output, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return usagef("cannot write output: %v", pathErr(err))
	}
	env.output, env.outputFile = f, f
	return nil
}

// localRegion is the default region of --local runs.
const localRegion = "us-east-1"

// loadAWSConfig loads the SDK's configuration (credentials chain, region,
// CA bundle, endpoint override) and checks that a region and credentials
// are available.
func loadAWSConfig(ctx context.Context, opts *invokeOptions, cfg *lambdafan.Config) error {
	var loadOpts []func(*config.LoadOptions) error
	if opts.profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(opts.profile))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return usagef("cannot load the AWS configuration: %v", err)
	}
	awsCfg.Region = cmp.Or(opts.region, awsCfg.Region)
	cfg.AWS = awsCfg
	if awsCfg.Region == "" {
		return usagef("no default region: pass --region, set AWS_REGION, or set region in your AWS profile (requests may also name their own region)")
	}
	if awsCfg.Credentials == nil {
		return usagef("no AWS credentials found: %s", credentialsHint)
	}
	// Fetch credentials once now so a missing or broken credential source
	// stops the run before the first invocation, not once per request.
	checkCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := awsCfg.Credentials.Retrieve(checkCtx); err != nil {
		// The provider's own message may quote secrets (a credential_process
		// helper's output): CredentialsError says what failed without it.
		return usagef("no usable AWS credentials: %v\n%s", &lambdafan.CredentialsError{Err: err}, credentialsHint)
	}
	return nil
}

const credentialsHint = "set AWS_PROFILE (or --profile) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, " +
	"run 'aws sso login' for SSO profiles, or try --local to use the built-in emulator"

func (env *invokeEnv) close() {
	var errs []error
	for i := len(env.closers) - 1; i >= 0; i-- {
		errs = append(errs, env.closers[i]())
	}
	env.closers = nil
	if env.mirror != nil { // normally finished by run
		close(env.mirror.stop)
		env.mirror.done.Wait()
		env.mirror.obj.Abort(context.Background())
		env.mirror.src.Close()
		env.mirror = nil
	}
	if env.journal != nil { // normally settled by run
		errs = append(errs, env.journal.close())
		env.journal = nil
	}
	if env.outputFile != nil { // normally closed, and checked, by run
		errs = append(errs, env.outputFile.Close())
		env.outputFile = nil
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(env.stdio.Err, "lambdafan: %v\n", err)
	}
}
