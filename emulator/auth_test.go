package emulator_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

const mismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func TestServer_Signature(t *testing.T) {
	// The server's clock stands still, so expiry is exact.
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := emulatortest.New(t, emulator.Config{
		Functions: emulator.BuiltinFunctions(),
		Now:       func() time.Time { return now },
	})
	body := []byte(`{"n":1}`)
	replaceBody := func(b []byte) func(*http.Request) {
		return func(r *http.Request) {
			r.Body, r.GetBody, r.ContentLength = io.NopCloser(bytes.NewReader(b)), nil, int64(len(b))
		}
	}

	for _, tc := range []struct {
		name    string
		call    call
		code    string // x-amzn-ErrorType; "" for a 200
		message string
	}{
		{name: "valid", call: call{at: now}},
		{name: "valid at the edge of the skew", call: call{at: now.Add(-emulator.MaxClockSkew)}},
		{name: "unsigned", call: call{unsigned: true},
			code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"},
		{name: "unknown access key", call: call{at: now, creds: &aws.Credentials{AccessKeyID: "AKIAOTHER", SecretAccessKey: emulator.DefaultSecretAccessKey}},
			code: "UnrecognizedClientException", message: "The security token included in the request is invalid."},
		{name: "wrong secret", call: call{at: now, creds: &aws.Credentials{AccessKeyID: emulator.DefaultAccessKeyID, SecretAccessKey: "wrong"}},
			code: "InvalidSignatureException", message: mismatch},
		{name: "expired", call: call{at: now.Add(-emulator.MaxClockSkew - time.Second)},
			code:    "InvalidSignatureException",
			message: "Signature expired: 20260301T115459Z is now earlier than 20260301T115500Z (20260301T120000Z - 5 min.)"},
		{name: "too early", call: call{at: now.Add(6 * time.Minute)},
			code:    "InvalidSignatureException",
			message: "Signature not yet current: 20260301T120600Z is still later than 20260301T120500Z (20260301T120000Z + 5 min.)"},
		{name: "wrong service in scope", call: call{at: now, service: "s3"},
			code: "InvalidSignatureException", message: "Credential should be scoped to correct service: 'lambda'. "},
		{name: "tampered body", call: call{at: now, tamper: replaceBody([]byte(`{"n":2}`))},
			code: "InvalidSignatureException", message: mismatch},
		{name: "tampered path", call: call{at: now, tamper: func(r *http.Request) { r.URL.Path, r.URL.RawPath = invokePath("fail"), "" }},
			code: "InvalidSignatureException", message: mismatch},
		{name: "tampered query", call: call{at: now, tamper: func(r *http.Request) { r.URL.RawQuery = "Qualifier=%24LATEST" }},
			code: "InvalidSignatureException", message: mismatch},
		{name: "tampered signed header", call: call{at: now, header: map[string]string{"X-Amz-Invocation-Type": "RequestResponse"},
			tamper: func(r *http.Request) { r.Header.Set("X-Amz-Invocation-Type", "DryRun") }},
			code: "InvalidSignatureException", message: mismatch},
		{name: "tampered date", call: call{at: now, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20260301T120001Z") }},
			code: "InvalidSignatureException", message: mismatch},
		{name: "unsigned header added later is ignored", call: call{at: now, tamper: func(r *http.Request) { r.Header.Set("X-Extra", "1") }}},
		{name: "session token signed", call: call{at: now, creds: &aws.Credentials{
			AccessKeyID: emulator.DefaultAccessKeyID, SecretAccessKey: emulator.DefaultSecretAccessKey, SessionToken: "token"}}},
		{name: "session token tampered", call: call{at: now,
			creds:  &aws.Credentials{AccessKeyID: emulator.DefaultAccessKeyID, SecretAccessKey: emulator.DefaultSecretAccessKey, SessionToken: "token"},
			tamper: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "other") }},
			code: "InvalidSignatureException", message: mismatch},
		{name: "ARN function name, escaped path", call: call{at: now, function: "arn:aws:lambda:us-east-1:123456789012:function:echo:$LATEST"}},
		{name: "well-formed region Lambda does not run in", call: call{at: now, region: "xx-fake-9"}},
		{name: "region that is not a region", call: call{at: now, region: "us-east-1 ;x=<script>"},
			code: "InvalidSignatureException", message: "Credential should be scoped to a valid region, not 'us-east-1 ;x=<script>'. "},
		{name: "empty region", call: call{at: now, region: "-"},
			code: "InvalidSignatureException", message: "Credential should be scoped to a valid region, not '-'. "},
		// A captured request replayed with an x-amz-* header added must
		// not be acted on: every SDK signs those headers.
		{name: "unsigned invocation type added", call: call{at: now, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Invocation-Type", "Event") }},
			code: "InvalidSignatureException", message: "'X-Amz-Invocation-Type' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "unsigned log type added", call: call{at: now, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Log-Type", "Tail") }},
			code: "InvalidSignatureException", message: "'X-Amz-Log-Type' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "unsigned client context added", call: call{at: now, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Client-Context", "e30=") }},
			code: "InvalidSignatureException", message: "'X-Amz-Client-Context' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "unsigned x-amz header of no meaning", call: call{at: now, tamper: func(r *http.Request) { r.Header.Set("x-amz-whatever", "1") }},
			code: "InvalidSignatureException", message: "'X-Amz-Whatever' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "x-amzn header need not be signed", call: call{at: now, tamper: func(r *http.Request) { r.Header.Set("X-Amzn-Trace-Id", "Root=1-0-0") }}},
		{name: "host not signed", call: call{at: now, tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
		}},
			code: "InvalidSignatureException", message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.call
			if c.function == "" {
				c.function = "echo"
			}
			if c.body == nil {
				c.body = body
			}
			resp, got := c.do(t, srv)
			if tc.code == "" {
				if resp.StatusCode != 200 || string(got) != string(body) {
					t.Fatalf("got %d %s, want 200 and the payload", resp.StatusCode, got)
				}
				return
			}
			if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != tc.code {
				t.Errorf("got %d %s, want 403 %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), tc.code)
			}
			// Signature errors come from AWS's front end: {"message": …}
			// and nothing else.
			if m := errorBody(t, got); len(m) != 1 || m["message"] != tc.message {
				t.Errorf("body %s, want {\"message\":%q}", got, tc.message)
			}
			if !uuidRE.MatchString(resp.Header.Get("X-Amzn-Requestid")) {
				t.Errorf("no request id")
			}
		})
	}
	if st := srv.Emulator.Stats(); st.Executions != 7 {
		t.Errorf("%d executions, want 7: one per accepted request", st.Executions)
	}
}

func TestServer_Signature_SDK(t *testing.T) {
	srv := emulatortest.New(t, emulator.Config{Functions: emulator.BuiltinFunctions()})
	cfg := srv.AWSConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(srv.AccessKeyID, "not the secret", "")
	client := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
	_, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("echo")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" || ae.ErrorMessage() != mismatch {
		t.Fatalf("got %v, want InvalidSignatureException %q", err, mismatch)
	}
}

func TestServer_NoAuth(t *testing.T) {
	srv := emulatortest.New(t, emulator.Config{Functions: emulator.BuiltinFunctions(), NoAuth: true})
	for _, c := range []call{
		{function: "echo", body: []byte(`1`), unsigned: true},
		{function: "echo", body: []byte(`1`), creds: &aws.Credentials{AccessKeyID: "ANY", SecretAccessKey: "ANY"}},
	} {
		if resp, got := c.do(t, srv); resp.StatusCode != 200 || string(got) != "1" {
			t.Errorf("NoAuth: got %d %s, want 200 1", resp.StatusCode, got)
		}
	}
	// The region still comes from a signature, checked or not.
	c := call{function: "arn:aws:lambda:eu-west-1:123456789012:function:nope", region: "eu-west-1",
		creds: &aws.Credentials{AccessKeyID: "ANY", SecretAccessKey: "ANY"}}
	if resp, got := c.do(t, srv); resp.StatusCode != 404 || errorBody(t, got)["Message"] != "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:nope" {
		t.Errorf("NoAuth, signed for eu-west-1: got %d %s", resp.StatusCode, got)
	}
}

// recordingClient is an HTTP client that keeps a copy of every request it
// sends, with its body.
type recordingClient struct {
	sent []*http.Request
	body [][]byte
}

func (c *recordingClient) Do(r *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	c.sent = append(c.sent, r.Clone(r.Context()))
	c.body = append(c.body, b)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return http.DefaultClient.Do(r)
}

// TestServer_ReplayWithUnsignedHeader replays a request the real SDK
// signed, for a synchronous invocation, with an X-Amz-Invocation-Type it
// did not sign: before the fix the emulator queued it as an Event.
func TestServer_ReplayWithUnsignedHeader(t *testing.T) {
	rec := make(recorder, 4)
	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{{Name: "rec", Handler: rec}}})
	rc := &recordingClient{}
	client := lambda.NewFromConfig(srv.AWSConfig(), func(o *lambda.Options) {
		o.Retryer = aws.NopRetryer{}
		o.HTTPClient = rc
	})
	out, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("rec"), Payload: []byte(`"once"`)})
	if err != nil || out.StatusCode != 200 {
		t.Fatalf("SDK call: %v", err)
	}
	<-rec

	for _, h := range []string{"X-Amz-Invocation-Type", "x-amz-invocation-type"} {
		replay := rc.sent[0].Clone(t.Context())
		replay.Body = io.NopCloser(bytes.NewReader(rc.body[0]))
		replay.Header[h] = []string{"Event"}
		resp, err := http.DefaultClient.Do(replay)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != "InvalidSignatureException" {
			t.Errorf("replay with %s: %d %s, want 403 InvalidSignatureException", h, resp.StatusCode, body)
		}
	}
	if st := srv.Emulator.Stats(); st.Executions != 1 || st.EventsQueued != 0 {
		t.Errorf("%d executions, %d events queued; the replays must not run", st.Executions, st.EventsQueued)
	}
}

// TestServer_AuthenticatesEveryPath checks that a request is
// authenticated before its operation is looked up: unsigned, any path
// gets Lambda's 403; signed, an unknown one gets 404.
func TestServer_AuthenticatesEveryPath(t *testing.T) {
	srv := emulatortest.New(t, emulator.Config{Functions: emulator.BuiltinFunctions()})
	paths := []struct{ method, path string }{
		{"GET", "/"},
		{"POST", "/nope"},
		{"GET", "/2015-03-31/functions/echo/invocations"},
		{"PUT", "/2015-03-31/functions/echo/invocations"},
		{"POST", "/2014-11-13/functions/echo/invoke-async"},
		{"POST", "//2015-03-31/functions/echo/invocations"},
		{"GET", "/2015-03-31/functions/echo/aliases/live"},
		{"DELETE", "/2015-03-31/functions/echo"},
	}
	for _, p := range paths {
		for _, signed := range []bool{false, true} {
			r, err := http.NewRequestWithContext(t.Context(), p.method, srv.URL+p.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			r.URL.RawPath = p.path
			want, code := 403, "MissingAuthenticationTokenException"
			if signed {
				signEmpty(t, srv, r)
				want, code = 404, "UnknownOperationException"
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want || resp.Header.Get("X-Amzn-Errortype") != code {
				t.Errorf("%s %s (signed %v): %d %s, want %d %s", p.method, p.path, signed,
					resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), want, code)
			}
		}
	}
}

// signEmpty signs a request without a body for srv.
func signEmpty(t *testing.T, srv *emulatortest.Server, r *http.Request) {
	t.Helper()
	const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, emptyHash, "lambda", emulatortest.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
}
