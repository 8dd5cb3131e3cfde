package lambdafan_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// gate is a function that blocks every invocation until released and
// counts the invocations that started.
type gate struct {
	release chan struct{}
	started chan struct{}
	count   atomic.Int64
}

func newGate() *gate {
	return &gate{release: make(chan struct{}), started: make(chan struct{}, 10000)}
}

func (g *gate) function() emulator.Function {
	return emulator.Function{Name: "gate", Handler: emulator.HandlerFunc(func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) {
		g.count.Add(1)
		g.started <- struct{}{}
		select {
		case <-g.release:
		case <-ctx.Done():
		}
		return inv.Payload, nil
	})}
}

// waitStarted returns once n invocations have started.
func (g *gate) waitStarted(n int) {
	for range n {
		<-g.started
	}
}

func gateRequests(n int) []lambdafan.Request {
	reqs := make([]lambdafan.Request, n)
	for i := range reqs {
		reqs[i] = lambdafan.Request{FunctionName: "gate", ID: fmt.Sprint(i)}
	}
	return reqs
}

func TestStreamWith_StopStartsNothingNew(t *testing.T) {
	// Four attempts in flight and blocked; then Stop. The requests pulled
	// meanwhile must end without being sent, the four in flight must
	// finish normally, and nothing else may run.
	const concurrency, total = 4, 100
	g := newGate()
	srv := builtins(t, g.function())
	c := newClient(t, srv, lambdafan.Config{Concurrency: concurrency})
	stop := make(chan struct{})
	var pulled atomic.Int64
	seq := func(yield func(lambdafan.Request) bool) {
		for _, r := range gateRequests(total) {
			pulled.Add(1)
			if !yield(r) {
				return
			}
		}
	}
	var watcher sync.WaitGroup
	watcher.Go(func() {
		g.waitStarted(concurrency)
		close(stop)
		close(g.release)
	})
	var ok, stopped int
	seen := map[int]bool{}
	for r := range c.StreamWith(t.Context(), seq, lambdafan.StreamOptions{Stop: stop}) {
		if seen[r.Index] {
			t.Fatalf("two results for request %d", r.Index)
		}
		seen[r.Index] = true
		switch {
		case r.Err == nil:
			ok++
		case errors.Is(r.Err, lambdafan.ErrStopped) && r.Attempts == 0 && r.Outcome() == lambdafan.OutcomeNotSent:
			stopped++
		default:
			t.Errorf("result %+v", r)
		}
	}
	watcher.Wait()
	if ok != concurrency || g.count.Load() != concurrency {
		t.Errorf("%d ok, %d executions: want the %d in flight at the stop and no more", ok, g.count.Load(), concurrency)
	}
	if int64(len(seen)) != pulled.Load() || stopped != len(seen)-ok {
		t.Errorf("%d results (%d stopped) for %d pulled requests", len(seen), stopped, pulled.Load())
	}
	if pulled.Load() >= total {
		t.Errorf("all %d requests pulled: the stop did not stop the intake", total)
	}
}

// throttledForAnHour returns a client whose every attempt is throttled and
// whose retry waits are drawn below an hour: a request that is not ended
// by the stream's stop or cancellation waits (and the test times out).
func throttledForAnHour(t *testing.T) (*lambdafan.Client, *emulatortest.Server) {
	srv := faulty(t, func(int64) emulator.Fault { return emulator.FaultThrottle })
	c := newClient(t, srv, lambdafan.Config{Concurrency: 2, BaseBackoff: time.Hour, MaxBackoff: time.Hour})
	return c, srv
}

func TestStreamWith_StopEndsWaitingRetriesAtOnce(t *testing.T) {
	// Every request is throttled and then waits for its retry. A stop
	// must end each at once with its throttle (it did not run), without
	// another attempt.
	c, srv := throttledForAnHour(t)
	const total = 6
	stop := make(chan struct{})
	var answered sync.WaitGroup
	answered.Add(total)
	var once sync.Once
	var watcher sync.WaitGroup
	watcher.Go(func() { answered.Wait(); once.Do(func() { close(stop) }) })
	seq := func(yield func(lambdafan.Request) bool) {
		for range total {
			if !yield(lambdafan.Request{FunctionName: "echo"}) {
				return
			}
		}
	}
	opts := lambdafan.StreamOptions{Stop: stop, BeforeSend: func(context.Context, int) error {
		answered.Done() // the stop may come before or after the 429 is read: both must end the request
		return nil
	}}
	n := 0
	for r := range c.StreamWith(t.Context(), seq, opts) {
		n++
		if r.Outcome() != lambdafan.OutcomeThrottled || r.Attempts != 1 {
			t.Errorf("result %+v, want its one throttled attempt", r)
		}
	}
	watcher.Wait()
	if n != total || srv.Emulator.Stats().Requests != total {
		t.Errorf("%d results, %d requests sent; want %d of each", n, srv.Emulator.Stats().Requests, total)
	}
}

func TestStream_CancelWhileWaitingForRetry(t *testing.T) {
	c, srv := throttledForAnHour(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	reqs := slices.Repeat([]lambdafan.Request{{FunctionName: "echo"}}, 5)
	var sent atomic.Int64
	opts := lambdafan.StreamOptions{BeforeSend: func(context.Context, int) error {
		if sent.Add(1) == int64(len(reqs)) {
			cancel()
		}
		return nil
	}}
	n := 0
	for r := range c.StreamWith(ctx, slices.Values(reqs), opts) {
		n++
		// The last request is cancelled before its attempt: not sent.
		// The others keep the throttle of their one attempt.
		switch o := r.Outcome(); {
		case r.Attempts == 0 && o == lambdafan.OutcomeNotSent && errors.Is(r.Err, context.Canceled):
		case r.Attempts == 1 && o == lambdafan.OutcomeThrottled:
		default:
			t.Errorf("result %+v (outcome %v), want its one throttled attempt, or not sent", r, o)
		}
	}
	if n != len(reqs) || srv.Emulator.Stats().Requests > int64(len(reqs)) {
		t.Errorf("%d results, %d requests sent", n, srv.Emulator.Stats().Requests)
	}
}

func TestStream_BreakCancelsInFlightAndReturns(t *testing.T) {
	g := newGate()
	srv := builtins(t, g.function())
	c := newClient(t, srv, lambdafan.Config{Concurrency: 8})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	before := runtime.NumGoroutine()
	reqs := gateRequests(20)
	reqs[0].FunctionName = "echo" // the one result the loop takes before breaking
	results := 0
	for r := range c.Stream(ctx, slices.Values(reqs)) {
		results++
		if r.Err != nil {
			t.Fatalf("first result %+v", r)
		}
		g.waitStarted(7) // the other workers are blocked in the function
		break
	}
	// Stream has returned: its attempts in flight were cancelled (the
	// gate is never released) and its goroutines are gone.
	c.CloseIdleConnections()
	if n := settledGoroutines(before); n > before {
		t.Errorf("%d goroutines after the loop, %d before", n, before)
	}
	if results != 1 {
		t.Errorf("%d results", results)
	}
}

func TestStreamWith_BeforeSend(t *testing.T) {
	// BeforeSend is called once per request, not again for its retries
	// (every other attempt is throttled).
	srv := faulty(t, func(n int64) emulator.Fault {
		if n%2 == 0 {
			return emulator.FaultThrottle
		}
		return emulator.NoFault
	})
	cfg := fastRetries
	cfg.Concurrency = 2
	c := newClient(t, srv, cfg)
	var mu sync.Mutex
	calls := map[int]int{}
	opts := lambdafan.StreamOptions{BeforeSend: func(_ context.Context, index int) error {
		mu.Lock()
		defer mu.Unlock()
		calls[index]++
		return nil
	}}
	const total = 20
	retried := 0
	for r := range c.StreamWith(t.Context(), slices.Values(slices.Repeat([]lambdafan.Request{{FunctionName: "echo"}}, total)), opts) {
		if r.Err != nil {
			t.Errorf("result %+v", r)
		}
		if r.Attempts > 1 {
			retried++
		}
	}
	for i := range total {
		if calls[i] != 1 {
			t.Errorf("BeforeSend called %d times for request %d", calls[i], i)
		}
	}
	if retried == 0 || srv.Emulator.Stats().Requests <= total {
		t.Errorf("%d requests retried, %d sent: the test needs retries", retried, srv.Emulator.Stats().Requests)
	}

	// An error stops the run: that request and the later ones are not
	// sent, and the input is not read to its end.
	failed := errors.New("journal: disk full")
	srv2 := builtins(t)
	c2 := newClient(t, srv2, lambdafan.Config{Concurrency: 1})
	opts.BeforeSend = func(_ context.Context, index int) error {
		if index == 2 {
			return failed
		}
		return nil
	}
	var got []lambdafan.Result
	for r := range c2.StreamWith(t.Context(), slices.Values(slices.Repeat([]lambdafan.Request{{FunctionName: "echo"}}, 100)), opts) {
		got = append(got, r)
	}
	for _, r := range got {
		if r.Index < 2 && r.Err != nil {
			t.Errorf("result %+v before the failure", r)
		}
		if r.Index >= 2 && (!errors.Is(r.Err, lambdafan.ErrStopped) || !errors.Is(r.Err, failed) || r.Attempts != 0 || r.Outcome() != lambdafan.OutcomeNotSent) {
			t.Errorf("result %+v after the failure, want not sent, with the BeforeSend error", r)
		}
	}
	if len(got) > 2+4*1+1 {
		t.Errorf("%d results: want the run stopped soon after the failure", len(got))
	}
	if n := srv2.Emulator.Stats().Requests; n != 2 {
		t.Errorf("%d requests sent, want the 2 before the failure", n)
	}
}

func TestStream_HugeConcurrencyCostsOnlyWhatIsInFlight(t *testing.T) {
	srv := builtins(t)
	c := newClient(t, srv, lambdafan.Config{Concurrency: 100_000})
	before := runtime.NumGoroutine()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	n := 0
	for r := range c.Stream(t.Context(), slices.Values(slices.Repeat([]lambdafan.Request{{FunctionName: "echo"}}, 2))) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if g := runtime.NumGoroutine(); g > before+50 {
			t.Errorf("%d goroutines running for 2 requests (%d before)", g, before)
		}
		n++
	}
	runtime.ReadMemStats(&ms1)
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 8<<20 {
		t.Errorf("%d MB allocated for 2 requests", alloc>>20)
	}
	if n != 2 {
		t.Errorf("%d results", n)
	}
}
