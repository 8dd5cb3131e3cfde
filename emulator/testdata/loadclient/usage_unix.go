//go:build unix

package main

import "syscall"

// usage returns the CPU time (user + system, ns) and the context switches
// of this process so far.
func usage() (cpuNanos, switches int64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano(), int64(ru.Nvcsw + ru.Nivcsw)
}
