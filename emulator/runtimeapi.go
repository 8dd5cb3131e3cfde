package emulator

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
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
const maxResponseBytes = 6291556

// Canonical header names (assigned to header maps directly, which skips
// canonicalising them on every invocation).
const (
	hdrRequestID     = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline      = "Lambda-Runtime-Deadline-Ms"
	hdrFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID       = "Lambda-Runtime-Trace-Id"
	hdrClientContext = "Lambda-Runtime-Client-Context"
	hdrErrorType     = "Lambda-Runtime-Function-Error-Type"
	hdrExtensionName = "Lambda-Extension-Name"
	hdrExtensionID   = "Lambda-Extension-Identifier"
	hdrContentType   = "Content-Type"
	hdrContentLength = "Content-Length"
	hdrDate          = "Date"
)

// statusOKBody is the body of 202 answers.
const statusOKBody = `{"status":"OK"}` + "\n"

// ServeHTTP serves the Runtime API and the Extensions API of one
// environment, as its process sees them at AWS_LAMBDA_RUNTIME_API.
func (e *environment) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	if e.closing {
		e.mu.Unlock()
		runtimeError(w, http.StatusInternalServerError, "Runtime.ShuttingDown", "the execution environment is shutting down")
		return
	}
	e.handlers.Add(1)
	e.mu.Unlock()
	defer e.handlers.Done()

	path := r.URL.Path
	switch {
	case path == runtimeNextPath && r.Method == http.MethodGet:
		e.next(w, r)
	case path == runtimeInitErrorPath && r.Method == http.MethodPost:
		e.postInitError(w, r)
	case strings.HasPrefix(path, runtimeInvocationPrefix) && r.Method == http.MethodPost:
		id, action, _ := strings.Cut(path[len(runtimeInvocationPrefix):], "/")
		switch action {
		case "response":
			e.postResult(w, r, id, false)
		case "error":
			e.postResult(w, r, id, true)
		default:
			runtimeError(w, http.StatusNotFound, "NotFound", "unknown Runtime API path "+path)
		}
	case path == extensionRegisterPath && r.Method == http.MethodPost:
		e.registerExtension(w, r)
	case path == extensionNextPath && r.Method == http.MethodGet:
		e.nextExtensionEvent(w, r)
	case (path == extensionInitErrorPath || path == extensionExitErrorPath) && r.Method == http.MethodPost:
		w.WriteHeader(http.StatusAccepted)
	default:
		runtimeError(w, http.StatusNotFound, "NotFound", "unknown Runtime API path "+r.Method+" "+path)
	}
}

// next serves GET /runtime/invocation/next: it waits for the environment's
// next invocation — indefinitely, never answering an empty 200 — and
// returns its payload with every Lambda-Runtime-* header.
func (e *environment) next(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	if !e.initDone {
		e.initDone = true
		e.initDuration = time.Since(e.spawned)
	}
	e.mu.Unlock()
	var inv *Invocation
	select {
	case inv = <-e.assign:
	case <-e.dead:
		return
	case <-r.Context().Done():
		return // the runtime went away
	}
	e.mu.Lock()
	e.current = inv
	e.mu.Unlock()

	h := w.Header()
	h[hdrRequestID] = []string{inv.RequestID}
	h[hdrDeadline] = []string{strconv.FormatInt(inv.Deadline.UnixMilli(), 10)}
	h[hdrFunctionARN] = []string{inv.InvokedFunctionARN}
	h[hdrTraceID] = []string{newTraceID(time.Now())}
	if len(inv.ClientContext) > 0 {
		h[hdrClientContext] = []string{string(inv.ClientContext)}
	}
	h[hdrContentType] = []string{"application/json"}
	h[hdrContentLength] = []string{strconv.Itoa(len(inv.Payload))}
	h[hdrDate] = nil // nobody reads it; skip formatting and parsing it
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.Payload)
}

// postResult serves POST /runtime/invocation/{id}/response and …/error.
func (e *environment) postResult(w http.ResponseWriter, r *http.Request, id string, isError bool) {
	payload, tooLarge, err := e.pool.readBody(r)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "reading the body: "+err.Error())
		return
	}
	e.mu.Lock()
	inv := e.current
	if inv == nil || inv.RequestID != id {
		e.mu.Unlock()
		runtimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID: "+strconv.Quote(id))
		return
	}
	e.current = nil
	e.mu.Unlock()

	res := runtimeResult{payload: payload, isError: isError}
	switch {
	case tooLarge:
		res = runtimeResult{isError: true, payload: ErrorDocument("Function.ResponseSizeTooLarge",
			"Response payload size exceeded maximum allowed payload size ("+strconv.Itoa(maxResponseBytes)+" bytes).")}
	case isError:
		res.payload = errorBody(payload, r.Header.Get(hdrErrorType))
	}
	e.results <- res // buffered; one result per fetched invocation
	if tooLarge {
		runtimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			"Exceeded maximum allowed payload size ("+strconv.Itoa(maxResponseBytes)+" bytes).")
		return
	}
	accepted(w)
}

// postInitError serves POST /runtime/init/error: the environment failed
// to initialise; the invocation waiting for it fails with the posted error.
func (e *environment) postInitError(w http.ResponseWriter, r *http.Request) {
	payload, _, err := e.pool.readBody(r)
	if err != nil {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "reading the body: "+err.Error())
		return
	}
	e.mu.Lock()
	if e.initDone || e.initError != nil {
		e.mu.Unlock()
		runtimeError(w, http.StatusForbidden, "InvalidStateTransition", "State transition from Ready to InitError failed for runtime.")
		return
	}
	e.initError = errorBody(payload, r.Header.Get(hdrErrorType))
	e.mu.Unlock()
	close(e.initFailed)
	accepted(w)
}

// registerExtension serves POST /extension/register. Extensions are
// accepted so that runtimes asking for SIGTERM on shutdown (aws-lambda-go's
// lambda.WithEnableSIGTERM) work; they receive no INVOKE events, only
// SHUTDOWN.
func (e *environment) registerExtension(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 64*1024))
	name := r.Header.Get(hdrExtensionName)
	if name == "" {
		runtimeError(w, http.StatusBadRequest, "InvalidRequest", "missing header "+hdrExtensionName)
		return
	}
	body, _ := json.Marshal(struct {
		FunctionName    string `json:"functionName"`
		FunctionVersion string `json:"functionVersion"`
		Handler         string `json:"handler"`
	}{e.pool.name, latest, e.pool.handlerName})
	h := w.Header()
	h[hdrExtensionID] = []string{newRequestID()}
	h[hdrContentType] = []string{"application/json"}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// nextExtensionEvent serves GET /extension/event/next: it blocks until the
// environment shuts down and then returns the SHUTDOWN event.
func (e *environment) nextExtensionEvent(w http.ResponseWriter, r *http.Request) {
	select {
	case <-e.shutdown:
	case <-e.dead:
		return
	case <-r.Context().Done():
		return
	}
	body, _ := json.Marshal(struct {
		EventType      string `json:"eventType"`
		ShutdownReason string `json:"shutdownReason"`
		DeadlineMS     int64  `json:"deadlineMs"`
	}{"SHUTDOWN", "spindown", time.Now().Add(shutdownGrace).UnixMilli()})
	w.Header()[hdrContentType] = []string{"application/json"}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// readBody reads a posted result, at most maxResponseBytes; tooLarge
// reports a longer body. The payload is the caller's to keep.
func (p *envPool) readBody(r *http.Request) (payload []byte, tooLarge bool, err error) {
	if n := r.ContentLength; n >= 0 && n <= maxResponseBytes {
		payload = make([]byte, n)
		_, err = io.ReadFull(r.Body, payload)
		return payload, false, err
	}
	if r.ContentLength > maxResponseBytes {
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
	if _, err = buf.ReadFrom(io.LimitReader(r.Body, maxResponseBytes+1)); err != nil {
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
	return ErrorDocument(errorType, string(body))
}

// accepted answers 202 {"status":"OK"}.
func accepted(w http.ResponseWriter) {
	h := w.Header()
	h[hdrContentType] = []string{"application/json"}
	h[hdrContentLength] = []string{strconv.Itoa(len(statusOKBody))}
	h[hdrDate] = nil
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, statusOKBody)
}

// runtimeError answers with the Runtime API's error document.
func runtimeError(w http.ResponseWriter, status int, errorType, message string) {
	body := ErrorDocument(errorType, message)
	h := w.Header()
	h[hdrContentType] = []string{"application/json"}
	h[hdrContentLength] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// newTraceID returns an X-Ray trace header for a new, unsampled trace:
// Root=1-{epoch seconds, 8 hex}-{96 random bits};Parent={64 random bits};Sampled=0.
func newTraceID(now time.Time) string {
	const prefix, mid, suffix = "Root=1-", ";Parent=", ";Sampled=0"
	var b [len(prefix) + 8 + 1 + 24 + len(mid) + 16 + len(suffix)]byte
	i := copy(b[:], prefix)
	var raw [24]byte // epoch seconds (4), root random (12), parent (8)
	binary.BigEndian.PutUint32(raw[0:], uint32(now.Unix()))
	binary.BigEndian.PutUint32(raw[4:], rand.Uint32())
	binary.BigEndian.PutUint64(raw[8:], rand.Uint64())
	binary.BigEndian.PutUint64(raw[16:], rand.Uint64())
	i += hex.Encode(b[i:], raw[0:4])
	b[i] = '-'
	i++
	i += hex.Encode(b[i:], raw[4:16])
	i += copy(b[i:], mid)
	i += hex.Encode(b[i:], raw[16:24])
	copy(b[i:], suffix)
	return string(b[:])
}
