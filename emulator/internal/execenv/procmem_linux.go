package execenv

import (
	"bytes"
	"os"
	"strconv"
	"sync"
)

// peakMemory reads a process's peak resident set size (VmHWM) from
// /proc/PID/status. The file stays open: reading it again from offset 0
// regenerates it, which is cheaper than opening it per invocation. It is
// safe for concurrent use: the invocations an environment runs at once
// each read it as they finish.
type peakMemory struct {
	f *os.File

	mu  sync.Mutex
	buf []byte
}

// openPeakMemory returns a reader for pid's peak memory, or nil when it
// cannot be measured.
func openPeakMemory(pid int) *peakMemory {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil
	}
	return &peakMemory{f: f, buf: make([]byte, 4096)}
}

// megabytes returns the peak RSS in MB, rounded up, or 0 when unknown.
func (m *peakMemory) megabytes() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.f.ReadAt(m.buf, 0)
	if n == 0 && err != nil {
		return 0
	}
	b := m.buf[:n]
	i := bytes.Index(b, []byte("VmHWM:"))
	if i < 0 {
		return 0
	}
	b = b[i+len("VmHWM:"):]
	if j := bytes.IndexByte(b, '\n'); j >= 0 {
		b = b[:j]
	}
	b = bytes.TrimSuffix(bytes.TrimSpace(b), []byte(" kB"))
	kb, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || kb <= 0 {
		return 0
	}
	return (kb + 1023) / 1024
}

func (m *peakMemory) close() {
	if m != nil {
		_ = m.f.Close()
	}
}
