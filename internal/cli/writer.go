package cli

import (
	"bufio"
	"context"
	"io"
	"sync"
	"time"

	"github.com/lambdafan/lambdafan/internal/jsonl"
)

// flushInterval bounds how long a written result may sit in the output
// buffer: results reach the file in batches, at most this late, so a
// process killed outright (SIGKILL) loses at most this much; an interrupt
// loses nothing. Flushing per result would cost a write per invocation.
const flushInterval = 20 * time.Millisecond

// resultWriter writes result records as JSON Lines, either as they come
// (completion order) or in input order. In input order it holds early
// results until the ones before them arrive, and holds back the reader
// (waitTurn) so that at most window results wait. It is safe for
// concurrent use.
type resultWriter struct {
	mu       sync.Mutex
	w        *bufio.Writer
	scratch  []byte
	ordered  bool
	next     int            // ordered: the next sequence number to write
	pending  map[int][]byte // ordered: encoded records waiting for their turn
	advanced chan struct{}  // ordered: closed and replaced when next moves
	window   int
	err      error // the first write error; later writes are skipped

	stopFlusher chan struct{}
	flusher     sync.WaitGroup
}

func newResultWriter(w io.Writer, ordered bool, window int) *resultWriter {
	rw := &resultWriter{
		w:           bufio.NewWriterSize(w, 256*1024),
		ordered:     ordered,
		pending:     map[int][]byte{},
		advanced:    make(chan struct{}),
		window:      window,
		stopFlusher: make(chan struct{}),
	}
	rw.flusher.Go(rw.flushPeriodically)
	return rw
}

func (rw *resultWriter) flushPeriodically() {
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			rw.mu.Lock()
			if rw.err == nil && rw.w.Buffered() > 0 {
				rw.err = rw.w.Flush()
			}
			rw.mu.Unlock()
		case <-rw.stopFlusher:
			return
		}
	}
}

// write records the result of the request with sequence number seq.
func (rw *resultWriter) write(seq int, rec jsonl.Record) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if !rw.ordered {
		rw.scratch = jsonl.AppendRecord(rw.scratch[:0], rec)
		rw.emit(rw.scratch)
		return
	}
	if seq != rw.next {
		rw.pending[seq] = jsonl.AppendRecord(nil, rec)
		return
	}
	rw.scratch = jsonl.AppendRecord(rw.scratch[:0], rec)
	rw.emit(rw.scratch)
	rw.advanceLocked()
}

// skip marks seq as having no record in this run (a resumed request that
// was already finished), so that ordered output can move past it.
func (rw *resultWriter) skip(seq int) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if !rw.ordered {
		return
	}
	if seq != rw.next {
		rw.pending[seq] = nil
		return
	}
	rw.advanceLocked()
}

// advanceLocked moves past the record just written, then writes every
// waiting record that is now in turn.
func (rw *resultWriter) advanceLocked() {
	rw.next++
	for {
		b, ok := rw.pending[rw.next]
		if !ok {
			break
		}
		delete(rw.pending, rw.next)
		rw.emit(b)
		rw.next++
	}
	close(rw.advanced)
	rw.advanced = make(chan struct{})
}

// emit writes b unless an earlier write failed. rw.mu must be held.
func (rw *resultWriter) emit(b []byte) {
	if rw.err == nil {
		_, rw.err = rw.w.Write(b)
	}
}

// waitTurn blocks, in ordered mode, until the request with sequence number
// seq may start without more than window results waiting for an earlier
// one. It returns false when ctx is done first.
func (rw *resultWriter) waitTurn(ctx context.Context, seq int) bool {
	if !rw.ordered {
		return true
	}
	for {
		rw.mu.Lock()
		if seq < rw.next+rw.window {
			rw.mu.Unlock()
			return true
		}
		advanced := rw.advanced
		rw.mu.Unlock()
		select {
		case <-advanced:
		case <-ctx.Done():
			return false
		}
	}
}

// finish writes what ordered mode still holds (after an interruption,
// records whose predecessors never ran), flushes, and returns the first
// write error.
func (rw *resultWriter) finish() error {
	close(rw.stopFlusher)
	rw.flusher.Wait()
	rw.mu.Lock()
	defer rw.mu.Unlock()
	for len(rw.pending) > 0 {
		if b, ok := rw.pending[rw.next]; ok {
			delete(rw.pending, rw.next)
			rw.emit(b)
		}
		rw.next++
	}
	if rw.err == nil {
		rw.err = rw.w.Flush()
	}
	return rw.err
}
