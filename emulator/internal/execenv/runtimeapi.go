package execenv

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// Runtime API paths, relative to AWS_LAMBDA_RUNTIME_API.
const (
	runtimeInvocationPrefix = "/2018-06-01/runtime/invocation/"
	runtimeNextPath         = runtimeInvocationPrefix + "next"
	runtimeInitErrorPath    = "/2018-06-01/runtime/init/error"
	extensionRegisterPath   = "/2020-01-01/extension/register"
	extensionNextPath       = "/2020-01-01/extension/event/next"
	extensionInitErrorPath  = "/2020-01-01/extension/init/error"
	extensionExitErrorPath  = "/2020-01-01/extension/exit/error"
)

// maxResponseBytes is the largest response a runtime may post: Lambda's
// 6 MB synchronous limit, plus the 100 bytes its own error message admits
// ("maximum allowed payload size (6291556 bytes)").
const maxResponseBytes = lambdaapi.MaxSyncPayloadBytes + 100

// Canonical header names.
const (
	hdrRequestID     = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline      = "Lambda-Runtime-Deadline-Ms"
	hdrFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID       = "Lambda-Runtime-Trace-Id"
	hdrClientContext = "Lambda-Runtime-Client-Context"
	hdrErrorType     = "Lambda-Runtime-Function-Error-Type"
	hdrErrorBody     = "Lambda-Runtime-Function-Error-Body"
	hdrResponseMode  = "Lambda-Runtime-Function-Response-Mode"
	hdrExtensionName = "Lambda-Extension-Name"
	hdrExtensionID   = "Lambda-Extension-Identifier"
	hdrContentType   = "Content-Type"
	hdrContentLength = "Content-Length"
)

// statusOKBody is the body of 202 answers.
const statusOKBody = `{"status":"OK"}` + "\n"

// serveRuntime answers one request of the Runtime API or the Extensions
// API of an environment, as its process sees them at
// AWS_LAMBDA_RUNTIME_API.
func (e *environment) serveRuntime(rc *runtimeConn, r *runtimeRequest) connState {
	e.mu.Lock()
	closing := e.closing
	pipelined := rc.waiting
	e.mu.Unlock()
	switch {
	case closing:
		rc.closeAfter()
		_ = runtimeError(rc, http.StatusInternalServerError, "Runtime.ShuttingDown", "the execution environment is shutting down")
		return connClose
	case pipelined:
		// A request sent before the answer to /next: no runtime does
		// that, and answers must keep the order of the requests.
		return connClose
	}

	path := r.path
	switch {
	case path == runtimeNextPath && r.method == http.MethodGet:
		return e.next(rc)
	case path == runtimeInitErrorPath && r.method == http.MethodPost:
		e.postInitError(rc, r)
	case strings.HasPrefix(path, runtimeInvocationPrefix) && r.method == http.MethodPost:
		id, action, _ := strings.Cut(path[len(runtimeInvocationPrefix):], "/")
		switch action {
		case "response":
			return e.postResult(rc, r, id, false)
		case "error":
			return e.postResult(rc, r, id, true)
		default:
			_ = runtimeError(rc, http.StatusNotFound, "NotFound", "unknown Runtime API path "+path)
		}
	case path == extensionRegisterPath && r.method == http.MethodPost:
		e.registerExtension(rc, r)
	case path == extensionNextPath && r.method == http.MethodGet:
		e.nextExtensionEvent(rc)
	case (path == extensionInitErrorPath || path == extensionExitErrorPath) && r.method == http.MethodPost:
		_ = rc.respond(http.StatusAccepted, nil)
	default:
		_ = runtimeError(rc, http.StatusNotFound, "NotFound", "unknown Runtime API path "+r.method+" "+path)
	}
	return connKeep
}

// next serves GET /runtime/invocation/next: the environment's next
// invocation, with every Lambda-Runtime-* header. Without one yet, the
// connection waits — indefinitely, never answering an empty 200 — and
// the invocation is written by whoever hands it over (deliver).
func (e *environment) next(rc *runtimeConn) connState {
	e.mu.Lock()
	if !e.initDone {
		e.initDone = true
		e.initDuration = time.Since(e.spawned)
		close(e.initialized)
	}
	if len(e.queued) == 0 {
		if e.singleNext && len(e.waiting) > 0 {
			// Where peers cannot be told apart, a second /next on an
			// environment whose runtime polls once is another process's.
			e.mu.Unlock()
			return connClose
		}
		// A long poll: no deadline until the invocation is delivered.
		_ = rc.c.SetReadDeadline(time.Time{})
		e.waiting = append(e.waiting, rc)
		e.ready.Store(true)
		rc.waiting = true
		e.mu.Unlock()
		e.freezeIfIdle()
		return connWaiting
	}
	call := e.queued[0]
	e.queued = slices.Delete(e.queued, 0, 1)
	if !e.deliver(rc, call, false) {
		return connClose
	}
	return connKeep
}

// offer hands call to the runtime: to a /next waiting for it, or else to
// the next /next.
func (e *environment) offer(call *envCall) {
	e.mu.Lock()
	if len(e.waiting) == 0 {
		e.queued = append(e.queued, call)
		e.mu.Unlock()
		return
	}
	rc := e.waiting[0]
	e.waiting = slices.Delete(e.waiting, 0, 1)
	e.ready.Store(len(e.waiting) > 0)
	rc.waiting = false
	e.deliver(rc, call, true)
}

// deliver answers rc's /next with call; waited reports that the /next
// waited for it (and has no read deadline). The caller holds e.mu, which
// deliver releases; it reports whether the runtime got the invocation.
// When it did not, the invocation is queued again for the next /next.
func (e *environment) deliver(rc *runtimeConn, call *envCall, waited bool) bool {
	e.fetched[call.inv.RequestID] = call
	// Taking wmu before e.mu is released orders this answer before any
	// later one on the connection.
	rc.wmu.Lock()
	e.mu.Unlock()
	if waited {
		// The connection is idle from now on: its next request comes
		// only after the runtime has the invocation.
		rc.readWithin(rc.limits.idle)
	}
	err := rc.writeInvocationLocked(call.inv)
	rc.wmu.Unlock()
	if err == nil {
		return true
	}
	_ = rc.c.Close()
	e.mu.Lock()
	if e.fetched[call.inv.RequestID] == call {
		delete(e.fetched, call.inv.RequestID)
		e.queued = slices.Insert(e.queued, 0, call)
	}
	e.mu.Unlock()
	return false
}

// unqueue takes call back if the runtime has not fetched it; it reports
// whether it did.
func (e *environment) unqueue(call *envCall) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := slices.Index(e.queued, call)
	if i < 0 {
		return false
	}
	e.queued = slices.Delete(e.queued, i, i+1)
	return true
}

// abandon gives up waiting for call's answer. It reports whether call's
// slot is free now: the runtime never took it, or answered already;
// otherwise the slot is given back with the answer.
func (e *environment) abandon(call *envCall) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if i := slices.Index(e.queued, call); i >= 0 {
		e.queued = slices.Delete(e.queued, i, i+1)
		return true
	}
	if e.fetched[call.inv.RequestID] == call {
		call.abandoned = true
		return false
	}
	return true
}

// postInitError serves POST /runtime/init/error: the environment failed
// to initialise; the invocation waiting for it fails with the posted error.
func (e *environment) postInitError(rc *runtimeConn, r *runtimeRequest) {
	rc.continueBody(r)
	payload, _, err := e.pool.readBody(r)
	if err != nil {
		_ = runtimeError(rc, http.StatusBadRequest, "InvalidRequest", "reading the body: "+err.Error())
		return
	}
	e.mu.Lock()
	if e.initDone || e.initError != nil {
		e.mu.Unlock()
		_ = runtimeError(rc, http.StatusForbidden, "InvalidStateTransition", "State transition from Ready to InitError failed for runtime.")
		return
	}
	e.initError = errorBody(payload, r.errorType)
	e.initErrorType = r.errorType
	e.mu.Unlock()
	close(e.initFailed)
	_ = accepted(rc)
}

// registerExtension serves POST /extension/register. Extensions are
// accepted so that runtimes asking for SIGTERM on shutdown (aws-lambda-go's
// lambda.WithEnableSIGTERM) work; they receive no INVOKE events, only
// SHUTDOWN.
func (e *environment) registerExtension(rc *runtimeConn, r *runtimeRequest) {
	rc.continueBody(r)
	_, _ = io.Copy(io.Discard, io.LimitReader(r.body, 64*1024))
	name := r.extensionName
	if name == "" {
		_ = runtimeError(rc, http.StatusBadRequest, "InvalidRequest", "missing header "+hdrExtensionName)
		return
	}
	body, _ := json.Marshal(struct {
		FunctionName    string `json:"functionName"`
		FunctionVersion string `json:"functionVersion"`
		Handler         string `json:"handler"`
	}{e.pool.name, latest, e.pool.handlerName})
	_ = rc.respond(http.StatusOK, body, hdrContentType, "application/json", hdrExtensionID, lambdaapi.NewRequestID())
}

// nextExtensionEvent serves GET /extension/event/next: it blocks until the
// environment shuts down and then returns the SHUTDOWN event.
func (e *environment) nextExtensionEvent(rc *runtimeConn) {
	select {
	case <-e.shutdown:
	case <-e.dead:
		return
	}
	body, _ := json.Marshal(struct {
		EventType      string `json:"eventType"`
		ShutdownReason string `json:"shutdownReason"`
		DeadlineMS     int64  `json:"deadlineMs"`
	}{"SHUTDOWN", "spindown", time.Now().Add(shutdownGrace).UnixMilli()})
	_ = rc.respond(http.StatusOK, body, hdrContentType, "application/json")
}

// readBody reads a posted result, at most maxResponseBytes; tooLarge
// reports a longer body. The payload is the caller's to keep.
func (p *Pool) readBody(r *runtimeRequest) (payload []byte, tooLarge bool, err error) {
	if n := r.contentLength; n >= 0 && n <= maxResponseBytes {
		payload = make([]byte, n)
		_, err = io.ReadFull(r.body, payload)
		return payload, false, err
	}
	if r.contentLength > maxResponseBytes {
		return nil, true, nil
	}
	// Chunked (aws-lambda-go streams its responses): read into a reused
	// buffer, keep an exact-size copy.
	buf := p.bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			buf.Reset()
			p.bufs.Put(buf)
		}
	}()
	if _, err = buf.ReadFrom(io.LimitReader(r.body, maxResponseBytes+1)); err != nil {
		return nil, false, err
	}
	if buf.Len() > maxResponseBytes {
		return nil, true, nil
	}
	return bytes.Clone(buf.Bytes()), false, nil
}

// errorBody is the error document for a posted /error or /init/error
// body: the body itself when it is JSON (runtimes differ in its fields),
// otherwise a document made of errorType and the body as message.
func errorBody(body []byte, errorType string) []byte {
	if len(body) > 0 && json.Valid(body) {
		return body
	}
	if errorType == "" {
		errorType = "Runtime.Unknown"
	}
	return lambdaapi.ErrorDocument(errorType, string(body))
}

// accepted answers 202 {"status":"OK"}.
func accepted(rc *runtimeConn) error {
	return rc.respond(http.StatusAccepted, []byte(statusOKBody), hdrContentType, "application/json")
}

// runtimeError answers with the Runtime API's error document.
func runtimeError(rc *runtimeConn, status int, errorType, message string) error {
	return rc.respond(status, lambdaapi.ErrorDocument(errorType, message), hdrContentType, "application/json")
}

// appendTraceID appends an X-Ray trace header for a new, unsampled trace:
// Root=1-{epoch seconds, 8 hex}-{96 random bits};Parent={64 random bits};Sampled=0.
func appendTraceID(b []byte, now time.Time) []byte {
	var raw [24]byte // epoch seconds (4), root random (12), parent (8)
	binary.BigEndian.PutUint32(raw[0:], uint32(now.Unix()))
	binary.BigEndian.PutUint32(raw[4:], rand.Uint32())
	binary.BigEndian.PutUint64(raw[8:], rand.Uint64())
	binary.BigEndian.PutUint64(raw[16:], rand.Uint64())
	b = append(b, "Root=1-"...)
	b = hex.AppendEncode(b, raw[0:4])
	b = append(b, '-')
	b = hex.AppendEncode(b, raw[4:16])
	b = append(b, ";Parent="...)
	b = hex.AppendEncode(b, raw[16:24])
	return append(b, ";Sampled=0"...)
}
