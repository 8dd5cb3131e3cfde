package main

import (
	"syscall"
	"time"
)

// cpuMicros returns the CPU time (user + system) this process has used, in
// microseconds.
func cpuMicros() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return rusageCPU(&ru)
}

func rusageCPU(ru *syscall.Rusage) float64 {
	return float64(time.Duration(ru.Utime.Nano()+ru.Stime.Nano())) / float64(time.Microsecond)
}

// peakRSSBytes returns a finished child's peak resident set size. Linux
// reports ru_maxrss in kilobytes.
func peakRSSBytes(ru *syscall.Rusage) int64 { return ru.Maxrss * 1024 }
