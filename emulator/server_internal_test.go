package emulator

import "testing"

func TestActivity(t *testing.T) {
	var a activity
	a.wait() // nothing in progress: returns at once

	a.add()
	returned := make(chan struct{})
	go func() {
		a.wait()
		close(returned)
	}()
	a.add() // added while someone waits: allowed, unlike sync.WaitGroup
	a.done()
	select {
	case <-returned:
		t.Fatal("wait returned with work in progress")
	default:
	}
	a.done()
	<-returned

	// Reusable at once.
	for range 3 {
		a.add()
		go a.done()
		a.wait()
	}
}
