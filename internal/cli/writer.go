package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"sync"
	"time"

	"github.com/lambdafan/lambdafan/internal/jsonl"
)

// flushInterval bounds how long a written result may sit in the output
// buffer: results reach the file in batches, at most this late. Flushing
// per result would cost a write per invocation. A process killed outright
// (SIGKILL) loses what is buffered; the journal then says which requests
// those were (see journal.go).
const flushInterval = 20 * time.Millisecond

// flushSize is the buffered size that triggers a write before the
// interval is over.
const flushSize = 256 * 1024

// resultWriter writes result records as JSON Lines, either as they come
// (completion order) or in input order. In input order it holds early
// results until the ones before them arrive, and holds back the reader
// (waitTurn) so that at most window results wait.
//
// When the output fails (standard output closed by `| head`, a full disk),
// no record is lost: the records not wholly written, and all later ones,
// go to a spill file in the temporary directory, and onError is called
// once so that the run stops starting invocations. It is safe for
// concurrent use.
type resultWriter struct {
	mu       sync.Mutex
	w        io.Writer
	buf      []byte
	scratch  []byte
	ordered  bool
	next     int            // ordered: the next sequence number to write
	pending  map[int][]byte // ordered: encoded records waiting for their turn
	advanced chan struct{}  // ordered: closed and replaced when next moves
	window   int

	onError   func(error)
	err       error    // the output's first write error
	spill     *os.File // where records go once the output failed
	spillErr  error    // the spill file's own failure: records were lost
	spilled   int      // records in the spill file
	lost      int      // records neither written nor spilled
	written   int      // records wholly written to the output
	partially bool     // the output received part of a record

	file      *os.File // the output, when it is a regular file
	offset    int64    // bytes written to file
	writeback int64    // bytes of file whose writeback was started

	stopFlusher chan struct{}
	flusher     sync.WaitGroup
}

// writebackChunk is how much output accumulates before its writeback to
// disk is started (see startWriteback).
const writebackChunk = 8 << 20

func newResultWriter(w io.Writer, ordered bool, window int, onError func(error)) *resultWriter {
	rw := &resultWriter{
		w:           w,
		buf:         make([]byte, 0, flushSize+64*1024),
		ordered:     ordered,
		pending:     map[int][]byte{},
		advanced:    make(chan struct{}),
		window:      window,
		onError:     onError,
		stopFlusher: make(chan struct{}),
	}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			// A resumed run appends: its writes start at the end.
			rw.file, rw.offset, rw.writeback = f, fi.Size(), fi.Size()
		}
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
			rw.flushLocked()
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
		rw.emitLocked(rw.scratch)
		return
	}
	if seq != rw.next {
		rw.pending[seq] = jsonl.AppendRecord(nil, rec)
		return
	}
	rw.scratch = jsonl.AppendRecord(rw.scratch[:0], rec)
	rw.emitLocked(rw.scratch)
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
		rw.emitLocked(b)
		rw.next++
	}
	close(rw.advanced)
	rw.advanced = make(chan struct{})
}

// emitLocked buffers one encoded record (or none, for a skipped one). A
// record of flushSize or more (a large payload's) is written from where it
// was encoded, after what is buffered, instead of being copied into the
// buffer first.
func (rw *resultWriter) emitLocked(b []byte) {
	if len(b) >= flushSize {
		rw.flushLocked()
		rw.writeLocked(b)
		return
	}
	rw.buf = append(rw.buf, b...)
	if len(rw.buf) >= flushSize {
		rw.flushLocked()
	}
}

// flushLocked writes the buffer to the output, or to the spill file once
// the output has failed.
func (rw *resultWriter) flushLocked() {
	if len(rw.buf) == 0 {
		return
	}
	rw.writeLocked(rw.buf)
	rw.buf = rw.buf[:0]
}

// writeLocked writes whole records to the output, or to the spill file
// once the output has failed.
func (rw *resultWriter) writeLocked(p []byte) {
	if rw.err != nil {
		rw.spillLocked(p)
		return
	}
	n, err := rw.w.Write(p)
	whole := bytes.LastIndexByte(p[:n], '\n') + 1 // records wholly written
	rw.written += bytes.Count(p[:whole], []byte{'\n'})
	if rw.file != nil {
		rw.offset += int64(n)
		if rw.offset-rw.writeback >= writebackChunk {
			startWriteback(rw.file, rw.writeback, rw.offset-rw.writeback)
			rw.writeback = rw.offset
		}
	}
	if err == nil {
		return
	}
	rw.err = err
	rw.partially = n > whole
	rw.spillLocked(p[whole:])
	if rw.onError != nil {
		rw.onError(err)
	}
}

// spillLocked appends whole records to the spill file, creating it first.
func (rw *resultWriter) spillLocked(b []byte) {
	records := bytes.Count(b, []byte{'\n'})
	if rw.spill == nil && rw.spillErr == nil {
		rw.spill, rw.spillErr = os.CreateTemp("", "lambdafan-unwritten-*.jsonl")
	}
	if rw.spillErr == nil {
		_, rw.spillErr = rw.spill.Write(b)
	}
	if rw.spillErr != nil {
		rw.lost += records
		return
	}
	rw.spilled += records
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

// writeOutcome is what finish reports: the output's first error, and where
// the records it could not take went.
type writeOutcome struct {
	err       error  // the output's first write error, or nil
	written   int    // records wholly written to the output
	spillPath string // the spill file, if any
	spilled   int    // records in it
	lost      int    // records neither written nor spilled (the spill failed too)
	spillErr  error
	partially bool // the output received part of a record before failing
}

// finish writes what ordered mode still holds (after an interruption,
// records whose predecessors never ran), flushes, and says where every
// record went.
func (rw *resultWriter) finish() writeOutcome {
	close(rw.stopFlusher)
	rw.flusher.Wait()
	rw.mu.Lock()
	defer rw.mu.Unlock()
	for len(rw.pending) > 0 {
		if b, ok := rw.pending[rw.next]; ok {
			delete(rw.pending, rw.next)
			rw.emitLocked(b)
		}
		rw.next++
	}
	rw.flushLocked()
	out := writeOutcome{err: rw.err, written: rw.written, spilled: rw.spilled, lost: rw.lost, partially: rw.partially}
	if rw.spill != nil {
		if err := rw.spill.Close(); err != nil && rw.spillErr == nil {
			rw.spillErr = err
			out.lost, out.spilled = out.lost+out.spilled, 0
		}
		out.spillPath = rw.spill.Name()
	}
	out.spillErr = rw.spillErr
	return out
}
