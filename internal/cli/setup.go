package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"golang.org/x/term"

	"github.com/lambdafan/lambdafan"
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
	ids          *idTracker
	closers      []func() error
}

// setUp checks everything that can be checked — the command line, the
// files, the configuration, the credentials — before it touches any
// file, then opens the input and output, so that a mistake ends the run
// with every file as it was.
func setUp(ctx context.Context, opts *invokeOptions, stdio Stdio) (_ *invokeEnv, err error) {
	env := &invokeEnv{opts: opts, stdio: stdio, input: stdio.In, output: stdio.Out, ids: newIDTracker()}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	if err := env.checkFiles(); err != nil {
		return nil, err
	}
	if err := env.newClient(ctx); err != nil {
		return nil, err
	}
	if err := env.openFiles(); err != nil {
		return nil, err
	}
	return env, nil
}

// checkFiles checks the input, the output (or the results to resume) and
// the summary file without changing any of them.
func (env *invokeEnv) checkFiles() error {
	opts := env.opts
	var input os.FileInfo
	if opts.input != "-" {
		var err error
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
		if isDevice(opts.resume) {
			return usagef("--resume %s is not a file: --resume takes the results file of an earlier run", opts.resume)
		}
		if err := checkWritableDir(opts.resume, "results"); err != nil {
			return err
		}
		st, err := loadResume(opts.resume, opts.retryUnsafe)
		if err != nil {
			return err
		}
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
				output, journalPath(output), output, journalPath(output))
		}
		if err := checkWritableDir(output, "output"); err != nil {
			return err
		}
	}
	if opts.summaryJSON != "" {
		if fi, err := os.Stat(opts.summaryJSON); err == nil && fi.IsDir() {
			return usagef("--summary-json %s is a directory", opts.summaryJSON)
		}
		if err := checkWritableDir(opts.summaryJSON, "--summary-json"); err != nil {
			return err
		}
	}
	return nil
}

// newClient builds the client: against the local emulator with --local,
// else from the AWS configuration, whose region and credentials it checks.
func (env *invokeEnv) newClient(ctx context.Context) error {
	opts := env.opts
	cfg := lambdafan.Config{
		Region:                opts.region,
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
		cfg.AWS = &aws.Config{
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
	client, err := lambdafan.New(ctx, cfg)
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	env.client = client
	return nil
}

// openFiles opens the input, and the output with its journal: a resumed
// run's files are rewritten to what it continues from; a new run's output
// is created or emptied.
func (env *invokeEnv) openFiles() error {
	opts := env.opts
	if opts.input == "-" && !opts.quiet {
		if f, ok := env.stdio.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprintln(env.stdio.Err, "lambdafan: reading requests from the terminal, one JSON object per line; end with Ctrl-D (or name an input file)")
		}
	}
	if opts.input != "-" {
		f, err := os.Open(opts.input)
		if err != nil {
			return usagef("cannot read input: %v", pathErr(err))
		}
		env.input, env.inputFile = f, f
		env.closers = append(env.closers, f.Close)
	}
	output := env.outputName()
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
	case output != "" && output != "-":
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
	cfg.AWS = &awsCfg
	if cmp.Or(opts.region, awsCfg.Region) == "" {
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
