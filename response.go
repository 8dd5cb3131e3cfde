package lambdafan

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
	"github.com/lambdafan/lambdafan/internal/redact"
)

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
