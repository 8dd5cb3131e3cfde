package lambdafan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"

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
