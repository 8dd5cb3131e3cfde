package cli

import (
	"context"
	"iter"

	"golang.org/x/sync/semaphore"

	"github.com/lambdafan/lambdafan/internal/jsonl"
)

// Bounds of the input read ahead of the client: decoded items wait in a
// queue so that the client never waits for the decoder, but with large
// payloads a queue of readAheadItems 256 KB lines alone would hold 64 MB.
const (
	readAheadItems = 256
	readAheadBytes = 8 << 20 // of payloads; one item always fits
)

// readAhead is the queue of decoded input items between the reader and the
// client, bounded in items and in payload bytes.
type readAhead struct {
	items  chan jsonl.Item
	budget *semaphore.Weighted
}

func newReadAhead() *readAhead {
	return &readAhead{items: make(chan jsonl.Item, readAheadItems), budget: semaphore.NewWeighted(readAheadBytes)}
}

// fill queues the items of seq until it ends or ctx is done, then closes
// the queue.
func (ra *readAhead) fill(ctx context.Context, seq iter.Seq[jsonl.Item]) {
	defer close(ra.items)
	for it := range seq {
		if ra.budget.Acquire(ctx, weight(it)) != nil {
			return
		}
		select {
		case ra.items <- it:
		case <-ctx.Done():
			return
		}
	}
}

// next returns the next item, or false once the queue is closed and empty
// or ctx is done.
func (ra *readAhead) next(ctx context.Context) (jsonl.Item, bool) {
	select {
	case it, ok := <-ra.items:
		if ok {
			ra.budget.Release(weight(it))
		}
		return it, ok
	case <-ctx.Done():
		return jsonl.Item{}, false
	}
}

// weight is what an item counts against the byte bound: its payload's
// size, at least 1 and at most the whole bound.
func weight(it jsonl.Item) int64 {
	p, _ := it.Request.Payload.([]byte)
	return min(int64(len(p))+1, readAheadBytes)
}
