package emulator

import (
	"net/http"
	"net/url"
	"strings"
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
)

// ServeHTTP serves the Invoke API. Every request is authenticated before
// anything else, its operation included, as at AWS, where an unsigned
// request to any path gets a 403.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	requestID := newRequestID()
	var in admitted
	aerr := s.admit(r, &in)
	defer in.release()
	if aerr != nil {
		s.countError(aerr)
		aerr.write(w, requestID)
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
	default:
		e := userError(http.StatusNotFound, "UnknownOperationException", "Unknown operation %s %s", r.Method, r.URL.EscapedPath())
		s.countError(e)
		e.write(w, requestID)
	}
}

// route finds the operation of a request from its method and escaped
// path, and the operation's FunctionName label, still escaped.
func route(method, path string) (operation, string) {
	rest, ok := strings.CutPrefix(path, "/2015-03-31/functions/")
	if !ok || method != http.MethodPost {
		return opUnknown, ""
	}
	name, sub, _ := strings.Cut(rest, "/")
	if name == "" || sub != "invocations" {
		return opUnknown, ""
	}
	return opInvoke, name
}

func (s *Server) countError(e *apiError) {
	if e.status == http.StatusTooManyRequests {
		s.stats.throttles.Add(1)
	} else {
		s.stats.errors.Add(1)
	}
}
