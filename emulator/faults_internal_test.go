package emulator

import (
	"context"
	"testing"
)

// TestFaultPlan checks that a drawn fault travels as a value: whatever
// the context, a fault that strikes after the function ran is still there
// when the function has run. (When it travelled in the request's context,
// a context without the slot lost it, though it was counted as injected.)
func TestFaultPlan(t *testing.T) {
	for _, tc := range []struct {
		fault         Fault
		before, after bool
	}{
		{NoFault, false, false},
		{FaultThrottle, true, false},
		{FaultThrottleRetryAfter, true, false},
		{FaultServerError, true, false},
		{FaultBadGateway, true, false},
		{FaultUnavailable, true, false},
		{FaultResetBefore, true, false},
		{FaultResetAfter, false, true},
		{FaultSlow, false, true},
	} {
		fi := newFaultInjector(Faults{Schedule: func(int64) Fault { return tc.fault }})
		p := fi.plan(context.Background())
		if p.fault != tc.fault || p.strikesBefore() != tc.before || p.strikesAfter() != tc.after {
			t.Errorf("%v: plan %v, before %v, after %v; want before %v, after %v",
				tc.fault, p.fault, p.strikesBefore(), p.strikesAfter(), tc.before, tc.after)
		}
		if n := fi.injected[tc.fault].Load(); tc.fault != NoFault && n != 1 {
			t.Errorf("%v counted %d times, want 1", tc.fault, n)
		}
	}
	var none faultPlan
	if none.strikesBefore() || none.strikesAfter() {
		t.Error("the zero plan injects a fault")
	}
}
