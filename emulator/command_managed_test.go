package emulator_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/emulator"
)

// Functions with MaxConcurrencyPerEnvironment run several invocations at
// once in one process, as Lambda Managed Instances do; aws-lambda-go then
// polls /next from AWS_LAMBDA_MAX_CONCURRENCY goroutines.

func TestCommand_ManagedConcurrency(t *testing.T) {
	srv, c := rtServer(t, emulator.Function{MaxConcurrencyPerEnvironment: 5})
	const n = 10
	results := make([]rtResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("rt"), Payload: rtPayload("sleep", "ms", 300)})
			switch {
			case err != nil:
				t.Errorf("invoke %d: %v", i, err)
			case out.FunctionError != nil:
				t.Errorf("invoke %d: %s", i, out.Payload)
			default:
				if err := json.Unmarshal(out.Payload, &results[i]); err != nil {
					t.Errorf("invoke %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Ten overlapping invocations, five slots per environment: two
	// environments, each running five at once.
	byPID := map[int][]rtResult{}
	for _, r := range results {
		byPID[r.PID] = append(byPID[r.PID], r)
	}
	if len(byPID) != 2 || srv.Emulator.Stats().ColdStarts != 2 {
		t.Fatalf("%d invocations ran in %d processes with %d cold starts, want 2", n, len(byPID), srv.Emulator.Stats().ColdStarts)
	}
	for pid, rs := range byPID {
		most := mostAtOnce(rs)
		if len(rs) != 5 || most != 5 {
			t.Errorf("process %d ran %d invocations, at most %d at once; want 5 and 5", pid, len(rs), most)
		}
	}

	ctx := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("context")}).result(t)
	if got := ctx.Env["AWS_LAMBDA_MAX_CONCURRENCY"]; got != "5" {
		t.Errorf("AWS_LAMBDA_MAX_CONCURRENCY = %q, want 5", got)
	}
}

func TestCommand_ManagedTimeout(t *testing.T) {
	// Lambda Managed Instances fail the invocation at the timeout but
	// neither stop it nor the environment, whose other invocations go on.
	_, c := rtServer(t, emulator.Function{MaxConcurrencyPerEnvironment: 3, Timeout: time.Second})
	pid := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")}).result(t).PID

	call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("sleep", "ms", 5000)})
	typ, msg := call.functionError(t)
	if want := "RequestId: " + call.requestID + " Error: Task timed out after 1.00 seconds"; typ != "Sandbox.Timedout" || msg != want {
		t.Errorf("error = %s %q, want Sandbox.Timedout %q", typ, msg, want)
	}
	if processGone(pid) {
		t.Fatalf("process %d was killed at the timeout", pid)
	}
	next := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")})
	if r := next.result(t); r.PID != pid {
		t.Errorf("the invocation after a timeout ran in pid %d, want the warm %d", r.PID, pid)
	}
	if initDuration.MatchString(next.log) {
		t.Errorf("the invocation after a timeout was a cold start:\n%s", next.log)
	}
}

func TestCommand_ManagedCrash(t *testing.T) {
	srv, c := rtServer(t, emulator.Function{MaxConcurrencyPerEnvironment: 3})
	pid := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")}).result(t).PID

	// A crash ends every invocation the process was running; one it had
	// not fetched yet runs in a new environment.
	var sleeper *lambda.InvokeOutput
	var wg sync.WaitGroup
	wg.Go(func() {
		var err error
		if sleeper, err = c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("rt"), Payload: rtPayload("sleep", "ms", 500)}); err != nil {
			t.Errorf("invoke: %v", err)
		}
	})
	call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("exit", "code", 42)})
	wg.Wait()
	typ, msg := call.functionError(t)
	if want := "RequestId: " + call.requestID + " Error: Runtime exited with error: exit status 42"; typ != "Runtime.ExitError" || msg != want {
		t.Errorf("error = %s %q, want Runtime.ExitError %q", typ, msg, want)
	}
	if sleeper != nil && sleeper.FunctionError != nil && !strings.Contains(string(sleeper.Payload), "Runtime.ExitError") {
		t.Errorf("the other invocation failed with %s", sleeper.Payload)
	}
	if !processGone(pid) {
		t.Errorf("process %d still exists", pid)
	}
	next := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")})
	if r := next.result(t); r.PID == pid {
		t.Errorf("ran in the crashed pid %d", pid)
	}
	if srv.Emulator.Stats().ColdStarts < 2 {
		t.Errorf("ColdStarts = %d, want a new environment after the crash", srv.Emulator.Stats().ColdStarts)
	}
}

func TestCommand_ManagedInitError(t *testing.T) {
	// Both invocations wait for the same environment, or the second finds
	// it failed and tries another: either way both fail with the posted
	// error.
	_, c := rtServer(t, emulator.Function{MaxConcurrencyPerEnvironment: 4, Environment: map[string]string{"TEST_INIT": "post-error"}})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("rt"), Payload: rtPayload("echo")})
			if err != nil {
				t.Errorf("invoke: %v", err)
				return
			}
			if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorType":"InitFailure"`) {
				t.Errorf("invocation: %s %s, want the init error", aws.ToString(out.FunctionError), out.Payload)
			}
		})
	}
	wg.Wait()
}

func TestCommand_ManagedLog(t *testing.T) {
	_, c := rtServer(t, emulator.Function{MaxConcurrencyPerEnvironment: 2})
	call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("print", "message", "hello from a slot")})
	call.result(t)
	if body := between(t, call.log); !strings.Contains(body, "hello from a slot\n") || !strings.Contains(body, "stderr: hello from a slot") {
		t.Errorf("log lacks the invocation's output:\n%s", call.log)
	}
}
