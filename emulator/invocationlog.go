package emulator

import (
	"bytes"
	"sync"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// maxLogLine bounds the part of a line an invocation's log holds back
// from Config.FunctionLog while it waits for the line's end; a longer line
// is passed on in pieces.
const maxLogLine = 64 * 1024

// invocationLog is one invocation's log as it is written: the platform's
// lines (INIT_START, START, END, REPORT, …) and what the function prints.
// It keeps only the last LogTailBytes, for LogType Tail, in a ring buffer,
// and passes the log on to Config.FunctionLog as it arrives, whole lines
// at a time, so that however much a function prints the log takes
// constant memory, and lines of invocations running at once do not
// interleave mid-line. It is safe for concurrent use: an execution
// environment's output arrives on its own goroutine while the invocation
// writes its platform lines.
type invocationLog struct {
	s *Server

	mu      sync.Mutex
	keep    bool // keep the tail
	ring    [lambdaapi.LogTailBytes]byte
	written int64  // bytes written in all; the tail ends at written % len(ring)
	partial []byte // the start of a line not yet passed to FunctionLog
	last    byte   // the last byte written

	// scratch is where the invoking goroutine builds platform lines.
	scratch []byte
}

// newInvocationLog returns a log for one invocation, keeping its tail when
// tail is set, or nil when nobody reads it (no tail, no FunctionLog).
func (s *Server) newInvocationLog(tail bool) *invocationLog {
	if !tail && s.cfg.FunctionLog == nil {
		return nil
	}
	l := s.logs.Get().(*invocationLog)
	l.keep = tail
	return l
}

// Write adds p to the log. It never fails.
func (l *invocationLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writeLocked(p)
	return len(p), nil
}

func (l *invocationLog) writeLocked(p []byte) {
	if len(p) == 0 {
		return
	}
	if l.keep {
		l.appendTail(p)
	}
	l.last = p[len(p)-1]
	l.written += int64(len(p))
	if l.s.cfg.FunctionLog != nil {
		l.forward(p)
	}
}

// appendTail copies the part of p that stays among the last LogTailBytes
// into the ring; written does not count p yet.
func (l *invocationLog) appendTail(p []byte) {
	at := l.written
	if skip := len(p) - len(l.ring); skip > 0 {
		at += int64(skip)
		p = p[skip:]
	}
	l.copyRing(int(at%int64(len(l.ring))), p)
}

// copyRing writes p, at most the ring's size, into the ring from at on,
// wrapping around.
func (l *invocationLog) copyRing(at int, p []byte) {
	n := copy(l.ring[at:], p)
	copy(l.ring[:], p[n:])
}

// forward passes the complete lines of p, after what an earlier write left
// of a line, to FunctionLog, and holds back the rest. Lines longer than
// maxLogLine are passed on in pieces.
func (l *invocationLog) forward(p []byte) {
	i := bytes.LastIndexByte(p, '\n')
	if i < 0 {
		if len(l.partial)+len(p) <= maxLogLine {
			l.partial = append(l.partial, p...)
			return
		}
		i = len(p) - 1 // too long to hold back: pass it on as it is
	}
	l.s.writeFunctionLog(l.partial, p[:i+1])
	l.partial = append(l.partial[:0], p[i+1:]...)
}

// endLine starts a new line unless the log is at the start of one, so
// that a platform line never continues what the function printed.
func (l *invocationLog) endLine() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.written > 0 && l.last != '\n' {
		l.writeLocked([]byte{'\n'})
	}
}

// finish passes on what is held back of the last line; nothing may be
// written afterwards but by a new invocation after release.
func (l *invocationLog) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.s.writeFunctionLog(l.partial, nil)
		l.partial = l.partial[:0]
	}
}

// tail returns a copy of the last LogTailBytes of the log, or nil when
// the log does not keep them.
func (l *invocationLog) tail() []byte {
	if l == nil || !l.keep {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.written <= int64(len(l.ring)) {
		return bytes.Clone(l.ring[:l.written])
	}
	at := int(l.written % int64(len(l.ring)))
	out := make([]byte, 0, len(l.ring))
	out = append(out, l.ring[at:]...)
	return append(out, l.ring[:at]...)
}

// release returns the log for reuse by another invocation.
func (l *invocationLog) release() {
	if l == nil {
		return
	}
	l.written, l.last = 0, 0
	if cap(l.partial) > maxLogLine {
		l.partial = nil
	}
	l.partial = l.partial[:0]
	l.scratch = l.scratch[:0]
	l.s.logs.Put(l)
}

// writeFunctionLog writes a and b to Config.FunctionLog as one piece, so
// that concurrent invocations' lines do not interleave.
func (s *Server) writeFunctionLog(a, b []byte) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if len(a) > 0 {
		_, _ = s.cfg.FunctionLog.Write(a)
	}
	if len(b) > 0 {
		_, _ = s.cfg.FunctionLog.Write(b)
	}
}
