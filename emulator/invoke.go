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
	region         string
	invocationType string
	logTail        bool
	payload        []byte
	clientContext  []byte
	// cancelled reports that the server stopped the execution.
	cancelled bool
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
		out, tail = s.execute(&req, req.logTail)
		release()
		if req.cancelled {
			// Close or an expired Shutdown stopped the function: the
			// service failed, not the function, and it may have had
			// effects, which is what a ServiceException tells a client.
			aerr := errServiceException()
			s.countError(aerr)
			aerr.write(w, req.requestID)
			return
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
	body, aerr := readBody(r)
	if aerr != nil {
		return req, aerr
	}

	region := DefaultRegion
	if s.auth != nil {
		var aerr *apiError
		if region, aerr = s.auth.verify(r.Context(), r, body); aerr != nil {
			return req, aerr
		}
	}

	// Parameters outside the API model's constraints are rejected by
	// AWS's front end before Lambda looks at the function: 400
	// ValidationException, body {"message": "1 validation error detected:
	// …"} (ex-aws/ex_aws#442 captures one in full, for invocationType).
	name := r.PathValue("name")
	parsed, err := fnname.Parse(name)
	switch {
	case len(name) > maxFunctionNameLen:
		return req, errValidation(name, "functionName", "Member must have length less than or equal to 256")
	case err != nil:
		return req, errValidation(name, "functionName", "Member must satisfy regular expression pattern: "+functionNamePattern)
	}
	var qualifier string
	if r.URL.RawQuery != "" { // most calls have none; parsing allocates
		qualifier = r.URL.Query().Get("Qualifier")
		if r.URL.Query().Has("Qualifier") && fnname.CheckQualifier(qualifier) != nil {
			return req, errValidation(qualifier, "qualifier", "Member must satisfy regular expression pattern: "+qualifierPattern)
		}
	}
	req.invocationType = r.Header.Get("X-Amz-Invocation-Type")
	switch req.invocationType {
	case "":
		req.invocationType = "RequestResponse"
	case "RequestResponse", "Event", "DryRun":
	default:
		// The enum in the order Lambda lists it (ex-aws/ex_aws#442).
		return req, errValidation(req.invocationType, "invocationType", "Member must satisfy enum value set: [DryRun, RequestResponse, Event]")
	}
	switch lt := r.Header.Get("X-Amz-Log-Type"); lt {
	case "", "None":
	case "Tail":
		req.logTail = req.invocationType == "RequestResponse"
	default:
		// No capture found; the order mirrors invocationType's, which
		// lists the model's enum backwards.
		return req, errValidation(lt, "logType", "Member must satisfy enum value set: [Tail, None]")
	}

	if parsed.Qualifier != "" {
		if qualifier != "" && qualifier != parsed.Qualifier {
			return req, errInvalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		qualifier = parsed.Qualifier
	}
	if parsed.Region != "" && parsed.Region != region {
		return req, errRegionMismatch(parsed.Region, region)
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
	req.region = region

	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		// Lambda answers InvalidRequestContentException, not
		// InvalidParameterValueException, with this message (boto/boto3#2153).
		decoded, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || len(cc) > maxClientContextBytes || !json.Valid(decoded) {
			return req, errInvalidRequestContent("Client context must be a valid Base64-encoded JSON object.")
		}
		// "Lambda passes the ClientContext object to your function for
		// synchronous invocations only." (Invoke API reference)
		if req.invocationType == "RequestResponse" {
			req.clientContext = decoded
		}
	}

	if req.invocationType == "Event" && len(body) > MaxAsyncPayloadBytes {
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

// readBody reads the payload, at most MaxSyncPayloadBytes. A body whose
// length is declared within the limit is read into a buffer of exactly
// that size (io.ReadAll would grow one from 512 bytes).
func readBody(r *http.Request) ([]byte, *apiError) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > 0 && r.ContentLength <= MaxSyncPayloadBytes {
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, errInvalidRequestContent("Could not read request body: " + err.Error())
		}
		return body, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxSyncPayloadBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errSyncTooLarge()
	case err != nil:
		return nil, errInvalidRequestContent("Could not read request body: " + err.Error())
	}
	return body, nil
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
	h["X-Amzn-Requestid"] = []string{req.requestID}
	switch status {
	case http.StatusAccepted:
		w.WriteHeader(status)
		return
	case http.StatusNoContent:
		h["X-Amz-Executed-Version"] = versionHeader(req.version)
		w.WriteHeader(status)
		return
	}
	h["X-Amz-Executed-Version"] = versionHeader(req.version)
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(len(out.Payload))}
	if out.Error {
		h["X-Amz-Function-Error"] = functionErrorUnhandled
	}
	if logTail != nil {
		h["X-Amz-Log-Result"] = []string{base64.StdEncoding.EncodeToString(logTail)}
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
var functionErrorUnhandled = []string{"Unhandled"}

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
