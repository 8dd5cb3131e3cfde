// Package gctune keeps a process's heap near a target size by setting the
// garbage collector's percentage (GOGC) after every collection, as the
// live heap changes.
//
// A fixed percentage is either wasteful or unsafe for lambdafan's runs: a
// high one saves CPU when the live heap is a few MB (small payloads) but
// multiplies a live heap of tens of MB (large payloads read ahead and in
// flight) into hundreds of MB of RSS; a memory limit caps that but makes
// the collector run without end once the live heap itself exceeds it.
// Tuning the percentage so that the next collection starts at the target,
// within bounds, gives the high percentage to small heaps, the target to
// middling ones, and the low bound — never a collection loop — to heaps
// beyond the target.
package gctune

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// Tuning says how to tune: the heap size to aim for and the bounds of the
// percentage.
type Tuning struct {
	Target     uint64 // bytes of heap at which the next collection should start
	MinPercent int    // used when the live heap is at or beyond Target/(1+MinPercent/100)
	MaxPercent int    // used when the live heap is small
}

// Percent returns the percentage that starts the next collection when the
// heap reaches t.Target, given the live heap after the last one, within
// t's bounds.
func (t Tuning) Percent(live uint64) int {
	if live == 0 {
		return t.MaxPercent
	}
	p := (float64(t.Target)/float64(live) - 1) * 100
	return int(min(max(p, float64(t.MinPercent)), float64(t.MaxPercent)))
}

// Start sets the percentage now and after every collection until stop is
// called; stop restores the percentage there was before Start.
func Start(t Tuning) (stop func()) {
	var stopped atomic.Bool
	previous := debug.SetGCPercent(t.Percent(liveHeap()))
	var arm func()
	arm = func() {
		// The sentinel is unreachable at once: the collector finds it in
		// its next cycle and then runs the finalizer, which re-arms.
		sentinel := new([16]byte)
		runtime.SetFinalizer(sentinel, func(*[16]byte) {
			if stopped.Load() {
				return
			}
			debug.SetGCPercent(t.Percent(liveHeap()))
			arm()
		})
	}
	arm()
	return func() {
		if stopped.CompareAndSwap(false, true) {
			debug.SetGCPercent(previous)
		}
	}
}

// liveHeap returns the heap the last collection found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
