package execenv

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// Runtime API values of Lambda-Runtime-Function-Response-Mode (the
// aws-lambda-runtime-interface-emulator's invoke/runtime_response_request.go
// takes "streaming" and no header, and answers any other value as an
// invalid response mode).
const responseModeStreaming = "streaming"

// postResult serves POST /runtime/invocation/{id}/response and …/error.
func (e *environment) postResult(rc *runtimeConn, r *runtimeRequest, id string, isError bool) connState {
	e.mu.Lock()
	call := e.fetched[id]
	e.mu.Unlock()
	if call != nil && !r.body.done() {
		// A response may be written while the handler runs.
		rc.bodyDeadline(call.inv.Deadline)
	}
	if !isError && r.responseMode != "" && call != nil {
		if r.responseMode == responseModeStreaming {
			return e.postStream(rc, r, id)
		}
		e.settle(id, runtimeResult{isError: true, payload: lambdaapi.ErrorDocument("Runtime.InvalidResponseModeHeader",
			"RequestId: "+id+" Error: invalid "+hdrResponseMode+" "+strconv.Quote(r.responseMode))}, true)
		_ = runtimeError(rc, http.StatusBadRequest, "InvalidFunctionResponseMode", "Invalid function response mode")
		return connKeep
	}
	rc.continueBody(r)
	payload, tooLarge, err := e.pool.readBody(r)
	if err != nil {
		// The body broke off (or stalled past the deadline): the
		// invocation fails as Lambda fails a truncated response.
		e.settle(id, truncated(id, err), true)
		rc.closeAfter()
		_ = runtimeError(rc, http.StatusBadRequest, "TruncatedHTTPRequest", "HTTP request detected as truncated")
		return connClose
	}
	res := runtimeResult{payload: payload, isError: isError}
	switch {
	case tooLarge:
		res = tooLargeResult(maxResponseBytes)
	case isError:
		res.payload = errorBody(payload, r.errorType)
	case r.trailerErrorType != "":
		// A chunked response whose writer failed: aws-lambda-go reports
		// a handler's io.Reader that failed this way, streaming or not.
		res = trailerError(r)
	}
	if !e.settle(id, res, true) {
		_ = runtimeError(rc, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID: "+strconv.Quote(id))
		return connKeep
	}
	if tooLarge {
		// The rest of the body is not read: the connection closes.
		rc.closeAfter()
		_ = runtimeError(rc, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			"Exceeded maximum allowed payload size ("+strconv.Itoa(maxResponseBytes)+" bytes).")
		return connClose
	}
	_ = accepted(rc)
	return connKeep
}

// settle ends the invocation fetched as id with res: its invoker gets res,
// or, when the invoker stopped waiting (abandoned), the slot is freed if
// free says so. It reports false when no invocation of that ID waits for
// an answer (never fetched, or answered already). The result is sent
// under mu, so that abandon sees either the invocation still fetched or
// its result in the channel.
func (e *environment) settle(id string, res runtimeResult, free bool) bool {
	e.mu.Lock()
	call := e.fetched[id]
	if call == nil {
		e.mu.Unlock()
		return false
	}
	delete(e.fetched, id)
	abandoned := call.abandoned
	if !abandoned {
		call.result <- res // buffered; one result per call
	}
	e.mu.Unlock()
	if abandoned && free {
		e.pool.put(e) // the invoker gave up; the slot is free again
	}
	return true
}

// trailerError is the result of a response whose runtime reported a
// failure in its trailer section (Lambda-Runtime-Function-Error-Type and
// Lambda-Runtime-Function-Error-Body, the body base64 of the error
// document: aws-lambda-go's runtime_api_client.go errorCapturingReader,
// the Node.js client's stream/response-stream.js). As the runtime
// interface emulator reads it (invoke/runtime_response_request.go
// TrailerError), a body that is not base64 leaves the type alone.
func trailerError(r *runtimeRequest) runtimeResult {
	doc, err := base64.StdEncoding.DecodeString(r.trailerErrorBody)
	if err != nil {
		doc = nil
	}
	return runtimeResult{isError: true, payload: errorBody(doc, r.trailerErrorType)}
}

// tooLargeResult fails an invocation whose response exceeded limit bytes.
func tooLargeResult(limit int) runtimeResult {
	return runtimeResult{isError: true, payload: lambdaapi.ErrorDocument("Function.ResponseSizeTooLarge",
		"Response payload size exceeded maximum allowed payload size ("+strconv.Itoa(limit)+" bytes).")}
}

// truncated fails invocation id, whose response broke off with err.
func truncated(id string, err error) runtimeResult {
	return runtimeResult{isError: true, payload: lambdaapi.ErrorDocument("Runtime.TruncatedResponse",
		"RequestId: "+id+" Error: the runtime's response broke off: "+err.Error())}
}
