package emulator

import (
	"context"
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

// TestEventQueue_FakeDependencies runs an event queue without a server:
// its dependencies are what it is given.
func TestEventQueue_FakeDependencies(t *testing.T) {
	f := &fakeExecutions{started: make(chan string, 16), results: make(chan Output)}
	stats := &eventCounters{}
	acquired := 0
	q := newEventQueue(eventDeps{
		base: t.Context(),
		acquire: func(context.Context, *function) (func(), error) {
			acquired++ // the dispatcher is the only caller
			return func() {}, nil
		},
		execute:     f.execute,
		retryDelays: []time.Duration{0},
		stats:       stats,
	})
	t.Cleanup(q.close) // after t.Context, the queue's base, is done
	fn := &function{maxRetries: 1}
	q.enqueue(invokeRequest{fn: fn, payload: []byte("r"), invocationType: "Event"})
	<-f.started
	f.results <- Output{Error: true}
	if p := <-f.started; p != "r" {
		t.Fatalf("retry ran %q", p)
	}
	f.results <- Output{Payload: []byte("null")}
	q.drain()
	if stats.retries.Load() != 1 || stats.succeeded.Load() != 1 || stats.queued.Load() != 1 || acquired != 2 {
		t.Errorf("%d retries, %d succeeded, %d queued, %d acquired; want 1, 1, 1, 2",
			stats.retries.Load(), stats.succeeded.Load(), stats.queued.Load(), acquired)
	}
}
