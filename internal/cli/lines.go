package cli

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"iter"
)

// nonBlankLines yields the lines of r that are not blank, with their line
// numbers (from 1), newline included. A line is only valid until the next
// one is read: a caller that keeps it copies it. A line longer than the
// 1 MB read buffer is assembled whole. Once the sequence ends, the returned
// function reports the read error that ended it, if any (not io.EOF).
func nonBlankLines(r io.Reader) (iter.Seq2[int, []byte], func() error) {
	var readErr error
	seq := func(yield func(int, []byte) bool) {
		br := bufio.NewReaderSize(r, 1<<20)
		for n := 1; ; n++ {
			line, err := br.ReadSlice('\n')
			if errors.Is(err, bufio.ErrBufferFull) {
				long := bytes.Clone(line)
				for errors.Is(err, bufio.ErrBufferFull) {
					line, err = br.ReadSlice('\n')
					long = append(long, line...)
				}
				line = long
			}
			if len(bytes.TrimSpace(line)) > 0 && !yield(n, line) {
				return
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
				}
				return
			}
		}
	}
	return seq, func() error { return readErr }
}
