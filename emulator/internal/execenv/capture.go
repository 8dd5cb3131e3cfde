package execenv

import (
	"errors"
	"io"
	"os"
	"slices"
	"sync"
	"syscall"
)

const (
	// maxPendingOutput bounds what an environment prints between
	// invocations that is kept for the next invocation's log.
	maxPendingOutput = 64 * 1024
	// maxDrainBytes bounds how much a drain reads, so a process that
	// prints without pause cannot hold up the end of an invocation.
	maxDrainBytes = 1 << 20
)

// outputCapture collects what an environment's process writes to its
// stdout and stderr (one pipe, so their order is kept) and hands it to the
// log of the invocation that is running — to the logs of all those
// running, when an environment runs several at once and their output
// cannot be told apart.
//
// Output printed between invocations (during init, or after a response)
// is kept, up to maxPendingOutput bytes, and written at the start of the
// next invocation's log, after its START line; the rest is dropped.
//
// A reader goroutine (run) copies the pipe as data arrives, so a process
// is never blocked on a full pipe. Because the runtime writes its output
// before it posts its response, drain, called once the response arrived,
// reads whatever is still in the pipe, so the invocation's log is
// complete when the invocation ends. Both read under mu: once drain holds
// it, no earlier read is still being delivered.
// It is safe for concurrent use.
type outputCapture struct {
	f  *os.File // read end of the pipe
	rc syscall.RawConn

	mu      sync.Mutex
	sinks   []io.Writer // the running invocations' logs, io.Discard for those not kept
	pending []byte      // output printed between invocations
	buf     []byte
}

// newOutputCapture returns a capture reading f, the read end of the
// process's output pipe. The caller runs run in a goroutine.
func newOutputCapture(f *os.File) (*outputCapture, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &outputCapture{f: f, rc: rc, buf: make([]byte, 32*1024)}, nil
}

// run copies the pipe until every writer closed it or close was called.
func (o *outputCapture) run() {
	defer o.f.Close()
	unsupported := false
	_ = o.rc.Read(func(fd uintptr) bool {
		for {
			n, wouldBlock, err := o.readOnce(fd)
			switch {
			case errors.Is(err, errors.ErrUnsupported):
				unsupported = true
				return true
			case wouldBlock:
				return false // wait until the pipe is readable
			case n == 0 || err != nil:
				return true // EOF: every writer is gone
			}
		}
	})
	if unsupported {
		o.copyBlocking()
	}
}

// readOnce reads one chunk from the pipe and delivers it, under mu.
func (o *outputCapture) readOnce(fd uintptr) (int, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, wouldBlock, err := readNonblocking(fd, o.buf)
	if n > 0 {
		o.deliver(o.buf[:n])
	}
	return n, wouldBlock, err
}

// copyBlocking is the fallback where the pipe cannot be read without
// blocking: output still reaches the logs, but drain cannot guarantee that
// an invocation's last lines are in its own log.
func (o *outputCapture) copyBlocking() {
	buf := make([]byte, 32*1024)
	for {
		n, err := o.f.Read(buf)
		if n > 0 {
			o.mu.Lock()
			o.deliver(buf[:n])
			o.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// deliver writes p to the sinks or keeps it for the next one. Callers
// hold mu.
func (o *outputCapture) deliver(p []byte) {
	if len(o.sinks) == 0 {
		room := maxPendingOutput - len(o.pending)
		o.pending = append(o.pending, p[:min(room, len(p))]...)
		return
	}
	for _, w := range o.sinks {
		if w != io.Discard {
			_, _ = w.Write(p)
		}
	}
}

// attach starts sending output to w, beginning with what was printed
// since the last invocation. A nil w (or io.Discard) drops the output.
func (o *outputCapture) attach(w io.Writer) {
	if w == nil {
		w = io.Discard
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.pending) > 0 {
		if w != io.Discard {
			_, _ = w.Write(o.pending)
		}
		o.pending = o.pending[:0]
	}
	o.sinks = append(o.sinks, w)
}

// detach reads what is left in the pipe into the sinks and stops writing
// to w, which attach added: after detach returns w is never written
// again.
func (o *outputCapture) detach(w io.Writer) {
	if w == nil {
		w = io.Discard
	}
	o.drain()
	o.mu.Lock()
	defer o.mu.Unlock()
	if i := slices.Index(o.sinks, w); i >= 0 {
		o.sinks = slices.Delete(o.sinks, i, i+1)
	}
}

// drain delivers what the pipe holds now, up to maxDrainBytes.
func (o *outputCapture) drain() {
	_ = o.rc.Control(func(fd uintptr) {
		o.mu.Lock()
		defer o.mu.Unlock()
		for read := 0; read < maxDrainBytes; {
			n, wouldBlock, err := readNonblocking(fd, o.buf)
			if n > 0 {
				o.deliver(o.buf[:n])
				read += n
			}
			if wouldBlock || n == 0 || err != nil {
				return
			}
		}
	})
}

// close stops run even when a stray descendant of the process still
// holds the pipe open.
func (o *outputCapture) close() { _ = o.f.Close() }
