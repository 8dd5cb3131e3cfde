package lambdafan_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// newClient returns a client for srv with cfg's other settings.
func newClient(t *testing.T, srv *emulatortest.Server, cfg lambdafan.Config) *lambdafan.Client {
	t.Helper()
	awsCfg := srv.AWSConfig()
	if cfg.AWS.Region != "" {
		awsCfg.Region = cfg.AWS.Region
	}
	cfg.AWS = awsCfg
	cfg.EndpointURL = srv.URL
	c, err := lambdafan.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// inProcessClient returns a client whose requests an emulator configured
// by emuCfg (without authentication) handles in the calling goroutine,
// without a network: inside a synctest bubble, client and functions share
// its virtual clock.
func inProcessClient(t *testing.T, cfg lambdafan.Config, emuCfg emulator.Config) *lambdafan.Client {
	t.Helper()
	emuCfg.NoAuth = true
	emu, err := emulator.New(emuCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	cfg.AWS = aws.Config{Region: emulatortest.Region, Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}
	cfg.EndpointURL = "http://127.0.0.1:1" // never dialled
	cfg.HTTPClient = &http.Client{Transport: handlerTransport{emu}}
	c, err := lambdafan.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// handlerTransport answers requests with an http.Handler, in process.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	ht.h.ServeHTTP(w, r)
	resp := w.Result()
	resp.Request = r
	return resp, nil
}

func builtins(t *testing.T, extra ...emulator.Function) *emulatortest.Server {
	t.Helper()
	return emulatortest.New(t, emulator.Config{Functions: append(emulator.BuiltinFunctions(), extra...)})
}

func TestClient_Invoke_InvocationTypes(t *testing.T) {
	srv := builtins(t)
	c := newClient(t, srv, lambdafan.Config{})
	tests := []struct {
		typ        lambdafan.InvocationType
		wantStatus int
		wantBody   string
	}{
		{"", 200, `{"k":"v"}`},
		{lambdafan.RequestResponse, 200, `{"k":"v"}`},
		{lambdafan.Event, 202, ""},
		{lambdafan.DryRun, 204, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo", Payload: map[string]string{"k": "v"}, InvocationType: tt.typ})
			if r.Err != nil || r.StatusCode != tt.wantStatus || string(r.Payload) != tt.wantBody {
				t.Fatalf("result %+v (payload %q), want status %d payload %q", r, r.Payload, tt.wantStatus, tt.wantBody)
			}
			if len(r.RequestID) != 36 || r.Attempts != 1 || r.Region != emulatortest.Region || r.Latency <= 0 {
				t.Errorf("result metadata %+v", r)
			}
			if tt.wantStatus == 200 && r.ExecutedVersion != "$LATEST" {
				t.Errorf("ExecutedVersion = %q", r.ExecutedVersion)
			}
			if r.InvocationType != cmpOr(tt.typ, lambdafan.RequestResponse) {
				t.Errorf("InvocationType = %q", r.InvocationType)
			}
		})
	}
}

func cmpOr[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

func TestClient_Invoke_LogTailAndClientContext(t *testing.T) {
	var seen atomic.Value
	srv := builtins(t, emulator.Function{Name: "ctx", Handler: emulator.HandlerFunc(func(_ context.Context, inv *emulator.Invocation) ([]byte, error) {
		seen.Store(string(inv.ClientContext))
		fmt.Fprintln(inv.Log, "hello from the handler")
		return []byte(`"done"`), nil
	})})
	c := newClient(t, srv, lambdafan.Config{})
	r := c.Invoke(t.Context(), lambdafan.Request{
		FunctionName:  "ctx",
		LogType:       lambdafan.LogTail,
		ClientContext: map[string]any{"custom": map[string]string{"tenant": "t1"}},
	})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if got := seen.Load(); got != `{"custom":{"tenant":"t1"}}` {
		t.Errorf("handler saw client context %q", got)
	}
	for _, want := range []string{"START RequestId: " + r.RequestID, "hello from the handler", "END RequestId: " + r.RequestID, "REPORT RequestId: " + r.RequestID} {
		if !strings.Contains(r.LogTail, want) {
			t.Errorf("log tail lacks %q:\n%s", want, r.LogTail)
		}
	}
}

func TestClient_Invoke_Errors(t *testing.T) {
	srv := builtins(t)
	c := newClient(t, srv, lambdafan.Config{MaxAttempts: 1})

	r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "fail", Payload: map[string]string{"message": "nope"}})
	var fe *lambdafan.FunctionError
	if !errors.As(r.Err, &fe) || fe.Kind != "Unhandled" || fe.ErrorType != "Error" || fe.ErrorMessage != "nope" || r.FunctionError != "Unhandled" || r.StatusCode != 200 {
		t.Errorf("function error result: %+v, err %v", r, r.Err)
	}
	if r.Outcome() != lambdafan.OutcomeFunctionError {
		t.Errorf("outcome %v", r.Outcome())
	}

	r = c.Invoke(t.Context(), lambdafan.Request{FunctionName: "missing"})
	var ie *lambdafan.InvokeError
	if !errors.As(r.Err, &ie) || ie.StatusCode != 404 || ie.Type != "ResourceNotFoundException" ||
		!strings.Contains(ie.Message, "function:missing") || ie.RequestID == "" || ie.RequestID != r.RequestID {
		t.Errorf("404 result: %+v, err %#v", r, r.Err)
	}

	r = c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo", Payload: []byte(`{not json`)})
	if !errors.As(r.Err, &ie) || ie.StatusCode != 400 || ie.Type != "InvalidRequestContentException" {
		t.Errorf("bad JSON result: %+v", r.Err)
	}

	r = c.Invoke(t.Context(), lambdafan.Request{FunctionName: "f", InvocationType: "Later"})
	var re *lambdafan.RequestError
	if !errors.As(r.Err, &re) || re.Field != "invocation_type" || r.Attempts != 0 || r.StatusCode != 0 {
		t.Errorf("invalid request result: %+v", r)
	}
}

func TestClient_SignatureMismatchIsRejected(t *testing.T) {
	srv := builtins(t)
	awsCfg := srv.AWSConfig()
	awsCfg.Credentials = credentials.NewStaticCredentialsProvider(srv.AccessKeyID, "not-the-secret", "")
	c, err := lambdafan.New(lambdafan.Config{AWS: awsCfg, EndpointURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo"})
	var ie *lambdafan.InvokeError
	if !errors.As(r.Err, &ie) || ie.StatusCode != 403 || ie.Type != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %+v", r.Err)
	}
	if strings.Contains(r.Err.Error(), "not-the-secret") {
		t.Error("the error leaks the secret key")
	}
}

func TestClient_SignsEveryFunctionNameForm(t *testing.T) {
	// The emulator verifies every signature by re-signing the request it
	// received with the SDK signer; a success proves the client signed
	// exactly the escaped path and query it sent.
	srv := builtins(t)
	c := newClient(t, srv, lambdafan.Config{AWS: aws.Config{Region: "eu-central-1"}})
	for _, name := range []string{
		"echo",
		"echo:$LATEST",
		"123456789012:function:echo",
		"eu-central-1:123456789012:function:echo",
		"arn:aws:lambda:eu-central-1:123456789012:function:echo",
		"arn:aws:lambda:ap-northeast-1:123456789012:function:echo:$LATEST",
		"arn:aws-cn:lambda:cn-north-1:123456789012:function:echo",
		"arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:echo",
	} {
		r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: name, Payload: []byte(`1`), Qualifier: "$LATEST"})
		if r.Err != nil || string(r.Payload) != "1" {
			t.Errorf("%s: %+v", name, r.Err)
		}
	}
}

func TestClient_InvokeAll_OrderAndExactlyOneResult(t *testing.T) {
	var executions sync.Map
	srv := builtins(t, emulator.Function{Name: "count", Handler: emulator.HandlerFunc(func(_ context.Context, inv *emulator.Invocation) ([]byte, error) {
		n, _ := executions.LoadOrStore(string(inv.Payload), new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		return inv.Payload, nil
	})})
	c := newClient(t, srv, lambdafan.Config{Concurrency: 32})
	const n = 2000
	reqs := make([]lambdafan.Request, n)
	for i := range reqs {
		reqs[i] = lambdafan.Request{ID: fmt.Sprint("r", i), FunctionName: "count", Payload: fmt.Appendf(nil, `{"i":%d}`, i)}
		switch i % 10 {
		case 7:
			reqs[i].FunctionName = "no such function" // invalid: rejected before sending
		case 8:
			reqs[i].InvocationType = lambdafan.DryRun
		}
	}
	results := c.InvokeAll(t.Context(), reqs)
	if len(results) != n {
		t.Fatalf("%d results for %d requests", len(results), n)
	}
	for i, r := range results {
		if r.Index != i || r.ID != reqs[i].ID {
			t.Fatalf("results[%d] has index %d id %s", i, r.Index, r.ID)
		}
		switch i % 10 {
		case 7:
			if r.Outcome() != lambdafan.OutcomeInvalid {
				t.Errorf("results[%d]: %v, want invalid", i, r.Err)
			}
		case 8:
			if r.Err != nil || r.StatusCode != 204 {
				t.Errorf("results[%d]: %+v", i, r)
			}
		default:
			if r.Err != nil || string(r.Payload) != fmt.Sprintf(`{"i":%d}`, i) {
				t.Errorf("results[%d]: payload %s err %v", i, r.Payload, r.Err)
			}
		}
	}
	count := 0
	executions.Range(func(k, v any) bool {
		count++
		if got := v.(*atomic.Int64).Load(); got != 1 {
			t.Errorf("payload %s executed %d times", k, got)
		}
		return true
	})
	if want := n * 8 / 10; count != want {
		t.Errorf("%d distinct executions, want %d", count, want)
	}
}

func TestClient_Stream_PullsLazily(t *testing.T) {
	const concurrency = 4
	release := make(chan struct{})
	started := make(chan struct{}, 100)
	srv := builtins(t, emulator.Function{Name: "block", Handler: emulator.HandlerFunc(func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return inv.Payload, nil
	})})
	c := newClient(t, srv, lambdafan.Config{Concurrency: concurrency})
	var pulled atomic.Int64
	const total = 50
	seq := func(yield func(lambdafan.Request) bool) {
		for i := range total {
			pulled.Add(1)
			if !yield(lambdafan.Request{FunctionName: "block", Payload: fmt.Appendf(nil, "%d", i)}) {
				return
			}
		}
	}
	// Once every worker is blocked in the handler, at most four times the
	// concurrency can have been pulled, plus one held by the feeder.
	var pulledWhileBlocked int64
	var watcher sync.WaitGroup
	watcher.Go(func() {
		for range concurrency {
			<-started
		}
		pulledWhileBlocked = pulled.Load()
		close(release)
	})
	got := 0
	seen := make([]bool, total)
	for r := range c.Stream(t.Context(), seq) {
		if r.Err != nil || seen[r.Index] {
			t.Fatalf("result %+v (duplicate: %v)", r, seen[r.Index])
		}
		seen[r.Index] = true
		got++
	}
	watcher.Wait()
	if pulledWhileBlocked < concurrency || pulledWhileBlocked > 4*concurrency+1 {
		t.Errorf("%d requests pulled while %d were in flight", pulledWhileBlocked, concurrency)
	}
	if got != total {
		t.Errorf("%d results for %d requests", got, total)
	}
}

func TestClient_InvokeAll_CancelledContext(t *testing.T) {
	srv := builtins(t)
	c := newClient(t, srv, lambdafan.Config{Concurrency: 2})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	reqs := make([]lambdafan.Request, 10)
	for i := range reqs {
		reqs[i] = lambdafan.Request{FunctionName: "echo", ID: fmt.Sprint(i)}
	}
	results := c.InvokeAll(ctx, reqs)
	for i, r := range results {
		if r.Index != i || r.ID != fmt.Sprint(i) || !errors.Is(r.Err, context.Canceled) {
			t.Errorf("results[%d] = %+v, want a cancelled result", i, r)
		}
	}
}

// recordingTransport answers every request with 200 and records it, to
// test what the client sends to real AWS endpoints without a network.
type recordingTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, r)
	rt.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: http.Header{"X-Amz-Executed-Version": {"$LATEST"}},
		Body: http.NoBody, Request: r}, nil
}

func TestClient_RoutesEachRequestToItsRegion(t *testing.T) {
	rt := &recordingTransport{}
	c, err := lambdafan.New(lambdafan.Config{
		AWS:        aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "token")},
		HTTPClient: &http.Client{Transport: rt},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		req       lambdafan.Request
		wantHost  string
		wantScope string
		wantPath  string
	}{
		{lambdafan.Request{FunctionName: "f"}, "lambda.us-east-1.amazonaws.com", "us-east-1", "/2015-03-31/functions/f/invocations"},
		{lambdafan.Request{FunctionName: "f", Region: "eu-west-1"}, "lambda.eu-west-1.amazonaws.com", "eu-west-1", "/2015-03-31/functions/f/invocations"},
		{lambdafan.Request{FunctionName: "f", Region: "cn-north-1"}, "lambda.cn-north-1.amazonaws.com.cn", "cn-north-1", "/2015-03-31/functions/f/invocations"},
		{lambdafan.Request{FunctionName: "f", Region: "us-gov-west-1"}, "lambda.us-gov-west-1.amazonaws.com", "us-gov-west-1", "/2015-03-31/functions/f/invocations"},
		{lambdafan.Request{FunctionName: "arn:aws-cn:lambda:cn-northwest-1:123456789012:function:f"}, "lambda.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1",
			"/2015-03-31/functions/arn%3Aaws-cn%3Alambda%3Acn-northwest-1%3A123456789012%3Afunction%3Af/invocations"},
	}
	for _, tt := range tests {
		if r := c.Invoke(t.Context(), tt.req); r.Err != nil {
			t.Fatalf("%+v: %v", tt.req, r.Err)
		}
	}
	for i, tt := range tests {
		r := rt.reqs[i]
		auth := r.Header.Get("Authorization")
		if r.URL.Scheme != "https" || r.URL.Host != tt.wantHost || r.URL.EscapedPath() != tt.wantPath ||
			!strings.Contains(auth, "/"+tt.wantScope+"/lambda/aws4_request") {
			t.Errorf("request %d: %s %s auth %q; want https://%s%s scoped to %s", i, r.Method, r.URL, auth, tt.wantHost, tt.wantPath, tt.wantScope)
		}
		// RequestResponse is the API's default: no header for it.
		if r.Header.Get("X-Amz-Security-Token") != "token" || r.Header["X-Amz-Invocation-Type"] != nil {
			t.Errorf("request %d headers %v", i, r.Header)
		}
	}
}

func TestClient_PerAttemptTimeout(t *testing.T) {
	srv := builtins(t)
	c := newClient(t, srv, lambdafan.Config{AttemptTimeout: 50 * time.Millisecond})
	r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "sleep", Payload: map[string]int{"ms": 2000}})
	var te *lambdafan.TransportError
	if !errors.As(r.Err, &te) || !te.Sent || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Fatalf("timed-out attempt: %+v", r.Err)
	}
	if r.Attempts != 1 {
		t.Errorf("a synchronous invocation that may have run was retried: %d attempts", r.Attempts)
	}
}

func TestExampleRequestsRoundTripThroughJSON(t *testing.T) {
	// Payloads given as Go values are sent as their JSON encoding.
	srv := builtins(t)
	c := newClient(t, srv, lambdafan.Config{})
	r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo", Payload: struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}{"x", 3}})
	var got map[string]any
	if r.Err != nil || json.Unmarshal(r.Payload, &got) != nil || got["name"] != "x" || got["n"] != 3.0 {
		t.Errorf("payload %s err %v", r.Payload, r.Err)
	}
}
