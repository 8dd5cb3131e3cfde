package cli

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/lambdafan/lambdafan/internal/progress"
)

// startMeter starts the progress line when it is wanted: --progress always
// or plain, or auto with standard error on a terminal. On a terminal the
// line is fitted to its width.
func (env *invokeEnv) startMeter(summary *progress.Summary, start time.Time) *progress.Meter {
	if env.opts.quiet || env.opts.progress == "never" {
		return nil
	}
	cfg := progress.MeterConfig{Plain: env.opts.progress == "plain", Extra: env.limitStatus}
	if f, ok := env.stdio.Err.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		cfg.Width = terminalWidth(f)
	} else if env.opts.progress == "auto" {
		return nil
	}
	m := progress.NewMeter(env.stdio.Err, summary, start, cfg)
	if env.inputFile != nil {
		m.CountLines(env.opts.input, env.opts.shard.owns)
	}
	m.Start()
	return m
}

// terminalWidth returns a function that asks the terminal f how wide it
// is now, or says 0 (no limit) when it cannot tell.
func terminalWidth(f *os.File) func() int {
	return func() int {
		width, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return width
	}
}

// limitStatus renders the adaptive limits for the progress line: the
// lowest current limit and the throttles so far.
func (env *invokeEnv) limitStatus() string {
	limits := env.client.Limits()
	if len(limits) == 0 {
		return ""
	}
	lowest, throttles := limits[0].Limit, int64(0)
	for _, l := range limits {
		lowest = min(lowest, l.Limit)
		throttles += l.Throttles
	}
	return fmt.Sprintf("limit %d  throttled %d", lowest, throttles)
}
