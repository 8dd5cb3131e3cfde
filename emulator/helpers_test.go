package emulator_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// newClient returns the real SDK Lambda client for srv, with retries off
// so each call is exactly one request.
func newClient(srv *emulatortest.Server) *lambda.Client {
	return lambda.NewFromConfig(srv.AWSConfig(), func(o *lambda.Options) {
		o.Retryer = aws.NopRetryer{}
	})
}

// call describes one raw Invoke API request, signed the way an SDK signs
// it unless unsigned is set.
type call struct {
	function string
	query    string // raw query, e.g. "Qualifier=live"
	body     []byte
	header   map[string]string

	unsigned bool
	creds    *aws.Credentials // nil: the server's
	service  string           // "": lambda
	region   string           // "": emulatortest.Region
	at       time.Time        // zero: now

	// prepare changes the request before it is signed, tamper after.
	prepare, tamper func(*http.Request)
}

// invokePath is the Invoke API path of a function, the name escaped as one
// path segment as SDKs do.
func invokePath(function string) string {
	return "/2015-03-31/functions/" + lambdaapi.EscapePathSegment(function) + "/invocations"
}

// request builds c's request for the server at baseURL.
func (c call) request(t testing.TB, srv *emulatortest.Server) *http.Request {
	t.Helper()
	url := srv.URL + invokePath(c.function)
	if c.query != "" {
		url += "?" + c.query
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	if c.prepare != nil {
		c.prepare(req)
	}
	if !c.unsigned {
		creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}
		if c.creds != nil {
			creds = *c.creds
		}
		service, region, at := c.service, c.region, c.at
		if service == "" {
			service = "lambda"
		}
		if region == "" {
			region = emulatortest.Region
		}
		if at.IsZero() {
			at = time.Now()
		}
		sum := sha256.Sum256(c.body)
		if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), service, region, at); err != nil {
			t.Fatal(err)
		}
	}
	if c.tamper != nil {
		c.tamper(req)
	}
	return req
}

// do sends c and returns the response with its body read.
func (c call) do(t testing.TB, srv *emulatortest.Server) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(c.request(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// errorBody decodes a JSON error body into its members.
func errorBody(t testing.TB, b []byte) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("error body %q is not a JSON object of strings: %v", b, err)
	}
	return m
}

// blocker is a handler that reports each invocation on started and
// returns only once release is closed (or its context ends).
type blocker struct {
	started chan string // payloads, as invocations start
	release chan struct{}
}

func newBlocker(capacity int) *blocker {
	return &blocker{started: make(chan string, capacity), release: make(chan struct{})}
}

func (b *blocker) Invoke(ctx context.Context, inv *emulator.Invocation) emulator.Output {
	b.started <- string(inv.Payload)
	select {
	case <-b.release:
		return emulator.Output{Payload: inv.Payload}
	case <-ctx.Done():
		return emulator.Output{Payload: emulator.ErrorDocument("Cancelled", ctx.Err().Error()), Error: true}
	}
}

func ptr[T any](v T) *T { return &v }
