package lambdafan

import (
	"context"
	"iter"
	"slices"
	"sync"
	"time"
)

// Stream invokes the requests of seq concurrently and yields one Result
// per request as each completes (completion order; Result.Index is the
// request's position in seq).
//
// At most Config.Concurrency attempts are in flight. A request waiting to
// be retried (after a throttle, say, for as long as Lambda's Retry-After
// asks) holds no worker, so other requests go on meanwhile. Requests are
// pulled from seq lazily, at most four times the concurrency ahead of the
// results, and a consumer that stops reading holds the workers back, so
// memory is bounded by the concurrency, not by the number of requests.
//
// Breaking out of the loop cancels the invocations in flight and returns
// once they have stopped. When ctx is done, Stream stops pulling requests,
// yields a result for each request it had pulled (with the context's error,
// unless an attempt had already settled it), and ends; requests seq had
// not yet produced get no result. Likewise, when Lambda refuses the
// credentials (expired or unknown, after one refresh) or they cannot be
// obtained, Stream stops pulling: the requests it had pulled get results
// wrapping [ErrCredentials], and the rest none, so a caller can refresh the
// credentials and go on where it stopped. seq itself must return promptly
// once ctx is done.
func (c *Client) Stream(ctx context.Context, seq iter.Seq[Request]) iter.Seq[Result] {
	return func(yield func(Result) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		s := newStreamRun(ctx, c)
		s.start(seq)
		defer func() {
			cancel()
			for range s.results { // let blocked workers finish
			}
			s.wait()
		}()
		for r := range s.results {
			if !yield(r) {
				return
			}
		}
	}
}

// streamRun is the machinery of one Stream: a feeder that pulls requests
// while fewer than maxOutstanding are unfinished, workers that make one
// attempt at a time, and a delay set that holds calls waiting for a retry
// and hands them back to the workers when their wait is over (or at once
// when the stream is cancelled).
type streamRun struct {
	c       *Client
	ctx     context.Context
	rn      run
	ready   chan *call    // calls due for an attempt; room for every outstanding call
	slots   chan struct{} // one token per outstanding (pulled, unfinished) call
	results chan Result

	mu          sync.Mutex
	outstanding int
	feederDone  bool
	delayed     map[*call]*time.Timer
	cancelled   bool

	feeder, workers, watcher sync.WaitGroup
}

func newStreamRun(ctx context.Context, c *Client) *streamRun {
	// Calls waiting for a retry count as outstanding: room for four times
	// the concurrency lets a second's Retry-After on a few percent of the
	// calls leave the workers busy with others.
	maxOutstanding := 4 * c.concurrency
	return &streamRun{
		c: c, ctx: ctx,
		ready:   make(chan *call, maxOutstanding),
		slots:   make(chan struct{}, maxOutstanding),
		results: make(chan Result, c.concurrency),
		delayed: map[*call]*time.Timer{},
	}
}

func (s *streamRun) start(seq iter.Seq[Request]) {
	s.feeder.Go(func() { s.feed(seq) })
	for range s.c.concurrency {
		s.workers.Go(s.work)
	}
	s.watcher.Go(s.releaseDelayedOnCancel)
	go func() {
		s.workers.Wait()
		close(s.results)
	}()
}

// wait returns once every goroutine of the run has ended.
func (s *streamRun) wait() {
	s.feeder.Wait()
	s.workers.Wait()
	s.watcher.Wait()
}

// feed pulls requests. A pulled request always becomes a call that gets a
// result (a worker answers at once when the run is over); then no more are
// pulled.
func (s *streamRun) feed(seq iter.Seq[Request]) {
	defer func() {
		s.mu.Lock()
		s.feederDone = true
		s.closeReadyIfIdleLocked()
		s.mu.Unlock()
	}()
	i := 0
	for req := range seq {
		s.slots <- struct{}{} // frees as calls finish, also after cancellation
		s.mu.Lock()
		s.outstanding++
		s.mu.Unlock()
		s.ready <- newCall(i, req)
		i++
		if s.ctx.Err() != nil || s.rn.stopped() != nil {
			return
		}
	}
}

// work makes attempts for calls that are due until none are left.
func (s *streamRun) work() {
	for cl := range s.ready {
		wait, done := s.c.step(s.ctx, &s.rn, cl)
		if !done {
			s.delay(cl, wait)
			continue
		}
		s.results <- cl.res
		<-s.slots
		s.mu.Lock()
		s.outstanding--
		s.closeReadyIfIdleLocked()
		s.mu.Unlock()
	}
}

// closeReadyIfIdleLocked ends the workers once nothing more can arrive.
func (s *streamRun) closeReadyIfIdleLocked() {
	if s.feederDone && s.outstanding == 0 {
		close(s.ready)
	}
}

// delay hands cl back to the workers after d, or at once if the run is
// cancelled.
func (s *streamRun) delay(cl *call, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelled || d <= 0 {
		s.ready <- cl // never blocks: ready has room for every outstanding call
		return
	}
	s.delayed[cl] = time.AfterFunc(d, func() {
		s.mu.Lock()
		_, mine := s.delayed[cl]
		delete(s.delayed, cl)
		s.mu.Unlock()
		if mine {
			s.ready <- cl
		}
	})
}

// releaseDelayedOnCancel waits for the run's end and then hands every
// waiting call back at once, so that it can answer with the cancellation.
func (s *streamRun) releaseDelayedOnCancel() {
	<-s.ctx.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancelled = true
	for cl, t := range s.delayed {
		t.Stop()
		delete(s.delayed, cl)
		s.ready <- cl
	}
}

// InvokeAll invokes every request concurrently, at most Config.Concurrency
// at a time, and returns exactly one Result per request, in input order
// (results[i] belongs to reqs[i]). If ctx is done before every request was
// sent, the unsent ones get a Result whose Err is the context's error.
func (c *Client) InvokeAll(ctx context.Context, reqs []Request) []Result {
	results := make([]Result, len(reqs))
	done := make([]bool, len(reqs))
	for r := range c.Stream(ctx, slices.Values(reqs)) {
		results[r.Index] = r
		done[r.Index] = true
	}
	for i, ok := range done {
		if !ok {
			req := &reqs[i]
			results[i] = Result{
				Index:          i,
				ID:             req.ID,
				FunctionName:   req.FunctionName,
				InvocationType: req.InvocationType.orDefault(),
				Err:            context.Cause(ctx),
			}
		}
	}
	return results
}
