package emulator

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/lambdafan/lambdafan/internal/ctxtime"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// invokeRequest is a validated Invoke API call.
type invokeRequest struct {
	requestID      string
	fn             *function
	version        string
	invokedARN     string
	region         string
	invocationType string
	logTail        bool
	payload        []byte
	clientContext  []byte
	// cancelled reports that the server stopped the execution.
	cancelled bool
}

// handleInvoke serves POST /2015-03-31/functions/{name}/invocations.
func (s *Server) handleInvoke(w http.ResponseWriter, call *apiRequest) {
	req, aerr := s.parseInvoke(call)
	if aerr != nil {
		s.writeError(w, req.requestID, aerr)
		return
	}
	// The fault is decided now and carried to where it strikes: before
	// the function runs, or after.
	fault := s.faults.plan(call.r.Context())
	if fault.strikesBefore() {
		fault.apply(w, req.requestID)
		return
	}
	status, out, tail := http.StatusOK, Output{}, []byte(nil)
	switch req.invocationType {
	case lambdaapi.InvocationDryRun:
		status = http.StatusNoContent
	case lambdaapi.InvocationEvent:
		if aerr := s.events.enqueue(req); aerr != nil {
			s.writeError(w, req.requestID, aerr)
			return
		}
		status = http.StatusAccepted
	default:
		release, aerr := s.tryAcquire(req.fn)
		if aerr != nil {
			s.writeError(w, req.requestID, aerr)
			return
		}
		out, tail = s.execute(&req, req.logTail)
		release()
		if req.cancelled {
			// Close or an expired Shutdown stopped the function: the
			// service failed, not the function, and it may have had
			// effects, which is what a ServiceException tells a client.
			aerr := errServiceException()
			s.writeError(w, req.requestID, aerr)
			return
		}
	}
	if fault.strikesAfter() {
		if fault.fault != FaultSlow {
			fault.apply(w, req.requestID)
			return
		}
		_ = ctxtime.Sleep(call.r.Context(), s.faults.cfg.SlowDelay) // a cancelled request ends anyway
	}
	s.writeSuccess(w, &req, status, out, tail)
}

// parseInvoke validates an authenticated Invoke API call. On error the
// returned request still carries the request ID to answer with.
func (s *Server) parseInvoke(call *apiRequest) (invokeRequest, *apiError) {
	r := call.r
	req := invokeRequest{requestID: call.requestID, region: call.region}
	var query map[string][]string
	if r.URL.RawQuery != "" { // most calls have none; parsing allocates
		query = r.URL.Query()
	}
	parsed, qualifier, aerr := parseFunctionName(call.name, query)
	if aerr != nil {
		return req, aerr
	}
	req.invocationType = r.Header.Get(lambdaapi.HeaderInvocationType)
	switch req.invocationType {
	case "":
		req.invocationType = lambdaapi.InvocationRequestResponse
	case lambdaapi.InvocationRequestResponse, lambdaapi.InvocationEvent, lambdaapi.InvocationDryRun:
	default:
		// The enum in the order Lambda lists it (ex-aws/ex_aws#442).
		return req, errValidation(req.invocationType, "invocationType", "Member must satisfy enum value set: [DryRun, RequestResponse, Event]")
	}
	switch lt := r.Header.Get(lambdaapi.HeaderLogType); lt {
	case "", lambdaapi.LogTypeNone:
	case lambdaapi.LogTypeTail:
		req.logTail = req.invocationType == lambdaapi.InvocationRequestResponse
	default:
		// No capture found; the order mirrors invocationType's, which
		// lists the model's enum backwards.
		return req, errValidation(lt, "logType", "Member must satisfy enum value set: [Tail, None]")
	}

	t, aerr := s.resolve(call.region, parsed, qualifier, "lambda:InvokeFunction")
	if aerr != nil {
		return req, aerr
	}
	req.fn, req.version, req.invokedARN = t.fn, t.version, t.arn

	if cc := r.Header.Get(lambdaapi.HeaderClientContext); cc != "" {
		// Lambda answers InvalidRequestContentException, not
		// InvalidParameterValueException, with this message (boto/boto3#2153).
		decoded, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || len(cc) > lambdaapi.MaxClientContextBytes || !json.Valid(decoded) {
			return req, errInvalidRequestContent("Client context must be a valid Base64-encoded JSON object.")
		}
		// "Lambda passes the ClientContext object to your function for
		// synchronous invocations only." (Invoke API reference)
		if req.invocationType == lambdaapi.InvocationRequestResponse {
			req.clientContext = decoded
		}
	}

	body := call.body
	if req.invocationType == lambdaapi.InvocationEvent && len(body) > MaxAsyncPayloadBytes {
		return req, errEventTooLarge(len(body))
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
//
// The headers are those of real answers: a 200 carries Content-Type,
// x-amzn-RequestId and X-Amz-Executed-Version (boto/boto3#3843,
// erlcloud/erlcloud#690 show them verbatim); a 202 carries
// x-amzn-RequestId and no X-Amz-Executed-Version (a boto3 capture of a
// real Event invocation shows only date, content-length, connection,
// x-amzn-requestid, x-amzn-remapped-content-length and x-amzn-trace-id;
// the API reference: "The API response only includes a status code").
// No capture of a DryRun answer was found; it keeps the executed version.
// Headers are assigned in canonical form directly, which spares
// net/textproto's canonicalisation on this hot path.
func (s *Server) writeSuccess(w http.ResponseWriter, req *invokeRequest, status int, out Output, logTail []byte) {
	h := w.Header()
	h[lambdaapi.HeaderRequestID] = []string{req.requestID}
	switch status {
	case http.StatusAccepted:
		w.WriteHeader(status)
		return
	case http.StatusNoContent:
		h[lambdaapi.HeaderExecutedVersion] = versionHeader(req.version)
		w.WriteHeader(status)
		return
	}
	h[lambdaapi.HeaderExecutedVersion] = versionHeader(req.version)
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(len(out.Payload))}
	if out.Error {
		h[lambdaapi.HeaderFunctionError] = functionErrorUnhandled
	}
	if logTail != nil {
		h[lambdaapi.HeaderLogResult] = []string{base64.StdEncoding.EncodeToString(logTail)}
	}
	w.WriteHeader(status)
	_, _ = w.Write(out.Payload)
}

// versionHeader is the X-Amz-Executed-Version value of version, shared
// for $LATEST.
func versionHeader(version string) []string {
	if version == latest {
		return latestVersionHeader
	}
	return []string{version}
}

// latestVersionHeader is shared, never modified.
var latestVersionHeader = []string{latest}

// functionErrorUnhandled is the X-Amz-Function-Error of every function
// error: today's runtimes report all errors as Unhandled (real answers in
// erlcloud/erlcloud#690 and boto3 captures); shared, never modified.
var functionErrorUnhandled = []string{lambdaapi.FunctionErrorUnhandled}

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
