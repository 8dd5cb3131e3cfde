package cli

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestNonBlankLines(t *testing.T) {
	long := strings.Repeat("x", 3<<20) // longer than the read buffer
	input := "a\n\n  \t\n" + long + "\nlast"
	type got struct {
		n    int
		line string
	}
	var lines []got
	seq, readErr := nonBlankLines(strings.NewReader(input))
	for n, line := range seq {
		lines = append(lines, got{n, string(line)})
	}
	want := []got{{1, "a\n"}, {4, long + "\n"}, {5, "last"}}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(lines), len(want))
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d: got line %d (%d bytes), want line %d (%d bytes)", i, lines[i].n, len(lines[i].line), want[i].n, len(want[i].line))
		}
	}
	if err := readErr(); err != nil {
		t.Errorf("read error %v at the end of the input", err)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestNonBlankLines_readError(t *testing.T) {
	broken := errors.New("connection reset")
	seq, readErr := nonBlankLines(io.MultiReader(strings.NewReader("a\nb"), failingReader{broken}))
	var n int
	for range seq {
		n++
	}
	if n != 2 || !errors.Is(readErr(), broken) {
		t.Errorf("%d lines, read error %v; want 2 lines and %v", n, readErr(), broken)
	}
}
