package execenv

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// maxChildDepth bounds how deep peakMemory looks among a process's
// descendants.
const maxChildDepth = 4

// peakMemory reads the peak resident set size (VmHWM, /proc/PID/status)
// of an environment's process and of the processes it started, whose sum
// stands for the peak of the environment's processes, as Lambda measures
// a whole execution environment. The process's own files stay open:
// reading them again from offset 0 regenerates them, which is cheaper than
// opening them per invocation. Children are found through
// /proc/PID/task/PID/children, which lists those the process's main
// thread started (as runtimes and shell wrappers do). It is safe for
// concurrent use: the invocations an environment runs at once each read it
// as they finish.
type peakMemory struct {
	status   *os.File
	children *os.File // nil where the kernel does not list children

	mu  sync.Mutex
	buf []byte
}

// openPeakMemory returns a reader for pid's peak memory, or nil when it
// cannot be measured.
func openPeakMemory(pid int) *peakMemory {
	p := strconv.Itoa(pid)
	status, err := os.Open("/proc/" + p + "/status")
	if err != nil {
		return nil
	}
	children, err := os.Open("/proc/" + p + "/task/" + p + "/children")
	if err != nil {
		children = nil
	}
	return &peakMemory{status: status, children: children, buf: make([]byte, 4096)}
}

// megabytes returns the peak RSS in MB, rounded up, or 0 when unknown.
func (m *peakMemory) megabytes() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	kb := m.peakKB(m.status)
	if kb > 0 && m.children != nil {
		kb += m.childrenKB(m.children, 1)
	}
	return (kb + 1023) / 1024
}

// peakKB reads VmHWM from a status file.
func (m *peakMemory) peakKB(f *os.File) int {
	n, err := f.ReadAt(m.buf, 0)
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
	return kb
}

// childrenKB sums the peaks of the processes a children file lists, and
// of their own children.
func (m *peakMemory) childrenKB(f *os.File, depth int) int {
	n, _ := f.ReadAt(m.buf, 0)
	if n == 0 {
		return 0
	}
	pids := bytes.Fields(bytes.Clone(m.buf[:n]))
	kb := 0
	for _, pid := range pids {
		p := string(pid)
		if status, err := os.Open("/proc/" + p + "/status"); err == nil {
			kb += m.peakKB(status)
			status.Close()
		}
		if depth >= maxChildDepth {
			continue
		}
		if children, err := os.Open("/proc/" + p + "/task/" + p + "/children"); err == nil {
			kb += m.childrenKB(children, depth+1)
			children.Close()
		}
	}
	return kb
}

func (m *peakMemory) close() {
	if m == nil {
		return
	}
	_ = m.status.Close()
	if m.children != nil {
		_ = m.children.Close()
	}
}

// exitPeakMB is an exited process's peak resident set size in MB, from the
// resource usage wait4 reported (ru_maxrss, in kB on Linux), or 0.
func exitPeakMB(ps *os.ProcessState) int {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru.Maxrss <= 0 {
		return 0
	}
	return int((ru.Maxrss + 1023) / 1024)
}
