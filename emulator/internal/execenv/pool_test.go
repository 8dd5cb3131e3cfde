package execenv_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan/emulator/internal/execenv"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// newPool returns a pool running testdata/runtimehandler, closed when the
// test ends.
func newPool(t *testing.T, maxConcurrency int) *execenv.Pool {
	t.Helper()
	p, err := execenv.NewPool(execenv.Config{Function: "rt", Command: []string{runtimeHandler(t)}, MemorySize: 128, Region: "us-east-1", MaxConcurrency: maxConcurrency})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// invocation is one finished invocation of testdata/runtimehandler.
type invocation struct {
	out execenv.Output
	log string
	pid int // of the process that answered, 0 if none did
}

// invoke runs payload in p with a 10-second deadline, keeping its log.
func invoke(p *execenv.Pool, payload string) invocation {
	var log bytes.Buffer
	inv := &execenv.Invocation{RequestID: lambdaapi.NewRequestID(), Payload: []byte(payload), Deadline: time.Now().Add(10 * time.Second).Truncate(time.Millisecond), Log: &log}
	ctx, cancel := context.WithDeadline(context.Background(), inv.Deadline)
	defer cancel()
	out := p.Invoke(ctx, inv)
	var res struct{ PID int }
	if !out.Error {
		_ = json.Unmarshal(out.Payload, &res)
	}
	return invocation{out: out, log: log.String(), pid: res.PID}
}

// errorType is the errorType of a failed invocation's error document.
func (c invocation) errorType(t *testing.T) string {
	t.Helper()
	if !c.out.Error {
		t.Fatalf("the invocation succeeded with %s, want it to fail", c.out.Payload)
	}
	var doc struct{ ErrorType string }
	if err := json.Unmarshal(c.out.Payload, &doc); err != nil {
		t.Fatalf("error document %s: %v", c.out.Payload, err)
	}
	return doc.ErrorType
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// TestPool follows one environment through a cold start, a warm
// invocation and a crash, then a new one through Close.
func TestPool(t *testing.T) {
	p := newPool(t, 0)

	cold := invoke(p, `{"action":"print","message":"hello"}`)
	if cold.out.Error || cold.pid == 0 || cold.out.InitDuration <= 0 {
		t.Fatalf("cold start: error %v, pid %d, init %v: %s", cold.out.Error, cold.pid, cold.out.InitDuration, cold.out.Payload)
	}
	if !strings.Contains(cold.log, "init: runtimehandler ready\n") || !strings.Contains(cold.log, "hello\nstderr: hello\n") {
		t.Errorf("cold start log = %q, want the init output and the invocation's", cold.log)
	}

	warm := invoke(p, `{"action":"echo"}`)
	if warm.out.Error || warm.pid != cold.pid || warm.out.InitDuration != 0 {
		t.Errorf("warm invocation: error %v, pid %d (want %d), init %v", warm.out.Error, warm.pid, cold.pid, warm.out.InitDuration)
	}
	if _, err := os.Stat("/proc/self/status"); err == nil && warm.out.MaxMemoryUsedMB <= 0 {
		t.Errorf("MaxMemoryUsedMB = %d, want the process's peak memory", warm.out.MaxMemoryUsedMB)
	}

	crash := invoke(p, `{"action":"exit","code":42}`)
	if typ := crash.errorType(t); typ != "Runtime.ExitError" || !strings.Contains(string(crash.out.Payload), "exit status 42") {
		t.Errorf("crash: %s", crash.out.Payload)
	}
	if !strings.Contains(crash.log, "exiting with 42") {
		t.Errorf("crash log = %q, want what the process printed", crash.log)
	}

	again := invoke(p, `{"action":"echo"}`)
	if again.out.Error || again.pid == cold.pid || again.out.InitDuration <= 0 {
		t.Errorf("after the crash: error %v, pid %d (crashed: %d), init %v", again.out.Error, again.pid, cold.pid, again.out.InitDuration)
	}

	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !processGone(again.pid) {
		t.Errorf("process %d survived Close", again.pid)
	}
	if typ := invoke(p, `{"action":"echo"}`).errorType(t); typ != "Runtime.Unavailable" {
		t.Errorf("after Close: errorType %s, want Runtime.Unavailable", typ)
	}
}

// TestPool_MaxConcurrency runs two invocations at once in one process,
// keeping their logs (so both measure its memory as they finish).
func TestPool_MaxConcurrency(t *testing.T) {
	p := newPool(t, 2)
	var wg sync.WaitGroup
	var calls [2]invocation
	for i := range calls {
		wg.Go(func() { calls[i] = invoke(p, `{"action":"sleep","ms":300}`) })
	}
	wg.Wait()
	for i, c := range calls {
		if c.out.Error {
			t.Fatalf("invocation %d: %s", i, c.out.Payload)
		}
	}
	if calls[0].pid != calls[1].pid {
		t.Errorf("ran in processes %d and %d, want one", calls[0].pid, calls[1].pid)
	}
	if calls[0].out.InitDuration > 0 && calls[1].out.InitDuration > 0 {
		t.Errorf("both invocations report a cold start")
	}
}

func TestNewPool_Errors(t *testing.T) {
	if _, err := execenv.NewPool(execenv.Config{Function: "f"}); err == nil {
		t.Error("NewPool accepted an empty command")
	}
	for _, command := range []string{"./testdata/nothere", "testdata", "lambdafan-no-such-program"} {
		if _, err := execenv.NewPool(execenv.Config{Function: "f", Command: []string{command}}); err == nil || !strings.Contains(err.Error(), command) {
			t.Errorf("NewPool(%s): %v, want an error naming it", command, err)
		}
	}
}
