package cli

import (
	"bytes"
	"io"
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

// TestPayloadBuffers: another attempt writes into the same buffer, emptied;
// result hands the bytes to the result and release takes them back.
func TestPayloadBuffers(t *testing.T) {
	pb := newPayloadBuffers()
	w := pb.writerFor(7, 1, "")
	first, _ := w(lambdafan.Result{})
	io.WriteString(first, "cut short")
	second, _ := w(lambdafan.Result{})
	if first != second {
		t.Fatal("another attempt got another buffer")
	}
	io.WriteString(second, `{"ok":true}`)
	var r lambdafan.Result
	_, release := pb.result(7, &r)
	if string(r.Payload) != `{"ok":true}` {
		t.Fatalf("payload %q, want the last attempt's", r.Payload)
	}
	release()
	if r.Payload != nil {
		t.Errorf("payload %q still set after release", r.Payload)
	}
	var none lambdafan.Result
	none.Payload = []byte("kept")
	_, release = pb.result(8, &none) // a request whose answer had no payload for the writer
	release()
	if string(none.Payload) != "kept" {
		t.Errorf("payload %q, want the result's own kept", none.Payload)
	}
}
