package emulator

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// eventQueue runs Event invocations after they were accepted: in arrival
// order, each as soon as its function has a free concurrent execution
// (events wait for concurrency rather than being throttled), retrying a
// failed execution after the configured delays, as Lambda's asynchronous
// invocation queue does. It holds at most a bounded number of events and
// payload bytes (accepted and not yet finished, retries included) and
// refuses more with Lambda's 429. It is safe for concurrent use.
type eventQueue struct {
	deps eventDeps

	mu          sync.Mutex
	queue       []queuedEvent
	outstanding int   // queued + running + waiting to retry
	bytes       int64 // their payloads
	closed      bool
	timers      map[*time.Timer]struct{}
	wake        chan struct{} // a token when the queue may have work
	idle        chan struct{} // closed and replaced when outstanding reaches 0

	dispatcher sync.WaitGroup
	running    sync.WaitGroup
}

// eventDeps is what an eventQueue needs from the server that owns it.
type eventDeps struct {
	// base ends when the server closes: executions wait for concurrency
	// under it.
	base context.Context
	// acquire waits for one concurrent execution of fn.
	acquire func(ctx context.Context, fn *function) (release func(), err error)
	// execute runs one invocation and returns its output.
	execute func(req *invokeRequest) Output
	// retryDelays are the waits before the retries of a failed event.
	retryDelays []time.Duration
	// maxEvents and maxBytes bound the events accepted and not finished,
	// and their payload bytes.
	maxEvents int
	maxBytes  int64
	stats     *eventCounters
}

// eventCounters count what happens to Event invocations; they are part of
// the server's Stats.
type eventCounters struct {
	queued, succeeded, failed, dropped, retries atomic.Int64
}

// eventDeps gives the event queue what it uses of s, and nothing more.
func (s *Server) eventDeps() eventDeps {
	return eventDeps{
		base:    s.base,
		acquire: s.acquire,
		execute: func(req *invokeRequest) Output {
			out, _ := s.execute(req, false)
			return out
		},
		retryDelays: s.cfg.EventRetryDelays,
		maxEvents:   s.cfg.MaxQueuedEvents,
		maxBytes:    s.cfg.MaxQueuedEventBytes,
		stats:       &s.stats.events,
	}
}

type queuedEvent struct {
	req     invokeRequest
	attempt int // executions so far
}

func newEventQueue(deps eventDeps) *eventQueue {
	q := &eventQueue{deps: deps, wake: make(chan struct{}, 1), idle: make(chan struct{}), timers: map[*time.Timer]struct{}{}}
	q.dispatcher.Go(q.dispatch)
	return q
}

// enqueue accepts an event, or answers errBusy when the queue holds as
// many events or payload bytes as it may.
func (q *eventQueue) enqueue(req invokeRequest) *apiError {
	size := int64(len(req.payload))
	q.mu.Lock()
	if q.closed {
		// Accepted, then dropped at once, as when the server stops with
		// the event queued.
		q.mu.Unlock()
		q.deps.stats.queued.Add(1)
		q.deps.stats.dropped.Add(1)
		return nil
	}
	if q.outstanding >= q.deps.maxEvents || q.bytes+size > q.deps.maxBytes {
		q.mu.Unlock()
		return errBusy()
	}
	q.outstanding++
	q.bytes += size
	q.queue = append(q.queue, queuedEvent{req: req})
	q.mu.Unlock()
	q.deps.stats.queued.Add(1)
	q.signal()
	return nil
}

// requeue puts back an event whose retry is due.
func (q *eventQueue) requeue(ev queuedEvent) {
	q.mu.Lock()
	if q.closed {
		q.deps.stats.dropped.Add(1)
		q.doneLocked(ev)
		q.mu.Unlock()
		return
	}
	q.queue = append(q.queue, ev)
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// dispatch pops events and starts each once its function has capacity.
func (q *eventQueue) dispatch() {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return
		}
		if len(q.queue) == 0 {
			q.mu.Unlock()
			select {
			case <-q.wake:
				continue
			case <-q.deps.base.Done():
				return
			}
		}
		ev := q.queue[0]
		q.queue[0] = queuedEvent{}
		q.queue = q.queue[1:]
		q.mu.Unlock()

		if ev.req.fn.reservedZero {
			// Lambda keeps retrying throttled events until they expire
			// (six hours by default); here they expire at once.
			q.deps.stats.dropped.Add(1)
			q.done(ev)
			continue
		}
		release, err := q.deps.acquire(q.deps.base, ev.req.fn)
		if err != nil { // the server is closing
			q.deps.stats.dropped.Add(1)
			q.done(ev)
			return
		}
		q.running.Go(func() {
			out := q.deps.execute(&ev.req)
			release()
			q.finished(ev, out)
		})
	}
}

// finished records an execution and schedules a retry when the function
// failed and has retries left.
func (q *eventQueue) finished(ev queuedEvent, out Output) {
	ev.attempt++
	retries := ev.attempt - 1
	st := q.deps.stats
	switch {
	case ev.req.cancelled: // the server stopped it: neither failed nor retried
		st.dropped.Add(1)
		q.done(ev)
		return
	case !out.Error:
		st.succeeded.Add(1)
		q.done(ev)
		return
	case retries >= ev.req.fn.maxRetries:
		st.failed.Add(1)
		q.done(ev)
		return
	}
	st.retries.Add(1)
	delays := q.deps.retryDelays
	var delay time.Duration
	if len(delays) > 0 {
		delay = delays[min(retries, len(delays)-1)]
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		st.dropped.Add(1)
		q.doneLocked(ev)
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		q.mu.Lock()
		delete(q.timers, t)
		q.mu.Unlock()
		q.requeue(ev)
	})
	q.timers[t] = struct{}{}
}

func (q *eventQueue) done(ev queuedEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.doneLocked(ev)
}

func (q *eventQueue) doneLocked(ev queuedEvent) {
	q.outstanding--
	q.bytes -= int64(len(ev.req.payload))
	if q.outstanding == 0 {
		close(q.idle)
		q.idle = make(chan struct{})
	}
}

// drain waits until no event is queued, running or waiting to retry.
func (q *eventQueue) drain() {
	q.mu.Lock()
	if q.outstanding == 0 || q.closed {
		q.mu.Unlock()
		return
	}
	idle := q.idle
	q.mu.Unlock()
	<-idle
}

// close drops queued events and pending retries and waits for running
// executions (which the server's cancelled context ends) to return.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	dropped := len(q.queue)
	for t := range q.timers {
		if t.Stop() {
			dropped++
		}
	}
	q.queue, q.timers = nil, nil
	q.mu.Unlock()
	q.deps.stats.dropped.Add(int64(dropped))
	q.dispatcher.Wait()
	q.running.Wait()
}
