package emulator

import (
	"testing"
	"testing/synctest"
)

// TestActivity runs in a synctest bubble: synctest.Wait returns once the
// waiting goroutine is blocked in wait (or has returned), so "wait has not
// returned" is an observation, not a race the goroutine may lose.
func TestActivity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var a activity
		a.wait() // nothing in progress: returns at once

		a.add()
		returned := make(chan struct{})
		go func() {
			a.wait()
			close(returned)
		}()
		synctest.Wait() // it waits
		a.add()         // added while someone waits: allowed, unlike sync.WaitGroup
		a.done()
		synctest.Wait()
		select {
		case <-returned:
			t.Fatal("wait returned with work in progress")
		default:
		}
		a.done()
		synctest.Wait()
		select {
		case <-returned:
		default:
			t.Fatal("wait did not return once nothing was in progress")
		}

		// Reusable at once.
		for range 3 {
			a.add()
			go a.done()
			a.wait()
		}
	})
}
