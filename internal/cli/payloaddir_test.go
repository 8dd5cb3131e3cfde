package cli

import (
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan"
)

func TestPayloadName(t *testing.T) {
	for _, tt := range []struct {
		line int
		id   string
		want string
	}{
		{7, "", "line-7"},
		{12, "order-17", "line-12-order-17"},
		{3, "../../etc/passwd", "line-3-.._.._etc_passwd"},
		{4, "a b\x00é", "line-4-a_b___"},
		{5, strings.Repeat("x", 100), "line-5-" + strings.Repeat("x", maxIDInName)},
	} {
		got := payloadName(tt.line, tt.id)
		if got != tt.want || strings.ContainsAny(got, "/\\\x00") {
			t.Errorf("payloadName(%d, %q) = %q, want %q", tt.line, tt.id, got, tt.want)
		}
		if line, ok := payloadLine(got + payloadExt); !ok || line != tt.line {
			t.Errorf("payloadLine(%q) = %d, %v", got+payloadExt, line, ok)
		}
	}
	for _, name := range []string{"line-.payload", "line-3.txt", "notes.payload", "line-x1.payload"} {
		if line, ok := payloadLine(name); ok {
			t.Errorf("payloadLine(%q) = %d, want no line", name, line)
		}
	}
}

func TestPayloadDir_NeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "line-1-a.payload"), []byte("an earlier run's"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := newPayloadDir(dir)
	w, err := d.writerFor(0, 1, "a")(lambdafan.Result{})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "a first attempt, cut short")
	// Another attempt of the same request starts its file afresh.
	w, err = d.writerFor(0, 1, "a")(lambdafan.Result{})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "new")
	var r lambdafan.Result
	pf := d.finish(0, &r)
	if pf == nil || r.Err != nil {
		t.Fatalf("finish: %+v, %v", pf, r.Err)
	}
	if pf.Path != filepath.Join(dir, "line-1-a.2.payload") || pf.Size != 3 || pf.SHA256 != sha256.Sum256([]byte("new")) {
		t.Errorf("payload file %+v", pf)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "line-1-a.payload")); string(b) != "an earlier run's" {
		t.Errorf("the earlier file now holds %q", b)
	}
	if b, _ := os.ReadFile(pf.Path); string(b) != "new" {
		t.Errorf("the new file holds %q", b)
	}
	if d.finish(1, &r) != nil {
		t.Error("a request without a payload has a file")
	}
}

func TestCheckPayloadDir(t *testing.T) {
	dir := t.TempDir()
	all := func(int) bool { return true }
	if err := checkPayloadDir(dir, false, all); err != nil {
		t.Errorf("empty directory: %v", err)
	}
	if err := checkPayloadDir(filepath.Join(dir, "new"), false, all); err != nil {
		t.Errorf("a directory to make: %v", err)
	}
	if err := checkPayloadDir(filepath.Join(dir, "no", "such"), false, all); err == nil {
		t.Error("a directory whose parent is missing was accepted")
	}
	os.WriteFile(filepath.Join(dir, "README"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "line-4-x.payload"), nil, 0o644)
	err := checkPayloadDir(dir, false, all)
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "line-4-x.payload") {
		t.Errorf("a directory with a payload file: %v", err)
	}
	if err := checkPayloadDir(dir, true, all); err != nil {
		t.Errorf("resuming: %v", err)
	}
	if err := checkPayloadDir(dir, false, func(line int) bool { return line != 4 }); err != nil {
		t.Errorf("another shard's file: %v", err)
	}
}
