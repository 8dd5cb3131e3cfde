package lambdafan_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

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
	if got := srv.Emulator.Executions()[`"x"`]; got != 1 {
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
			if got := srv.Emulator.Executions()[`"p"`]; tt.typ == lambdafan.RequestResponse && got > 1 {
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
	if got := srv.Emulator.Executions()[`"p"`]; got != 2 {
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
	c, err := lambdafan.New(lambdafan.Config{AWS: awsCfg, EndpointURL: "http://" + addr,
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
	// while it waits, the second request must go through. On synctest's
	// virtual clock the second is done at 0 s and the retry at 1 s.
	synctest.Test(t, func(t *testing.T) {
		c := inProcessClient(t, lambdafan.Config{Concurrency: 1}, emulator.Config{
			Functions: emulator.BuiltinFunctions(),
			Faults:    emulator.Faults{Schedule: firstN(1, emulator.FaultThrottleRetryAfter), RetryAfter: time.Second},
		})
		reqs := []lambdafan.Request{{ID: "throttled", FunctionName: "echo"}, {ID: "next", FunctionName: "echo"}}
		t0 := time.Now()
		var order []string
		var done []time.Duration
		for r := range c.Stream(t.Context(), slices.Values(reqs)) {
			if r.Err != nil {
				t.Fatalf("%s: %v", r.ID, r.Err)
			}
			order = append(order, r.ID)
			done = append(done, time.Since(t0))
		}
		if !slices.Equal(order, []string{"next", "throttled"}) {
			t.Errorf("completion order %v: the throttled request's wait blocked the worker", order)
		}
		if !slices.Equal(done, []time.Duration{0, time.Second}) {
			t.Errorf("results after %v, want after 0s and the Retry-After 1s", done)
		}
	})
}

// TestRetry_CertificateErrorsAreNotRetried: a certificate that fails
// verification fails every attempt the same way; it is not retried.
func TestRetry_CertificateErrorsAreNotRetried(t *testing.T) {
	var reached atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000004")
		fmt.Fprint(w, `{}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	trusting, err := config.LoadDefaultConfig(t.Context(), config.WithCustomCABundle(bytes.NewReader(bundle)),
		config.WithRegion("us-east-1"), config.WithCredentialsProvider(staticAWS().Credentials))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		awsCfg   aws.Config
		endpoint string
		want     error
	}{
		// httptest's certificate is signed by an authority nobody trusts.
		{"unknown authority", staticAWS(), srv.URL, x509.UnknownAuthorityError{}},
		// Trusted, but issued for 127.0.0.1 and example.com only.
		{"wrong host name", trusting, "https://localhost:" + port, x509.HostnameError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := lambdafan.New(lambdafan.Config{AWS: tt.awsCfg, EndpointURL: tt.endpoint,
				BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			before := reached.Load()
			r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "f"})
			var te *lambdafan.TransportError
			if !errors.As(r.Err, &te) || te.Sent || r.Attempts != 1 {
				t.Fatalf("result %+v (err %v), want a TransportError after exactly 1 attempt", r, r.Err)
			}
			if target := reflect.New(reflect.TypeOf(tt.want)).Interface(); !errors.As(r.Err, target) {
				t.Errorf("err %v, want a %T", r.Err, tt.want)
			}
			if n := reached.Load() - before; n != 0 {
				t.Errorf("%d requests reached the server", n)
			}
		})
	}
}

func TestNotExecutedErrorTypes(t *testing.T) {
	types := lambdafan.NotExecutedErrorTypes()
	if len(types) == 0 {
		t.Fatal("no error types")
	}
	for _, typ := range types {
		// A status other than 429, so that the type alone decides.
		err := &lambdafan.InvokeError{StatusCode: 502, Type: typ}
		if got := lambdafan.ClassifyRetry(err, lambdafan.RequestResponse); got != lambdafan.RetryClassSafe {
			t.Errorf("ClassifyRetry(%s) = %v, want safe", typ, got)
		}
	}
	types[0] = "ServiceException"
	if lambdafan.NotExecutedErrorTypes()[0] == "ServiceException" {
		t.Error("changing the returned slice changed the list")
	}
	if got := lambdafan.ClassifyRetry(&lambdafan.InvokeError{StatusCode: 502, Type: "ServiceException"}, lambdafan.RequestResponse); got == lambdafan.RetryClassSafe {
		t.Error("ServiceException is retried as safe")
	}
}
