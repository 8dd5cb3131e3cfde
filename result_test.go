package lambdafan_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
)

// TestResult_StartAndEnd: a result says when its first attempt started
// and when it was settled, on the client's clock (synctest's virtual one
// here), across retries; a request never sent has an end and no start.
func TestResult_StartAndEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := inProcessClient(t, lambdafan.Config{}, emulator.Config{
			Functions: emulator.BuiltinFunctions(),
			Faults:    emulator.Faults{Schedule: firstN(1, emulator.FaultThrottleRetryAfter), RetryAfter: time.Second},
		})
		check := func(name string, r lambdafan.Result, wantStart, wantEnd time.Time, wantAttempts int) {
			t.Helper()
			if !r.Start.Equal(wantStart) || !r.End.Equal(wantEnd) || r.Attempts != wantAttempts {
				t.Errorf("%s: start %v end %v attempts %d (err %v), want start %v end %v attempts %d",
					name, r.Start, r.End, r.Attempts, r.Err, wantStart, wantEnd, wantAttempts)
			}
			if !r.Start.IsZero() && r.End.Sub(r.Start) != r.Latency {
				t.Errorf("%s: end - start = %v, latency %v", name, r.End.Sub(r.Start), r.Latency)
			}
		}

		// Throttled once (Retry-After 1 s), then answered: the start is
		// the first attempt's.
		t0 := time.Now()
		check("retried", c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo"}), t0, t0.Add(time.Second), 2)

		time.Sleep(time.Minute)
		t1 := time.Now()
		r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "sleep", Payload: []byte(`{"ms":1500}`)})
		check("slow", r, t1, t1.Add(1500*time.Millisecond), 1)

		t2 := time.Now()
		check("invalid", c.Invoke(t.Context(), lambdafan.Request{FunctionName: "no such function!"}), time.Time{}, t2, 0)

		cancelled, cancel := context.WithCancel(t.Context())
		cancel()
		check("cancelled before sending", c.Invoke(cancelled, lambdafan.Request{FunctionName: "echo"}), time.Time{}, t2, 0)
	})
}
