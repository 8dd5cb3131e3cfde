package store_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan/internal/store"
)

func TestStore_local(t *testing.T) {
	for _, name := range []string{"out.jsonl", "out.jsonl.gz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			loc := mustParse(t, path)
			var st store.Store
			obj, err := st.Create(t.Context(), loc)
			if err != nil {
				t.Fatal(err)
			}
			first := strings.Repeat("{\"id\":\"a\"}\n", 1000)
			io.WriteString(obj, first)
			if err := obj.Checkpoint(t.Context()); err != nil {
				t.Fatal(err)
			}
			// After a checkpoint the file holds what was written, readable
			// (a whole gzip stream for .gz) while writing goes on.
			if got := readObject(t, st, loc); string(got) != first {
				t.Fatalf("after Checkpoint the file reads %d bytes, want %d", len(got), len(first))
			}
			second := strings.Repeat("{\"id\":\"b\"}\n", 1000)
			io.WriteString(obj, second)
			if err := obj.Close(); err != nil {
				t.Fatal(err)
			}
			if got := readObject(t, st, loc); string(got) != first+second {
				t.Fatalf("the file reads %d bytes, want %d", len(got), len(first+second))
			}
			raw, _ := os.ReadFile(path)
			if isGzip := bytes.HasPrefix(raw, []byte{0x1f, 0x8b}); isGzip != loc.Gzip() {
				t.Errorf("gzip magic present: %v, want %v", isGzip, loc.Gzip())
			}
			if loc.Gzip() {
				// Other readers see one stream too (gzip -d reads members in turn).
				zr, _ := gzip.NewReader(bytes.NewReader(raw))
				if got, err := io.ReadAll(zr); err != nil || string(got) != first+second {
					t.Fatalf("gzip.Reader read %d bytes, %v", len(got), err)
				}
			}
			info, err := st.Stat(t.Context(), loc)
			if err != nil || info.Size != int64(len(raw)) {
				t.Fatalf("Stat = %+v, %v; want %d bytes", info, err, len(raw))
			}
		})
	}
}

func TestStore_local_abort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	var st store.Store
	obj, err := st.Create(t.Context(), mustParse(t, path))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(obj, "partial")
	if err := obj.Abort(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Abort, Stat = %v; want the file gone", err)
	}
	if _, err := st.Stat(t.Context(), mustParse(t, path)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Store.Stat = %v, want fs.ErrNotExist", err)
	}
}

func TestStore_stdio(t *testing.T) {
	var out bytes.Buffer
	st := store.Store{Stdin: strings.NewReader("{\"id\":1}\n"), Stdout: &out}
	loc := mustParse(t, "-")
	if got := readObject(t, st, loc); string(got) != "{\"id\":1}\n" {
		t.Fatalf("Open(-) read %q", got)
	}
	writeObject(t, st, loc, []byte("result\n"))
	if out.String() != "result\n" {
		t.Fatalf("Create(-) wrote %q", out.String())
	}
	if _, err := st.Stat(t.Context(), loc); err == nil {
		t.Error("Stat(-) succeeded")
	}
}

func TestStore_List_local(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.jsonl", "a.jsonl.gz", "sub/c.jsonl"} {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(name), 0o644)
	}
	infos, err := store.Store{}.List(t.Context(), mustParse(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, info := range infos {
		rel, _ := filepath.Rel(dir, info.Location.Path())
		if info.Size != int64(len(rel)) {
			t.Errorf("%s: size %d, want %d", rel, info.Size, len(rel))
		}
		got = append(got, rel)
	}
	if want := []string{"a.jsonl.gz", "b.jsonl", "sub/c.jsonl"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("List = %q, want %q", got, want)
	}
}
