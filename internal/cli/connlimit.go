package cli

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimiter is a net.Listener that keeps at most max connections open.
// A connection accepted beyond the cap first makes room by closing the
// connection that has waited longest between keep-alive requests, if one
// does (the server would close it at its IdleTimeout anyway); otherwise it
// waits, accepted but not served, until a connection closes or goes idle.
// So a crowd of idle keep-alive connections cannot keep a client with a
// request from being served, and connections cannot use up the file
// descriptors the emulator needs. New connections that have sent nothing
// are left alone: ReadHeaderTimeout ends them.
//
// Its connState method must be the http.Server's ConnState. It is safe
// for concurrent use.
type connLimiter struct {
	net.Listener
	slots     chan struct{} // a token per open connection
	done      chan struct{} // closed by Close
	closeOnce sync.Once

	mu     sync.Mutex
	idle   map[net.Conn]time.Time // keep-alive connections, since when
	wentIn chan struct{}          // a token when a connection went idle
}

func newConnLimiter(ln net.Listener, max int) *connLimiter {
	return &connLimiter{
		Listener: ln,
		slots:    make(chan struct{}, max),
		done:     make(chan struct{}),
		idle:     map[net.Conn]time.Time{},
		wentIn:   make(chan struct{}, 1),
	}
}

// Accept waits for a connection and for room to serve it.
func (l *connLimiter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for {
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, l: l}, nil
		default:
		}
		l.closeIdlest()
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, l: l}, nil
		case <-l.wentIn:
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
	}
}

// Close closes the listener and ends a wait in Accept.
func (l *connLimiter) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// closeIdlest closes the connection idle the longest, if any.
func (l *connLimiter) closeIdlest() {
	l.mu.Lock()
	var idlest net.Conn
	var since time.Time
	for c, t := range l.idle {
		if idlest == nil || t.Before(since) {
			idlest, since = c, t
		}
	}
	delete(l.idle, idlest)
	l.mu.Unlock()
	if idlest != nil {
		idlest.Close()
	}
}

// connState tracks which connections are idle between requests.
func (l *connLimiter) connState(c net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if state != http.StateIdle {
		delete(l.idle, c)
		return
	}
	l.idle[c] = time.Now()
	select {
	case l.wentIn <- struct{}{}:
	default:
	}
}

// limitedConn gives its slot back when closed.
type limitedConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once
}

// Close closes the connection and frees its slot.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.l.slots })
	return err
}
