// Package limit provides an adaptive concurrency limit: an in-flight cap
// that backs off when the service throttles and grows back as requests
// succeed (additive increase, multiplicative decrease).
package limit

import (
	"context"
	"sync"
	"time"
)

// Defaults of a Limiter.
const (
	// DefaultBackoff is the factor the limit is multiplied by on a
	// throttle.
	DefaultBackoff = 0.7
	// DefaultCooldown is the minimum time between two decreases, so that a
	// burst of throttles from requests that were all in flight together
	// counts as one signal rather than collapsing the limit.
	DefaultCooldown = 200 * time.Millisecond
)

// Limiter is an adaptive concurrency limit between a minimum and a maximum.
// It starts at the maximum. Each throttled request multiplies the limit by
// DefaultBackoff (at most once per cooldown); each successful one adds
// 1/limit, so the limit grows by about one per round of limit successes.
// Requests beyond the limit wait in Acquire, first come first served. It is
// safe for concurrent use.
type Limiter struct {
	mu          sync.Mutex
	min, max    float64
	limit       float64
	inFlight    int
	waiters     []chan struct{}
	lastDecline time.Time
	cooldown    time.Duration
	now         func() time.Time
	throttles   int64
}

// New returns a Limiter between minLimit and maxLimit (both at least 1;
// minLimit is raised to 1 and maxLimit to minLimit when smaller).
func New(minLimit, maxLimit int) *Limiter {
	minLimit = max(minLimit, 1)
	maxLimit = max(maxLimit, minLimit)
	return &Limiter{
		min: float64(minLimit), max: float64(maxLimit), limit: float64(maxLimit),
		cooldown: DefaultCooldown, now: time.Now,
	}
}

// Acquire waits for a slot under the current limit, or until ctx is done.
// Every successful Acquire must be followed by exactly one Release.
func (l *Limiter) Acquire(ctx context.Context) error {
	l.mu.Lock()
	if len(l.waiters) == 0 && l.inFlight < int(l.limit) {
		l.inFlight++
		l.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	l.waiters = append(l.waiters, ready)
	l.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		select {
		case <-ready: // granted meanwhile: hand the slot on
			l.inFlight--
			l.wakeLocked()
		default:
			l.removeWaiterLocked(ready)
		}
		return ctx.Err()
	}
}

// Release frees a slot and adapts the limit: throttled reports that the
// service refused the request for lack of capacity; success that it was
// accepted. A request that ended otherwise (an error unrelated to
// capacity) passes neither and leaves the limit as it is.
func (l *Limiter) Release(throttled, success bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	switch {
	case throttled:
		l.throttles++
		if now := l.now(); now.Sub(l.lastDecline) >= l.cooldown {
			l.lastDecline = now
			l.limit = max(l.min, l.limit*DefaultBackoff)
		}
	case success:
		l.limit = min(l.max, l.limit+1/l.limit)
	}
	l.wakeLocked()
}

// wakeLocked hands free slots to waiters in arrival order.
func (l *Limiter) wakeLocked() {
	for len(l.waiters) > 0 && l.inFlight < int(l.limit) {
		w := l.waiters[0]
		l.waiters[0] = nil
		l.waiters = l.waiters[1:]
		l.inFlight++
		close(w)
	}
}

func (l *Limiter) removeWaiterLocked(w chan struct{}) {
	for i, x := range l.waiters {
		if x == w {
			l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
			return
		}
	}
}

// Status is a snapshot of a Limiter.
type Status struct {
	Limit     int   // the current limit
	InFlight  int   // slots held
	Waiting   int   // Acquire calls waiting
	Throttles int64 // throttled releases so far
}

// Status returns the limiter's current state.
func (l *Limiter) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Status{Limit: int(l.limit), InFlight: l.inFlight, Waiting: len(l.waiters), Throttles: l.throttles}
}
