package transport

import (
	"context"
	"errors"
	"testing"
)

func TestPacedDialer_Acquire(t *testing.T) {
	d := &pacedDialer{slots: &dialSlots{limit: 2}}
	ctx := t.Context()
	done, cancel := context.WithCancel(ctx)
	cancel()

	// Until a dial succeeds, one at a time.
	r1, err := d.acquire(ctx, "a:443")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.acquire(done, "a:443"); !errors.Is(err, context.Canceled) {
		t.Fatalf("second dial before any succeeded: err %v, want to wait", err)
	}
	r1(false) // failed: still one at a time
	if r1, err = d.acquire(ctx, "a:443"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.acquire(done, "a:443"); !errors.Is(err, context.Canceled) {
		t.Fatalf("second dial before any succeeded: err %v, want to wait", err)
	}
	r1(true)

	// Then up to the limit per host.
	r1, err = d.acquire(ctx, "a:443")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := d.acquire(ctx, "a:443")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.acquire(done, "a:443"); !errors.Is(err, context.Canceled) {
		t.Fatalf("third concurrent dial: err %v, want to wait", err)
	}
	if r, err := d.acquire(ctx, "b:443"); err != nil { // other hosts have their own turns
		t.Fatal(err)
	} else {
		r(true)
	}
	r1(true)
	r3, err := d.acquire(ctx, "a:443")
	if err != nil {
		t.Fatal(err)
	}
	r2(true)
	r3(true)

	// A dial whose request got a connection or is over gives its turn back.
	settled := &Waiter{}
	settled.Settle()
	for range 3 {
		if _, err := d.acquire(WithWaiter(ctx, settled), "a:443"); !errors.Is(err, errSurplusDial) {
			t.Fatalf("dial for a settled request: err %v, want errSurplusDial", err)
		}
	}
}

func TestDialsInFlight(t *testing.T) {
	// A sixteenth of the concurrency, at least 4 per CPU, at most 64.
	for _, tc := range []struct {
		concurrency, procs, want int
	}{
		{1, 1, 4},       // 4 per CPU
		{1, 2, 8},       // 4 per CPU
		{64, 1, 4},      // a sixteenth, equal to 4 per CPU
		{100, 1, 6},     // a sixteenth, rounded down
		{1000, 2, 62},   // a sixteenth
		{200, 8, 32},    // 4 per CPU, above a sixteenth
		{1024, 2, 64},   // a sixteenth, at the cap
		{1040, 2, 64},   // a sixteenth, 65, capped
		{100000, 2, 64}, // a sixteenth, capped
		{1, 16, 64},     // 4 per CPU, at the cap
		{1, 17, 64},     // 4 per CPU, 68, capped
	} {
		if got := DialsInFlight(tc.concurrency, tc.procs); got != tc.want {
			t.Errorf("DialsInFlight(%d, %d) = %d, want %d", tc.concurrency, tc.procs, got, tc.want)
		}
	}
}
