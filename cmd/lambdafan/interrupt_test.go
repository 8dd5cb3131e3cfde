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

// interruptRig is an emulator whose "work" function lets its first
// `pass` executions through at once and then holds every execution until
// release is closed (or its request is cancelled), counting executions
// per payload, and the environment to point the real binary at it.
type interruptRig struct {
	emu     *emulator.Server
	url     string
	env     []string
	pass    atomic.Int64
	started atomic.Int64
	held    chan struct{} // one value per execution that is held
	release chan struct{}
	once    sync.Once
}

// releaseAll lets the held executions, and all later ones, finish.
func (rig *interruptRig) releaseAll() { rig.once.Do(func() { close(rig.release) }) }

func newInterruptRig(t *testing.T, pass int64) *interruptRig {
	rig := &interruptRig{held: make(chan struct{}, 100000), release: make(chan struct{})}
	rig.pass.Store(pass)
	emu, err := emulator.New(emulator.Config{
		CountExecutions: true,
		Functions: []emulator.Function{{Name: "work", Handler: emulator.HandlerFunc(
			func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) {
				if rig.started.Add(1) <= rig.pass.Load() {
					return inv.Payload, nil
				}
				select {
				case <-rig.release: // released for good: nothing is held any more
					return inv.Payload, nil
				default:
				}
				rig.held <- struct{}{}
				select {
				case <-rig.release:
				case <-ctx.Done():
				}
				return inv.Payload, nil
			})}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { rig.releaseAll(); emu.Close(); srv.Close() })
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

// waitHeld returns once n executions are being held.
func (rig *interruptRig) waitHeld(n int) {
	for range n {
		<-rig.held
	}
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

// startRun starts the real binary with args and returns it with a
// channel closed once it has said it is stopping (the first interrupt has
// taken effect: no attempt starts after that) and a function that waits
// for it and returns its standard error and exit status.
func startRun(t *testing.T, rig *interruptRig, args ...string) (cmd *exec.Cmd, stopping <-chan struct{}, wait func() (string, int)) {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(bin, args...)
	cmd.Env = rig.env
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	stop := make(chan struct{})
	stderrDone := make(chan struct{})
	go func() {
		defer close(stderrDone)
		sc := bufio.NewScanner(stderrPipe)
		once := sync.OnceFunc(func() { close(stop) })
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "stopping:") {
				once()
			}
		}
	}()
	return cmd, stop, func() (string, int) {
		<-stderrDone
		err := cmd.Wait()
		var exitErr *exec.ExitError
		switch {
		case err == nil:
			return stderr.String(), 0
		case errors.As(err, &exitErr):
			return stderr.String(), exitErr.ExitCode()
		}
		t.Fatalf("run: %v", err)
		return "", 0
	}
}

func TestInterruptThenResume(t *testing.T) {
	// 500 requests at -c 50 of a function that holds every execution:
	// once 50 are in flight, interrupt. No invocation may start after
	// the interrupt: the requests read but not sent end "not sent", and
	// the resumed run invokes them.
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
		t.Run(tt.name, func(t *testing.T) {
			const n, c = 500, 50
			rig := newInterruptRig(t, 0)
			input := writeRequests(t, n)
			out := filepath.Join(t.TempDir(), "out.jsonl")
			cmd, stopping, wait := startRun(t, rig, "invoke", "-q", "-c", fmt.Sprint(c), "--grace", tt.grace, "--endpoint-url", rig.url, "-o", out, input)
			rig.waitHeld(c) // 50 in flight, held: interrupt now
			for i := range tt.signals {
				if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					<-stopping // a second SIGINT sent before would merge with the first
				}
			}
			aborts := tt.signals == 2 || tt.grace == "1ms"
			if !aborts {
				rig.releaseAll() // the 50 in flight finish now
			}
			stderr, status := wait()
			if status != 130 {
				t.Fatalf("interrupted run: exit status %d, want 130\n%s", status, stderr)
			}
			if !strings.Contains(stderr, "--resume "+out) {
				t.Errorf("no resume hint:\n%s", stderr)
			}
			if got := rig.started.Load(); got != c {
				t.Errorf("%d executions after the interrupt of a run with %d in flight: want exactly those", got, c)
			}
			first := readRecords(t, out)
			var ok, cancelled, notSent int
			for _, rec := range first {
				e, _ := rec["error"].(map[string]any)
				switch {
				case rec["outcome"] == "ok":
					ok++
				case rec["outcome"] == "unknown" && e["kind"] == "cancelled" && e["sent"] == true:
					cancelled++
				case rec["outcome"] == "not_sent" && e["sent"] == false && rec["attempts"] == 0.0:
					// "stopped" by the interrupt; or "cancelled" by the
					// abort, for a request the reader held at that moment.
					notSent++
				default:
					t.Errorf("unexpected result %v", rec)
				}
			}
			if aborts && (ok != 0 || cancelled != c) || !aborts && (ok != c || cancelled != 0) {
				t.Errorf("%d ok, %d cancelled in flight; want the %d in flight ok unless aborted", ok, cancelled, c)
			}
			if notSent == 0 {
				t.Errorf("no request read but not sent: the test needs some")
			}

			resume := exec.Command(cmd.Path, "invoke", "-q", "-c", fmt.Sprint(c), "--endpoint-url", rig.url, "--resume", out, input)
			resume.Env = rig.env
			if !aborts {
				if b, err := resume.CombinedOutput(); err != nil {
					t.Fatalf("resumed run: %v\n%s", err, b)
				}
			} else {
				rig.releaseAll()
				resume.CombinedOutput() // exit status 1: the cancelled ones stay unknown
			}
			checkEveryLineOnce(t, rig, out, n)
			t.Logf("interrupted with %d in flight: %d results (%d ok, %d cancelled, %d not sent); %d executions in all after resuming",
				c, len(first), ok, cancelled, notSent, rig.started.Load())
		})
	}
}

// checkEveryLineOnce checks that the output has exactly one result per
// input line, that no request ran twice, and that every request reported
// ok ran exactly once.
func checkEveryLineOnce(t *testing.T, rig *interruptRig, out string, n int) map[int]map[string]any {
	t.Helper()
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
		if rec["outcome"] != "ok" && rec["outcome"] != "unknown" {
			t.Errorf("line %d: %v", i+1, rec)
		}
	}
	return all
}

func TestKillThenResume(t *testing.T) {
	// SIGKILL while 50 invocations are in flight, after 200 finished: the
	// results still buffered are lost with the process. The journal says
	// which requests may have been sent; --resume gives those an
	// "unknown" result and invokes exactly the others.
	const n, c, pass = 500, 50, 200
	rig := newInterruptRig(t, pass)
	input := writeRequests(t, n)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	cmd, _, wait := startRun(t, rig, "invoke", "-q", "-c", fmt.Sprint(c), "--endpoint-url", rig.url, "-o", out, input)
	rig.waitHeld(c)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	wait()
	rig.releaseAll() // the executions in flight finish, unanswered
	if _, err := os.Stat(out + ".journal"); err != nil {
		t.Fatalf("no journal after the kill: %v", err)
	}
	before := len(readRecords(t, out))

	resume := exec.Command(cmd.Path, "invoke", "-c", fmt.Sprint(c), "--endpoint-url", rig.url, "--resume", out, input)
	resume.Env = rig.env
	b, _ := resume.CombinedOutput() // exit status 1: the lost ones are unknown
	all := checkEveryLineOnce(t, rig, out, n)
	lost := 0
	for _, rec := range all {
		if rec["outcome"] == "unknown" {
			if e := rec["error"].(map[string]any); e["kind"] != "lost" || e["sent"] != true {
				t.Errorf("unknown result %v, want kind lost", rec)
			}
			lost++
		}
	}
	// At least the 50 held were sent without an answer; at most those plus
	// the 200 that finished but whose results were still buffered.
	if lost < c || lost > c+pass {
		t.Errorf("%d lost results, want between %d and %d\n%s", lost, c, c+pass, b)
	}
	if got, want := rig.started.Load(), int64(n); got != want {
		t.Errorf("%d executions in all, want %d: one per request", got, want)
	}
	if _, err := os.Stat(out + ".journal"); err == nil {
		t.Errorf("the journal is still there after a complete resumed run")
	}
	t.Logf("killed with %d in flight after %d finished: %d results on disk; resume: %d lost (unknown), %d invoked; %d executions for %d requests",
		c, pass, before, lost, n-before-lost, rig.started.Load(), n)
}
