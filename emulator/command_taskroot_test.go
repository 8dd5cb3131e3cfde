package emulator_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/emulator"
)

// TestCommand_CodeDir: a function's processes run in its code directory,
// which is LAMBDA_TASK_ROOT, and see its runtime handler as _HANDLER;
// without them, the program's directory and file name.
func TestCommand_CodeDir(t *testing.T) {
	dir := t.TempDir()
	_, c := rtServer(t, emulator.Function{CodeDir: dir, RuntimeHandler: "index.handler"})
	r := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("context")}).result(t)
	if r.Cwd != dir || r.Env["LAMBDA_TASK_ROOT"] != dir || r.Env["_HANDLER"] != "index.handler" {
		t.Errorf("cwd %q, LAMBDA_TASK_ROOT %q, _HANDLER %q; want %q, %q, index.handler", r.Cwd, r.Env["LAMBDA_TASK_ROOT"], r.Env["_HANDLER"], dir, dir)
	}

	program := emulator.RuntimeHandlerBinary(t)
	_, c = rtServer(t, emulator.Function{Command: []string{program}})
	r = rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("context")}).result(t)
	if want := filepath.Dir(program); r.Cwd != want || r.Env["LAMBDA_TASK_ROOT"] != want || r.Env["_HANDLER"] != "bootstrap" {
		t.Errorf("by default: cwd %q, LAMBDA_TASK_ROOT %q, _HANDLER %q; want %q, %q, bootstrap", r.Cwd, r.Env["LAMBDA_TASK_ROOT"], r.Env["_HANDLER"], want, want)
	}

	for _, bad := range []emulator.Function{
		{Name: "f", Command: []string{program}, CodeDir: filepath.Join(dir, "missing")},
		{Name: "f", Command: []string{program}, CodeDir: program},
		{Name: "f", Handler: emulator.HandlerFunc(nil), CodeDir: dir},
		{Name: "f", Handler: emulator.HandlerFunc(nil), RuntimeHandler: "index.handler"},
	} {
		if _, err := emulator.New(emulator.Config{Functions: []emulator.Function{bad}}); err == nil {
			t.Errorf("New accepted code directory %q and runtime handler %q of a %s function", bad.CodeDir, bad.RuntimeHandler, map[bool]string{true: "Go", false: "command"}[bad.Handler != nil])
		}
	}
}

// TestCommand_LogStreamPerEnvironment: each execution environment writes
// to a log stream of its own, as in Lambda.
func TestCommand_LogStreamPerEnvironment(t *testing.T) {
	_, c := rtServer(t, emulator.Function{})
	streams := map[string]int{} // stream → pid
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("rt"), Payload: rtPayload("context", "ms", 200)})
			if err != nil {
				t.Errorf("invoke: %v", err)
				return
			}
			r := rtCall{out: out}.result(t)
			mu.Lock()
			defer mu.Unlock()
			streams[r.Env["AWS_LAMBDA_LOG_STREAM_NAME"]] = r.PID
		})
	}
	wg.Wait()
	pids := map[int]bool{}
	for _, pid := range streams {
		pids[pid] = true
	}
	if len(pids) != 3 || len(streams) != 3 {
		t.Errorf("3 invocations at once ran in %d environments with %d log streams, want 3 of each: %v", len(pids), len(streams), streams)
	}
}
