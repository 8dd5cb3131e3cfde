package execenv

import "time"

// Deadlines of Runtime API connections. A runtime on the same machine
// sends a request's line and headers at once, and most bodies too; a
// stalled or hostile client is cut off instead of holding a connection,
// its goroutine and its buffers forever. The exceptions wait as long as
// Lambda lets them: a /next waits for an invocation without limit (a
// long poll, the way Lambda's own runtime clients expect it), and the body
// of an invocation's response or error may arrive until the invocation's
// deadline (streamed responses, and aws-lambda-go's chunked ones, are
// written while the handler runs).
const (
	// runtimeHeaderTimeout bounds reading a request's line and headers,
	// from its first byte.
	runtimeHeaderTimeout = 10 * time.Second
	// runtimeBodyTimeout bounds reading a request's body, from the end of
	// its headers; an invocation's response or error may take until the
	// invocation's deadline if that is later.
	runtimeBodyTimeout = 10 * time.Second
	// runtimeIdleTimeout bounds how long a connection waits for its next
	// request, unless its /next waits for an invocation. Clients reopen
	// keep-alive connections a server closed, as they do for net/http's
	// servers.
	runtimeIdleTimeout = 2 * time.Minute
)

// connLimits are the deadlines of a pool's Runtime API connections; a zero
// field means its default (tests shorten them).
type connLimits struct {
	header, body, idle time.Duration
}

// orDefaults fills in the zero fields.
func (l connLimits) orDefaults() connLimits {
	if l.header <= 0 {
		l.header = runtimeHeaderTimeout
	}
	if l.body <= 0 {
		l.body = runtimeBodyTimeout
	}
	if l.idle <= 0 {
		l.idle = runtimeIdleTimeout
	}
	return l
}

// readWithin sets the connection's read deadline d from now.
func (rc *runtimeConn) readWithin(d time.Duration) {
	_ = rc.c.SetReadDeadline(time.Now().Add(d))
}

// awaitRequest waits for the first byte of the next request — at most the
// idle limit, unless the connection's /next waits for an invocation
// (next clears the deadline before the connection waits, and deliver sets
// the idle limit again before it answers) — and then gives the request
// the header limit. It reports whether a request is coming.
func (rc *runtimeConn) awaitRequest(waiting bool) bool {
	if rc.rr.br.Buffered() == 0 {
		if !waiting {
			rc.readWithin(rc.limits.idle)
		}
		if _, err := rc.rr.br.Peek(1); err != nil {
			return false // the runtime hung up, went idle too long, or the connection was closed
		}
	}
	rc.readWithin(rc.limits.header)
	return true
}

// bodyDeadline gives the body of the request being served until deadline,
// or the body limit if that is later.
func (rc *runtimeConn) bodyDeadline(deadline time.Time) {
	if d := time.Now().Add(rc.limits.body); d.After(deadline) {
		deadline = d
	}
	_ = rc.c.SetReadDeadline(deadline)
}
