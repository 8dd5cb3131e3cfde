package lambdafan_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// TestSecretsNeverLeak runs requests that succeed, fail, are throttled
// and retried, and are refused for a bad signature, with debug logging on,
// and checks that neither results, errors nor logs contain the secret key,
// the session token or a signature. The tests below cover the other
// sources: error bodies and malformed responses echoing the request,
// endpoint URLs with a password; credential providers' messages are
// covered by TestCredentials_ProviderMessageWithheld.
func TestSecretsNeverLeak(t *testing.T) {
	const token = "SESSIONTOKEN-d2f1c9e7"
	srv := emulatortest.New(t, emulator.Config{
		Functions: emulator.BuiltinFunctions(),
		Faults: emulator.Faults{Schedule: func(n int64) emulator.Fault {
			if n%3 == 0 {
				return emulator.FaultThrottle
			}
			return emulator.NoFault
		}},
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	run := func(secret string) []lambdafan.Result {
		c, err := lambdafan.New(lambdafan.Config{
			AWS:         aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKeyID, secret, token)},
			EndpointURL: srv.URL, Logger: logger, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		return c.InvokeAll(t.Context(), []lambdafan.Request{
			{FunctionName: "echo", Payload: []byte(`{}`), LogType: lambdafan.LogTail},
			{FunctionName: "fail"},
			{FunctionName: "missing"},
			{FunctionName: "echo", InvocationType: lambdafan.Event},
		})
	}
	results := append(run(srv.SecretAccessKey), run("wrong-"+srv.SecretAccessKey)...)

	var everything strings.Builder
	refused := 0
	for _, r := range results {
		fmt.Fprintf(&everything, "%+v %s %s\n", r, r.Payload, r.LogTail)
		if r.Err != nil {
			everything.WriteString(r.Err.Error() + "\n")
			if errors.Is(r.Err, lambdafan.ErrCredentials) && strings.Contains(r.Err.Error(), "InvalidSignatureException") {
				refused++
			}
		}
	}
	everything.Write(logs.Bytes())
	// The refused signature stops the second run: its first request is
	// refused, the others it had pulled are not sent.
	if refused == 0 || !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("the scenario did not happen: %d refused, logs:\n%s", refused, logs.String())
	}
	for _, secret := range []string{srv.SecretAccessKey, token, "Signature=", "X-Amz-Security-Token", "Authorization"} {
		if strings.Contains(everything.String(), secret) {
			t.Errorf("%q appears in results or logs", secret)
		}
	}
}

// TestSecretsNeverLeak_ServerEchoes: whatever answers may echo what the
// client sent. AWS front ends explaining a signature mismatch quote the
// canonical request, session token included; a proxy may dump the
// headers. Neither the token, the secret key nor the signature may reach
// InvokeError.Message, Result.Payload or the debug log.
func TestSecretsNeverLeak_ServerEchoes(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	// A token shaped like STS's: long, base64, with '/' and '+'.
	token := "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH+" + strings.Repeat("c2Vzc2lvbi10b2tlbg", 20) + "=="
	tests := []struct {
		name      string
		status    int
		errorType string
		body      func(r *http.Request) string
	}{
		{"signature mismatch quoting the canonical request", 403, "InvalidSignatureException", func(r *http.Request) string {
			msg := "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. " +
				"The Canonical String for this request should have been\n'POST\n" + r.URL.EscapedPath() + "\n\nhost:" + r.Host +
				"\nx-amz-date:" + r.Header.Get("X-Amz-Date") + "\nx-amz-security-token:" + r.Header.Get("X-Amz-Security-Token") +
				"\n\nhost;x-amz-date;x-amz-security-token\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n\n" +
				"Authorization: " + r.Header.Get("Authorization")
			b, _ := json.Marshal(map[string]string{"message": msg})
			return string(b)
		}},
		{"proxy dumping the headers as text", 400, "", func(r *http.Request) string {
			var b strings.Builder
			fmt.Fprintf(&b, "bad request\n")
			r.Header.Write(&b)
			return b.String()
		}},
		{"JSON escapes hiding the token", 400, "InvalidRequestContentException", func(r *http.Request) string {
			var b strings.Builder
			for _, c := range r.Header.Get("X-Amz-Security-Token") {
				fmt.Fprintf(&b, `\u%04x`, c)
			}
			return `{"message":"cannot use ` + b.String() + `"}`
		}},
		{"server error naming the secret key", 500, "ServiceException", func(*http.Request) string {
			return `{"message":"no such key: ` + secret + `"}`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var signatures []string
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, sig, _ := strings.Cut(r.Header.Get("Authorization"), "Signature=")
				mu.Lock()
				signatures = append(signatures, sig)
				mu.Unlock()
				w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000005")
				if tt.errorType != "" {
					w.Header().Set("X-Amzn-Errortype", tt.errorType)
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body(r))
			}))
			t.Cleanup(srv.Close)
			var logs bytes.Buffer
			c, err := lambdafan.New(lambdafan.Config{
				AWS: aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", secret, token)},
				// The 500 is retried, so the debug log records its error.
				EndpointURL: srv.URL, MaxAttempts: 2, RetryUnsafe: true, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			if err != nil {
				t.Fatal(err)
			}
			r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "f", Payload: []byte(`{}`)})
			var ie *lambdafan.InvokeError
			if !errors.As(r.Err, &ie) || ie.StatusCode != tt.status {
				t.Fatalf("result %+v (err %v), want an InvokeError with status %d", r, r.Err, tt.status)
			}
			everything := fmt.Sprintf("%+v\n%s\n%s\n%s\n%s\n%s", r, r.Payload, r.Err, ie.Message, ie.Type, logs.String())
			mu.Lock()
			leaks := append([]string{secret, "bPxRfiCYEXAMPLEKEY", token, token[:40], "c2Vzc2lvbi10b2tlbgc2Vzc2lv"}, signatures...)
			mu.Unlock()
			for _, s := range leaks {
				if s != "" && strings.Contains(everything, s) {
					t.Errorf("%q appears in the result or the log:\n%s", s, everything)
				}
			}
		})
	}
}

// TestNew_EndpointURLPasswordNeverEchoed: an endpoint URL with a password,
// whether it parses or not and wherever it comes from, never has the
// password (or a piece of it) repeated by New's errors or by results.
func TestNew_EndpointURLPasswordNeverEchoed(t *testing.T) {
	urls := []string{
		"http://user:s3cret@127.0.0.1:9/",
		"http://user:s3cret@[::1",
		"http://user:s3c/ret@127.0.0.1:9/", // url.Parse quotes ":s3c" as a port
		"https://user:s3cret@host:port/",
		"http://user:s3cret@127.0.0.1:9/%zz",
		"http://user:s3cret@lambda.example.com/", // plain http off loopback
		"ftp://user:s3cret@127.0.0.1/",
	}
	for _, raw := range urls {
		for _, via := range []string{"Config.EndpointURL", "aws.Config.BaseEndpoint"} {
			t.Run(via+"/"+raw, func(t *testing.T) {
				awsCfg := staticAWS()
				cfg := lambdafan.Config{AWS: awsCfg, MaxAttempts: 1}
				if via == "Config.EndpointURL" {
					cfg.EndpointURL = raw
				} else {
					awsCfg.BaseEndpoint = aws.String(raw)
				}
				c, err := lambdafan.New(cfg)
				var shown string
				if err != nil {
					shown = err.Error()
				} else {
					r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "f"})
					shown = fmt.Sprintf("%+v %v", r, r.Err)
				}
				if strings.Contains(shown, "s3c") {
					t.Errorf("the password shows: %s", shown)
				}
			})
		}
	}
}

// TestSecretsNeverLeak_MalformedResponse: net/http quotes a response it
// cannot parse in its error; a server that sends back the request's
// headers that way must not get the token into the TransportError.
func TestSecretsNeverLeak_MalformedResponse(t *testing.T) {
	const token = "SESSIONTOKEN-d2f1c9e7"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		// A header line without a colon: "malformed MIME header line: …".
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nx-amzn-RequestId: 00000000-0000-4000-8000-000000000006\r\n"+
			"echo x-amz-security-token %s\r\n\r\n", r.Header.Get("X-Amz-Security-Token"))
		buf.Flush()
	}))
	t.Cleanup(srv.Close)
	var logs bytes.Buffer
	c, err := lambdafan.New(lambdafan.Config{
		AWS:         aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "SECRETKEY-4be1", token)},
		EndpointURL: srv.URL, MaxAttempts: 2, RetryUnsafe: true, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "f"})
	var te *lambdafan.TransportError
	if !errors.As(r.Err, &te) || !strings.Contains(r.Err.Error(), "malformed MIME header") {
		t.Fatalf("result %+v (err %v), want a TransportError quoting the malformed header", r, r.Err)
	}
	if everything := fmt.Sprintf("%+v\n%v\n%s", r, r.Err, logs.String()); strings.Contains(everything, token) {
		t.Errorf("the session token appears in the result or the log:\n%s", everything)
	}
}
