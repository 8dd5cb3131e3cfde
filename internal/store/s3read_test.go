package store_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan/internal/store"
)

// Open streams the object: reading a 24 MiB object never holds it whole.
func TestStore_Open_streams(t *testing.T) {
	const size = 24 * mib
	f := newFakeS3(t, "bucket")
	data := randomBytes(size, 1)
	f.Put(t, "bucket", "big.jsonl", data)
	want := sha256.Sum256(data)
	data = nil // the backend keeps its own copy

	st := f.Store()
	base := liveHeap()
	r, err := st.Open(t.Context(), mustParse(t, "s3://bucket/big.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	buf := make([]byte, 64<<10)
	var n, peak int64
	for {
		k, err := r.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if n%(2*mib) < int64(k) { // about every 2 MiB
			peak = max(peak, liveHeap()-base)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != size || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("read %d bytes with another hash, want %d", n, size)
	}
	t.Logf("reading %d MiB: live heap grew by at most %.1f MiB", size/mib, float64(peak)/mib)
	if peak > 4*mib {
		t.Errorf("live heap grew by %.1f MiB while reading a %d MiB object; want under 4 MiB (a stream, not a download)", float64(peak)/mib, size/mib)
	}
}

// A connection that breaks mid-object is resumed from the byte reached,
// with a ranged request for the same object.
func TestStore_Open_resume(t *testing.T) {
	f := newFakeS3(t, "bucket")
	data := randomBytes(3*mib, 2)
	f.Put(t, "bucket", "in.jsonl", data)
	f.CutAfter("bucket", "in.jsonl", mib+17, nil)
	got := readObject(t, f.Store(), mustParse(t, "s3://bucket/in.jsonl"))
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, not the object's %d", len(got), len(data))
	}
	var gets []string
	for _, r := range f.Requests() {
		if r.Method == "GET" {
			gets = append(gets, r.Header.Get("Range")+" "+r.Header.Get("If-Match"))
		}
	}
	etag := f.etag("bucket", "in.jsonl")
	if len(gets) != 2 || !strings.HasPrefix(gets[1], "bytes=") || !strings.HasSuffix(gets[1], "- "+etag) {
		t.Fatalf("GET requests (Range, If-Match) = %q, want a whole one then a resume bytes=N- with If-Match %s", gets, etag)
	}
	if f.sent.Load() > int64(len(data))+64<<10 {
		t.Errorf("the server sent %d bytes for a %d byte object: the resume started over", f.sent.Load(), len(data))
	}
}

// An object replaced while it is read is an error, not a splice of two.
func TestStore_Open_changedWhileRead(t *testing.T) {
	f := newFakeS3(t, "bucket")
	f.Put(t, "bucket", "in.jsonl", randomBytes(2*mib, 3))
	f.CutAfter("bucket", "in.jsonl", mib, func() { f.Put(t, "bucket", "in.jsonl", randomBytes(2*mib, 4)) })
	r, err := f.Store().Open(t.Context(), mustParse(t, "s3://bucket/in.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = io.ReadAll(r)
	if err == nil || !strings.Contains(err.Error(), "the object changed while it was read") {
		t.Fatalf("ReadAll error = %v, want the object changed", err)
	}
}

func TestStore_Open_errors(t *testing.T) {
	f := newFakeS3(t, "bucket")
	f.Put(t, "bucket", "secret.jsonl", []byte("{}\n"))
	f.Deny("GET", "bucket/secret.jsonl", "AccessDenied")
	tests := []struct {
		name, loc string
		st        store.Store
		want      string
		notExist  bool
	}{
		{"no such key", "s3://bucket/missing.jsonl", f.Store(), "open s3://bucket/missing.jsonl: NoSuchKey: ", true},
		{"no such bucket", "s3://nobucket/in.jsonl", f.Store(), "open s3://nobucket/in.jsonl: NoSuchBucket: the bucket does not exist (HTTP 404", true},
		{"access denied", "s3://bucket/secret.jsonl", f.Store(), "open s3://bucket/secret.jsonl: AccessDenied: injected AccessDenied (HTTP 403, request ID FAKEREQUESTID)", false},
		{"prefix", "s3://bucket/dir/", f.Store(), "open s3://bucket/dir/: is a prefix, not an object", false},
		{"no client", "s3://bucket/in.jsonl", store.Store{}, "open s3://bucket/in.jsonl: no S3 client configured", false},
		{"local", t.TempDir() + "/missing.jsonl", store.Store{}, "no such file or directory", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.st.Open(t.Context(), mustParse(t, tt.loc))
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if errors.Is(err, fs.ErrNotExist) != tt.notExist {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = %v, want %v", err, !tt.notExist, tt.notExist)
			}
			if strings.Contains(err.Error(), testSecretKey) || strings.Contains(err.Error(), "Signature=") {
				t.Errorf("error shows credentials: %v", err)
			}
		})
	}
}

func TestStore_Stat(t *testing.T) {
	f := newFakeS3(t, "bucket")
	st := f.Store()
	writeObject(t, st, mustParse(t, "s3://bucket/out.jsonl"), []byte("12345"))
	info, err := st.Stat(t.Context(), mustParse(t, "s3://bucket/out.jsonl"))
	if err != nil || info.Size != 5 || info.ModTime.IsZero() || info.Location.String() != "s3://bucket/out.jsonl" {
		t.Fatalf("Stat = %+v, %v; want 5 bytes with a time", info, err)
	}
	_, err = st.Stat(t.Context(), mustParse(t, "s3://bucket/missing"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "stat s3://bucket/missing: NoSuchKey") {
		t.Fatalf("Stat(missing) error = %v, want NoSuchKey matching fs.ErrNotExist", err)
	}
}

func TestStore_Remove(t *testing.T) {
	f := newFakeS3(t, "bucket")
	st := f.Store()
	loc := mustParse(t, "s3://bucket/run1/marker")
	writeObject(t, st, loc, []byte("x"))
	if err := st.Remove(t.Context(), loc); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stat(t.Context(), loc); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Remove, Stat error = %v, want not found", err)
	}
	if err := st.Remove(t.Context(), loc); err != nil {
		t.Errorf("removing a missing object: %v", err)
	}
	local := mustParse(t, filepath.Join(t.TempDir(), "f"))
	os.WriteFile(local.Path(), []byte("x"), 0o644)
	if err := st.Remove(t.Context(), local); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(local.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("local file still there: %v", err)
	}
}

func TestStore_List(t *testing.T) {
	f := newFakeS3(t, "bucket")
	for key, size := range map[string]int{"run1/": 0, "run1/a.jsonl": 1, "run1/b.jsonl.gz": 2, "run1/sub/c.jsonl": 3, "run10/d.jsonl": 4, "run2/e.jsonl": 5} {
		f.Put(t, "bucket", key, bytes.Repeat([]byte("x"), size))
	}
	st := f.Store()
	tests := []struct {
		prefix string
		want   []string
	}{
		{"s3://bucket/run1/", []string{"s3://bucket/run1/a.jsonl 1", "s3://bucket/run1/b.jsonl.gz 2", "s3://bucket/run1/sub/c.jsonl 3"}},
		{"s3://bucket/", []string{"s3://bucket/run1/a.jsonl 1", "s3://bucket/run1/b.jsonl.gz 2", "s3://bucket/run1/sub/c.jsonl 3", "s3://bucket/run10/d.jsonl 4", "s3://bucket/run2/e.jsonl 5"}},
		{"s3://bucket/none/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			infos, err := st.List(t.Context(), mustParse(t, tt.prefix))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, info := range infos {
				got = append(got, info.Location.String()+" "+string(rune('0'+info.Size)))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("List = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := st.List(t.Context(), mustParse(t, "s3://bucket/run1")); err == nil || !strings.Contains(err.Error(), "not a prefix") {
		t.Errorf("List(s3://bucket/run1) error = %v, want not a prefix", err)
	}
	if _, err := st.List(t.Context(), mustParse(t, "s3://nobucket/")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("List(s3://nobucket/) error = %v, want one matching fs.ErrNotExist", err)
	}
}
