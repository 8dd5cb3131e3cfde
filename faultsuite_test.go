package lambdafan_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// suiteFaults are the faults of the fault-injection suite, as fractions of
// Invoke calls: 10 % throttles (half with Retry-After), 5 % 500/503, 2 %
// connections reset before and 1 % after the function ran, 1 % answers
// slower than the client's per-attempt timeout.
func suiteFaults() emulator.Faults {
	return emulator.Faults{
		Throttle:           0.05,
		ThrottleRetryAfter: 0.05,
		ServerError:        0.025,
		Unavailable:        0.025,
		ResetBefore:        0.02,
		ResetAfter:         0.01,
		Slow:               0.01,
		RetryAfter:         time.Second,
		SlowDelay:          2 * time.Second,
	}
}

// TestFaultInjectionSuite sends 100,000 synchronous invocations through
// the faults above and checks lambdafan's guarantees: exactly one result
// per request, no request executed twice, no request left throttled,
// goroutines back to their baseline, and a live heap that does not grow
// with the number of requests. With -short it sends 10,000;
// LAMBDAFAN_FAULT_N overrides the count either way (the soak:
// LAMBDAFAN_FAULT_N=1000000).
func TestFaultInjectionSuite(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	if s := os.Getenv("LAMBDAFAN_FAULT_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1000 {
			t.Fatalf("LAMBDAFAN_FAULT_N=%q: want a count of at least 1000", s)
		}
	}
	goroutinesBefore := runtime.NumGoroutine()

	// Executions are counted per request in a slice rather than with the
	// emulator's per-payload map, so that the heap measured below is the
	// client's, not a counter's that grows with n.
	executions := make([]atomic.Int32, n)
	srv := emulatortest.New(t, emulator.Config{
		Functions: []emulator.Function{{Name: "count", Handler: emulator.HandlerFunc(
			func(_ context.Context, inv *emulator.Invocation) ([]byte, error) {
				i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(string(inv.Payload), `{"i":`), "}"))
				if err != nil || i < 0 || i >= n {
					return nil, fmt.Errorf("unexpected payload %s", inv.Payload)
				}
				executions[i].Add(1)
				return inv.Payload, nil
			})}},
		Faults: suiteFaults(),
	})
	c := newClient(t, srv, lambdafan.Config{
		Concurrency:    64,
		AttemptTimeout: 500 * time.Millisecond,
		MaxAttempts:    1000, // throttles are retried until they succeed
		BaseBackoff:    time.Millisecond,
		MaxBackoff:     50 * time.Millisecond,
	})

	requests := func(yield func(lambdafan.Request) bool) {
		for i := range n {
			payload := append(strconv.AppendInt([]byte(`{"i":`), int64(i), 10), '}')
			if !yield(lambdafan.Request{FunctionName: "count", Payload: payload}) {
				return
			}
		}
	}
	seen := make([]bool, n)
	outcomes := map[string]int{}
	attempts, results, timeouts := 0, 0, 0
	heap := newHeapSampler()
	for r := range c.Stream(t.Context(), requests) {
		if r.Index < 0 || r.Index >= n || seen[r.Index] {
			t.Fatalf("result for index %d: out of range or a second one", r.Index)
		}
		seen[r.Index] = true
		results++
		attempts += r.Attempts
		outcomes[r.Outcome().String()+" "+errorKind(r.Err)]++
		var te *lambdafan.TransportError
		if errors.As(r.Err, &te) && te.Sent && errors.Is(r.Err, context.DeadlineExceeded) {
			timeouts++
		}
		if r.Outcome() == lambdafan.OutcomeThrottled {
			t.Errorf("request %d ended throttled after %d attempts", r.Index, r.Attempts)
		}
		if results%1000 == 0 {
			heap.sample(results <= n/10)
		}
	}
	if results != n {
		t.Fatalf("%d results for %d requests", results, n)
	}

	duplicates, executed := 0, 0
	for i := range executions {
		k := int(executions[i].Load())
		executed += k
		if k > 1 {
			duplicates++
		}
	}
	if duplicates != 0 {
		t.Errorf("%d requests executed more than once", duplicates)
	}
	// Every request succeeds but for the faults the client must not retry
	// (5 % 500/503, 3 % resets, 1 % slow): well over 85 % succeed, and
	// each success ran exactly once.
	ok := outcomes["ok "]
	if ok < n*85/100 || executed < ok {
		t.Errorf("%d successes and %d executions for %d requests", ok, executed, n)
	}
	// The executions that did not end in a success are those whose answer
	// was lost: reset after running, or too slow — on purpose (the slow
	// faults) or because the machine was (any attempt that timed out).
	st := srv.Emulator.Stats()
	lost := int64(executed - ok)
	resetAfter, slow := st.Faults[emulator.FaultResetAfter], st.Faults[emulator.FaultSlow]
	if lost < resetAfter+slow || lost > resetAfter+int64(timeouts) {
		t.Errorf("%d executions without a success; want between %d (reset-after %d + slow %d) and %d (reset-after + %d attempts timed out)",
			lost, resetAfter+slow, resetAfter, slow, resetAfter+int64(timeouts), timeouts)
	}
	for _, f := range []emulator.Fault{emulator.FaultThrottle, emulator.FaultThrottleRetryAfter, emulator.FaultServerError,
		emulator.FaultUnavailable, emulator.FaultResetBefore, emulator.FaultResetAfter, emulator.FaultSlow} {
		if st.Faults[f] < int64(n)/200 {
			t.Errorf("only %d %v faults were injected", st.Faults[f], f)
		}
	}

	// Goroutines: the client's and the emulator's all end once idle
	// connections are closed.
	c.CloseIdleConnections()
	goroutinesAfter := settledGoroutines(goroutinesBefore + 8) // the emulator's server still runs
	if goroutinesAfter > goroutinesBefore+8 {
		t.Errorf("%d goroutines after the run, %d before", goroutinesAfter, goroutinesBefore)
	}

	// Memory: the live heap late in the run stays near its level after the
	// first tenth, whatever n.
	if heap.late > 2*heap.early+16<<20 {
		t.Errorf("live heap grew with the run: %d MB after 10%%, %d MB later", heap.early>>20, heap.late>>20)
	}

	t.Logf("%d requests, %d attempts (%d retries), %d executions, duplicates %d, lost %d", n, attempts, attempts-n, executed, duplicates, n-results)
	t.Logf("faults injected: %v", st.Faults)
	t.Logf("outcomes: %v", outcomes)
	t.Logf("peak live heap: %.1f MB in the first 10%%, %.1f MB after", float64(heap.early)/(1<<20), float64(heap.late)/(1<<20))
}

func errorKind(err error) string {
	if err == nil {
		return ""
	}
	return fmt.Sprintf("%T", unwrapAll(err))
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		if _, isTransport := err.(*lambdafan.TransportError); isTransport {
			return err
		}
		err = u.Unwrap()
	}
}

// heapSampler tracks the peak live heap (as of the last GC) early in a run
// and later on.
type heapSampler struct {
	samples     []metrics.Sample
	early, late uint64
}

func newHeapSampler() *heapSampler {
	return &heapSampler{samples: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
}

func (h *heapSampler) sample(early bool) {
	metrics.Read(h.samples)
	v := h.samples[0].Value.Uint64()
	if early {
		h.early = max(h.early, v)
	} else {
		h.late = max(h.late, v)
	}
}

// settledGoroutines waits for the goroutine count to fall to target, giving
// goroutines that are finishing the chance to run, and returns the count.
func settledGoroutines(target int) int {
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= target || time.Now().After(deadline) {
			return n
		}
		runtime.Gosched()
	}
}
