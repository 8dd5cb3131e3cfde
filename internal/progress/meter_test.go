package progress

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	m := NewMeter(nil, s, start, time.Second, func() string { return "limit 7" })
	if got := m.Line(start.Add(10 * time.Second)); got != "31 done  3/s  1 errors  elapsed 10s  limit 7" {
		t.Errorf("line without total: %q", got)
	}
	m.SetTotal(62)
	if got := m.Line(start.Add(10 * time.Second)); got != "31/62 (50%)  3/s  1 errors  ETA 10s  elapsed 10s  limit 7" {
		t.Errorf("line with total: %q", got)
	}
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
