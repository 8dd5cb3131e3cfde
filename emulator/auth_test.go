package emulator_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	if st := srv.Emulator.Stats(); st.Executions != 5 {
		t.Errorf("%d executions, want 5: one per accepted request", st.Executions)
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
}
