package lambdafan

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// run is the state shared by the invocations of one Stream: a failure that
// dooms every later request (credentials refused or unobtainable) stops
// the run instead of failing each remaining request in turn.
type run struct {
	fatal atomic.Pointer[error]
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

// invoke runs one request to completion: validation, then attempts, each
// admitted by the rate cap and adaptive limits, until success or a failure
// that is final. rn is nil for a lone Invoke.
func (c *Client) invoke(ctx context.Context, rn *run, index int, req *Request) Result {
	res := Result{
		Index:          index,
		ID:             req.ID,
		FunctionName:   req.FunctionName,
		InvocationType: req.InvocationType.orDefault(),
	}
	p, err := c.prepare(ctx, req)
	if err != nil {
		res.Err = err
		return res
	}
	res.Region = p.region
	start := c.now()
	refreshed := false
	for {
		if err := rn.stopped(); err != nil {
			res.Err = err
			break
		}
		if err := ctx.Err(); err != nil {
			res.Err = err
			break
		}
		done, err := c.admission.admit(ctx, p)
		if err != nil {
			res.Err = err
			break
		}
		res.Attempts++
		err = c.attempt(ctx, p, &res)
		done(err)
		res.Err = err
		if err == nil {
			break
		}
		if credentialsRefused(err) {
			// Temporary credentials may have expired since they were
			// cached: fetch fresh ones once before giving up on them.
			if !refreshed && c.invalidateCredentials() {
				refreshed = true
				continue
			}
			res.Err = fmt.Errorf("%w: %w", ErrCredentials, err)
			if rn != nil {
				rn.stop(fmt.Errorf("%w: the run stopped because %v", ErrCredentials, err))
			}
			break
		}
		if errors.Is(err, ErrCredentials) {
			if rn != nil {
				rn.stop(err)
			}
			break
		}
		wait, ok := c.retry.next(err, p.invocationType, res.Attempts, c.now().Sub(start))
		if !ok || ctx.Err() != nil {
			break
		}
		c.log.DebugContext(ctx, "retrying", "index", index, "function", req.FunctionName,
			"attempt", res.Attempts, "wait", wait, "error", err)
		if err := sleep(ctx, wait); err != nil {
			break
		}
	}
	res.Latency = c.now().Sub(start)
	return res
}

// credentialsRefused reports a 403 that says the credentials themselves
// are unusable (expired or unknown), as opposed to a permission missing for
// one function: every later request would fail the same way.
func credentialsRefused(err error) bool {
	var ie *InvokeError
	if !errors.As(err, &ie) || ie.StatusCode != 403 {
		return false
	}
	switch ie.Type {
	case "ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException", "InvalidClientTokenId":
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

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
