package cli

import (
	"bytes"
	"io"
	"sync"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
)

// A payloadSink takes the response payloads of a run: payloadDir writes
// them to files (--payload-dir), payloadBuffers to pooled buffers that
// the result lines embed.
type payloadSink interface {
	// writerFor returns the PayloadWriter of the request with the given
	// index, from the given input line, with the given id.
	writerFor(index, line int, id string) func(lambdafan.Result) (io.Writer, error)
	// result finishes the payload of the request with the given index as
	// its result r is written: what the result line says of a payload
	// file, if any, and the function to call once the line is encoded.
	result(index int, r *lambdafan.Result) (file *jsonl.PayloadFile, release func())
}

// maxPooledPayload is the largest buffer payloadBuffers keeps for reuse: a
// rare multi-megabyte answer should not pin its buffer for the rest of the
// run.
const maxPooledPayload = 1 << 20

// payloadBuffers receives the response payloads of a run that embeds them
// in its result lines (no --payload-dir): each request's PayloadWriter
// fills a buffer from a pool, and the buffer goes back to the pool once
// the result line is encoded. A run then reuses about as many buffers as
// it has requests in flight instead of allocating one per response, which
// for large payloads is most of its garbage. It is safe for concurrent
// use.
type payloadBuffers struct {
	pool sync.Pool // of *bytes.Buffer
	mu   sync.Mutex
	open map[int]*bytes.Buffer // by request index, until its result is written
}

func newPayloadBuffers() *payloadBuffers {
	return &payloadBuffers{open: map[int]*bytes.Buffer{}}
}

// writerFor returns the PayloadWriter of the request with the given index.
// Another attempt of the same request writes into the same buffer, emptied.
func (pb *payloadBuffers) writerFor(index, _ int, _ string) func(lambdafan.Result) (io.Writer, error) {
	return func(lambdafan.Result) (io.Writer, error) {
		pb.mu.Lock()
		defer pb.mu.Unlock()
		buf := pb.open[index]
		if buf == nil {
			buf, _ = pb.pool.Get().(*bytes.Buffer)
			if buf == nil {
				buf = new(bytes.Buffer)
			}
			pb.open[index] = buf
		}
		buf.Reset()
		return buf, nil
	}
}

// result puts the payload the request with the given index received, if
// any, into r.Payload, and returns the function that gives its buffer
// back: to be called once nothing refers to r.Payload any more.
func (pb *payloadBuffers) result(index int, r *lambdafan.Result) (file *jsonl.PayloadFile, release func()) {
	pb.mu.Lock()
	buf := pb.open[index]
	delete(pb.open, index)
	pb.mu.Unlock()
	if buf == nil {
		return nil, func() {}
	}
	r.Payload = buf.Bytes()
	return nil, func() {
		r.Payload = nil
		if buf.Cap() <= maxPooledPayload {
			pb.pool.Put(buf)
		}
	}
}
