package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// bootID identifies the running boot of the machine, or "" when it cannot
// be told (then sent marks are not used).
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(b))
}

// sentMarks is the memory-mapped bitmap of the requests sent. Marking is
// safe for concurrent use.
type sentMarks struct {
	f     *os.File
	mem   []byte
	words []uint64
}

// createSentMarks makes a bitmap with no line marked but lines at path.
func createSentMarks(path string, lines []int) (*sentMarks, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	m, err := mapSentMarks(f, true)
	if err != nil {
		f.Close()
		return nil, err
	}
	for _, l := range lines {
		m.mark(l)
	}
	return m, nil
}

// readSentMarks maps the bitmap at path read-only; nil when there is none.
func readSentMarks(path string) (*sentMarks, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := mapSentMarks(f, false)
	if err != nil {
		f.Close()
		return nil, err
	}
	return m, nil
}

func mapSentMarks(f *os.File, writable bool) (*sentMarks, error) {
	const size = sentMarksLines / 8
	prot := syscall.PROT_READ
	if writable {
		// Empty it, then give it its size back: a sparse file of zeros.
		if err := f.Truncate(0); err != nil {
			return nil, err
		}
		if err := f.Truncate(size); err != nil {
			return nil, err
		}
		prot |= syscall.PROT_WRITE
	} else if fi, err := f.Stat(); err != nil || fi.Size() != size {
		return nil, fmt.Errorf("%s is not a sent-marks file of this version", f.Name())
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, prot, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	words := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), size/8)
	return &sentMarks{f: f, mem: mem, words: words}, nil
}

// mark records that the request on line is about to be sent.
func (m *sentMarks) mark(line int) {
	if line >= 0 && line < sentMarksLines {
		atomic.OrUint64(&m.words[line/64], 1<<(line%64))
	}
}

// marked reports whether line was marked; false for lines the marks do
// not cover.
func (m *sentMarks) marked(line int) bool {
	if line < 0 || line >= sentMarksLines {
		return false
	}
	return atomic.LoadUint64(&m.words[line/64])&(1<<(line%64)) != 0
}

// path is the file of the marks.
func (m *sentMarks) path() string { return m.f.Name() }

// covers reports whether the marks can say anything about line.
func (m *sentMarks) covers(line int) bool { return line >= 0 && line < sentMarksLines }

func (m *sentMarks) close() error {
	err := syscall.Munmap(m.mem)
	m.mem, m.words = nil, nil
	return errors.Join(err, m.f.Close())
}
