package execenv

import (
	"bufio"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The Runtime API is served by a small HTTP/1.1 server of its own rather
// than net/http's: a runtime makes two requests per invocation on one
// keep-alive connection, and net/http's per-request machinery (a
// background read and its cancellation per request, a context, a response
// object, a header map, buffered writes) cost more than the rest of the
// emulator's work for the invocation. Requests are parsed by
// requestReader; answers are written whole, headers and body in one write.
// Reads have deadlines (runtimelimits.go), but for a /next waiting for an
// invocation.

const (
	// maxRuntimeHeaderBytes bounds a request's line and headers, as
	// http.Server's DefaultMaxHeaderBytes does.
	maxRuntimeHeaderBytes = http.DefaultMaxHeaderBytes + 4096
	// maxDiscardBytes is how much of an unread request body is read and
	// dropped to keep the connection; beyond it the connection is closed.
	maxDiscardBytes = 256 << 10
	// singleWriteBytes is the largest body copied behind the headers to
	// be written with them; larger ones go out with writev, uncopied.
	singleWriteBytes = 64 << 10
)

// runtimeConn is one connection of a runtime to its environment's Runtime
// API. Its goroutine (serve) reads the requests and answers them, except a
// /next that has to wait: serve registers the connection as waiting and
// goes back to reading (which notices a runtime that hangs up), and the
// goroutine that hands over the next invocation writes the answer itself
// (environment.deliver), which spares a goroutine switch per invocation.
// wmu serialises writes.
type runtimeConn struct {
	e      *environment
	c      net.Conn
	limits connLimits
	lr     limitedConnReader
	rr     requestReader
	req    runtimeRequest // the request being served

	wmu   sync.Mutex
	wbuf  []byte // the answer being written, under wmu
	close bool   // the request being answered asked to close; under wmu

	waiting bool // its /next waits for an invocation; under e.mu
}

func newRuntimeConn(e *environment, c net.Conn) *runtimeConn {
	rc := &runtimeConn{e: e, c: c, limits: e.pool.limits.orDefaults()}
	rc.lr.c = c
	rc.rr.lr = &rc.lr
	rc.rr.br = e.pool.readers.Get().(*bufio.Reader)
	rc.rr.br.Reset(&rc.lr)
	rc.wbuf = make([]byte, 0, 512)
	return rc
}

// serve reads and answers requests until the runtime hangs up, a request
// cannot be read or the environment closes the connection.
func (rc *runtimeConn) serve() {
	defer func() {
		rc.e.dropConn(rc)
		// Only this goroutine reads; the buffer can serve another
		// connection (aws-lambda-go connects often when it runs several
		// invocations at once).
		rc.rr.br.Reset(nil)
		rc.e.pool.readers.Put(rc.rr.br)
	}()
	if !rc.e.admits(rc) {
		return
	}
	req := &rc.req
	waiting := false
	for {
		rc.lr.remain = maxRuntimeHeaderBytes
		if !rc.awaitRequest(waiting) {
			return
		}
		err := rc.rr.read(req)
		var op *net.OpError
		switch {
		case err == nil:
		case errors.Is(err, errHeadersTooLarge):
			_ = rc.writeRaw("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large")
			return
		case errors.Is(err, errTransferCoding):
			_ = rc.writeRaw("HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nUnsupported transfer encoding")
			return
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &op):
			return // the runtime hung up, or the connection was closed
		default:
			// What net/http's server answers to what it cannot parse.
			_ = rc.writeRaw("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request")
			return
		}
		rc.lr.remain = math.MaxInt64
		if !req.body.done() {
			rc.readWithin(rc.limits.body)
		}
		rc.wmu.Lock()
		rc.close = req.close
		rc.wmu.Unlock()
		state := rc.e.serveRuntime(rc, req)
		waiting = state == connWaiting
		switch state {
		case connClose:
			return
		case connWaiting:
			// Reading on notices a runtime that hangs up; one that asked
			// to close after the answer sends nothing more, and whoever
			// writes the answer closes the connection.
			if !discardBody(req.body) {
				return
			}
			continue
		}
		if req.close || !discardBody(req.body) {
			return
		}
	}
}

// connState is what becomes of a connection after a request.
type connState int

const (
	connKeep    connState = iota // read the next request
	connClose                    // close the connection
	connWaiting                  // a /next waits for an invocation
)

// discardBody reads what the handler left of a body, if it is short; it
// reports whether the connection can read the next request.
func discardBody(body requestBody) bool {
	if body.done() {
		return true
	}
	n, err := io.Copy(io.Discard, io.LimitReader(body, maxDiscardBytes+1))
	return err == nil && n <= maxDiscardBytes && body.done()
}

// closeAfter makes the next answer close the connection.
func (rc *runtimeConn) closeAfter() {
	rc.wmu.Lock()
	rc.close = true
	rc.wmu.Unlock()
}

// continueBody answers "Expect: 100-continue" before a request's body is
// read (curl asks for it with bodies over 1 KB), as net/http's server does.
func (rc *runtimeConn) continueBody(req *runtimeRequest) {
	if req.expectContinue && req.contentLength != 0 && !req.body.done() {
		req.expectContinue = false
		_ = rc.writeRaw("HTTP/1.1 100 Continue\r\n\r\n")
	}
}

// writeRaw writes s as is.
func (rc *runtimeConn) writeRaw(s string) error {
	rc.wmu.Lock()
	defer rc.wmu.Unlock()
	_, err := io.WriteString(rc.c, s)
	return err
}

// respond writes a whole answer: status, the headers (alternating names
// and values, canonical names), Content-Length and body.
func (rc *runtimeConn) respond(status int, body []byte, headers ...string) error {
	rc.wmu.Lock()
	defer rc.wmu.Unlock()
	b := appendStatusLine(rc.wbuf[:0], status)
	for i := 0; i+1 < len(headers); i += 2 {
		b = appendHeader(b, headers[i], headers[i+1])
	}
	rc.wbuf = b
	return rc.finishLocked(body, time.Time{})
}

// writeInvocationLocked writes the answer to /next for inv: its payload with
// every Lambda-Runtime-* header. It writes until inv's deadline at most:
// a runtime that does not read cannot hold the invoker past it. The
// caller holds wmu.
func (rc *runtimeConn) writeInvocationLocked(inv *Invocation) error {
	b := appendStatusLine(rc.wbuf[:0], http.StatusOK)
	b = append(b, hdrContentType+": application/json\r\n"...)
	b = appendHeader(b, hdrRequestID, inv.RequestID)
	b = append(b, hdrDeadline+": "...)
	b = strconv.AppendInt(b, inv.Deadline.UnixMilli(), 10)
	b = append(b, "\r\n"...)
	b = appendHeader(b, hdrFunctionARN, inv.InvokedFunctionARN)
	b = append(b, hdrTraceID+": "...)
	b = appendTraceID(b, time.Now())
	b = append(b, "\r\n"...)
	if len(inv.ClientContext) > 0 {
		b = appendHeader(b, hdrClientContext, string(inv.ClientContext))
	}
	rc.wbuf = b
	err := rc.finishLocked(inv.Payload, inv.Deadline)
	if rc.close {
		_ = rc.c.Close()
	}
	return err
}

// finishLocked ends the headers in wbuf with Content-Length (and
// Connection: close when the request asked for it) and writes them with
// body, in one system call. A zero deadline sets none.
func (rc *runtimeConn) finishLocked(body []byte, deadline time.Time) error {
	b := append(rc.wbuf, hdrContentLength+": "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	if rc.close {
		b = append(b, "\r\nConnection: close"...)
	}
	b = append(b, "\r\n\r\n"...)
	var err error
	if len(body) <= singleWriteBytes {
		b = append(b, body...)
		_, err = rc.c.Write(b)
	} else {
		if !deadline.IsZero() {
			_ = rc.c.SetWriteDeadline(deadline)
			defer rc.c.SetWriteDeadline(time.Time{})
		}
		bufs := net.Buffers{b, body}
		_, err = bufs.WriteTo(rc.c)
	}
	if cap(b) <= 2*singleWriteBytes {
		rc.wbuf = b[:0]
	} else {
		rc.wbuf = make([]byte, 0, 512)
	}
	return err
}

func appendStatusLine(b []byte, status int) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(status)...)
	return append(b, "\r\n"...)
}

// appendHeader appends "name: value\r\n"; line breaks in value become
// spaces, as net/http writes them.
func appendHeader(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return append(b, "\r\n"...)
}

// limitedConnReader reads a connection, at most remain bytes: serve
// bounds each request's line and headers with it.
type limitedConnReader struct {
	c      net.Conn
	remain int64
}

var errHeadersTooLarge = errors.New("request headers too large")

func (r *limitedConnReader) Read(p []byte) (int, error) {
	if r.remain <= 0 {
		return 0, errHeadersTooLarge
	}
	if int64(len(p)) > r.remain {
		p = p[:r.remain]
	}
	n, err := r.c.Read(p)
	r.remain -= int64(n)
	return n, err
}
