package cli

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
)

// TestReadAhead_boundedInBytes: with 1 MB payloads the queue holds what
// fits in readAheadBytes, not readAheadItems lines, and passes every item
// on in order.
func TestReadAhead_boundedInBytes(t *testing.T) {
	const n, size = 40, 1 << 20
	payload := bytes.Repeat([]byte("x"), size)
	ra := newReadAhead()
	seq := func(yield func(jsonl.Item) bool) {
		for i := range n {
			if !yield(jsonl.Item{Seq: i, Request: lambdafan.Request{Payload: payload}}) {
				return
			}
		}
	}
	go ra.fill(t.Context(), seq)
	w := weight(jsonl.Item{Request: lambdafan.Request{Payload: payload}})
	// Wait until the filler has used the budget up (it then blocks).
	for ra.budget.TryAcquire(w) {
		ra.budget.Release(w)
		runtime.Gosched()
	}
	if got, most := len(ra.items), int(readAheadBytes/w); got > most {
		t.Errorf("%d items of %d bytes queued; want at most %d (%d bytes)", got, size, most, readAheadBytes)
	}
	for i := range n {
		it, ok := ra.next(t.Context())
		if !ok || it.Seq != i {
			t.Fatalf("item %d: got seq %d, %v", i, it.Seq, ok)
		}
	}
	if _, ok := ra.next(t.Context()); ok {
		t.Error("an item after the last one")
	}
}
