package store

import "context"

// firstBufferSize is the capacity an upload's first buffer starts with;
// it doubles up to the part size as it fills, so that a small output does
// not cost a whole part.
const firstBufferSize = 64 << 10

// bufferPool hands out at most n part buffers. get and grow are called by
// the writing goroutine only; put by the goroutines that sent a part.
type bufferPool struct {
	size int         // capacity of a full buffer
	free chan []byte // returned buffers; its capacity is n
	made int         // buffers allocated so far (writer goroutine only)
}

func newBufferPool(size, n int) *bufferPool {
	return &bufferPool{size: size, free: make(chan []byte, n)}
}

// get returns an empty buffer: a returned one, a new one while fewer than
// n exist, or else the next one returned, waiting for it until ctx is
// done.
func (p *bufferPool) get(ctx context.Context) ([]byte, error) {
	select {
	case b := <-p.free:
		return b[:0], nil
	default:
	}
	if p.made < cap(p.free) {
		p.made++
		if p.made == 1 {
			return make([]byte, 0, min(firstBufferSize, p.size)), nil
		}
		return make([]byte, 0, p.size), nil
	}
	select {
	case b := <-p.free:
		return b[:0], nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// grow returns a copy of the full buffer b with twice its capacity, at
// most the part size. b is dropped: the number of buffers is unchanged.
func (p *bufferPool) grow(b []byte) []byte {
	nb := make([]byte, len(b), min(max(2*cap(b), firstBufferSize), p.size))
	copy(nb, b)
	return nb
}

// put returns a buffer. It never blocks: at most n buffers exist.
func (p *bufferPool) put(b []byte) { p.free <- b }
