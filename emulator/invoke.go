package emulator

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/lambdafan/lambdafan/internal/fnname"
)

// invokeRequest is a validated Invoke API call.
type invokeRequest struct {
	requestID      string
	fn             *function
	version        string
	invokedARN     string
	invocationType string
	logTail        bool
	payload        []byte
	clientContext  []byte
}

// handleInvoke serves POST /2015-03-31/functions/{name}/invocations.
func (s *Server) handleInvoke(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	r = s.faults.withFaultSlot(r)
	req, aerr := s.parseInvoke(r)
	if aerr != nil {
		s.countError(aerr)
		aerr.write(w, req.requestID)
		return
	}
	if fault := s.faults.before(r.Context()); fault != nil {
		fault.apply(w, req.requestID)
		return
	}
	status, out, tail := http.StatusOK, Output{}, []byte(nil)
	switch req.invocationType {
	case "DryRun":
		status = http.StatusNoContent
	case "Event":
		s.events.enqueue(req)
		status = http.StatusAccepted
	default:
		release, aerr := s.tryAcquire(req.fn)
		if aerr != nil {
			s.countError(aerr)
			aerr.write(w, req.requestID)
			return
		}
		var logs []byte
		out, logs = s.execute(&req, req.logTail)
		release()
		if req.logTail {
			tail = logs[max(0, len(logs)-logTailBytes):]
		}
	}
	if fault := s.faults.after(r.Context()); fault != nil {
		if fault.fault != FaultSlow {
			fault.apply(w, req.requestID)
			return
		}
		wait(r.Context(), s.faults.cfg.SlowDelay)
	}
	s.writeSuccess(w, &req, status, out, tail)
}

// parseInvoke authenticates and validates an Invoke API call. On error
// the returned request still carries the request ID to answer with.
func (s *Server) parseInvoke(r *http.Request) (invokeRequest, *apiError) {
	req := invokeRequest{requestID: newRequestID()}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxSyncPayloadBytes+1))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return req, errTooLarge(MaxSyncPayloadBytes)
	case err != nil:
		return req, errInvalidRequestContent("Could not read request body: " + err.Error())
	}

	region := DefaultRegion
	if s.auth != nil {
		var aerr *apiError
		if region, aerr = s.auth.verify(r.Context(), r, body); aerr != nil {
			return req, aerr
		}
	}

	name := r.PathValue("name")
	parsed, err := fnname.Parse(name)
	if err != nil {
		return req, errInvalidParameter("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: %s", name, err)
	}
	qualifier := r.URL.Query().Get("Qualifier")
	if parsed.Qualifier != "" {
		if qualifier != "" && qualifier != parsed.Qualifier {
			return req, errInvalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		qualifier = parsed.Qualifier
	}
	if parsed.Region != "" && parsed.Region != region {
		return req, errFunctionNotFound(s.functionARN(region, parsed.Function, qualifier)).
			withMessage("Functions from '" + parsed.Region + "' are not reachable in this region ('" + region + "')")
	}
	fn, ok := s.functions[parsed.Function]
	if !ok || (parsed.Account != "" && parsed.Account != s.cfg.AccountID) {
		return req, errFunctionNotFound(s.functionARN(region, parsed.Function, qualifier))
	}
	version, ok := fn.resolveQualifier(qualifier)
	if !ok {
		return req, errFunctionNotFound(s.functionARN(region, parsed.Function, qualifier))
	}
	req.fn, req.version = fn, version
	req.invokedARN = s.functionARN(region, parsed.Function, qualifier)

	req.invocationType = r.Header.Get("X-Amz-Invocation-Type")
	switch req.invocationType {
	case "":
		req.invocationType = "RequestResponse"
	case "RequestResponse", "Event", "DryRun":
	default:
		return req, errInvalidParameter("1 validation error detected: Value '%s' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]", req.invocationType)
	}
	switch lt := r.Header.Get("X-Amz-Log-Type"); lt {
	case "", "None":
	case "Tail":
		req.logTail = req.invocationType == "RequestResponse"
	default:
		return req, errInvalidParameter("1 validation error detected: Value '%s' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]", lt)
	}
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		decoded, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || len(cc) > maxClientContextBytes || !json.Valid(decoded) {
			return req, errInvalidParameter("Client context must be a valid Base64-encoded JSON object of at most %d bytes.", maxClientContextBytes)
		}
		req.clientContext = decoded
	}

	if req.invocationType == "Event" && len(body) > MaxAsyncPayloadBytes {
		return req, errTooLarge(MaxAsyncPayloadBytes)
	}
	if len(body) == 0 {
		body = []byte("{}") // Lambda passes an empty object for an empty payload
	} else if !json.Valid(body) {
		return req, errInvalidRequestContent("Could not parse request body into json: Could not parse payload into json: " + jsonSyntaxError(body))
	}
	req.payload = body
	return req, nil
}

// writeSuccess answers an invocation Lambda accepted: 200 with the
// function's output, 202 for Event, 204 for DryRun.
func (s *Server) writeSuccess(w http.ResponseWriter, req *invokeRequest, status int, out Output, logTail []byte) {
	h := w.Header()
	h.Set("X-Amzn-Requestid", req.requestID)
	h.Set("X-Amz-Executed-Version", req.version)
	if status != http.StatusOK {
		w.WriteHeader(status)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(out.Payload)))
	if out.Error {
		h.Set("X-Amz-Function-Error", "Unhandled")
	}
	if logTail != nil {
		h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(logTail))
	}
	w.WriteHeader(status)
	_, _ = w.Write(out.Payload)
}

func errInvalidRequestContent(message string) *apiError {
	return userError(http.StatusBadRequest, "InvalidRequestContentException", "%s", message)
}

// withMessage returns e with its message replaced.
func (e *apiError) withMessage(m string) *apiError {
	e.message = m
	return e
}

// jsonSyntaxError describes why b is not JSON.
func jsonSyntaxError(b []byte) string {
	var v any
	err := json.Unmarshal(b, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " at offset " + strconv.FormatInt(se.Offset, 10)
	}
	if err != nil {
		return err.Error()
	}
	return "invalid JSON"
}

func (s *Server) countError(e *apiError) {
	if e.status == http.StatusTooManyRequests {
		s.stats.throttles.Add(1)
	} else {
		s.stats.errors.Add(1)
	}
}
