package emulator_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// waitFor waits until cond holds, checking every few milliseconds, for at
// most 10 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// processState is the state letter of a process in /proc/PID/stat ("T"
// for stopped), or "" when it is gone.
func processState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// pid (comm) state …: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	return string(b[i+2])
}

func requireProc(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads process states from /proc, which only Linux has")
	}
}

// idleGap is the time tickerRuns lets pass between two invocations: a 10
// ms ticker running all along ticks about 50 times in it.
const idleGap = 500 * time.Millisecond

// maxFrozenTicks bounds the ticks of a 10 ms ticker in idleGap in a
// frozen environment, with room for a loaded machine: the time a process
// takes to run again once thawed, and between its response and its next
// request, counts.
const maxFrozenTicks = 10

// tickerRuns invokes a function whose handler runs a 10 ms ticker, lets
// idleGap pass between two invocations, and returns how many ticks
// happened in between and whether the process was ever seen stopped
// meanwhile (a count alone cannot tell a running ticker on a busy
// machine, where a starved goroutine drops ticks). When frozen is set it
// first waits until the environment is frozen.
func tickerRuns(t *testing.T, c *lambda.Client, frozen bool) (ticks int64, stopped bool) {
	t.Helper()
	first := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("ticks")}).result(t)
	if frozen {
		waitFor(t, "the environment to be frozen", func() bool { return processState(first.PID) == "T" })
	}
	// The time the ticker may or may not use.
	for end := time.Now().Add(idleGap); time.Now().Before(end); time.Sleep(time.Millisecond) {
		stopped = stopped || processState(first.PID) == "T"
	}
	second := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("ticks")}).result(t)
	if second.PID != first.PID {
		t.Fatalf("the invocations ran in pids %d and %d, want one environment", first.PID, second.PID)
	}
	return second.Ticks - first.Ticks, stopped
}

// TestCommand_Freeze: an environment is frozen between invocations, as in
// Lambda: a handler's 10 ms ticker does not tick while it waits.
func TestCommand_Freeze(t *testing.T) {
	requireProc(t)
	ticker := map[string]string{"TEST_TICKS": "1"}
	t.Run("frozen", func(t *testing.T) {
		_, c := rtServer(t, emulator.Function{Environment: ticker})
		if n, _ := tickerRuns(t, c, true); n > maxFrozenTicks {
			t.Errorf("%d ticks while the environment waited %v, want none (at most %d)", n, idleGap, maxFrozenTicks)
		}
	})
	t.Run("NoFreeze", func(t *testing.T) {
		srv := emulatortest.New(t, emulator.Config{NoFreeze: true, Functions: []emulator.Function{{
			Name: "rt", Command: []string{emulator.RuntimeHandlerBinary(t)}, Environment: ticker,
		}}})
		if n, stopped := tickerRuns(t, newClient(srv), false); stopped || n == 0 {
			t.Errorf("%d ticks while the environment waited %v, stopped: %v; want it running", n, idleGap, stopped)
		}
	})
	t.Run("several invocations per environment", func(t *testing.T) {
		// They may run at once: one's wait is another's run time.
		_, c := rtServer(t, emulator.Function{Environment: ticker, MaxConcurrencyPerEnvironment: 2})
		if n, stopped := tickerRuns(t, c, false); stopped || n == 0 {
			t.Errorf("%d ticks while the environment waited %v, stopped: %v; want it running", n, idleGap, stopped)
		}
	})
}

// TestCommand_IdleEviction: an environment idle for the idle timeout is
// shut down the way Lambda shuts one down — its extension receives
// SHUTDOWN, and, frozen as it was, it is thawed to receive SIGTERM (the
// handler's hook runs) — and the next invocation starts a new one.
func TestCommand_IdleEviction(t *testing.T) {
	sigterm := filepath.Join(t.TempDir(), "sigterm")
	shutdown := filepath.Join(t.TempDir(), "shutdown")
	srv := emulatortest.New(t, emulator.Config{IdleTimeout: 300 * time.Millisecond, Functions: []emulator.Function{{
		Name:        "rt",
		Command:     []string{emulator.RuntimeHandlerBinary(t)},
		Environment: map[string]string{"TEST_SIGTERM_FILE": sigterm, "TEST_SHUTDOWN_FILE": shutdown},
	}}})
	c := newClient(srv)
	pid := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")}).result(t).PID
	waitFor(t, "the idle environment to be shut down", func() bool { return processGone(pid) })
	if b, err := os.ReadFile(sigterm); err != nil || !bytes.Contains(b, []byte("SIGTERM received")) {
		t.Errorf("the SIGTERM hook did not run: %v %q", err, b)
	}
	if b, err := os.ReadFile(shutdown); err != nil || string(b) != "SHUTDOWN spindown\n" {
		t.Errorf("the extension got %q (%v), want the SHUTDOWN event", b, err)
	}
	assertColdStartAfter(t, c, pid, "an eviction")
	if got := srv.Emulator.Stats().ColdStarts; got != 2 {
		t.Errorf("ColdStarts = %d, want 2", got)
	}
}
