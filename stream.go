package lambdafan

import (
	"cmp"
	"context"
	"errors"
	"iter"
	"slices"
	"sync"
	"time"
)

// ErrStopped reports a request that a stopped stream ended without sending
// it: it was pulled, but the stream was stopped (see [StreamOptions.Stop])
// before its first attempt could start. The function did not run for it,
// so it can be sent again as it is.
var ErrStopped = errors.New("not sent: the run was stopped before this request was sent")

// StreamOptions are the optional controls of [Client.StreamWith]. The zero
// value gives [Client.Stream]'s behaviour.
type StreamOptions struct {
	// Stop, once closed, stops the stream gracefully: no request is pulled
	// and no attempt starts after that. Requests pulled but never sent end
	// at once with [ErrStopped]; requests waiting for a retry end at once
	// with their last attempt's error; attempts in flight go on until they
	// finish or the stream's context is done. Nil means never.
	Stop <-chan struct{}

	// BeforeSend, when set, is called once per request, with the
	// request's index, just before its first attempt (after the rate cap
	// and the adaptive limits have admitted it). The attempt is made only
	// once it returns nil, so a caller can record durably that the request
	// may be sent — a write-ahead journal. An error ends that request with
	// a result wrapping [ErrStopped] and the error, and stops the stream
	// as a credentials failure does. It is called concurrently, from as
	// many goroutines as attempts are starting.
	BeforeSend func(ctx context.Context, index int) error
}

// Stream invokes the requests of seq concurrently and yields one Result
// per request as each completes (completion order; Result.Index is the
// request's position in seq).
//
// At most Config.Concurrency attempts are in flight. A request waiting to
// be retried (after a throttle, say, for as long as Lambda's Retry-After
// asks) holds no worker, so other requests go on meanwhile. Requests are
// pulled from seq lazily, at most four times the concurrency ahead of the
// results, and a consumer that stops reading holds the workers back, so
// memory is bounded by the work in flight, not by the number of requests
// or by the concurrency setting.
//
// Breaking out of the loop cancels the invocations in flight and returns
// once they have stopped. When ctx is done, Stream stops pulling requests,
// yields a result for each request it had pulled (with the context's error,
// unless an attempt had already settled it), and ends; requests seq had
// not yet produced get no result. Likewise, when Lambda refuses the
// credentials (expired or unknown after one refresh, or the signatures made
// with them) or they cannot be obtained, Stream stops pulling: the requests it had pulled get results
// wrapping [ErrCredentials], and the rest none, so a caller can refresh the
// credentials and go on where it stopped. seq itself must return promptly
// once ctx is done.
func (c *Client) Stream(ctx context.Context, seq iter.Seq[Request]) iter.Seq[Result] {
	return c.StreamWith(ctx, seq, StreamOptions{})
}

// StreamWith is [Client.Stream] with options: a graceful stop that starts
// no new attempt, and a hook called before each request is first sent.
func (c *Client) StreamWith(ctx context.Context, seq iter.Seq[Request], opts StreamOptions) iter.Seq[Result] {
	return func(yield func(Result) bool) {
		ctx, cancel := context.WithCancel(ctx)
		s := newStreamRun(ctx, c, opts)
		s.start(seq)
		defer func() {
			cancel()
			// Let blocked workers finish: results is closed when the
			// run's last goroutine ends.
			for range s.results {
			}
		}()
		for r := range s.results {
			if !yield(r) {
				return
			}
		}
	}
}

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

// InvokeAll invokes every request concurrently, at most Config.Concurrency
// at a time, and returns exactly one Result per request, in input order
// (results[i] belongs to reqs[i]). If ctx is done before every request was
// sent, the unsent ones get a Result whose Err is the context's error; if
// the run stopped early because the credentials were refused or could not
// be obtained, they get that error (wrapping [ErrCredentials]). Either
// way, those requests were not sent.
func (c *Client) InvokeAll(ctx context.Context, reqs []Request) []Result {
	results := make([]Result, len(reqs))
	done := make([]bool, len(reqs))
	var stopErr error
	for r := range c.Stream(ctx, slices.Values(reqs)) {
		results[r.Index] = r
		done[r.Index] = true
		if stopErr == nil && errors.Is(r.Err, ErrCredentials) {
			stopErr = r.Err
		}
	}
	for i, ok := range done {
		if !ok {
			req := &reqs[i]
			err := context.Cause(ctx)
			if err == nil {
				err = cmp.Or(stopErr, ErrStopped)
			}
			results[i] = Result{
				Index:          i,
				ID:             req.ID,
				FunctionName:   req.FunctionName,
				InvocationType: req.InvocationType.orDefault(),
				Err:            err,
			}
		}
	}
	return results
}
