package emulator_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
	"github.com/lambdafan/lambdafan/internal/nodetest"
)

// nodeFunction returns a function named name whose code is index.mjs with
// source, in a code directory of its own, run by the Node.js runtime
// interface client with the handler index.handler.
func nodeFunction(t *testing.T, name, source string) emulator.Function {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.mjs"), []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	return emulator.Function{Name: name, Command: nodetest.RIC(t), CodeDir: dir, RuntimeHandler: "index.handler"}
}

// nodeResult is what the test modules' handlers return.
type nodeResult struct {
	PID     int    `json:"pid"`
	Ticks   int    `json:"ticks"`
	Cwd     string `json:"cwd"`
	TaskDir string `json:"taskRoot"`
	Handler string `json:"handler"`
	Region  string `json:"region"`
}

// slowInitModule takes 2 s to initialise and waits event.ms in its
// handler; a 10 ms interval counts ticks.
const slowInitModule = `
let ticks = 0;
setInterval(() => { ticks++; }, 10);
await new Promise((resolve) => setTimeout(resolve, 2000));
console.log("init done");
export const handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, event.ms || 0));
  return {pid: process.pid, ticks, cwd: process.cwd(), taskRoot: process.env.LAMBDA_TASK_ROOT,
    handler: process.env._HANDLER, region: process.env.AWS_REGION};
};
`

// TestNode_Lifecycle runs a Node.js module through AWS's runtime
// interface client: a 2 s module init and a 1.5 s handler fit a 3 s
// timeout (the init phase is not the function's); the module loads from
// the code directory the process runs in, with _HANDLER index.handler;
// the handler sees the region it was invoked in; and its environment is
// frozen between invocations.
func TestNode_Lifecycle(t *testing.T) {
	fn := nodeFunction(t, "node", slowInitModule)
	fn.Timeout = 3 * time.Second
	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{fn}})
	cfg := srv.AWSConfig()
	cfg.Region = "eu-west-1"
	c := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
	invoke := func(ms int) (nodeResult, rtCall) {
		t.Helper()
		call := rtInvoke(t, c, &lambda.InvokeInput{FunctionName: aws.String("node"), Payload: rtPayload("", "ms", ms)})
		if call.out.FunctionError != nil {
			t.Fatalf("function error %s: %s\nlog:\n%s", *call.out.FunctionError, call.out.Payload, call.log)
		}
		var r nodeResult
		if err := json.Unmarshal(call.out.Payload, &r); err != nil {
			t.Fatalf("payload %s: %v", call.out.Payload, err)
		}
		return r, call
	}

	r, call := invoke(1500)
	if d := reportField(t, call.log, "Init Duration"); d < 2000 {
		t.Errorf("Init Duration %v ms, want ≥ 2000:\n%s", d, call.log)
	}
	if d := reportField(t, call.log, "Duration"); d < 1500 || d >= 2000 {
		t.Errorf("Duration %v ms, want the handler's 1.5 s alone:\n%s", d, call.log)
	}
	if !regexp.MustCompile(`(?s)^INIT_START [^\n]*\n.*init done\n.*START RequestId: `).MatchString(call.log) {
		t.Errorf("log lacks INIT_START and the init output before START:\n%s", call.log)
	}
	if r.Cwd != fn.CodeDir || r.TaskDir != fn.CodeDir || r.Handler != "index.handler" {
		t.Errorf("cwd %q, LAMBDA_TASK_ROOT %q, _HANDLER %q; want %q, %q, index.handler", r.Cwd, r.TaskDir, r.Handler, fn.CodeDir, fn.CodeDir)
	}
	if r.Region != "eu-west-1" {
		t.Errorf("AWS_REGION %q, want eu-west-1, the region the call was signed for", r.Region)
	}

	// Frozen between invocations: the interval does not run.
	if processState(r.PID) != "" {
		waitFor(t, "the environment to be frozen", func() bool { return processState(r.PID) == "T" })
	}
	before, _ := invoke(0)
	if processState(r.PID) != "" {
		waitFor(t, "the environment to be frozen", func() bool { return processState(r.PID) == "T" })
	}
	time.Sleep(idleGap) // the time the interval may or may not use
	after, _ := invoke(0)
	if after.PID != r.PID || before.PID != r.PID {
		t.Fatalf("ran in pids %d, %d, %d; want one warm environment", r.PID, before.PID, after.PID)
	}
	if n := after.Ticks - before.Ticks; n > maxFrozenTicks {
		t.Errorf("%d ticks of a 10 ms interval while the environment waited %v, want none (at most %d)", n, idleGap, maxFrozenTicks)
	}
}

// TestNode_Failures: what the Node.js runtime interface client reports —
// a module that does not load, a process that exits, a handler that runs
// out of time — reaches the caller and the log the way Lambda reports it.
func TestNode_Failures(t *testing.T) {
	broken := nodeFunction(t, "broken", "export const handler = async (event) => {\n")
	exits := nodeFunction(t, "exits", `export const handler = async (event) => {
  if (event.exit) { console.log("exiting"); process.exit(42); }
  await new Promise((resolve) => setTimeout(resolve, event.ms || 0));
  return "ok";
};
`)
	exits.Timeout = time.Second
	exits.MemorySize = 2048
	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{broken, exits}})
	c := newClient(srv)

	t.Run("syntax error", func(t *testing.T) {
		call := rtInvoke(t, c, &lambda.InvokeInput{FunctionName: aws.String("broken"), Payload: []byte(`{}`)})
		if typ, _ := call.functionError(t); typ != "Runtime.UserCodeSyntaxError" {
			t.Errorf("errorType %s, want Runtime.UserCodeSyntaxError", typ)
		}
		for _, phase := range []string{"init", "invoke"} {
			want := "INIT_REPORT Init Duration: [0-9.]+ ms\tPhase: " + phase + "\tStatus: error\tError Type: Runtime.UserCodeSyntaxError\n"
			if !regexp.MustCompile(want).MatchString(call.log) {
				t.Errorf("log lacks %q:\n%s", want, call.log)
			}
		}
	})
	t.Run("exit", func(t *testing.T) {
		call := rtInvoke(t, c, &lambda.InvokeInput{FunctionName: aws.String("exits"), Payload: []byte(`{"exit":true}`)})
		typ, msg := call.functionError(t)
		if want := "RequestId: " + call.requestID + " Error: Runtime exited with error: exit status 42"; typ != "Runtime.ExitError" || msg != want {
			t.Errorf("error %s %q, want Runtime.ExitError %q", typ, msg, want)
		}
		if !strings.Contains(call.log, "exiting\n"+msg+"\nRuntime.ExitError\nEND RequestId: ") ||
			!strings.HasSuffix(call.log, "\tStatus: error\tError Type: Runtime.ExitError\n") {
			t.Errorf("log lacks Lambda's crash lines:\n%s", call.log)
		}
		if mb := reportField(t, call.log, "Max Memory Used"); mb <= 0 || mb >= 2048 {
			t.Errorf("Max Memory Used %v MB, want the process's peak:\n%s", mb, call.log)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		call := rtInvoke(t, c, &lambda.InvokeInput{FunctionName: aws.String("exits"), Payload: []byte(`{"ms":5000}`)})
		if typ, _ := call.functionError(t); typ != "Sandbox.Timedout" {
			t.Errorf("errorType %s, want Sandbox.Timedout", typ)
		}
		if !strings.Contains(call.log, " "+call.requestID+" Task timed out after 1.00 seconds\nEND RequestId: ") ||
			!strings.HasSuffix(call.log, "\tStatus: timeout\n") {
			t.Errorf("log lacks Lambda's timeout lines:\n%s", call.log)
		}
		if mb := reportField(t, call.log, "Max Memory Used"); mb <= 0 || mb >= 2048 {
			t.Errorf("Max Memory Used %v MB, want the process's peak:\n%s", mb, call.log)
		}
	})
}
