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
// input and output streams, and the local emulator when --local.
type invokeEnv struct {
	opts   *invokeOptions
	stdio  Stdio
	client *lambdafan.Client

	input      io.Reader
	inputFile  *os.File // nil for standard input
	output     io.Writer
	outputFile *os.File     // nil for standard output
	resume     *resumeState // nil unless --resume
	closers    []func() error
}

// setUp opens the input and output, builds the client, and checks the
// configuration (region, credentials) so that problems surface before any
// invocation.
func setUp(ctx context.Context, opts *invokeOptions, stdio Stdio) (_ *invokeEnv, err error) {
	env := &invokeEnv{opts: opts, stdio: stdio, input: stdio.In, output: stdio.Out}
	defer func() {
		if err != nil {
			env.close()
		}
	}()
	if opts.input == "-" && !opts.quiet {
		if f, ok := stdio.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprintln(stdio.Err, "lambdafan: reading requests from the terminal, one JSON object per line; end with Ctrl-D (or name an input file)")
		}
	}
	if opts.input != "-" {
		f, err := os.Open(opts.input)
		if err != nil {
			return nil, usagef("cannot read input: %v", err)
		}
		env.input, env.inputFile = f, f
		env.closers = append(env.closers, f.Close)
	}
	switch {
	case opts.resume != "":
		if env.resume, err = loadResume(opts.resume); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(opts.resume, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, usagef("cannot write output: %v", err)
		}
		env.output, env.outputFile = f, f
		if !opts.quiet {
			fmt.Fprintf(stdio.Err, "lambdafan: %s\n", env.resume.describe(opts.resume))
		}
	case opts.output != "" && opts.output != "-":
		f, err := os.Create(opts.output)
		if err != nil {
			return nil, usagef("cannot write output: %v", err)
		}
		env.output, env.outputFile = f, f
	}

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
		RetryUnsafe:           opts.retryUnsafe,
	}
	if opts.local {
		local, err := startLocal(opts.functions)
		if err != nil {
			return nil, err
		}
		env.closers = append(env.closers, local.close)
		cfg.AWS = &aws.Config{
			Region:      cmp.Or(opts.region, localRegion),
			Credentials: credentials.NewStaticCredentialsProvider(local.accessKeyID, local.secretAccessKey, ""),
		}
		cfg.EndpointURL = local.url
		if !opts.quiet {
			fmt.Fprintf(stdio.Err, "lambdafan: using the local emulator at %s (functions: %s)\n", local.url, local.functionList())
		}
	} else if err := loadAWSConfig(ctx, opts, &cfg); err != nil {
		return nil, err
	}

	env.client, err = lambdafan.New(ctx, cfg)
	if err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	return env, nil
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
		return usagef("no usable AWS credentials: %v\n%s", err, credentialsHint)
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
	if env.outputFile != nil { // normally closed, and checked, by run
		errs = append(errs, env.outputFile.Close())
		env.outputFile = nil
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(env.stdio.Err, "lambdafan: %v\n", err)
	}
}
