package emulator_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"regexp"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// heapAllocated is how many bytes this process has allocated on the heap
// so far.
func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestCommand_LogTailBounded: a handler printing 100 MB with LogType
// Tail costs the emulator a bounded amount of memory — the last 4 KB are
// all Tail needs — where it used to hold (and grow) the whole log.
func TestCommand_LogTailBounded(t *testing.T) {
	_, c := rtServer(t, emulator.Function{Timeout: time.Minute})
	rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")}) // start the environment

	before := heapAllocated()
	call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("spew", "size", 100<<20)})
	allocated := heapAllocated() - before
	call.result(t)
	t.Logf("a 100 MB log allocated %d KB", allocated>>10)
	if allocated > 16<<20 {
		t.Errorf("a 100 MB log allocated %d MB, want it bounded (a few MB at most)", allocated>>20)
	}
	if len(call.log) != 4096 || !strings.HasSuffix(call.log, "\t\n") || !strings.Contains(call.log, strings.Repeat("x", 99)+"\nEND RequestId: "+call.requestID+"\nREPORT RequestId: ") {
		t.Errorf("log tail (%d bytes) is not the last 4 KB of the log:\n%s", len(call.log), call.log)
	}
}

// lineWriter records what it is given and signals when a write contains
// a marker.
type lineWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	seen   chan struct{}
	once   sync.Once
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestServer_FunctionLogStreams: Config.FunctionLog receives a line the
// function prints while the function still runs, not once it ends.
func TestServer_FunctionLogStreams(t *testing.T) {
	w := &lineWriter{marker: "working on it\n", seen: make(chan struct{})}
	srv := emulatortest.New(t, emulator.Config{FunctionLog: w, Functions: []emulator.Function{{
		Name: "rt", Command: []string{emulator.RuntimeHandlerBinary(t)},
	}}})
	c := newClient(srv)
	done := make(chan *lambda.InvokeOutput, 1)
	go func() {
		out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("rt"), LogType: types.LogTypeTail,
			Payload: rtPayload("sleep", "ms", 1000, "message", "working on it")})
		if err != nil {
			t.Errorf("invoke: %v", err)
		}
		done <- out
	}()
	select {
	case <-w.seen:
	case <-done:
		t.Fatalf("the function's line reached FunctionLog only after it ended:\n%s", w)
	}
	out := <-done
	if out == nil {
		return
	}
	// FunctionLog got the whole log; Tail the same, its last 4 KB.
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if !strings.HasSuffix(w.String(), string(tail)) {
		t.Errorf("FunctionLog:\n%s\ndoes not end with the log tail:\n%s", w, tail)
	}
	if !regexp.MustCompile(`^INIT_START [^\n]+\n(init: runtimehandler ready\n)?START RequestId: [^\n]+\nworking on it\nEND RequestId: [^\n]+\nREPORT RequestId: `).MatchString(w.String()) {
		t.Errorf("FunctionLog is not framed like Lambda's log:\n%s", w)
	}
}
