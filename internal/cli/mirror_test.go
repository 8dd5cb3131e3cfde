package cli

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan/internal/store"
)

func readGzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMirror_CheckpointsAndFinish(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool.jsonl")
	target, err := store.Parse(filepath.Join(dir, "results.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spool, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := startMirror(t.Context(), store.Store{}, target, spool)
	if err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(spool, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	// Two whole lines and half of a third: a checkpoint makes the whole
	// ones readable in the target, never a part of a line.
	w.WriteString(`{"line":1}` + "\n" + `{"line":2}` + "\n" + `{"li`)
	m.checkpoint(t.Context())
	if m.err != nil {
		t.Fatal(m.err)
	}
	if got := readGzip(t, target.Path()); got != `{"line":1}`+"\n"+`{"line":2}`+"\n" {
		t.Fatalf("after a checkpoint the target holds %q", got)
	}

	// A line longer than the copy buffer, then the end.
	long := `{"line":3,"payload":"` + strings.Repeat("x", 3<<20) + `"}` + "\n"
	w.WriteString(`ne":4}` + "\n" + long)
	if err := m.finish(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := `{"line":1}` + "\n" + `{"line":2}` + "\n" + `{"line":4}` + "\n" + long
	if got := readGzip(t, target.Path()); got != want {
		t.Fatalf("after finish the target holds %d bytes, want %d", len(got), len(want))
	}
}
