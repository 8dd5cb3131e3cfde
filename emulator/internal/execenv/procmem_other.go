//go:build !linux

package execenv

import "os"

// peakMemory would measure a process's peak memory; only Linux has it.
type peakMemory struct{}

func openPeakMemory(pid int) *peakMemory { return nil }
func (m *peakMemory) megabytes() int     { return 0 }
func (m *peakMemory) close()             {}

// exitPeakMB is unknown here.
func exitPeakMB(ps *os.ProcessState) int { return 0 }
