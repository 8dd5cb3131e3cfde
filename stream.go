package lambdafan

import (
	"context"
	"errors"
	"iter"
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
