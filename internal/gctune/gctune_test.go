package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestTuning_Percent(t *testing.T) {
	tu := Tuning{Target: 64 << 20, MinPercent: 50, MaxPercent: 400}
	for _, tt := range []struct {
		live uint64
		want int
	}{
		{0, 400},
		{4 << 20, 400},  // 5 × 4 MB is far below the target
		{16 << 20, 300}, // 16 MB × 4 = 64 MB
		{32 << 20, 100}, // 32 MB × 2
		{48 << 20, 50},  // 64/48 − 1 = 33 %, raised to the bound
		{1 << 30, 50},   // beyond the target: never a collection loop
	} {
		if got := tu.Percent(tt.live); got != tt.want {
			t.Errorf("Percent(%d MB) = %d, want %d", tt.live>>20, got, tt.want)
		}
	}
}

// gogc reads the current percentage without changing it.
func gogc() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// TestStart: after each collection the percentage is set again from the
// live heap (here, whatever changed it in between), and stop restores the
// one before Start.
func TestStart(t *testing.T) {
	before := debug.SetGCPercent(123)
	defer debug.SetGCPercent(before)
	tu := Tuning{Target: 1 << 40, MinPercent: 50, MaxPercent: 321} // any live heap is small
	stop := Start(tu)
	for round := range 3 {
		debug.SetGCPercent(77)
		// The finalizer runs on its own goroutine after a cycle: collect
		// until it has (a bounded number of times).
		for i := 0; i < 1000 && gogc() != 321; i++ {
			runtime.GC()
			runtime.Gosched()
		}
		if got := gogc(); got != 321 {
			t.Fatalf("round %d: percentage after collections = %d, want 321 set again", round, got)
		}
	}
	stop()
	if got := gogc(); got != 123 {
		t.Errorf("percentage after stop = %d, want 123 restored", got)
	}
	debug.SetGCPercent(77)
	for range 5 {
		runtime.GC()
	}
	if got := gogc(); got != 77 {
		t.Errorf("percentage set after stop = %d, then collections made it %d", 77, got)
	}
}
