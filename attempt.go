package lambdafan

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
	"github.com/lambdafan/lambdafan/internal/redact"
	"github.com/lambdafan/lambdafan/internal/transport"
)

// maxResponseBytes bounds a response body: Lambda's 6 MB response limit
// plus room for an error envelope. A longer body is an error
// ([ErrResponseTooLarge]), never cut short.
const maxResponseBytes = lambdaapi.MaxSyncPayloadBytes + 64*1024

// attempt makes one signed HTTP attempt and records its outcome in res. It
// returns nil on success and the attempt's error otherwise.
func (c *Client) attempt(ctx context.Context, p *prepared, res *Result) error {
	ctx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
	defer cancel()

	creds, err := c.credentials.Retrieve(ctx)
	if err != nil {
		return &CredentialsError{Err: err}
	}

	// The trace tells whether the request was wholly written (did it
	// reach Lambda?) and whether it has a connection (a dial started for it
	// and still waiting is then dropped: see internal/transport).
	st := new(attemptTrace)
	defer st.waiter.Settle()
	st.trace.WroteRequest = func(httptrace.WroteRequestInfo) { st.wrote.Store(true) }
	st.trace.GotConn = func(httptrace.GotConnInfo) { st.waiter.Settle() }
	ctx = httptrace.WithClientTrace(transport.WithWaiter(ctx, &st.waiter), &st.trace)
	req, err := c.newRequest(ctx, p, creds)
	if err != nil {
		return err
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return &TransportError{Sent: st.wrote.Load(), Err: scrubError(unwrapURLError(err), creds)}
	}
	res.StatusCode = resp.StatusCode
	res.RequestID = resp.Header.Get(lambdaapi.HeaderRequestID)
	if p.stream && resp.StatusCode == http.StatusOK {
		return readEventStream(resp, p, res, creds)
	}
	if p.payloadWriter != nil && resp.StatusCode == http.StatusOK && resp.Header.Get(lambdaapi.HeaderFunctionError) == "" {
		return copyPayload(resp, p, res, creds)
	}
	body, err := readBody(resp)
	resp.Body.Close()
	if err != nil {
		return &TransportError{Sent: true, Err: scrubError(fmt.Errorf("read response: %w", err), creds)}
	}
	if p.payloadWriter != nil && resp.StatusCode == http.StatusOK {
		return writeBufferedPayload(resp, body, p, res, creds)
	}
	return decodeResponse(resp, body, res, creds)
}

// attemptTrace is what one attempt learns from net/http's client trace, in
// one allocation.
type attemptTrace struct {
	trace  httptrace.ClientTrace
	wrote  atomic.Bool
	waiter transport.Waiter
}

// newRequest builds the signed HTTP request of one attempt.
func (c *Client) newRequest(ctx context.Context, p *prepared, creds aws.Credentials) (*http.Request, error) {
	// A *bytes.Reader body matters: net/http knows it is in memory and
	// writes headers and body in one syscall (any other reader type gets
	// its headers flushed first: two writes per request).
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "", bytes.NewReader(p.body))
	if err != nil {
		return nil, err
	}
	u := *p.url
	req.URL = &u
	req.Host = p.host
	h := req.Header
	// No Content-Type: botocore (the AWS CLI's library) sends none to the
	// Invoke API and Lambda takes the body as JSON (its signed headers are
	// visible in aws/aws-cli#6433); one header fewer to sign and to send.
	// RequestResponse is the API's default invocation type, so, like the
	// AWS SDKs, send the header only for the others.
	if p.invocationType != RequestResponse {
		h[lambdaapi.HeaderInvocationType] = c.headers.invocationType[p.invocationType]
	}
	if p.logType == LogTail {
		h[lambdaapi.HeaderLogType] = c.headers.logTail
	}
	if p.clientContext != "" {
		h[lambdaapi.HeaderClientContext] = []string{p.clientContext}
	}
	if err := c.signer.SignHTTP(ctx, creds, req, p.payloadHash, lambdaapi.SigningName, p.region, c.now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	return req, nil
}

// headerValues holds pre-built header value slices shared by every request
// of a Client, saving an allocation per header per request. They are never
// modified after newHeaderValues.
type headerValues struct {
	logTail        []string
	invocationType map[InvocationType][]string
}

func newHeaderValues() headerValues {
	return headerValues{
		logTail: []string{string(LogTail)},
		invocationType: map[InvocationType][]string{
			Event:  {string(Event)},
			DryRun: {string(DryRun)},
		},
	}
}

// unwrapURLError drops net/http's *url.Error wrapper, whose message repeats
// the method and URL, keeping the cause.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// scrubError masks credentials in err's message (see redact.Text) and
// keeps its chain for errors.Is and errors.As. net/http quotes what the
// server sent when it cannot parse it ("malformed MIME header line: …"),
// and a server may send back what it was sent. An error with nothing to
// mask is returned as it is.
func scrubError(err error, creds aws.Credentials) error {
	msg := err.Error()
	if scrubbed := redact.Text(msg, creds.SecretAccessKey, creds.SessionToken); scrubbed != msg {
		return &scrubbedError{msg: scrubbed, err: err}
	}
	return err
}

// scrubbedError is an error whose message had credentials masked.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// readBody reads the whole response body, sized by Content-Length when the
// server sent one. A body over maxResponseBytes is ErrResponseTooLarge: one
// that announces its length is not read at all (closing it drops the
// connection), any other is read up to one byte past the limit.
func readBody(resp *http.Response) ([]byte, error) {
	switch n := resp.ContentLength; {
	case n == 0:
		return nil, nil
	case n > maxResponseBytes:
		return nil, fmt.Errorf("%w (Content-Length %d)", ErrResponseTooLarge, n)
	case n > 0:
		b := make([]byte, n)
		_, err := io.ReadFull(resp.Body, b)
		return b, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if len(b) > maxResponseBytes {
		return nil, ErrResponseTooLarge
	}
	return b, err
}

// decodeResponse fills res from an HTTP response and returns the error it
// carries: nil for success, *FunctionError or *InvokeError otherwise. The
// body of an error answer is scrubbed of creds (see decodeInvokeError); a
// function's own answer, error or not, is returned as it is.
func decodeResponse(resp *http.Response, body []byte, res *Result, creds aws.Credentials) error {
	res.Payload = body
	h := resp.Header
	res.ExecutedVersion = h.Get(lambdaapi.HeaderExecutedVersion)
	if resp.StatusCode >= 300 {
		if len(body) > 0 {
			res.Payload = []byte(redact.Text(string(body), creds.SecretAccessKey, creds.SessionToken))
		}
		return decodeInvokeError(resp.StatusCode, h, body, res.RequestID, creds)
	}
	if logs := h.Get(lambdaapi.HeaderLogResult); logs != "" {
		if b, err := base64.StdEncoding.DecodeString(logs); err == nil {
			res.LogTail = string(b)
		}
	}
	if kind := h.Get(lambdaapi.HeaderFunctionError); kind != "" {
		res.FunctionError = kind
		fe := &FunctionError{Kind: kind, Details: body}
		var doc lambdaapi.FunctionErrorDocument
		if json.Unmarshal(body, &doc) == nil {
			fe.ErrorType, fe.ErrorMessage = doc.ErrorType, doc.ErrorMessage
		}
		return fe
	}
	return nil
}

// decodeInvokeError reads a rest-json error response: the error type comes
// from the x-amzn-ErrorType header (which may carry a ":namespace" suffix)
// or the body's __type/code, the message from "message" in any
// capitalisation.
//
// Its text is scrubbed of creds and of anything that looks like a
// credential. What answered may not be Lambda (a proxy, a misconfigured
// endpoint), and AWS front ends explaining a signature mismatch echo the
// canonical request, headers included: the session token, the signature,
// whatever else the client sent. The fields are scrubbed after JSON
// decoding (escapes could hide a secret from a scrub of the raw body) and
// before truncation (which could cut a secret short of recognition).
func decodeInvokeError(status int, h http.Header, body []byte, requestID string, creds aws.Credentials) *InvokeError {
	scrub := func(s string) string {
		if s == "" {
			return s
		}
		return redact.Text(s, creds.SecretAccessKey, creds.SessionToken)
	}
	e := &InvokeError{StatusCode: status, RequestID: requestID}
	var doc struct {
		Type1   string `json:"__type"`
		Code    string `json:"code"`
		Message string `json:"message"` // also matches "Message" (case-insensitive)
		Reason  string `json:"Reason"`
	}
	_ = json.Unmarshal(body, &doc) // a non-JSON body leaves the fields empty
	e.Type = h.Get(lambdaapi.HeaderErrorType)
	if e.Type == "" {
		e.Type = cmp.Or(doc.Type1, doc.Code)
	}
	e.Type = scrub(sanitizeErrorType(e.Type))
	if e.Type == "" {
		e.Type = "UnknownError"
	}
	e.Message = scrub(doc.Message)
	if e.Message == "" && len(body) > 0 && !json.Valid(body) {
		e.Message = truncate(scrub(string(body)), 200)
	}
	if status < 400 {
		// The client never follows redirects (see refuseRedirect): say so
		// rather than quote the redirect page.
		e.Message = "redirect not followed: Lambda never redirects an Invoke"
		if loc := h.Get("Location"); loc != "" {
			e.Message += "; it pointed to " + truncate(scrub(redact.URL(loc)), 200)
		}
	}
	e.Reason = scrub(doc.Reason)
	if ra := h.Get(lambdaapi.HeaderRetryAfter); ra != "" {
		if secs, err := strconv.ParseFloat(ra, 64); err == nil && secs >= 0 {
			e.RetryAfter = time.Duration(secs * float64(time.Second))
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = max(time.Until(t), 0)
		}
	}
	return e
}

// sanitizeErrorType strips the namespace forms an AWS error code may come
// in: "aws.lambda#TooManyRequestsException" and
// "TooManyRequestsException:http://internal.amazon.com/coral/...".
func sanitizeErrorType(t string) string {
	if i := strings.IndexByte(t, ':'); i >= 0 {
		t = t[:i]
	}
	if i := strings.LastIndexByte(t, '#'); i >= 0 {
		t = t[i+1:]
	}
	return strings.TrimSpace(t)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
