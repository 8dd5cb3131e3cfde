package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
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

// Meter redraws a one-line progress display on a terminal while a run
// goes on: done/total (when the total is known), rate, errors, ETA, and any
// extra status the caller supplies (e.g. the concurrency limit).
type Meter struct {
	w       io.Writer
	summary Counter
	start   time.Time
	every   time.Duration
	total   atomic.Int64 // -1 while unknown
	extra   func() string

	stop chan struct{}
	done sync.WaitGroup
}

// NewMeter returns a meter that prints to w every interval the counts of
// s. extra, when not nil, adds text to the line.
func NewMeter(w io.Writer, s Counter, start time.Time, interval time.Duration, extra func() string) *Meter {
	m := &Meter{w: w, summary: s, start: start, every: interval, extra: extra, stop: make(chan struct{})}
	m.total.Store(-1)
	return m
}

// SetTotal tells the meter how many requests there are.
func (m *Meter) SetTotal(n int64) { m.total.Store(n) }

// Start begins redrawing, in a goroutine that Stop waits for.
func (m *Meter) Start() {
	m.done.Go(func() {
		t := time.NewTicker(m.every)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				fmt.Fprint(m.w, "\r"+m.Line(now)+"\x1b[K")
			case <-m.stop:
				fmt.Fprint(m.w, "\r\x1b[K")
				return
			}
		}
	})
}

// Stop erases the line and returns once the meter has stopped.
func (m *Meter) Stop() {
	close(m.stop)
	m.done.Wait()
}

// Line renders the progress line as of now.
func (m *Meter) Line(now time.Time) string {
	done, failed := m.summary.Done()
	elapsed := now.Sub(m.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	var b strings.Builder
	total := m.total.Load()
	if total >= 0 {
		pct := 100.0
		if total > 0 {
			pct = 100 * float64(done) / float64(total)
		}
		fmt.Fprintf(&b, "%d/%d (%.0f%%)", done, total, pct)
	} else {
		fmt.Fprintf(&b, "%d done", done)
	}
	fmt.Fprintf(&b, "  %.0f/s  %d errors", rate, failed)
	if total >= 0 && rate > 0 && done < total {
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		fmt.Fprintf(&b, "  ETA %s", eta.Round(time.Second))
	}
	fmt.Fprintf(&b, "  elapsed %s", elapsed.Round(time.Second))
	if m.extra != nil {
		if s := m.extra(); s != "" {
			b.WriteString("  " + s)
		}
	}
	return b.String()
}

// CountLines counts the non-blank lines of the file at path for which
// keep (given the 1-based line number) is true, or all of them when keep
// is nil, in the meter's own goroutine, and sets the total from it, so a
// run over a JSON Lines file shows its size and ETA. A file that cannot be
// read, or that holds a JSON array, leaves the total unknown.
func (m *Meter) CountLines(path string, keep func(line int) bool) {
	m.done.Go(func() {
		n, err := countNonBlankLines(path, keep, m.stop)
		if err == nil && n >= 0 {
			m.SetTotal(n)
		}
	})
}

// countNonBlankLines counts the lines holding a non-whitespace byte that
// keep accepts (nil: all), or returns -1 when the file starts with '[' (a
// JSON array), or stops early when stop is closed.
func countNonBlankLines(path string, keep func(line int) bool, stop <-chan struct{}) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	line := 1
	blank, first := true, true
	count := func() {
		if !blank && (keep == nil || keep(line)) {
			n++
		}
	}
	for {
		select {
		case <-stop:
			return -1, nil
		default:
		}
		k, err := f.Read(buf)
		for _, c := range buf[:k] {
			switch c {
			case '\n':
				count()
				line++
				blank = true
			case ' ', '\t', '\r':
			default:
				if first && c == '[' {
					return -1, nil
				}
				first, blank = false, false
			}
		}
		if err == io.EOF {
			count()
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}
