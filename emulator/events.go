package emulator

import (
	"sync"
	"time"
)

// eventQueue runs Event invocations after they were accepted: in arrival
// order, each as soon as its function has a free concurrent execution
// (events wait for concurrency rather than being throttled), retrying a
// failed execution after the configured delays, as Lambda's asynchronous
// invocation queue does. It is safe for concurrent use.
type eventQueue struct {
	s *Server

	mu          sync.Mutex
	queue       []queuedEvent
	outstanding int // queued + running + waiting to retry
	closed      bool
	timers      map[*time.Timer]struct{}
	wake        chan struct{} // a token when the queue may have work
	idle        chan struct{} // closed and replaced when outstanding reaches 0

	dispatcher sync.WaitGroup
	running    sync.WaitGroup
}

type queuedEvent struct {
	req     invokeRequest
	attempt int // executions so far
}

func newEventQueue(s *Server) *eventQueue {
	q := &eventQueue{s: s, wake: make(chan struct{}, 1), idle: make(chan struct{}), timers: map[*time.Timer]struct{}{}}
	q.dispatcher.Go(q.dispatch)
	return q
}

// enqueue accepts an event.
func (q *eventQueue) enqueue(req invokeRequest) {
	q.s.stats.eventsQueued.Add(1)
	q.push(queuedEvent{req: req}, true)
}

func (q *eventQueue) push(ev queuedEvent, isNew bool) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.s.stats.eventsDropped.Add(1)
		if !isNew {
			q.done()
		}
		return
	}
	if isNew {
		q.outstanding++
	}
	q.queue = append(q.queue, ev)
	q.mu.Unlock()
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
			case <-q.s.base.Done():
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
			q.s.stats.eventsDropped.Add(1)
			q.done()
			continue
		}
		release, err := q.s.acquire(q.s.base, ev.req.fn)
		if err != nil { // the server is closing
			q.s.stats.eventsDropped.Add(1)
			q.done()
			return
		}
		q.running.Go(func() {
			out, _ := q.s.execute(&ev.req, false)
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
	if ev.req.cancelled { // the server stopped it: neither failed nor retried
		q.s.stats.eventsDropped.Add(1)
		q.done()
		return
	}
	if !out.Error {
		q.s.stats.eventsSucceeded.Add(1)
		q.done()
		return
	}
	if retries >= ev.req.fn.maxRetries {
		q.s.stats.eventsFailed.Add(1)
		q.done()
		return
	}
	q.s.stats.eventRetries.Add(1)
	delays := q.s.cfg.EventRetryDelays
	var delay time.Duration
	if len(delays) > 0 {
		delay = delays[min(retries, len(delays)-1)]
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.s.stats.eventsDropped.Add(1)
		q.doneLocked()
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		q.mu.Lock()
		delete(q.timers, t)
		q.mu.Unlock()
		q.push(ev, false)
	})
	q.timers[t] = struct{}{}
}

func (q *eventQueue) done() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.doneLocked()
}

func (q *eventQueue) doneLocked() {
	q.outstanding--
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
	q.s.stats.eventsDropped.Add(int64(dropped))
	q.dispatcher.Wait()
	q.running.Wait()
}
