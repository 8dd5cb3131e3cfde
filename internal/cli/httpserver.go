package cli

import (
	"net"
	"net/http"
	"time"
)

// serverLimits are the timeouts and the connection cap of the HTTP server
// in front of the emulator (`lambdafan serve` and --local).
type serverLimits struct {
	// readHeader bounds reading a request's headers; read bounds reading
	// the whole request, body included (net/http lifts it once the
	// handler has read the body to its end, so it does not end a long
	// invocation); idle bounds how long a keep-alive connection may wait
	// for its next request.
	readHeader, read, idle time.Duration
	// answer bounds writing an answer, from its first byte.
	answer time.Duration
	// maxConns caps the connections open at once; 0 means no cap.
	maxConns int
}

// Defaults of serverLimits.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	// defaultReadTimeout leaves a slow client a minute for a 6 MB body.
	defaultReadTimeout = time.Minute
	// defaultIdleTimeout is Go's own http.Transport IdleConnTimeout
	// (90 s) shortened to what AWS's load balancers keep an idle
	// connection open by default (60 s): clients close first, mostly.
	defaultIdleTimeout = time.Minute
	// defaultAnswerTimeout bounds writing one answer (at most 6 MB).
	defaultAnswerTimeout = time.Minute
)

// defaultServerLimits are the limits serve and --local use: the timeouts
// above and a connection cap of half the process's file descriptors, the
// other half left for what the emulator opens itself (its functions'
// processes, their pipes and Runtime API connections).
func defaultServerLimits() serverLimits {
	return serverLimits{
		readHeader: defaultReadHeaderTimeout,
		read:       defaultReadTimeout,
		idle:       defaultIdleTimeout,
		answer:     defaultAnswerTimeout,
		maxConns:   maxConnsFor(openFileLimit()),
	}
}

// maxConnsFor is the connection cap for a limit of nofile open files; 0
// (no cap) when the limit is unknown.
func maxConnsFor(nofile uint64) int {
	if nofile == 0 {
		return 0
	}
	return int(min(max(nofile/2, 16), 1<<30))
}

// newHTTPServer returns the HTTP server for h and the listener to serve
// it on: ln, capped at lim.maxConns connections.
//
// It has no WriteTimeout: net/http counts it from the end of a request's
// headers, so it would cut a synchronous invocation, which may run for
// MaxTimeout (15 minutes) before its answer is written. Instead each
// answer gets lim.answer to be written from its first byte, which frees a
// handler (and the request bytes it holds) stuck on a client that does
// not read.
func newHTTPServer(h http.Handler, ln net.Listener, lim serverLimits) (*http.Server, net.Listener) {
	srv := &http.Server{
		Handler:           answerDeadline(h, lim.answer),
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		IdleTimeout:       lim.idle,
	}
	if lim.maxConns > 0 {
		l := newConnLimiter(ln, lim.maxConns)
		srv.ConnState = l.connState
		ln = l
	}
	return srv, ln
}

// answerDeadline bounds the writing of each answer of h to d from its
// first byte.
func answerDeadline(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		// The previous answer's deadline on this connection must not
		// apply to this one, which may come long after.
		_ = rc.SetWriteDeadline(time.Time{})
		h.ServeHTTP(&deadlineWriter{ResponseWriter: w, rc: rc, d: d}, r)
	})
}

// deadlineWriter sets the write deadline when the answer starts.
type deadlineWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	d     time.Duration
	armed bool
}

func (w *deadlineWriter) arm() {
	if !w.armed {
		w.armed = true
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	}
}

// WriteHeader starts the answer.
func (w *deadlineWriter) WriteHeader(code int) {
	w.arm()
	w.ResponseWriter.WriteHeader(code)
}

// Write starts the answer, if not yet started, and writes to it.
func (w *deadlineWriter) Write(b []byte) (int, error) {
	w.arm()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
