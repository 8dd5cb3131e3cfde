package emulator_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// reportField returns a REPORT field of log in milliseconds or MB, e.g.
// reportField(t, log, "Duration"), or -1 when the field is absent.
func reportField(t testing.TB, log, field string) float64 {
	t.Helper()
	report := log[strings.LastIndex(log, "REPORT RequestId:"):]
	m := regexp.MustCompile(`\t` + field + `: ([0-9.]+) (ms|MB)`).FindStringSubmatch(report)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("REPORT %s: %v", field, err)
	}
	return v
}

// TestCommand_InitPhaseOutsideTimeout: a new environment's init phase has
// its own limit, and the function's timeout starts when the runtime first
// asks for an invocation. A 700 ms init and a 500 ms handler fit a 1 s
// timeout; REPORT's Duration excludes the init, Init Duration shows it.
func TestCommand_InitPhaseOutsideTimeout(t *testing.T) {
	_, c := rtServer(t, emulator.Function{Timeout: time.Second, Environment: map[string]string{"TEST_INIT_MS": "700"}})
	before := time.Now()
	call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("context")})
	r := call.result(t) // it timed out when init counted
	if d := reportField(t, call.log, "Init Duration"); d < 700 {
		t.Errorf("Init Duration %v ms, want ≥ 700:\n%s", d, call.log)
	}
	if d := reportField(t, call.log, "Duration"); d < 0 || d >= 700 {
		t.Errorf("Duration %v ms, want the handler's alone:\n%s", d, call.log)
	}
	// The deadline handed to the runtime counts from the end of init.
	if d := time.UnixMilli(r.DeadlineMS).Sub(before); d < 1700*time.Millisecond {
		t.Errorf("deadline %v after the call, want ≥ 1.7 s (700 ms init + 1 s)", d)
	}

	// The handler's own time still counts.
	call = rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("sleep", "ms", 1500)})
	if typ, _ := call.functionError(t); typ != "Sandbox.Timedout" {
		t.Errorf("a 1.5 s handler: %s, want Sandbox.Timedout", typ)
	}
}

// TestCommand_InitFailureReports: an init phase that fails is reported
// with INIT_REPORT (Phase: init), retried for the waiting invocation under
// its timeout (Phase: invoke), and the invocation fails with what the
// runtime reported, REPORT saying Status: error.
func TestCommand_InitFailureReports(t *testing.T) {
	tests := []struct {
		name, init, typ, errorType string
	}{
		// The test handler posts errorType "InitFailure", which Lambda
		// would not keep as an Error Type.
		{name: "posted to init/error", init: "post-error", typ: "InitFailure", errorType: "Runtime.Unknown"},
		{name: "exit during init", init: "exit", typ: "Runtime.ExitError", errorType: "Runtime.ExitError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The invocation re-runs the failed init under the function's
			// timeout: a generous one, so that a loaded machine starting
			// the process twice under -race cannot turn the error into a
			// timeout (timeouts have tests of their own).
			_, c := rtServer(t, emulator.Function{Environment: map[string]string{"TEST_INIT": tt.init}, Timeout: 60 * time.Second})
			call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")})
			if typ, _ := call.functionError(t); typ != tt.typ {
				t.Errorf("errorType %s, want %s", typ, tt.typ)
			}
			for _, phase := range []string{"init", "invoke"} {
				want := "INIT_REPORT Init Duration: [0-9.]+ ms\tPhase: " + phase + "\tStatus: error\tError Type: " + regexp.QuoteMeta(tt.errorType) + "\n"
				if !regexp.MustCompile(want).MatchString(call.log) {
					t.Errorf("log lacks %q:\n%s", want, call.log)
				}
			}
			if tt.init == "exit" && strings.Count(call.log, "exiting during init\nINIT_REPORT ") != 2 {
				t.Errorf("what each init printed does not come before its INIT_REPORT:\n%s", call.log)
			}
			if !strings.HasSuffix(call.log, "\tStatus: error\tError Type: "+tt.errorType+"\n") {
				t.Errorf("REPORT does not end with Status: error, Error Type: %s:\n%s", tt.errorType, call.log)
			}
			if reportField(t, call.log, "Init Duration") >= 0 {
				t.Errorf("REPORT shows an Init Duration for a failed init:\n%s", call.log)
			}
		})
	}
}

// TestCommand_InitTimeout: an init phase over its limit is reported as a
// timeout and retried for the invocation under the function's timeout (a
// suppressed init): one that still does not finish in time fails the
// invocation with Sandbox.Timedout, one that does runs it, the retried
// init counted in Duration.
func TestCommand_InitTimeout(t *testing.T) {
	newServer := func(t *testing.T, timeout time.Duration, initMS string) *lambda.Client {
		srv := emulatortest.New(t, emulator.WithInitTimeout(emulator.Config{Functions: []emulator.Function{{
			Name:        "rt",
			Command:     []string{emulator.RuntimeHandlerBinary(t)},
			Timeout:     timeout,
			Environment: map[string]string{"TEST_INIT_MS": initMS},
		}}}, 200*time.Millisecond))
		return newClient(srv)
	}
	t.Run("retry too slow", func(t *testing.T) {
		c := newServer(t, time.Second, "1500")
		call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")})
		typ, msg := call.functionError(t)
		if want := "RequestId: " + call.requestID + " Error: Task timed out after 1.00 seconds"; typ != "Sandbox.Timedout" || msg != want {
			t.Errorf("error %s %q, want Sandbox.Timedout %q", typ, msg, want)
		}
		for _, want := range []string{
			"INIT_REPORT Init Duration: [0-9.]+ ms\tPhase: init\tStatus: timeout\n",
			"INIT_REPORT Init Duration: [0-9.]+ ms\tPhase: invoke\tStatus: timeout\n",
			"\n[0-9-]{10}T[0-9:.]{12}Z " + call.requestID + " Task timed out after 1.00 seconds\n",
			"\tStatus: timeout\n$",
		} {
			if !regexp.MustCompile(want).MatchString(call.log) {
				t.Errorf("log lacks %q:\n%s", want, call.log)
			}
		}
	})
	t.Run("retry in time", func(t *testing.T) {
		c := newServer(t, 3*time.Second, "400")
		call := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("echo")})
		call.result(t)
		if !strings.Contains(call.log, "\tPhase: init\tStatus: timeout\n") || strings.Contains(call.log, "Phase: invoke") {
			t.Errorf("want one INIT_REPORT, for the init phase:\n%s", call.log)
		}
		if d := reportField(t, call.log, "Duration"); d < 400 {
			t.Errorf("Duration %v ms, want the retried init (≥ 400 ms) in it:\n%s", d, call.log)
		}
		if reportField(t, call.log, "Init Duration") >= 0 {
			t.Errorf("REPORT shows an Init Duration after a suppressed init:\n%s", call.log)
		}
	})
}

// TestCommand_ExitAndTimeoutLogs: a crash and a timeout are logged the way
// Lambda logs them, and REPORT shows the processes' measured peak memory,
// not the configured size.
func TestCommand_ExitAndTimeoutLogs(t *testing.T) {
	_, c := rtServer(t, emulator.Function{Timeout: time.Second, MemorySize: 1024})

	crash := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("exit", "code", 42)})
	want := "exiting with 42\nRequestId: " + crash.requestID + " Error: Runtime exited with error: exit status 42\nRuntime.ExitError\nEND RequestId: " + crash.requestID + "\n"
	if !strings.Contains(crash.log, want) {
		t.Errorf("crash log lacks\n%s\nin\n%s", want, crash.log)
	}
	if !strings.HasSuffix(crash.log, "\tStatus: error\tError Type: Runtime.ExitError\n") {
		t.Errorf("crash REPORT lacks Status: error, Error Type: Runtime.ExitError:\n%s", crash.log)
	}

	timeout := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("sleep", "ms", 5000)})
	if !regexp.MustCompile(`\n[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z ` + timeout.requestID + " Task timed out after 1.00 seconds\nEND RequestId: ").MatchString(timeout.log) {
		t.Errorf("timeout log lacks the Task timed out line:\n%s", timeout.log)
	}
	if !strings.HasSuffix(timeout.log, "\tStatus: timeout\n") || reportField(t, timeout.log, "Duration") != 1000 {
		t.Errorf("timeout REPORT lacks Duration: 1000.00 ms and Status: timeout:\n%s", timeout.log)
	}

	for _, call := range []rtCall{crash, timeout} {
		if mb := reportField(t, call.log, "Max Memory Used"); mb <= 0 || mb >= 1024 {
			t.Errorf("Max Memory Used %v MB, want the process's peak, not the memory size:\n%s", mb, call.log)
		}
	}
}

// TestCommand_Region: a handler sees the region its invocation was
// signed for, and each region has its own environments.
func TestCommand_Region(t *testing.T) {
	srv, _ := rtServer(t, emulator.Function{})
	for _, region := range []string{"eu-west-1", "us-east-1", "eu-west-1"} {
		cfg := srv.AWSConfig()
		cfg.Region = region
		c := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
		r := rtInvoke(t, c, &lambda.InvokeInput{Payload: rtPayload("context")}).result(t)
		if r.Env["AWS_REGION"] != region || r.Env["AWS_DEFAULT_REGION"] != region {
			t.Errorf("signed for %s: AWS_REGION %q, AWS_DEFAULT_REGION %q", region, r.Env["AWS_REGION"], r.Env["AWS_DEFAULT_REGION"])
		}
		if !strings.Contains(r.FunctionARN, ":"+region+":") {
			t.Errorf("signed for %s: invoked ARN %s", region, r.FunctionARN)
		}
	}
	if got := srv.Emulator.Stats().ColdStarts; got != 2 {
		t.Errorf("ColdStarts = %d, want one environment per region", got)
	}
}
