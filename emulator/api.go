package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// apiRequest is an authenticated API call on its way to its operation.
type apiRequest struct {
	r         *http.Request
	requestID string
	// region is the region the call was signed for.
	region string
	// name is the FunctionName path label, unescaped; "" for operations
	// without one.
	name string
	body []byte
}

// operation is an API operation the emulator serves.
type operation int

const (
	opUnknown operation = iota
	opInvoke
	opInvokeStream
	opGetFunction
	opGetFunctionConfiguration
	opListFunctions
	opListAliases
	opGetAccountSettings
)

// ServeHTTP serves the API: Invoke, InvokeWithResponseStream, and the read-only calls test suites
// make (GetFunction, GetFunctionConfiguration, ListFunctions, ListAliases,
// GetAccountSettings). Every request is authenticated before anything
// else, its operation included, as at AWS, where an unsigned request to
// any path gets a 403.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	requestID := lambdaapi.NewRequestID()
	var in admitted
	aerr := s.admit(r, &in)
	defer in.release()
	if aerr != nil {
		s.writeError(w, requestID, aerr)
		return
	}
	op, rawName := route(r.Method, r.URL.EscapedPath())
	req := &apiRequest{r: r, requestID: requestID, region: in.region, body: in.body}
	if rawName != "" {
		name, err := url.PathUnescape(rawName)
		if err != nil {
			name = rawName // fails validation as it is
		}
		req.name = name
	}
	switch op {
	case opInvoke:
		s.handleInvoke(w, req)
	case opInvokeStream:
		s.handleInvokeStream(w, req)
	case opGetFunction, opGetFunctionConfiguration:
		s.handleGetFunction(w, req, op == opGetFunctionConfiguration)
	case opListFunctions:
		s.handleListFunctions(w, req)
	case opListAliases:
		s.handleListAliases(w, req)
	case opGetAccountSettings:
		s.handleGetAccountSettings(w, req)
	default:
		e := userError(http.StatusNotFound, "UnknownOperationException", "Unknown operation %s %s", r.Method, r.URL.EscapedPath())
		s.writeError(w, requestID, e)
	}
}

// route finds the operation of a request from its method and escaped
// path, and the operation's FunctionName label, still escaped. The paths
// are those of the Lambda API model (aws-sdk-go-v2 service/lambda
// schemas); ListFunctions and GetAccountSettings are accepted with and
// without the trailing slash, which the API reference and older SDKs send
// ("GET /2016-08-19/account-settings/") and aws-sdk-go-v2 does not.
func route(method, path string) (operation, string) {
	if rest, ok := strings.CutPrefix(path, lambdaapi.StreamFunctionsPath+"/"); ok {
		name, sub, _ := strings.Cut(rest, "/")
		if method == http.MethodPost && name != "" && sub == lambdaapi.StreamInvocationsSegment {
			return opInvokeStream, name
		}
		return opUnknown, ""
	}
	if path == "/2016-08-19/account-settings" || path == "/2016-08-19/account-settings/" {
		if method == http.MethodGet {
			return opGetAccountSettings, ""
		}
		return opUnknown, ""
	}
	rest, ok := strings.CutPrefix(path, lambdaapi.FunctionsPath)
	switch {
	case !ok:
		return opUnknown, ""
	case rest == "" || rest == "/":
		if method == http.MethodGet {
			return opListFunctions, ""
		}
		return opUnknown, ""
	case rest[0] != '/':
		return opUnknown, ""
	}
	name, sub, _ := strings.Cut(rest[1:], "/")
	if name == "" {
		return opUnknown, ""
	}
	switch {
	case method == http.MethodPost && sub == lambdaapi.InvocationsSegment:
		return opInvoke, name
	case method == http.MethodGet && sub == "" && !strings.HasSuffix(rest, "/"):
		return opGetFunction, name
	case method == http.MethodGet && sub == "configuration":
		return opGetFunctionConfiguration, name
	case method == http.MethodGet && sub == "aliases":
		return opListAliases, name
	}
	return opUnknown, ""
}

// writeJSON answers 200 with v as the JSON body.
func writeJSON(w http.ResponseWriter, requestID string, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only programming errors: the shapes are fixed
		e := errServiceException()
		e.write(w, requestID)
		return
	}
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	h[lambdaapi.HeaderRequestID] = []string{requestID}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeError answers with e's error document, counting it in the stats
// as a throttle (429) or an error.
func (s *Server) writeError(w http.ResponseWriter, requestID string, e *apiError) {
	if e.status == http.StatusTooManyRequests {
		s.stats.throttles.Add(1)
	} else {
		s.stats.errors.Add(1)
	}
	e.write(w, requestID)
}
