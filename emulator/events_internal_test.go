package emulator

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// fakeExecutions is an eventDeps.execute whose executions each wait for
// an Output sent on results.
type fakeExecutions struct {
	started chan string // payloads, as executions start
	results chan Output
}

func (f *fakeExecutions) execute(req *invokeRequest) Output {
	f.started <- string(req.payload)
	return <-f.results
}

// newTestQueue returns an event queue with fake dependencies: no server,
// no concurrency limit, retries at once.
func newTestQueue(t *testing.T, maxEvents int, maxBytes int64) (*eventQueue, *fakeExecutions, *eventCounters) {
	f := &fakeExecutions{started: make(chan string, 16), results: make(chan Output)}
	stats := &eventCounters{}
	q := newEventQueue(eventDeps{
		base:        t.Context(),
		acquire:     func(context.Context, *function) (func(), error) { return func() {}, nil },
		execute:     f.execute,
		retryDelays: []time.Duration{0},
		maxEvents:   maxEvents,
		maxBytes:    maxBytes,
		stats:       stats,
	})
	t.Cleanup(func() {
		close(f.results) // executions still waiting end
		q.close()
	})
	return q, f, stats
}

func event(fn *function, payload string) invokeRequest {
	return invokeRequest{fn: fn, payload: []byte(payload), invocationType: "Event"}
}

func TestEventQueue_Bounds(t *testing.T) {
	fn := &function{maxRetries: 0}
	ok := Output{Payload: []byte("null")}

	t.Run("count", func(t *testing.T) {
		q, f, stats := newTestQueue(t, 2, 1<<20)
		for _, p := range []string{"1", "2"} {
			if aerr := q.enqueue(event(fn, p)); aerr != nil {
				t.Fatalf("event %s: %v", p, aerr)
			}
		}
		<-f.started // one runs, one waits: both count
		aerr := q.enqueue(event(fn, "3"))
		if aerr == nil || aerr.status != http.StatusTooManyRequests || aerr.reason != "CallerRateLimitExceeded" {
			t.Fatalf("third event: %v, want 429 CallerRateLimitExceeded", aerr)
		}
		f.results <- ok
		<-f.started
		f.results <- ok
		q.drain() // finished events no longer count
		if aerr := q.enqueue(event(fn, "4")); aerr != nil {
			t.Fatalf("after the queue emptied: %v", aerr)
		}
		<-f.started
		f.results <- ok
		q.drain()
		if got := stats.queued.Load(); got != 3 {
			t.Errorf("%d queued, want 3", got)
		}
	})

	t.Run("bytes", func(t *testing.T) {
		q, f, _ := newTestQueue(t, 100, 10)
		if aerr := q.enqueue(event(fn, `"123456"`)); aerr != nil {
			t.Fatal(aerr)
		}
		if aerr := q.enqueue(event(fn, `"1"`)); aerr == nil {
			t.Fatal("11 bytes of events accepted under a bound of 10")
		}
		if aerr := q.enqueue(event(fn, `1`)); aerr != nil {
			t.Fatalf("10 bytes of events refused under a bound of 10: %v", aerr)
		}
		for range 2 {
			<-f.started
			f.results <- ok
		}
		q.drain()
		if aerr := q.enqueue(event(fn, `"12345678"`)); aerr != nil {
			t.Fatalf("after the queue emptied: %v", aerr)
		}
		<-f.started
		f.results <- ok
	})

	t.Run("retries keep their place", func(t *testing.T) {
		retried := &function{maxRetries: 1}
		q, f, stats := newTestQueue(t, 1, 1<<20)
		if aerr := q.enqueue(event(retried, "r")); aerr != nil {
			t.Fatal(aerr)
		}
		<-f.started
		f.results <- Output{Error: true}
		// Waiting to retry, the event still counts against the bound.
		if aerr := q.enqueue(event(retried, "other")); aerr == nil {
			t.Fatal("an event accepted while another waits to retry under a bound of 1")
		}
		if p := <-f.started; p != "r" {
			t.Fatalf("retry ran %q", p)
		}
		f.results <- ok
		q.drain()
		if stats.retries.Load() != 1 || stats.succeeded.Load() != 1 {
			t.Errorf("%d retries, %d succeeded; want 1, 1", stats.retries.Load(), stats.succeeded.Load())
		}
	})
}
