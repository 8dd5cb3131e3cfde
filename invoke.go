package lambdafan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lambdafan/lambdafan/internal/ctxtime"
)

// run is the state shared by the invocations of one Stream: a failure that
// dooms every later request (credentials refused or unobtainable) stops
// the run instead of failing each remaining request in turn.
type run struct {
	fatal atomic.Pointer[error]
	// starting is done once no new attempt may start (the stream was
	// stopped, or its context is done); attempts in flight go on.
	starting context.Context
	// stopCh is StreamOptions.Stop. It is checked directly as well as
	// through starting, so that an attempt never starts once stop is
	// closed, however soon after.
	stopCh <-chan struct{}
	// beforeSend is StreamOptions.BeforeSend.
	beforeSend func(ctx context.Context, index int) error
}

// startingContext returns the context that is done once no new attempt
// may start: the run's, or ctx for a lone Invoke.
func (r *run) startingContext(ctx context.Context) context.Context {
	if r == nil || r.starting == nil {
		return ctx
	}
	return r.starting
}

// stopping reports whether no new attempt may start: the stream was
// stopped, or its context is done.
func (r *run) stopping() bool {
	if r == nil || r.starting == nil {
		return false
	}
	select {
	case <-r.stopCh:
		return true
	default:
		return r.starting.Err() != nil
	}
}

// stop records err as the reason the run stops; the first reason wins.
func (r *run) stop(err error) {
	r.fatal.CompareAndSwap(nil, &err)
}

// stopped returns the reason the run stopped, or nil.
func (r *run) stopped() error {
	if r == nil {
		return nil
	}
	if p := r.fatal.Load(); p != nil {
		return *p
	}
	return nil
}

// call is one request's progress through its attempts.
type call struct {
	req       Request
	p         *prepared // nil until the first step
	res       Result
	start     time.Time
	refreshed bool // the credentials were refreshed once already
}

func newCall(index int, req Request) *call {
	return &call{
		req: req,
		res: Result{
			Index:          index,
			ID:             req.ID,
			FunctionName:   req.FunctionName,
			InvocationType: req.InvocationType.orDefault(),
		},
	}
}

// settle records that cl's result is final as of now: its end, and for a
// call that made attempts, its start and latency. A call that made none
// keeps a zero Start, though it may have waited for admission since
// cl.start.
func (cl *call) settle(now time.Time) {
	res := &cl.res
	res.End = now
	if cl.p != nil {
		res.Latency = now.Sub(cl.start)
	}
	if res.Attempts > 0 {
		res.Start = cl.start
	}
}

// invoke runs one request to completion, waiting between attempts. rn is
// nil for a lone Invoke.
func (c *Client) invoke(ctx context.Context, rn *run, index int, req *Request) Result {
	cl := newCall(index, *req)
	for {
		wait, done := c.step(ctx, rn, cl)
		if done {
			return cl.res
		}
		if err := ctxtime.Sleep(ctx, wait); err != nil {
			cl.settle(c.now())
			return cl.res // the last attempt's error stands
		}
	}
}

// step advances cl by one attempt: on its first step it validates and
// prepares the request; then it waits for admission (the rate cap and the
// adaptive limits) and makes an attempt. It reports whether cl is finished
// (its Result is final) or else how long to wait before the next step.
func (c *Client) step(ctx context.Context, rn *run, cl *call) (wait time.Duration, done bool) {
	res := &cl.res
	if cl.p == nil {
		p, err := c.prepare(ctx, &cl.req)
		if err != nil {
			res.Err = err
			cl.settle(c.now())
			return 0, true
		}
		cl.p, cl.start = p, c.now()
		res.Region = p.region
	}
	defer func() {
		if done {
			cl.settle(c.now())
		}
	}()
	// A call that has made attempts keeps its last attempt's error when it
	// ends without another: that error says whether the function may have
	// run, which a cancellation or a stop must not hide.
	endUnsent := func(err error) (time.Duration, bool) {
		if res.Attempts == 0 {
			res.Err = err
		}
		return 0, true
	}
	if err := rn.stopped(); err != nil {
		if credentialsRefused(res.Err) { // refused before the refresh: it did not run
			res.Err = err
		}
		return endUnsent(err)
	}
	slots, err := c.ready(ctx, rn, cl)
	if err != nil {
		return endUnsent(err)
	}
	res.Attempts++
	err = c.attempt(ctx, cl.p, res)
	slots.release(err)
	res.Err = err
	if throttled(err) {
		res.Throttles++
	}
	switch {
	case err == nil:
		return 0, true
	case credentialsRefused(err):
		// Temporary credentials may have expired since they were cached:
		// fetch fresh ones once before giving up on them.
		if !cl.refreshed && c.invalidateCredentials() {
			cl.refreshed = true
			return 0, false
		}
		res.Err = fmt.Errorf("%w: %w", ErrCredentials, err)
		if rn != nil {
			rn.stop(fmt.Errorf("%w: the run stopped because %v", ErrCredentials, err))
		}
		return 0, true
	case errors.Is(err, ErrCredentials):
		if rn != nil {
			rn.stop(err)
		}
		return 0, true
	}
	wait, ok := c.retry.next(err, cl.p.invocationType, res.Attempts, c.now().Sub(cl.start))
	if !ok || ctx.Err() != nil {
		return 0, true
	}
	c.log.DebugContext(ctx, "retrying", "index", res.Index, "function", cl.req.FunctionName,
		"attempt", res.Attempts, "wait", wait, "error", err)
	return wait, false
}

// ready waits until cl may make an attempt: the run is not stopping, the
// rate cap and the adaptive limits admit it, and, before its first
// attempt, the stream's BeforeSend has returned. It returns the slots the
// attempt must release, or the error that ends cl unsent.
func (c *Client) ready(ctx context.Context, rn *run, cl *call) (admitted, error) {
	if err := ctx.Err(); err != nil {
		return admitted{}, err
	}
	if rn.stopping() {
		return admitted{}, ErrStopped
	}
	slots, err := c.admission.admit(rn.startingContext(ctx), cl.p)
	if err != nil {
		return admitted{}, cmp.Or(ctx.Err(), ErrStopped)
	}
	if cl.res.Attempts == 0 && rn != nil && rn.beforeSend != nil {
		if err := rn.beforeSend(ctx, cl.res.Index); err != nil {
			slots.release(err)
			err = fmt.Errorf("%w: %w", ErrStopped, err)
			rn.stop(err)
			return admitted{}, err
		}
	}
	// Stopped or cancelled while waiting for admission or BeforeSend.
	if err := cmp.Or(ctx.Err(), stoppedErr(rn)); err != nil {
		slots.release(err)
		return admitted{}, err
	}
	return slots, nil
}

// stoppedErr returns ErrStopped when the run is stopping, else nil.
func stoppedErr(rn *run) error {
	if rn.stopping() {
		return ErrStopped
	}
	return nil
}

// credentialsRefused reports a 403 that says the credentials themselves
// are unusable, as opposed to a permission missing for one function: every
// later request would fail the same way. They are expired or unknown, or
// the signatures made with them do not match: a wrong secret key, or a
// clock more than five minutes off (the signer is the SDK's, so a
// signature that does not match is not a quirk of one request).
func credentialsRefused(err error) bool {
	var ie *InvokeError
	if !errors.As(err, &ie) || ie.StatusCode != 403 {
		return false
	}
	switch ie.Type {
	case "ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException", "InvalidClientTokenId",
		"InvalidSignatureException", "SignatureDoesNotMatch":
		return true
	}
	return false
}

// invalidateCredentials makes the next attempt fetch fresh credentials, when
// the provider caches them; it reports whether it could.
func (c *Client) invalidateCredentials() bool {
	if cache, ok := c.credentials.(*aws.CredentialsCache); ok {
		cache.Invalidate()
		return true
	}
	return false
}
