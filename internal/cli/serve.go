package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/lambdafan/lambdafan/emulator"
)

// serveOptions are the flags of `lambdafan serve`.
type serveOptions struct {
	addr               string
	functions          string
	accessKeyID        string
	secretAccessKey    string
	noAuth             bool
	accountConcurrency int
	// accountConcurrencySet: the flag was given, and wins over the file.
	accountConcurrencySet bool
	logs                  bool
	noFreeze              bool
	idleTimeout           time.Duration
	grace                 time.Duration
	faults                emulator.Faults
}

func parseServeFlags(args []string, stderr io.Writer) (*serveOptions, error) {
	o := &serveOptions{}
	fs := newFlagSet("serve", serveUsage, stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9001", "listen on `HOST:PORT` (port 0 picks a free one)")
	fs.StringVar(&o.functions, "functions", "", "serve the functions defined in `FILE` (YAML, see docs/FUNCTIONS.md) instead of the built-ins")
	fs.StringVar(&o.accessKeyID, "access-key-id", emulator.DefaultAccessKeyID, "the access key ID requests must be signed with")
	fs.StringVar(&o.secretAccessKey, "secret-access-key", emulator.DefaultSecretAccessKey, "the secret key requests must be signed with")
	fs.BoolVar(&o.noAuth, "no-auth", false, "accept requests without checking their SigV4 signature")
	fs.IntVar(&o.accountConcurrency, "account-concurrency", emulator.DefaultAccountConcurrency, "the account's concurrent executions quota (overrides the functions file's)")
	fs.BoolVar(&o.logs, "logs", false, "print every invocation's log (START, output, END, REPORT) on standard error, as it is written")
	fs.BoolVar(&o.noFreeze, "no-freeze", false, "keep command functions' processes running between invocations (by default they are frozen, as in Lambda)")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", emulator.DefaultIdleTimeout, "shut down a command function's execution environment after it waited this long for an invocation (0: never)")
	fs.DurationVar(&o.grace, "grace", 30*time.Second, "on interrupt, how long to let running invocations and queued events finish")
	fs.Float64Var(&o.faults.Throttle, "fault-throttle", 0, "fraction of calls answered 429 TooManyRequestsException")
	fs.Float64Var(&o.faults.ThrottleRetryAfter, "fault-throttle-retry-after", 0, "fraction of calls answered 429 with a Retry-After header")
	fs.Float64Var(&o.faults.ServerError, "fault-500", 0, "fraction of calls answered 500 ServiceException")
	fs.Float64Var(&o.faults.BadGateway, "fault-502", 0, "fraction of calls answered 502 (before the function runs)")
	fs.Float64Var(&o.faults.Unavailable, "fault-503", 0, "fraction of calls answered 503")
	fs.Float64Var(&o.faults.ResetBefore, "fault-reset-before", 0, "fraction of calls whose connection is dropped before the function runs")
	fs.Float64Var(&o.faults.ResetAfter, "fault-reset-after", 0, "fraction of calls whose connection is dropped after the function ran")
	fs.Float64Var(&o.faults.Slow, "fault-slow", 0, "fraction of calls answered only after --fault-slow-delay")
	fs.DurationVar(&o.faults.SlowDelay, "fault-slow-delay", 10*time.Second, "how long --fault-slow holds an answer")
	fs.DurationVar(&o.faults.Latency, "latency", 0, "delay added to every call")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("serve takes no arguments, got %q", fs.Args())
	}
	if o.idleTimeout < 0 {
		return nil, usagef("--idle-timeout %v is negative", o.idleTimeout)
	}
	fs.Visit(func(f *flag.Flag) {
		o.accountConcurrencySet = o.accountConcurrencySet || f.Name == "account-concurrency"
	})
	return o, nil
}

// config is the emulator configuration the flags ask for, serving fns.
func (o *serveOptions) config(fns []emulator.Function) emulator.Config {
	cfg := emulator.Config{
		Functions:          fns,
		AccessKeyID:        o.accessKeyID,
		SecretAccessKey:    o.secretAccessKey,
		NoAuth:             o.noAuth,
		AccountConcurrency: o.accountConcurrency,
		Faults:             o.faults,
		NoFreeze:           o.noFreeze,
		IdleTimeout:        o.idleTimeout,
	}
	if o.idleTimeout == 0 {
		cfg.IdleTimeout = -1 // never
	}
	return cfg
}

// runServe implements `lambdafan serve`.
func runServe(ctx context.Context, args []string, stdio Stdio, signals <-chan os.Signal) error {
	opts, err := parseServeFlags(args, stdio.Err)
	if err != nil {
		return err
	}
	fns, accountConcurrency, cleanup, err := emulatorFunctions(opts.functions)
	if err != nil {
		return err
	}
	defer cleanup()
	if accountConcurrency != 0 && !opts.accountConcurrencySet {
		opts.accountConcurrency = accountConcurrency
	}
	cfg := opts.config(fns)
	if opts.logs {
		cfg.FunctionLog = stdio.Err
	}
	emu, err := emulator.New(cfg)
	if err != nil {
		return usagef("%v", err)
	}
	defer emu.Close()
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return usagef("cannot listen on %s: %v", opts.addr, err)
	}
	fmt.Fprintf(stdio.Err, "lambdafan: emulator listening on http://%s\n  functions: %s\n", ln.Addr(), strings.Join(emu.Functions(), ", "))
	if opts.noAuth {
		fmt.Fprintln(stdio.Err, "  signatures: not checked (--no-auth)")
	} else {
		fmt.Fprintf(stdio.Err, "  sign requests with AWS_ACCESS_KEY_ID=%s and the configured secret key, any region\n", opts.accessKeyID)
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		fmt.Fprintln(stdio.Err, "  warning: listening beyond loopback; anyone who can reach this address can run these functions")
	}

	srv := serveEmulator(emu, ln)
	select {
	case err := <-srv.stopped():
		return fmt.Errorf("emulator stopped: %w", err)
	case <-signals:
	case <-ctx.Done():
	}
	fmt.Fprintf(stdio.Err, "lambdafan: shutting down: finishing running invocations and queued events (up to %v; interrupt again to stop now)\n", opts.grace)
	graceCtx, cancel := context.WithTimeout(context.Background(), opts.grace)
	defer cancel()
	go func() {
		select {
		case <-signals:
			cancel()
		case <-graceCtx.Done():
		}
	}()
	err = srv.shutdown(graceCtx)
	st := emu.Stats()
	fmt.Fprintf(stdio.Err, "lambdafan: stopped after %d requests, %d executions (%d function errors, %d throttles); %d queued events dropped\n",
		st.Requests, st.Executions, st.FunctionErrors, st.Throttles, st.EventsDropped)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return nil // in-flight work was failed explicitly and counted above
	}
	return err
}
