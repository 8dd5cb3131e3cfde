package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// outcome is the result of one synchronous call in a burst.
type outcome struct {
	payload string
	err     error
}

// burst invokes function n times at once, each with a distinct payload,
// and sends each outcome on the returned channel as it completes.
func burst(t *testing.T, client *lambda.Client, function string, n int) <-chan outcome {
	t.Helper()
	out := make(chan outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(function), Payload: fmt.Appendf(nil, "%d", i)})
			o := outcome{err: err}
			if err == nil {
				o.payload = string(res.Payload)
			}
			out <- o
		})
	}
	t.Cleanup(wg.Wait)
	return out
}

// throttleReason returns the Reason of a TooManyRequestsException, or
// fails the test.
func throttleReason(t *testing.T, err error) types.ThrottleReason {
	t.Helper()
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) {
		t.Fatalf("got %v, want TooManyRequestsException", err)
	}
	return tm.Reason
}

func TestServer_Throttling(t *testing.T) {
	t.Run("reserved concurrency", func(t *testing.T) {
		const reserved, calls = 5, 50
		b := newBlocker(calls)
		srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{
			{Name: "slow", Handler: b, ReservedConcurrency: ptr(reserved)},
		}})
		results := burst(t, newClient(srv), "slow", calls)

		// While the first five block, every other call is throttled.
		for range reserved {
			<-b.started
		}
		for range calls - reserved {
			o := <-results
			if r := throttleReason(t, o.err); r != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
				t.Errorf("reason %q", r)
			}
		}
		close(b.release)
		for range reserved {
			if o := <-results; o.err != nil {
				t.Errorf("a running call failed: %v", o.err)
			}
		}
		if st := srv.Emulator.Stats(); st.Executions != reserved || st.Throttles != calls-reserved || st.Requests != calls {
			t.Errorf("stats: %d executions, %d throttles, %d requests; want %d, %d, %d",
				st.Executions, st.Throttles, st.Requests, reserved, calls-reserved, calls)
		}
	})

	t.Run("account concurrency", func(t *testing.T) {
		const account, calls = 4, 12
		b := newBlocker(calls)
		srv := emulatortest.New(t, emulator.Config{
			AccountConcurrency: account,
			Functions: []emulator.Function{
				{Name: "shared", Handler: b},
				{Name: "reserved", Handler: b, ReservedConcurrency: ptr(1)},
			},
		})
		client := newClient(srv)
		// "reserved" holds one of the four; the unreserved pool has three.
		reservedDone := burst(t, client, "reserved", 1)
		<-b.started
		results := burst(t, client, "shared", calls)
		for range account - 1 {
			<-b.started
		}
		for range calls - (account - 1) {
			if r := throttleReason(t, (<-results).err); r != types.ThrottleReasonConcurrentInvocationLimitExceeded {
				t.Errorf("reason %q, want ConcurrentInvocationLimitExceeded", r)
			}
		}
		close(b.release)
		for range account - 1 {
			if o := <-results; o.err != nil {
				t.Error(o.err)
			}
		}
		if o := <-reservedDone; o.err != nil {
			t.Error(o.err)
		}
	})

	t.Run("reserved zero throttles every call", func(t *testing.T) {
		srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{
			{Name: "off", Handler: emulator.HandlerFunc(func(_ context.Context, inv *emulator.Invocation) ([]byte, error) {
				t.Error("a function with reserved concurrency 0 ran")
				return nil, nil
			}), ReservedConcurrency: ptr(0)},
		}})
		for o := range take(burst(t, newClient(srv), "off", 5), 5) {
			if r := throttleReason(t, o.err); r != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
				t.Errorf("reason %q", r)
			}
		}
		if st := srv.Emulator.Stats(); st.Throttles != 5 || st.Executions != 0 {
			t.Errorf("%d throttles, %d executions; want 5, 0", st.Throttles, st.Executions)
		}
	})

	t.Run("events wait for concurrency instead of being throttled", func(t *testing.T) {
		b := newBlocker(8)
		srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{
			{Name: "one", Handler: b, ReservedConcurrency: ptr(1)},
		}})
		client := newClient(srv)
		syncDone := burst(t, client, "one", 1)
		<-b.started // the only concurrent execution is taken
		for i := range 3 {
			out, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("one"),
				InvocationType: types.InvocationTypeEvent, Payload: fmt.Appendf(nil, `"event %d"`, i)})
			if err != nil || out.StatusCode != 202 {
				t.Fatalf("event %d: %v, status %d; want 202", i, err, out.StatusCode)
			}
		}
		if n := len(b.started); n != 0 {
			t.Fatalf("%d events started while the function had no free concurrency", n)
		}
		close(b.release)
		if o := <-syncDone; o.err != nil {
			t.Fatal(o.err)
		}
		for i := range 3 { // in arrival order
			if p := <-b.started; p != fmt.Sprintf(`"event %d"`, i) {
				t.Errorf("event %d ran with %s", i, p)
			}
		}
		if err := srv.Emulator.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if st := srv.Emulator.Stats(); st.Throttles != 0 || st.EventsQueued != 3 || st.EventsSucceeded != 3 || st.Executions != 4 {
			t.Errorf("stats %+v; want no throttles, 3 events queued and succeeded, 4 executions", st)
		}
	})
}

// take yields the first n values of c.
func take[T any](c <-chan T, n int) <-chan T {
	out := make(chan T, n)
	for range n {
		out <- <-c
	}
	close(out)
	return out
}

// TestServer_TimeoutAtDeadline checks that an invocation times out by the
// deadline the runtime is handed, to the millisecond of
// Lambda-Runtime-Deadline-Ms: a runtime whose own context expires there
// answers with a context error, and that answer is a timeout, not a
// function error. The server runs in a synctest bubble, whose virtual
// clock is moved half a millisecond off the millisecond grid first, so the
// truncated deadline falls strictly before the unrounded one.
func TestServer_TimeoutAtDeadline(t *testing.T) {
	const timeout = time.Second
	for _, tc := range []struct {
		name string
		// answer is when the handler answers, from the millisecond
		// deadline the runtime sees.
		answer      time.Duration
		wantTimeout bool
	}{
		{"a nanosecond before the deadline", -time.Nanosecond, false},
		{"at the deadline", 0, true},
		{"after the deadline", 2 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				time.Sleep(500 * time.Microsecond) // virtual: sets the clock off the millisecond grid
				emu, err := emulator.New(emulator.Config{NoAuth: true, Functions: []emulator.Function{{
					Name:    "f",
					Timeout: timeout,
					Handler: emulator.HandlerFunc(func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) {
						// What a runtime sees: the deadline in Unix milliseconds.
						seen := time.UnixMilli(inv.Deadline.UnixMilli())
						at := time.NewTimer(time.Until(seen.Add(tc.answer)))
						defer at.Stop()
						select {
						case <-at.C:
						case <-ctx.Done():
						}
						if !time.Now().Before(seen) {
							return nil, context.DeadlineExceeded // the runtime's own context expired
						}
						return []byte(`"done"`), nil
					}),
				}}})
				if err != nil {
					t.Fatal(err)
				}
				defer emu.Close()
				w := httptest.NewRecorder()
				emu.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), http.MethodPost, invokePath("f"), strings.NewReader(`{}`)))
				body := w.Body.String()
				gotTimeout := w.Header().Get("X-Amz-Function-Error") == "Unhandled" && strings.Contains(body, `"errorType":"Sandbox.Timedout"`)
				if gotTimeout != tc.wantTimeout {
					t.Errorf("answer %v from the millisecond deadline: %d %q %s; want a timeout: %v",
						tc.answer, w.Code, w.Header().Get("X-Amz-Function-Error"), body, tc.wantTimeout)
				}
				if !tc.wantTimeout && body != `"done"` {
					t.Errorf("body %s, want \"done\"", body)
				}
			})
		})
	}
}
