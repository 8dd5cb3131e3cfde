package transport

import (
	"context"
	"sync"
)

// A Waiter tracks whether the request of an attempt has been given a
// connection, or is over, so that a dial started on its behalf can be
// dropped once it is not needed. The attempt attaches it to the request's
// context (WithWaiter), whose values net/http passes on to the dials (but
// not its cancellation: net/http lets dials outlive their requests), and
// calls Settle when the request gets a connection (httptrace's GotConn) or
// ends. The zero value is ready to use. It is safe for concurrent use.
type Waiter struct {
	mu   sync.Mutex
	done bool          // the request got a connection, or is over
	ch   chan struct{} // closed when done; made only when a dial waits
}

// Settle records that the request needs no dial any more.
func (w *Waiter) Settle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.done = true
		if w.ch != nil {
			close(w.ch)
		}
	}
}

func (w *Waiter) settled() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}

// settledChan returns a channel closed once the request is settled.
func (w *Waiter) settledChan() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
		if w.done {
			close(w.ch)
		}
	}
	return w.ch
}

type waiterKey struct{}

// WithWaiter returns ctx carrying w to the dials made for a request with
// that context.
func WithWaiter(ctx context.Context, w *Waiter) context.Context {
	return context.WithValue(ctx, waiterKey{}, w)
}

func waiterFrom(ctx context.Context) *Waiter {
	w, _ := ctx.Value(waiterKey{}).(*Waiter)
	return w
}
