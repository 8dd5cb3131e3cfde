package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan/emulator"
)

// buildBinary builds the lambdafan command once per test binary.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "lambdafan-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "lambdafan")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// interruptRig is an emulator whose "work" function takes a little while
// and counts executions per payload, and the environment to point the
// real binary at it.
type interruptRig struct {
	emu     *emulator.Server
	url     string
	env     []string
	started atomic.Int64
	reached chan struct{} // closed when `after` executions have started
	after   int64
}

func newInterruptRig(t *testing.T, after int64) *interruptRig {
	rig := &interruptRig{reached: make(chan struct{}), after: after}
	emu, err := emulator.New(emulator.Config{
		CountExecutions: true,
		Functions: []emulator.Function{{Name: "work", Handler: emulator.HandlerFunc(
			func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) {
				if rig.started.Add(1) == rig.after {
					close(rig.reached)
				}
				t := time.NewTimer(20 * time.Millisecond)
				defer t.Stop()
				select {
				case <-t.C:
				case <-ctx.Done():
				}
				return inv.Payload, nil
			})}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { emu.Close(); srv.Close() })
	ak, sk := emu.Credentials()
	rig.emu, rig.url = emu, srv.URL
	rig.env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"AWS_ACCESS_KEY_ID=" + ak, "AWS_SECRET_ACCESS_KEY=" + sk, "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"),
	}
	return rig
}

func writeRequests(t *testing.T, n int) string {
	path := filepath.Join(t.TempDir(), "requests.jsonl")
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"function_name":"work","payload":{"i":%d}}`+"\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readRecords returns the output's records by input line, failing on a
// line that appears twice.
func readRecords(t *testing.T, path string) map[int]map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs := map[int]map[string]any{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad output line %q: %v", sc.Text(), err)
		}
		line := int(m["line"].(float64))
		if _, dup := recs[line]; dup {
			t.Fatalf("line %d has two results", line)
		}
		recs[line] = m
	}
	return recs
}

func TestInterruptThenResume(t *testing.T) {
	tests := []struct {
		name    string
		signals int
		grace   string
	}{
		{"one signal lets in-flight finish", 1, "30s"},
		{"two signals abort in-flight", 2, "30s"},
		{"grace period over aborts in-flight", 1, "1ms"},
	}
	for _, tt := range tests {
		signals := tt.signals
		t.Run(tt.name, func(t *testing.T) {
			bin, err := buildBinary()
			if err != nil {
				t.Fatal(err)
			}
			const n = 600
			rig := newInterruptRig(t, 100)
			input := writeRequests(t, n)
			out := filepath.Join(t.TempDir(), "out.jsonl")
			args := []string{"invoke", "-q", "-c", "8", "--grace", tt.grace, "--endpoint-url", rig.url, "-o", out, input}

			cmd := exec.Command(bin, args...)
			cmd.Env = rig.env
			stderrPipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Collect standard error, noting when the first interrupt has
			// been handled: a second SIGINT sent before that would merge
			// with the first (signals of one kind do not queue).
			var stderr strings.Builder
			stopping := make(chan struct{})
			stderrDone := make(chan struct{})
			go func() {
				defer close(stderrDone)
				sc := bufio.NewScanner(stderrPipe)
				once := sync.OnceFunc(func() { close(stopping) })
				for sc.Scan() {
					stderr.WriteString(sc.Text() + "\n")
					if strings.Contains(sc.Text(), "stopping:") {
						once()
					}
				}
			}()
			<-rig.reached // a hundred executions have started: interrupt mid-run
			for i := range signals {
				if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					<-stopping
				}
			}
			<-stderrDone
			err = cmd.Wait()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
				t.Fatalf("interrupted run: %v, want exit status 130\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), "--resume "+out) {
				t.Errorf("no resume hint:\n%s", stderr.String())
			}
			first := readRecords(t, out)
			if len(first) == 0 || len(first) >= n {
				t.Fatalf("interrupted run wrote %d results; want some but not all of %d", len(first), n)
			}
			cancelled := 0
			for _, rec := range first {
				if rec["outcome"] != "ok" {
					cancelled++
					if e := rec["error"].(map[string]any); e["kind"] != "cancelled" {
						t.Errorf("unexpected result %v", rec)
					}
				}
			}
			if aborts := signals == 2 || tt.grace == "1ms"; aborts != (cancelled > 0) {
				t.Errorf("%d invocations in flight were cancelled; want some: %v", cancelled, aborts)
			}

			resume := exec.Command(bin, "invoke", "-q", "-c", "8", "--endpoint-url", rig.url, "--resume", out, input)
			resume.Env = rig.env
			if b, err := resume.CombinedOutput(); err != nil && cancelled == 0 {
				t.Fatalf("resumed run: %v\n%s", err, b)
			}
			all := readRecords(t, out)
			if len(all) != n {
				t.Fatalf("%d results after resuming, want %d (one per request)", len(all), n)
			}
			executions := rig.emu.Executions()
			for i := range n {
				rec := all[i+1]
				if rec == nil {
					t.Fatalf("line %d has no result", i+1)
				}
				payload := fmt.Sprintf(`{"i":%d}`, i)
				if got := executions[payload]; got > 1 {
					t.Errorf("request %d executed %d times", i, got)
				}
				if rec["outcome"] == "ok" && executions[payload] != 1 {
					t.Errorf("request %d reported ok but executed %d times", i, executions[payload])
				}
			}
			t.Logf("interrupted after %d results (%d cancelled in flight); resume finished the other %d", len(first), cancelled, n-len(first))
		})
	}
}
