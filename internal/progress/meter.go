package progress

import (
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Counter reports how many requests are done, and how many of those
// failed, for a Meter. It must be safe for concurrent use. *Summary is
// one; a run that happens elsewhere (on Step Functions) reports the
// counts it polls.
type Counter interface {
	Done() (done, failed int64)
}

// Default intervals between two draws of a Meter.
const (
	// DefaultRedrawInterval is how often a meter redraws its line in
	// place on a terminal.
	DefaultRedrawInterval = 250 * time.Millisecond
	// DefaultPlainInterval is how often a plain meter prints a line: a
	// log gets a dozen lines a minute, not hundreds.
	DefaultPlainInterval = 5 * time.Second
)

// MeterConfig configures a [Meter]. The zero value redraws one line in
// place every DefaultRedrawInterval, however long it is.
type MeterConfig struct {
	// Plain prints each line as a new line, with no carriage return and
	// no escape sequence, for logs (CI) rather than terminals; its lines
	// are not cut to a width.
	Plain bool
	// Interval is the time between two draws. 0 means
	// DefaultRedrawInterval, or DefaultPlainInterval when Plain.
	Interval time.Duration
	// Width returns the width of the terminal in columns, asked before
	// every redraw so that a resized terminal is followed. The line is
	// fitted to it by dropping its least important fields (see
	// [Meter.FitLine]). Nil, or a result of 0 or less, means no limit.
	Width func() int
	// Extra, when not nil, returns more status to show (e.g. the
	// concurrency limit); it is among the first fields dropped for width.
	Extra func() string
}

// Meter shows a run's progress while it goes on: done/total (when the
// total is known), rate, errors, ETA, elapsed time, and any extra status
// the caller supplies. On a terminal it redraws one line in place, fitted
// to the terminal's width; plain, it prints a line every few seconds.
// Its methods are safe for concurrent use.
type Meter struct {
	w       io.Writer
	summary Counter
	start   time.Time
	cfg     MeterConfig
	total   atomic.Int64 // -1 while unknown

	stop chan struct{}
	done sync.WaitGroup
}

// NewMeter returns a meter of s's progress since start that draws to w as
// cfg says, once started.
func NewMeter(w io.Writer, s Counter, start time.Time, cfg MeterConfig) *Meter {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultRedrawInterval
		if cfg.Plain {
			cfg.Interval = DefaultPlainInterval
		}
	}
	m := &Meter{w: w, summary: s, start: start, cfg: cfg, stop: make(chan struct{})}
	m.total.Store(-1)
	return m
}

// SetTotal tells the meter how many requests there are.
func (m *Meter) SetTotal(n int64) { m.total.Store(n) }

// Start begins drawing, in a goroutine that Stop waits for.
func (m *Meter) Start() {
	m.done.Go(func() {
		t := time.NewTicker(m.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				io.WriteString(m.w, m.draw(now))
			case <-m.stop:
				if !m.cfg.Plain {
					io.WriteString(m.w, "\r\x1b[K") // erase the line
				}
				return
			}
		}
	})
}

// draw returns what to write for the state as of now: a new line when
// plain, else the line fitted to the terminal, over the previous one.
func (m *Meter) draw(now time.Time) string {
	if m.cfg.Plain {
		return m.Line(now) + "\n"
	}
	width := 0
	if m.cfg.Width != nil {
		// One column fewer: a line that fills the last column makes some
		// terminals wrap, and the next redraw would then start a line
		// below.
		width = m.cfg.Width() - 1
	}
	return "\r" + m.FitLine(now, width) + "\x1b[K"
}

// Stop erases the line (unless plain) and returns once the meter has
// stopped.
func (m *Meter) Stop() {
	close(m.stop)
	m.done.Wait()
}
