package progress

import (
	"io"
	"os"
)

// CountLines counts the non-blank lines of the file at path for which
// keep (given the 1-based line number) is true, or all of them when keep
// is nil, in the meter's own goroutine, and sets the total from it, so a
// run over a JSON Lines file shows its size and ETA. A file that cannot be
// read, or that holds a JSON array, leaves the total unknown.
func (m *Meter) CountLines(path string, keep func(line int) bool) {
	m.done.Go(func() {
		n, err := countNonBlankLines(path, keep, m.stop)
		if err == nil && n >= 0 {
			m.SetTotal(n)
		}
	})
}

// countNonBlankLines counts the lines holding a non-whitespace byte that
// keep accepts (nil: all), or returns -1 when the file starts with '[' (a
// JSON array), or stops early when stop is closed.
func countNonBlankLines(path string, keep func(line int) bool, stop <-chan struct{}) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	line := 1
	blank, first := true, true
	count := func() {
		if !blank && (keep == nil || keep(line)) {
			n++
		}
	}
	for {
		select {
		case <-stop:
			return -1, nil
		default:
		}
		k, err := f.Read(buf)
		for _, c := range buf[:k] {
			switch c {
			case '\n':
				count()
				line++
				blank = true
			case ' ', '\t', '\r':
			default:
				if first && c == '[' {
					return -1, nil
				}
				first, blank = false, false
			}
		}
		if err == io.EOF {
			count()
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}
