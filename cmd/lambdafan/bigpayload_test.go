package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan/emulator"
)

// TestPayloadDir_Streams50MB streams a 50 MB response to --payload-dir
// through the real binary and holds its peak RSS, read from /proc
// (VmHWM) while it runs, to 100 MB: the response must flow to its file,
// not be held whole. (The child's rusage would not do: its peak counts
// pages of the forking test process.)
func TestPayloadDir_Streams50MB(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 50 MB through the built binary")
	}
	const size, piece = 50 << 20, 256 << 10
	const maxRSS = 100 << 20
	pattern := bytes.Repeat([]byte("lambdafan streams big payloads\n"), piece/31+1)[:piece]
	wantSum := sha256.New()
	for range size / piece {
		wantSum.Write(pattern)
	}
	written, release := make(chan struct{}), make(chan struct{})
	big := emulator.Function{Name: "big", Timeout: 10 * time.Minute, Handler: streamHandler(func(ctx context.Context, inv *emulator.Invocation) emulator.Output {
		for range size / piece {
			if _, err := inv.Stream.Write(pattern); err != nil {
				return emulator.Output{Streamed: true, Error: true, Payload: emulator.ErrorDocument("WriteFailed", err.Error())}
			}
		}
		close(written)
		select { // the end of the stream waits for the measurement
		case <-release:
		case <-ctx.Done():
		}
		return emulator.Output{Streamed: true}
	})}
	emu, err := emulator.New(emulator.Config{Functions: []emulator.Function{big}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	released := false
	t.Cleanup(func() {
		if !released {
			close(release)
		}
		emu.Close()
		srv.Close()
	})
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "requests.jsonl")
	if err := os.WriteFile(input, []byte(`{"id":"big","function_name":"big","response_stream":true}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ak, sk := emu.Credentials()
	cmd := exec.Command(bin, "invoke", "-q", "--endpoint-url", srv.URL, "--payload-dir", filepath.Join(dir, "payloads"),
		"-o", filepath.Join(dir, "results.jsonl"), input)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"AWS_ACCESS_KEY_ID=" + ak, "AWS_SECRET_ACCESS_KEY=" + sk, "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Sample the peak until the client has written the whole file (the
	// function then waits), then once more, and let the stream end.
	payload := filepath.Join(dir, "payloads", "line-1-big.payload")
	var peak int64
	var stalled <-chan time.Time // once all is written: a bound on the wait for the file
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case err := <-exited:
			t.Fatalf("lambdafan exited before the stream ended: %v\n%s", err, stderr.String())
		case <-stalled:
			entries, _ := os.ReadDir(filepath.Dir(payload))
			t.Fatalf("the stream was sent a minute ago, and %s holds %d files, not the whole payload in %s", filepath.Dir(payload), len(entries), filepath.Base(payload))
		case <-tick.C:
		}
		select {
		case <-written:
			if stalled == nil {
				stalled = time.After(time.Minute)
			}
			fi, err := os.Stat(payload)
			done = err == nil && fi.Size() == size
		default:
		}
		peak = max(peak, vmHWM(cmd.Process.Pid))
	}
	close(release)
	released = true
	if err := <-exited; err != nil {
		t.Fatalf("lambdafan: %v\n%s", err, stderr.String())
	}
	t.Logf("peak RSS of lambdafan streaming %d MB to --payload-dir: %.1f MB (VmHWM)", size>>20, float64(peak)/(1<<20))
	if peak > maxRSS {
		t.Errorf("peak RSS %.1f MB, more than %d MB: the stream was held in memory", float64(peak)/(1<<20), maxRSS>>20)
	}
	results, err := os.ReadFile(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want := `"outcome":"ok","payload_file":"` + payload + `","payload_size":` + strconv.Itoa(size) + `,"payload_sha256":"` + hex.EncodeToString(wantSum.Sum(nil)) + `"`
	if !strings.Contains(string(results), want) {
		t.Errorf("result %s\nwant it to contain %s", results, want)
	}
}
