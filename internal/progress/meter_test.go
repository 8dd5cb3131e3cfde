package progress

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lambdafan/lambdafan"
)

func TestMeter_Line(t *testing.T) {
	start := time.Unix(1000, 0)
	s := NewSummary(start)
	for range 30 {
		s.Add(&lambdafan.Result{Attempts: 1})
	}
	s.Add(&lambdafan.Result{Attempts: 1, Err: &lambdafan.InvokeError{StatusCode: 500}})
	m := NewMeter(nil, s, start, MeterConfig{Extra: func() string { return "limit 7" }})
	if got := m.Line(start.Add(10 * time.Second)); got != "31 done  3/s  1 errors  elapsed 10s  limit 7" {
		t.Errorf("line without total: %q", got)
	}
	m.SetTotal(62)
	if got := m.Line(start.Add(10 * time.Second)); got != "31/62 (50%)  3/s  1 errors  ETA 10s  elapsed 10s  limit 7" {
		t.Errorf("line with total: %q", got)
	}
}

// meterAt30of62 returns a meter of a run that started at start and has 31
// of 62 requests done, one failed, with an extra status.
func meterAt30of62(w io.Writer, start time.Time, cfg MeterConfig) *Meter {
	s := NewSummary(start)
	for range 30 {
		s.Add(&lambdafan.Result{Attempts: 1})
	}
	s.Add(&lambdafan.Result{Attempts: 1, Err: &lambdafan.InvokeError{StatusCode: 500}})
	cfg.Extra = func() string { return "limit 7  throttled 0" }
	m := NewMeter(w, s, start, cfg)
	m.SetTotal(62)
	return m
}

// TestMeter_FitLine: a narrow terminal gets the most important fields
// that fit, never a line that wraps.
func TestMeter_FitLine(t *testing.T) {
	start := time.Unix(1000, 0)
	m := meterAt30of62(nil, start, MeterConfig{})
	now := start.Add(10 * time.Second)
	full := "31/62 (50%)  3/s  1 errors  ETA 10s  elapsed 10s  limit 7  throttled 0"
	tests := []struct {
		width int
		want  string
	}{
		{0, full},
		{200, full},
		{len(full), full},
		{len(full) - 1, "31/62 (50%)  3/s  1 errors  ETA 10s  limit 7  throttled 0"},
		{50, "31/62 (50%)  3/s  1 errors  ETA 10s"},
		{35, "31/62 (50%)  3/s  1 errors  ETA 10s"},
		{34, "31/62 (50%)  1 errors  ETA 10s"},
		{29, "31/62 (50%)  1 errors"},
		{20, "31/62 (50%)"},
		{8, "31/62 (5"},
	}
	for _, tt := range tests {
		got := m.FitLine(now, tt.width)
		if got != tt.want {
			t.Errorf("width %d: %q, want %q", tt.width, got, tt.want)
		}
		if tt.width > 0 && len(got) > tt.width {
			t.Errorf("width %d: %d columns", tt.width, len(got))
		}
	}
}

// TestMeter_Redraw: on a terminal the meter redraws one line in place,
// fitted to the width it asks for before each redraw (the terminal may
// be resized), and erases it when stopped.
func TestMeter_Redraw(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		var width atomic.Int64
		width.Store(80)
		m := meterAt30of62(&out, time.Now(), MeterConfig{Interval: time.Second, Width: func() int { return int(width.Load()) }})
		m.Start()
		time.Sleep(time.Second)
		synctest.Wait()
		width.Store(30)
		time.Sleep(time.Second)
		synctest.Wait()
		m.Stop()
		want := "\r31/62 (50%)  31/s  1 errors  ETA 1s  elapsed 1s  limit 7  throttled 0\x1b[K" +
			"\r31/62 (50%)  1 errors  ETA 2s\x1b[K" + // 29 columns: one fewer than the width
			"\r\x1b[K"
		if out.String() != want {
			t.Errorf("wrote %q\nwant  %q", out.String(), want)
		}
	})
}

// TestMeter_Plain: for logs, a plain line every DefaultPlainInterval, with
// no carriage return or escape sequence, whatever its length, and nothing
// to erase at the end.
func TestMeter_Plain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		m := meterAt30of62(&out, time.Now(), MeterConfig{Plain: true, Width: func() int { return 10 }})
		m.Start()
		time.Sleep(2*DefaultPlainInterval + DefaultPlainInterval/2)
		m.Stop()
		want := "31/62 (50%)  6/s  1 errors  ETA 5s  elapsed 5s  limit 7  throttled 0\n" +
			"31/62 (50%)  3/s  1 errors  ETA 10s  elapsed 10s  limit 7  throttled 0\n"
		if out.String() != want {
			t.Errorf("wrote %q\nwant  %q", out.String(), want)
		}
	})
}

func TestCountNonBlankLines(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	tests := []struct {
		content string
		want    int64
	}{
		{"", 0},
		{"{}\n{}\n", 2},
		{"\n  \n{}\r\n\n{}", 2},
		{"  [ {}, {} ]", -1},
	}
	for i, tt := range tests {
		got, err := countNonBlankLines(write(strings.Repeat("f", i+1), tt.content), nil, nil)
		if err != nil || got != tt.want {
			t.Errorf("%q: %d, %v; want %d", tt.content, got, err, tt.want)
		}
	}
	// One shard's share: lines 2 and 4 of five (blank line 3 not counted).
	odd := func(line int) bool { return line%2 == 0 }
	if got, err := countNonBlankLines(write("shard", "{}\n{}\n\n{}\n{}"), odd, nil); err != nil || got != 2 {
		t.Errorf("shard of the lines: %d, %v; want 2", got, err)
	}
}
