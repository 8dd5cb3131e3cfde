// Package ctxtime waits for a duration the way a context allows.
package ctxtime

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx is done, and returns ctx's error in that
// case (also when d ≤ 0 and ctx is already done), nil otherwise.
func Sleep(ctx context.Context, d time.Duration) error {
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
