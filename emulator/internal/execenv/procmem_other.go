//go:build !linux

package execenv

// peakMemory would measure a process's peak memory; only Linux has it.
type peakMemory struct{}

func openPeakMemory(pid int) *peakMemory { return nil }
func (m *peakMemory) megabytes() int     { return 0 }
func (m *peakMemory) close()             {}
