package lambdafan

import (
	"context"
	"iter"
	"sync"
	"time"
)

// streamRun is the machinery of one Stream: a feeder that pulls requests
// while fewer than maxOutstanding are unfinished; workers, started as calls
// become due and up to the concurrency, that make one attempt at a time;
// and a set of calls waiting for a retry, handed back to the workers when
// their wait is over (or at once when the stream stops). Every goroutine
// of the run is started by goLocked, and the last one to end closes
// results: the consumer, ranging over results, is the one owner that
// waits for them all.
type streamRun struct {
	c              *Client
	ctx            context.Context // done: abort the attempts in flight
	rn             run
	stopStarting   context.CancelFunc
	stop           <-chan struct{} // StreamOptions.Stop
	maxOutstanding int
	results        chan Result

	mu          sync.Mutex
	due         []*call   // calls waiting for a worker, oldest first
	wake        sync.Cond // signalled for an idle worker when a call is due
	room        sync.Cond // signalled for the feeder when a call finishes
	idle        int       // workers waiting on wake and not yet woken
	workers     int       // workers started
	outstanding int       // calls pulled and not finished
	feederDone  bool      // no more calls will be pulled
	stopping    bool      // no attempt may start: calls end as they come due
	delayed     map[*call]*time.Timer
	finished    chan struct{} // closed once the feeder is done and no call is outstanding
	live        int           // goroutines of the run still running (see goLocked)
}

func newStreamRun(ctx context.Context, c *Client, opts StreamOptions) *streamRun {
	starting, stopStarting := context.WithCancel(ctx)
	s := &streamRun{
		c:            c,
		ctx:          ctx,
		rn:           run{starting: starting, stopCh: opts.Stop, beforeSend: opts.BeforeSend},
		stopStarting: stopStarting,
		stop:         opts.Stop,
		// Calls waiting for a retry count as outstanding: room for four
		// times the concurrency lets a second's Retry-After on a few
		// percent of the calls leave the workers busy with others.
		maxOutstanding: 4 * c.concurrency,
		results:        make(chan Result, min(c.concurrency, 1024)),
		delayed:        map[*call]*time.Timer{},
		finished:       make(chan struct{}),
	}
	s.wake.L = &s.mu
	s.room.L = &s.mu
	return s
}

// start starts the run: the feeder and the stop watcher now, workers as
// calls become due.
func (s *streamRun) start(seq iter.Seq[Request]) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.goLocked(func() { s.feed(seq) })
	s.goLocked(s.stopWhenAsked)
}

// goLocked runs f on a goroutine of the run, which tracks them all: when
// the last one ends the run is over, and it closes results. (None can end
// last before the run is finished: the feeder lives until it is done
// pulling, the stop watcher while a call may wait for a retry, and workers
// while calls are outstanding.) s.mu must be held.
func (s *streamRun) goLocked(f func()) {
	s.live++
	go func() {
		f()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.live--; s.live == 0 {
			s.stopStarting()
			close(s.results)
		}
	}()
}

// feed pulls requests. A pulled request always becomes a call that gets a
// result (it ends at once when the run is stopping); then no more are
// pulled.
func (s *streamRun) feed(seq iter.Seq[Request]) {
	defer func() {
		s.mu.Lock()
		s.feederDone = true
		s.finishIfIdleLocked()
		s.mu.Unlock()
	}()
	i := 0
	for req := range seq {
		s.mu.Lock()
		for s.outstanding >= s.maxOutstanding && !s.stopping {
			s.room.Wait()
		}
		s.outstanding++
		s.enqueueLocked(newCall(i, req))
		stop := s.stopping
		s.mu.Unlock()
		i++
		if stop || s.rn.stopping() || s.rn.stopped() != nil {
			return
		}
	}
}

// enqueueLocked makes cl due: an idle worker takes it, or a new worker
// does while there are fewer than the concurrency. s.mu must be held.
func (s *streamRun) enqueueLocked(cl *call) {
	s.due = append(s.due, cl)
	switch {
	case s.idle > 0:
		s.idle--
		s.wake.Signal()
	case s.workers < s.c.concurrency:
		s.workers++
		s.goLocked(s.work)
	}
}

// work makes attempts for calls that are due until the run is finished.
func (s *streamRun) work() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for len(s.due) == 0 {
			if s.isFinishedLocked() {
				return
			}
			s.idle++
			s.wake.Wait()
		}
		s.stepLocked(s.popLocked())
	}
}

func (s *streamRun) popLocked() *call {
	cl := s.due[0]
	s.due[0] = nil
	s.due = s.due[1:]
	return cl
}

// stepLocked advances cl by one step, with s.mu released meanwhile: the
// call then waits for its retry, or its result is delivered.
func (s *streamRun) stepLocked(cl *call) {
	s.mu.Unlock()
	wait, done := s.c.step(s.ctx, &s.rn, cl)
	if done {
		s.results <- cl.res // blocks while the consumer is behind
	}
	s.mu.Lock()
	if !done {
		s.delayLocked(cl, wait)
		return
	}
	s.outstanding--
	s.room.Signal()
	s.finishIfIdleLocked()
}

func (s *streamRun) isFinishedLocked() bool {
	select {
	case <-s.finished:
		return true
	default:
		return false
	}
}

// finishIfIdleLocked ends the run once nothing more can arrive: it wakes
// every idle worker so that they return.
func (s *streamRun) finishIfIdleLocked() {
	if s.feederDone && s.outstanding == 0 && !s.isFinishedLocked() {
		close(s.finished)
		s.idle = 0
		s.wake.Broadcast()
	}
}

// delayLocked makes cl due again after d, or at once if the run is
// stopping. s.mu must be held.
func (s *streamRun) delayLocked(cl *call, d time.Duration) {
	if s.stopping || d <= 0 {
		s.enqueueLocked(cl)
		return
	}
	s.delayed[cl] = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, mine := s.delayed[cl]; mine {
			delete(s.delayed, cl)
			s.enqueueLocked(cl)
		}
	})
}

// stopWhenAsked waits for StreamOptions.Stop or the end of the context, and
// then stops the run from starting attempts: it hands every call waiting
// for a retry back at once, so that it ends with its last error, lets a
// feeder waiting for room go on to notice, and ends the calls that are
// due. It returns at once when the run finishes first.
func (s *streamRun) stopWhenAsked() {
	select {
	case <-s.stop:
	case <-s.rn.starting.Done():
	case <-s.finished:
		return
	}
	s.stopStarting()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopping = true
	for cl, t := range s.delayed {
		t.Stop()
		delete(s.delayed, cl)
		s.enqueueLocked(cl)
	}
	s.room.Broadcast()
	// The calls due now end at once, without an attempt: they need not
	// wait for a worker, which may be busy with an attempt in flight.
	for len(s.due) > 0 {
		s.stepLocked(s.popLocked())
	}
}
