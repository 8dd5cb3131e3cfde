package cli

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"golang.org/x/term"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/progress"
	"github.com/lambdafan/lambdafan/internal/sfnrun"
	"github.com/lambdafan/lambdafan/internal/store"
)

// sfnEnv is what invoke --via stepfunctions, collect and stop share: the
// AWS configuration of one region and the clients made from it.
type sfnEnv struct {
	stdio  Stdio
	region string
	aws    aws.Config
	runner *sfnrun.Runner
	// files reaches local files, the standard streams and S3.
	files store.Store
}

// newSFNEnv loads the AWS configuration (profile "" for the default
// chain) for region, or the configuration's region when it is "", checks
// that credentials can be had, and makes the clients.
func newSFNEnv(ctx context.Context, profile, region string, poll time.Duration, stdio Stdio) (*sfnEnv, error) {
	var loadOpts []func(*config.LoadOptions) error
	if profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, usagef("cannot load the AWS configuration: %v", err)
	}
	cfg.Region = cmp.Or(region, cfg.Region)
	if cfg.Region == "" {
		return nil, usagef("no region: pass --region, set AWS_REGION, or set region in your AWS profile")
	}
	if cfg.Credentials == nil {
		return nil, usagef("no AWS credentials found: %s", credentialsHint)
	}
	checkCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(checkCtx); err != nil {
		return nil, usagef("no usable AWS credentials: %v\n%s", &lambdafan.CredentialsError{Err: err}, credentialsHint)
	}
	return &sfnEnv{
		stdio:  stdio,
		region: cfg.Region,
		aws:    cfg,
		runner: &sfnrun.Runner{API: sfn.NewFromConfig(cfg), PollInterval: poll},
		files:  store.Store{S3: store.NewS3Client(cfg), Stdin: stdio.In, Stdout: stdio.Out},
	}, nil
}

// regionOfARN returns the region field of an ARN
// (arn:PARTITION:SERVICE:REGION:…), or "".
func regionOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

// mapCounts are the counts of the latest DescribeMapRun, for the progress
// line. It is safe for concurrent use.
type mapCounts struct {
	done, failed, running atomic.Int64
	status                atomic.Value // string
}

// Done reports the items whose children ended, and those of them that
// failed (an invocation that failed is a caught error, which ends its
// child in success: such failures show in the summary, not here).
func (c *mapCounts) Done() (done, failed int64) { return c.done.Load(), c.failed.Load() }

func (c *mapCounts) set(p sfnrun.Progress) {
	n := p.Items
	c.failed.Store(n.Failed + n.TimedOut + n.Aborted)
	c.done.Store(n.Succeeded + n.Failed + n.TimedOut + n.Aborted)
	c.running.Store(n.Running)
	c.status.Store(cmp.Or(p.MapRunStatus, "not started"))
}

func (c *mapCounts) extra() string {
	s, _ := c.status.Load().(string)
	if s == "" {
		return "execution starting"
	}
	return fmt.Sprintf("map run %s  running %d", strings.ToLower(s), c.running.Load())
}

// watch follows the execution until it ends, drawing the progress line
// (as invoke draws it) when mode asks for one and total items are
// expected (0: unknown). The first signal detaches: watch returns
// interrupted, and the execution goes on.
func (e *sfnEnv) watch(ctx context.Context, arn string, total int, mode string, quiet bool, signals <-chan os.Signal) (p sfnrun.Progress, interrupted bool, err error) {
	counts := &mapCounts{}
	var meter *progress.Meter
	if wantMeter(mode, quiet, e.stdio) {
		cfg := progress.MeterConfig{Plain: mode == "plain", Extra: counts.extra}
		if f, ok := e.stdio.Err.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			cfg.Width = terminalWidth(f)
		}
		meter = progress.NewMeter(e.stdio.Err, counts, time.Now(), cfg)
		if total > 0 {
			meter.SetTotal(int64(total))
		}
		meter.Start()
	}
	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type outcome struct {
		p   sfnrun.Progress
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		p, err := e.runner.Watch(watchCtx, arn, counts.set)
		done <- outcome{p, err}
	}()
	var out outcome
	select {
	case out = <-done:
	case <-signals:
		interrupted = true
		cancel()
		out = <-done
	}
	if meter != nil {
		meter.Stop()
	}
	if interrupted {
		return out.p, true, nil
	}
	return out.p, false, out.err
}

// wantMeter reports whether to draw the progress line: --progress always,
// or auto with standard error on a terminal.
func wantMeter(mode string, quiet bool, stdio Stdio) bool {
	if quiet || mode == "never" {
		return false
	}
	if mode == "auto" {
		f, ok := stdio.Err.(*os.File)
		return ok && term.IsTerminal(int(f.Fd()))
	}
	return true
}
