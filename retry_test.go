package lambdafan_test

import (
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// faulty starts the built-ins with faults chosen by schedule and counts
// executions per payload.
func faulty(t *testing.T, schedule func(n int64) emulator.Fault) *emulatortest.Server {
	t.Helper()
	return emulatortest.New(t, emulator.Config{
		Functions:       emulator.BuiltinFunctions(),
		Faults:          emulator.Faults{Schedule: schedule, RetryAfter: time.Second},
		CountExecutions: true,
	})
}

// firstN injects f into the first n calls.
func firstN(n int64, f emulator.Fault) func(int64) emulator.Fault {
	return func(i int64) emulator.Fault {
		if i < n {
			return f
		}
		return emulator.NoFault
	}
}

var fastRetries = lambdafan.Config{BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

func TestRetry_ThrottledThenOK(t *testing.T) {
	srv := faulty(t, firstN(2, emulator.FaultThrottle))
	c := newClient(t, srv, fastRetries)
	r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo", Payload: []byte(`"x"`)})
	if r.Err != nil || r.Attempts != 3 || string(r.Payload) != `"x"` {
		t.Fatalf("result %+v", r)
	}
	if got := srv.Executions()[`"x"`]; got != 1 {
		t.Errorf("executed %d times", got)
	}
}

func TestRetry_GivesUpAfterMaxAttempts(t *testing.T) {
	srv := faulty(t, firstN(100, emulator.FaultThrottle))
	cfg := fastRetries
	cfg.MaxAttempts = 4
	c := newClient(t, srv, cfg)
	r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo"})
	var ie *lambdafan.InvokeError
	if !errors.As(r.Err, &ie) || !ie.Throttled() || r.Attempts != 4 || r.Outcome() != lambdafan.OutcomeThrottled {
		t.Fatalf("result %+v", r)
	}
}

func TestRetry_RetryAfterBoundedByMaxTime(t *testing.T) {
	// The service asks for 1 s; a 300 ms budget cannot honour it, so the
	// client stops at once instead of retrying early.
	srv := faulty(t, firstN(1, emulator.FaultThrottleRetryAfter))
	cfg := fastRetries
	cfg.MaxTime = 300 * time.Millisecond
	cfg.MaxBackoff = 2 * time.Second // Retry-After is honoured up to MaxBackoff
	c := newClient(t, srv, cfg)
	r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo"})
	var ie *lambdafan.InvokeError
	if !errors.As(r.Err, &ie) || ie.RetryAfter != time.Second || r.Attempts != 1 {
		t.Fatalf("result %+v (err %v)", r, r.Err)
	}
}

func TestRetry_UnsafeFailuresAreNotRetried(t *testing.T) {
	tests := []struct {
		name     string
		fault    emulator.Fault
		typ      lambdafan.InvocationType
		attempts int
		ok       bool
	}{
		{"500 sync", emulator.FaultServerError, lambdafan.RequestResponse, 1, false},
		{"503 sync", emulator.FaultUnavailable, lambdafan.RequestResponse, 1, false},
		{"500 event", emulator.FaultServerError, lambdafan.Event, 1, false},
		{"500 dry run", emulator.FaultServerError, lambdafan.DryRun, 2, true},
		{"502 before execution", emulator.FaultBadGateway, lambdafan.RequestResponse, 2, true},
		{"reset after execution", emulator.FaultResetAfter, lambdafan.RequestResponse, 1, false},
		{"reset before execution", emulator.FaultResetBefore, lambdafan.RequestResponse, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := faulty(t, firstN(1, tt.fault))
			c := newClient(t, srv, fastRetries)
			r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo", InvocationType: tt.typ, Payload: []byte(`"p"`)})
			if r.Attempts != tt.attempts || (r.Err == nil) != tt.ok {
				t.Fatalf("attempts %d err %v; want %d attempts, ok %v", r.Attempts, r.Err, tt.attempts, tt.ok)
			}
			if got := srv.Executions()[`"p"`]; tt.typ == lambdafan.RequestResponse && got > 1 {
				t.Errorf("executed %d times", got)
			}
		})
	}
}

func TestRetry_UnsafeOptIn(t *testing.T) {
	srv := faulty(t, firstN(1, emulator.FaultResetAfter))
	cfg := fastRetries
	cfg.RetryUnsafe = true
	c := newClient(t, srv, cfg)
	r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo", Payload: []byte(`"p"`)})
	if r.Err != nil || r.Attempts != 2 {
		t.Fatalf("result %+v", r)
	}
	// This is the documented price of --retry-unsafe.
	if got := srv.Executions()[`"p"`]; got != 2 {
		t.Errorf("executed %d times, want 2 (the dropped answer's execution, then the retry)", got)
	}
}

func TestRetry_ConnectionRefusedIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	srv := builtins(t)
	awsCfg := srv.AWSConfig()
	c, err := lambdafan.New(t.Context(), lambdafan.Config{AWS: &awsCfg, EndpointURL: "http://" + addr,
		MaxAttempts: 3, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo"})
	var te *lambdafan.TransportError
	if !errors.As(r.Err, &te) || te.Sent || r.Attempts != 3 {
		t.Fatalf("result %+v err %v", r, r.Err)
	}
}

func TestStream_WaitingRetryHoldsNoWorker(t *testing.T) {
	// One worker. The first request is throttled with Retry-After: 1 s;
	// while it waits, the second request must go through.
	srv := faulty(t, firstN(1, emulator.FaultThrottleRetryAfter))
	c := newClient(t, srv, lambdafan.Config{Concurrency: 1})
	reqs := []lambdafan.Request{{ID: "throttled", FunctionName: "echo"}, {ID: "next", FunctionName: "echo"}}
	var order []string
	for r := range c.Stream(t.Context(), slices.Values(reqs)) {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.ID, r.Err)
		}
		order = append(order, r.ID)
	}
	if !slices.Equal(order, []string{"next", "throttled"}) {
		t.Errorf("completion order %v: the throttled request's wait blocked the worker", order)
	}
}
