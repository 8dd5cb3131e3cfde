package emulator_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// rtResult is what the runtime handler (RuntimeHandlerBinary) returns.
type rtResult struct {
	PID           int               `json:"pid"`
	Start         int64             `json:"start"`
	End           int64             `json:"end"`
	RequestID     string            `json:"requestId"`
	FunctionARN   string            `json:"functionArn"`
	DeadlineMS    int64             `json:"deadlineMs"`
	TraceID       string            `json:"traceId"`
	ClientCustom  map[string]string `json:"clientCustom"`
	ClientEnv     map[string]string `json:"clientEnv"`
	ClientAppName string            `json:"clientAppName"`
	Env           map[string]string `json:"env"`
	Ticks         int64             `json:"ticks"`
	Cwd           string            `json:"cwd"`
}

// rtServer serves fn, run by the test handler binary unless fn names a
// command, and returns a retry-less SDK client for it.
func rtServer(t testing.TB, fn emulator.Function) (*emulatortest.Server, *lambda.Client) {
	t.Helper()
	if fn.Command == nil {
		fn.Command = []string{emulator.RuntimeHandlerBinary(t)}
	}
	if fn.Name == "" {
		fn.Name = "rt"
	}
	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{fn}})
	return srv, lambda.NewFromConfig(srv.AWSConfig(), func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
}

// rtCall is one synchronous invocation with LogType Tail.
type rtCall struct {
	out       *lambda.InvokeOutput
	log       string
	requestID string
}

func rtInvoke(t testing.TB, c *lambda.Client, in *lambda.InvokeInput) rtCall {
	t.Helper()
	if in.FunctionName == nil {
		in.FunctionName = aws.String("rt")
	}
	in.LogType = types.LogTypeTail
	out, err := c.Invoke(context.Background(), in)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	logs, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatalf("log result: %v", err)
	}
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	return rtCall{out: out, log: string(logs), requestID: id}
}

func rtPayload(action string, fields ...any) []byte {
	m := map[string]any{"action": action}
	for i := 0; i+1 < len(fields); i += 2 {
		m[fields[i].(string)] = fields[i+1]
	}
	b, _ := json.Marshal(m)
	return b
}

// result decodes a successful invocation's payload.
func (c rtCall) result(t testing.TB) rtResult {
	t.Helper()
	if c.out.FunctionError != nil {
		t.Fatalf("function error %s: %s\nlog:\n%s", *c.out.FunctionError, c.out.Payload, c.log)
	}
	var r rtResult
	if err := json.Unmarshal(c.out.Payload, &r); err != nil {
		t.Fatalf("payload %s: %v", c.out.Payload, err)
	}
	return r
}

// functionError checks the invocation failed as Unhandled and returns its
// error document.
func (c rtCall) functionError(t testing.TB) (errorType, message string) {
	t.Helper()
	if aws.ToString(c.out.FunctionError) != "Unhandled" {
		t.Fatalf("FunctionError = %q, want Unhandled; payload %s", aws.ToString(c.out.FunctionError), c.out.Payload)
	}
	var doc struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(c.out.Payload, &doc); err != nil {
		t.Fatalf("error payload %s: %v", c.out.Payload, err)
	}
	return doc.ErrorType, doc.ErrorMessage
}

// between returns the part of log between its START and END lines.
func between(t testing.TB, log string) string {
	t.Helper()
	start, end := strings.Index(log, "START RequestId:"), strings.Index(log, "END RequestId:")
	if start < 0 || end < start {
		t.Fatalf("log lacks START/END lines:\n%s", log)
	}
	body := log[start:end]
	return body[strings.IndexByte(body, '\n')+1:]
}

var initDuration = regexp.MustCompile(`Init Duration: [0-9.]+ ms`)

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestCommand_ConcurrentEnvironments(t *testing.T) {
	_, c := rtServer(t, emulator.Function{})
	const n = 50
	results := make([]rtResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("rt"), Payload: rtPayload("sleep", "ms", 100)})
			if err != nil {
				t.Errorf("invoke %d: %v", i, err)
				return
			}
			if out.FunctionError != nil {
				t.Errorf("invoke %d: %s", i, out.Payload)
				return
			}
			if err := json.Unmarshal(out.Payload, &results[i]); err != nil {
				t.Errorf("invoke %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	pids := map[int]bool{}
	for _, r := range results {
		pids[r.PID] = true
	}
	most := mostAtOnce(results)
	t.Logf("%d invocations in %d processes, at most %d at once", n, len(pids), most)
	if len(pids) < 10 {
		t.Errorf("ran in %d processes, want ≥ 10", len(pids))
	}
	if most < 10 {
		t.Errorf("at most %d invocations overlapped, want ≥ 10", most)
	}
}

func TestCommand_WarmReuse(t *testing.T) {
	srv, c := rtServer(t, emulator.Function{})
	var pid int
	for i := range 3 {
		call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")})
		r := call.result(t)
		if i == 0 {
			pid = r.PID
			if !initDuration.MatchString(call.log) {
				t.Errorf("cold start log lacks Init Duration:\n%s", call.log)
			}
			// As in Lambda, INIT_START and the init output precede START.
			if !regexp.MustCompile(`^INIT_START Runtime Version: \S+\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}\ninit: runtimehandler ready\nSTART RequestId: `).MatchString(call.log) {
				t.Errorf("cold start log lacks INIT_START and the output printed during init before START:\n%s", call.log)
			}
			continue
		}
		if r.PID != pid {
			t.Errorf("invocation %d ran in pid %d, want the warm %d", i, r.PID, pid)
		}
		if initDuration.MatchString(call.log) {
			t.Errorf("warm invocation %d reports an Init Duration:\n%s", i, call.log)
		}
	}
	if got := srv.Emulator.Stats().ColdStarts; got != 1 {
		t.Errorf("ColdStarts = %d, want 1", got)
	}
}

func TestCommand_Timeout(t *testing.T) {
	_, c := rtServer(t, emulator.Function{Timeout: time.Second})
	pid := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")}).result(t).PID

	call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("sleep", "ms", 5000)})
	typ, msg := call.functionError(t)
	want := "RequestId: " + call.requestID + " Error: Task timed out after 1.00 seconds"
	if typ != "Sandbox.Timedout" || msg != want {
		t.Errorf("error = %s %q, want Sandbox.Timedout %q", typ, msg, want)
	}
	if !processGone(pid) {
		t.Errorf("process %d still exists after the timeout", pid)
	}

	assertColdStartAfter(t, c, pid, "a timeout")
}

// assertColdStartAfter checks that the invocation after the one that ended
// process pid (by what) runs in a new process started for it.
func assertColdStartAfter(t *testing.T, c *lambda.Client, pid int, what string) {
	t.Helper()
	next := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")})
	if r := next.result(t); r.PID == pid {
		t.Errorf("the invocation after %s ran in the ended pid %d", what, pid)
	}
	if !initDuration.MatchString(next.log) {
		t.Errorf("the invocation after %s was not a cold start:\n%s", what, next.log)
	}
}

func TestCommand_CrashRestart(t *testing.T) {
	_, c := rtServer(t, emulator.Function{})
	pid := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")}).result(t).PID

	call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("exit", "code", 42)})
	typ, msg := call.functionError(t)
	want := "RequestId: " + call.requestID + " Error: Runtime exited with error: exit status 42"
	if typ != "Runtime.ExitError" || msg != want {
		t.Errorf("error = %s %q, want Runtime.ExitError %q", typ, msg, want)
	}
	if !strings.Contains(between(t, call.log), "exiting with 42") {
		t.Errorf("log lacks what the process printed before it exited:\n%s", call.log)
	}
	if !processGone(pid) {
		t.Errorf("process %d still exists", pid)
	}

	assertColdStartAfter(t, c, pid, "a crash")
}

func TestCommand_InitError(t *testing.T) {
	tests := []struct {
		name, init     string
		typ, msgSuffix string
		log            string
	}{
		{name: "posted to init/error", init: "post-error", typ: "InitFailure", msgSuffix: "init failed on purpose"},
		{name: "exit during init", init: "exit", typ: "Runtime.ExitError", msgSuffix: "Error: Runtime exited with error: exit status 3", log: "exiting during init"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := rtServer(t, emulator.Function{Environment: map[string]string{"TEST_INIT": tt.init}})
			for i := range 2 { // each invocation tries a fresh environment
				call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")})
				typ, msg := call.functionError(t)
				if typ != tt.typ || !strings.HasSuffix(msg, tt.msgSuffix) {
					t.Errorf("invocation %d: error = %s %q, want %s …%q", i, typ, msg, tt.typ, tt.msgSuffix)
				}
				if tt.init == "exit" && !strings.HasPrefix(msg, "RequestId: "+call.requestID+" ") {
					t.Errorf("message %q does not name request %s", msg, call.requestID)
				}
				if !strings.Contains(between(t, call.log), tt.log) {
					t.Errorf("log lacks %q:\n%s", tt.log, call.log)
				}
			}
			if got := srv.Emulator.Stats().ColdStarts; got != 2 {
				t.Errorf("ColdStarts = %d, want 2", got)
			}
		})
	}
}

func TestCommand_HandledError(t *testing.T) {
	_, c := rtServer(t, emulator.Function{})
	call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("fail", "message", "no such order")})
	typ, msg := call.functionError(t)
	if typ != "handledError" || msg != "no such order" {
		t.Errorf("error = %s %q, want handledError %q", typ, msg, "no such order")
	}
	// The environment survives a handled error.
	call2 := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")})
	if initDuration.MatchString(call2.log) {
		t.Errorf("a handled error discarded the environment:\n%s", call2.log)
	}
}

func TestCommand_InvocationContext(t *testing.T) {
	_, c := rtServer(t, emulator.Function{
		Name:        "ctx-fn",
		Timeout:     7 * time.Second,
		MemorySize:  256,
		Environment: map[string]string{"GREETING": "hi", "_LAMBDA_SERVER_PORT": "9999"},
		Aliases:     map[string]string{"live": "$LATEST"},
	})
	cc := base64.StdEncoding.EncodeToString([]byte(`{"client":{"app_title":"tests"},"custom":{"tenant":"t-1"},"env":{"locale":"en"}}`))
	before := time.Now()
	call := rtInvoke(t, c, &lambda.InvokeInput{FunctionName: aws.String("ctx-fn:live"), ClientContext: aws.String(cc), Payload: rtPayload("context")})
	r := call.result(t)

	if r.ClientAppName != "tests" || r.ClientCustom["tenant"] != "t-1" || r.ClientEnv["locale"] != "en" {
		t.Errorf("client context = %q %v %v, want the decoded context", r.ClientAppName, r.ClientCustom, r.ClientEnv)
	}
	if r.RequestID != call.requestID {
		t.Errorf("request ID = %q, want %q", r.RequestID, call.requestID)
	}
	if want := "arn:aws:lambda:us-east-1:123456789012:function:ctx-fn:live"; r.FunctionARN != want {
		t.Errorf("invoked ARN = %q, want %q", r.FunctionARN, want)
	}
	if d := time.UnixMilli(r.DeadlineMS).Sub(before); d < 6*time.Second || d > 8*time.Second {
		t.Errorf("deadline %v after the call, want about 7s", d)
	}
	if !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`).MatchString(r.TraceID) {
		t.Errorf("trace ID = %q", r.TraceID)
	}
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "ctx-fn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/ctx-fn",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"_HANDLER":                        "bootstrap",
		"TZ":                              ":UTC",
		"GREETING":                        "hi",
		"_X_AMZN_TRACE_ID":                r.TraceID,
	}
	for k, v := range want {
		if r.Env[k] != v {
			t.Errorf("$%s = %q, want %q", k, r.Env[k], v)
		}
	}
	for _, k := range []string{"AWS_LAMBDA_LOG_STREAM_NAME", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "LANG", "PATH", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if r.Env[k] == "" {
			t.Errorf("$%s is not set", k)
		}
	}
	if !regexp.MustCompile(`^127\.0\.0\.1:[0-9]+$`).MatchString(r.Env["AWS_LAMBDA_RUNTIME_API"]) {
		t.Errorf("$AWS_LAMBDA_RUNTIME_API = %q, want 127.0.0.1:PORT", r.Env["AWS_LAMBDA_RUNTIME_API"])
	}
	if v, ok := r.Env["_LAMBDA_SERVER_PORT"]; ok {
		t.Errorf("$_LAMBDA_SERVER_PORT = %q; it must never be set", v)
	}
}

func TestCommand_LogTail(t *testing.T) {
	_, c := rtServer(t, emulator.Function{})
	rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")}) // cold start, init output
	call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("print", "message", "hello from the handler")})
	call.result(t)
	body := between(t, call.log)
	if body != "hello from the handler\nstderr: hello from the handler\n" {
		t.Errorf("output between START and END = %q, want the handler's two lines", body)
	}
	if !regexp.MustCompile(`REPORT RequestId: \S+\tDuration: [0-9.]+ ms\tBilled Duration: [0-9]+ ms\tMemory Size: 128 MB\tMax Memory Used: [0-9]+ MB`).MatchString(call.log) {
		t.Errorf("REPORT line missing or malformed:\n%s", call.log)
	}
	// Where /proc reports peak RSS, Max Memory Used is the process's, a
	// few MB for this handler; unmeasured, it would be the memory size.
	if status, err := os.ReadFile("/proc/self/status"); err == nil && bytes.Contains(status, []byte("VmHWM:")) {
		var mb int
		if m := regexp.MustCompile(`Max Memory Used: ([0-9]+) MB`).FindStringSubmatch(call.log); m != nil {
			mb, _ = strconv.Atoi(m[1])
		}
		if mb <= 0 || mb >= 128 {
			t.Errorf("Max Memory Used: %d MB, want the handler's peak RSS, under the memory size 128 MB:\n%s", mb, call.log)
		}
	}
}

func TestCommand_ResponseTooLarge(t *testing.T) {
	_, c := rtServer(t, emulator.Function{})
	call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("big", "size", 7<<20)})
	typ, msg := call.functionError(t)
	if typ != "Function.ResponseSizeTooLarge" || !strings.Contains(msg, "6291556 bytes") {
		t.Errorf("error = %s %q, want Function.ResponseSizeTooLarge", typ, msg)
	}
	// aws-lambda-go exits when its response is refused; the next
	// invocation must still run (in a new environment).
	rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")}).result(t)
}

func TestCommand_RuntimeAPI(t *testing.T) {
	_, c := rtServer(t, emulator.Function{Environment: map[string]string{"TEST_INIT": "probe"}})
	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))
	call := rtInvoke(t, c, &lambda.InvokeInput{ClientContext: aws.String(cc), Payload: []byte(`{"n":1}`)})
	var rep struct {
		Headers    map[string]string
		Payload    string
		StaleCode  int
		StaleBody  string
		UnknownURL int
	}
	if err := json.Unmarshal(call.out.Payload, &rep); err != nil {
		t.Fatalf("payload %s: %v", call.out.Payload, err)
	}
	if rep.Payload != `{"n":1}` {
		t.Errorf("/next body = %q", rep.Payload)
	}
	for _, h := range []string{"Lambda-Runtime-Aws-Request-Id", "Lambda-Runtime-Deadline-Ms", "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id"} {
		if rep.Headers[h] == "" {
			t.Errorf("/next lacks %s", h)
		}
	}
	if got := rep.Headers["Lambda-Runtime-Client-Context"]; got != `{"custom":{"k":"v"}}` {
		t.Errorf("Lambda-Runtime-Client-Context = %q, want the decoded JSON", got)
	}
	if rep.StaleCode != 400 || !strings.Contains(rep.StaleBody, `"errorType":"InvalidRequestID"`) {
		t.Errorf("response for an unknown request ID: %d %s, want 400 InvalidRequestID", rep.StaleCode, rep.StaleBody)
	}
	if rep.UnknownURL != 404 {
		t.Errorf("unknown Runtime API path: %d, want 404", rep.UnknownURL)
	}
	// Without a client context the header is absent.
	call = rtInvoke(t, c, &lambda.InvokeInput{Payload: []byte(`{}`)})
	rep.Headers = nil
	if err := json.Unmarshal(call.out.Payload, &rep); err != nil {
		t.Fatal(err)
	}
	if v, ok := rep.Headers["Lambda-Runtime-Client-Context"]; ok {
		t.Errorf("Lambda-Runtime-Client-Context = %q without a client context", v)
	}
}

func TestCommand_Close(t *testing.T) {
	sigterm := filepath.Join(t.TempDir(), "sigterm")
	emu, err := emulator.New(emulator.Config{NoAuth: true, Functions: []emulator.Function{{
		Name:        "rt",
		Command:     []string{emulator.RuntimeHandlerBinary(t)},
		Environment: map[string]string{"TEST_SIGTERM_FILE": sigterm},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(emu)
	defer hs.Close()
	c := lambda.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), Credentials: aws.AnonymousCredentials{}},
		func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })

	// Three overlapping invocations: three environments.
	var mu sync.Mutex
	pids := map[int]bool{}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("rt"), Payload: rtPayload("sleep", "ms", 200)})
			if err != nil || out.FunctionError != nil {
				t.Errorf("invoke: %v %s", err, out.Payload)
				return
			}
			var r rtResult
			_ = json.Unmarshal(out.Payload, &r)
			mu.Lock()
			pids[r.PID] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	// Their runtimes wait for the next invocation: frozen. Close thaws
	// them to stop them.
	for pid := range pids {
		if runtime.GOOS == "linux" {
			waitFor(t, "the environments to be frozen", func() bool { return processState(pid) == "T" })
		}
	}
	hs.Close()
	if err := emu.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if len(pids) == 0 {
		t.Fatal("no environment ran")
	}
	for pid := range pids {
		if !processGone(pid) {
			t.Errorf("process %d survived Close", pid)
		}
	}
	// The handler asked for SIGTERM with lambda.WithEnableSIGTERM; its
	// hook ran before the process was killed.
	if b, err := os.ReadFile(sigterm); err != nil || !bytes.Contains(b, []byte("SIGTERM received")) {
		t.Errorf("SIGTERM hook did not run: %v %q", err, b)
	}
}

// mostAtOnce returns the most invocations running at one instant, from the
// handler's own start and end times.
func mostAtOnce(results []rtResult) int {
	most := 0
	for _, r := range results {
		running := 0
		for _, o := range results {
			if o.Start <= r.Start && r.Start < o.End {
				running++
			}
		}
		most = max(most, running)
	}
	return most
}
