package limit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeClock is a settable time source.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestLimiter(minLimit, maxLimit int) (*Limiter, *fakeClock) {
	l := New(minLimit, maxLimit)
	clock := &fakeClock{t: time.Unix(1000, 0)}
	l.now = clock.now
	return l, clock
}

func TestLimiter_StartsAtMaxAndBlocksBeyondIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, _ := newTestLimiter(1, 3)
		for range 3 {
			if err := l.Acquire(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		acquired := make(chan error, 1)
		go func() { acquired <- l.Acquire(t.Context()) }()
		synctest.Wait()
		// The fourth Acquire cannot have succeeded: every slot is held.
		select {
		case err := <-acquired:
			t.Fatalf("Acquire beyond the limit returned %v", err)
		default:
		}
		if st := l.Status(); st.Waiting != 1 {
			t.Fatalf("status %+v, want one waiting", st)
		}
		l.Release(false, true)
		if err := <-acquired; err != nil {
			t.Fatal(err)
		}
		if st := l.Status(); st.InFlight != 3 || st.Waiting != 0 {
			t.Errorf("status %+v", st)
		}
	})
}

func TestLimiter_ThrottlesDecreaseOncePerCooldown(t *testing.T) {
	l, clock := newTestLimiter(2, 100)
	for range 10 {
		_ = l.Acquire(t.Context())
	}
	for range 5 { // a burst of throttles from requests in flight together
		l.Release(true, false)
	}
	if got := l.Status().Limit; got != 70 {
		t.Errorf("limit after one burst = %d, want 70", got)
	}
	for range 5 {
		l.Release(false, false)
	}
	clock.t = clock.t.Add(DefaultCooldown)
	_ = l.Acquire(t.Context())
	l.Release(true, false)
	if got := l.Status().Limit; got != 49 {
		t.Errorf("limit after a second burst = %d, want 49", got)
	}
	for range 20 {
		clock.t = clock.t.Add(DefaultCooldown)
		_ = l.Acquire(t.Context())
		l.Release(true, false)
	}
	if st := l.Status(); st.Limit != 2 || st.Throttles != 26 {
		t.Errorf("status after many throttles %+v, want limit at the minimum 2 and 26 throttles", st)
	}
}

func TestLimiter_SuccessesGrowBackToMax(t *testing.T) {
	l, clock := newTestLimiter(1, 10)
	for range 10 {
		clock.t = clock.t.Add(DefaultCooldown)
		_ = l.Acquire(t.Context())
		l.Release(true, false)
	}
	if got := l.Status().Limit; got != 1 {
		t.Fatalf("limit = %d, want 1", got)
	}
	successes := 0
	for l.Status().Limit < 10 {
		_ = l.Acquire(t.Context())
		l.Release(false, true)
		successes++
		if successes > 1000 {
			t.Fatal("limit does not grow back")
		}
	}
	// Additive increase: each success adds 1/limit, about one per round
	// of `limit` successes (1+2+…+9 = 45 to climb from 1 to 10).
	want := 0
	for lim := 1.0; lim < 10; lim = min(10, lim+1/lim) {
		want++
	}
	if successes != want {
		t.Errorf("%d successes to grow from 1 to 10, want %d", successes, want)
	}
	_ = l.Acquire(t.Context())
	l.Release(false, true)
	if got := l.Status().Limit; got != 10 {
		t.Errorf("limit grew past the maximum: %d", got)
	}
}

// TestLimiter_BlocksAtTheLoweredLimit checks that a limit lowered by a
// throttle is enforced, both on Acquire's fast path and for waiters woken
// by Release: it is the limit, not the maximum, that bounds the slots.
func TestLimiter_BlocksAtTheLoweredLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, _ := newTestLimiter(1, 10)
		for range 10 {
			if err := l.Acquire(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		l.Release(true, false) // the limit drops to 7 with 9 in flight
		l.Release(false, false)
		l.Release(false, false)
		if st := l.Status(); st.Limit != 7 || st.InFlight != 7 {
			t.Fatalf("status %+v, want limit 7 and 7 in flight", st)
		}
		// With a done context, Acquire returns nil only if a slot is free
		// at once.
		done, cancel := context.WithCancel(t.Context())
		cancel()
		if err := l.Acquire(done); err != context.Canceled {
			t.Fatalf("Acquire with 7 in flight under a limit of 7 = %v, want it to wait", err)
		}

		const waiters = 3
		granted := make(chan struct{}, waiters)
		for range waiters {
			go func() {
				if l.Acquire(t.Context()) == nil {
					granted <- struct{}{}
				}
			}()
		}
		synctest.Wait() // all three wait in Acquire
		if len(granted) != 0 {
			t.Fatalf("%d waiters granted at the limit", len(granted))
		}
		l.Release(false, false) // 6 in flight: one slot under the limit
		synctest.Wait()
		if st := l.Status(); st.InFlight != 7 || st.Waiting != waiters-1 || len(granted) != 1 {
			t.Fatalf("status %+v, %d waiters granted; want exactly one granted", st, len(granted))
		}
		for range l.Status().InFlight {
			l.Release(false, false)
		}
		synctest.Wait()
		if st := l.Status(); len(granted) != waiters || st.Waiting != 0 {
			t.Errorf("status %+v, %d waiters granted; want all %d", st, len(granted), waiters)
		}
	})
}

func TestLimiter_NeitherOutcomeLeavesLimit(t *testing.T) {
	l, _ := newTestLimiter(1, 5)
	_ = l.Acquire(t.Context())
	l.Release(false, false)
	if st := l.Status(); st.Limit != 5 || st.InFlight != 0 {
		t.Errorf("status %+v", st)
	}
}

func TestLimiter_CancelledAcquireLeavesNoTrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, _ := newTestLimiter(1, 1)
		_ = l.Acquire(t.Context())
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- l.Acquire(ctx) }()
		synctest.Wait()
		if st := l.Status(); st.Waiting != 1 {
			t.Fatalf("status %+v, want one waiting", st)
		}
		cancel()
		if err := <-done; err != context.Canceled {
			t.Fatalf("Acquire = %v, want context.Canceled", err)
		}
		l.Release(false, true)
		if st := l.Status(); st.InFlight != 0 || st.Waiting != 0 {
			t.Errorf("status %+v, want nothing held or waiting", st)
		}
		if err := l.Acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLimiter_FIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, _ := newTestLimiter(1, 1)
		_ = l.Acquire(t.Context())
		order := make(chan int, 3)
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				_ = l.Acquire(t.Context())
				order <- i
				l.Release(false, true)
			})
			synctest.Wait() // waiter i queues before waiter i+1 starts
		}
		if st := l.Status(); st.Waiting != 3 {
			t.Fatalf("status %+v, want three waiting", st)
		}
		l.Release(false, true)
		wg.Wait()
		for want := range 3 {
			if got := <-order; got != want {
				t.Fatalf("waiter %d went %dth", got, want)
			}
		}
	})
}

func TestLimiter_NeverExceedsLimitUnderLoad(t *testing.T) {
	l := New(1, 8)
	var inFlight, peak atomic.Int64
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			for j := range 200 {
				if err := l.Acquire(t.Context()); err != nil {
					t.Error(err)
					return
				}
				n := inFlight.Add(1)
				// Slots granted under a higher limit stay held when it
				// drops, so only the maximum bounds what is in flight.
				if n > 8 {
					t.Errorf("%d in flight over the maximum 8", n)
				}
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				inFlight.Add(-1)
				l.Release((i+j)%17 == 0, (i+j)%17 != 0)
			}
		})
	}
	wg.Wait()
	if st := l.Status(); st.InFlight != 0 || st.Waiting != 0 || peak.Load() > 8 {
		t.Errorf("status %+v, peak %d", st, peak.Load())
	}
}
