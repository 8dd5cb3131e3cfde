package lambdafan_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

func TestAdmission_AdaptsToReservedConcurrency(t *testing.T) {
	five := 5
	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{{
		Name: "narrow", ReservedConcurrency: &five,
		Handler: emulator.HandlerFunc(func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) {
			t := time.NewTimer(2 * time.Millisecond)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
			return inv.Payload, nil
		}),
	}}})
	c := newClient(t, srv, lambdafan.Config{Concurrency: 40, MaxAttempts: 100, BaseBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	reqs := make([]lambdafan.Request, 400)
	for i := range reqs {
		reqs[i] = lambdafan.Request{FunctionName: "narrow", Payload: fmt.Appendf(nil, "%d", i)}
	}
	results := c.InvokeAll(t.Context(), reqs)
	var attempts int
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("results[%d]: %v after %d attempts", i, r.Err, r.Attempts)
		}
		attempts += r.Attempts
	}
	limits := c.Limits()
	i := slices.IndexFunc(limits, func(l lambdafan.LimitStatus) bool { return l.Function == "narrow" })
	if i < 0 {
		t.Fatalf("no limit for the function: %+v", limits)
	}
	fn := limits[i]
	if fn.Throttles == 0 || fn.Limit >= 40 || fn.InFlight != 0 {
		t.Errorf("function limit %+v: want throttles seen, the limit lowered below 40, nothing in flight", fn)
	}
	if limits[0].Function != "" || limits[0].Throttles != 0 {
		t.Errorf("region limit %+v: reserved-concurrency throttles are the function's, not the region's", limits[0])
	}
	t.Logf("400 invocations, %d attempts, function limit now %d after %d throttles", attempts, fn.Limit, fn.Throttles)
}

// TestAdmission_RateCap measures when attempts start under Config.Rate.
// Client and emulator run in a synctest bubble, connected by an in-process
// transport, so time is virtual: invocations take no time, and only the
// rate cap makes the clock move.
func TestAdmission_RateCap(t *testing.T) {
	if _, err := lambdafan.New(lambdafan.Config{AWS: aws.Config{}, Rate: -1}); err == nil {
		t.Error("a negative rate was accepted")
	}
	for _, tc := range []struct {
		rate float64
		n    int
	}{
		{rate: 1000, n: 60}, // bursts of 10
		{rate: 50, n: 20},
		{rate: 3, n: 5},
	} {
		t.Run(fmt.Sprintf("%v per second", tc.rate), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var starts []time.Time
				c := inProcessClient(t, lambdafan.Config{Concurrency: 8, Rate: tc.rate}, emulator.Config{Functions: []emulator.Function{{
					Name: "f",
					Handler: emulator.HandlerFunc(func(_ context.Context, inv *emulator.Invocation) ([]byte, error) {
						mu.Lock()
						starts = append(starts, time.Now())
						mu.Unlock()
						return inv.Payload, nil
					}),
				}}})
				t0 := time.Now()
				for _, r := range c.InvokeAll(t.Context(), slices.Repeat([]lambdafan.Request{{FunctionName: "f"}}, tc.n)) {
					if r.Err != nil || r.Attempts != 1 {
						t.Fatalf("result %+v", r)
					}
				}
				// A full bucket of ceil(rate/100) tokens (10 ms worth)
				// starts at once; then one attempt every 1/rate.
				burst := int(math.Ceil(tc.rate / 100))
				slices.SortFunc(starts, time.Time.Compare)
				for k, at := range starts {
					want := time.Duration(float64(max(0, k+1-burst)) / tc.rate * float64(time.Second))
					if got := at.Sub(t0); got < want-time.Microsecond || got > want+time.Microsecond {
						t.Errorf("attempt %d of %d started at %v, want %v (rate %v, burst %d)", k, tc.n, got, want, tc.rate, burst)
					}
				}
			})
		})
	}

	t.Run("invalid requests take no tokens", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// One token per 1000 s: a second attempt would wait that long.
			c := inProcessClient(t, lambdafan.Config{Concurrency: 8, Rate: 0.001}, emulator.Config{Functions: emulator.BuiltinFunctions()})
			t0 := time.Now()
			for _, r := range c.InvokeAll(t.Context(), make([]lambdafan.Request, 50)) {
				// The zero Request is invalid; the rate cap must not
				// stand in the way of reporting that.
				if r.Outcome() != lambdafan.OutcomeInvalid {
					t.Fatalf("result %+v", r)
				}
			}
			if r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo"}); r.Err != nil {
				t.Fatal(r.Err)
			}
			if d := time.Since(t0); d != 0 {
				t.Errorf("50 invalid requests and one valid took %v, want no wait: invalid requests took tokens", d)
			}
		})
	})
}

// countingCredentials hands out static credentials and counts the calls.
type countingCredentials struct{ n atomic.Int64 }

func (c *countingCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	c.n.Add(1)
	return aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "token", CanExpire: true, Expires: time.Now().Add(time.Hour)}, nil
}

// expiredTokenServer answers 403 ExpiredTokenException, as Lambda does for
// expired temporary credentials, to the calls that refuse returns true for,
// and 200 otherwise.
func expiredTokenServer(t *testing.T, refuse func(n int64) bool) *httptest.Server {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if refuse(calls.Add(1) - 1) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-Errortype", "ExpiredTokenException")
			w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000000")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"The security token included in the request is expired"}`)
			return
		}
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000001")
		fmt.Fprint(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCredentials_RefreshedOnceOnExpiry(t *testing.T) {
	srv := expiredTokenServer(t, func(n int64) bool { return n == 0 })
	creds := &countingCredentials{}
	c, err := lambdafan.New(lambdafan.Config{
		AWS: aws.Config{Region: "us-east-1", Credentials: aws.NewCredentialsCache(creds)}, EndpointURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "f"})
	if r.Err != nil || r.Attempts != 2 || creds.n.Load() != 2 {
		t.Errorf("result %+v; credentials fetched %d times, want 2", r, creds.n.Load())
	}
}

// countedRequests yields n requests for function and counts how many of
// them were pulled.
func countedRequests(n int, function string) (iter.Seq[lambdafan.Request], *atomic.Int64) {
	pulled := new(atomic.Int64)
	return func(yield func(lambdafan.Request) bool) {
		for range n {
			pulled.Add(1)
			if !yield(lambdafan.Request{FunctionName: function}) {
				return
			}
		}
	}, pulled
}

func TestCredentials_ExpiredStopsTheRun(t *testing.T) {
	srv := expiredTokenServer(t, func(n int64) bool { return n >= 10 })
	creds := &countingCredentials{}
	c, err := lambdafan.New(lambdafan.Config{Concurrency: 2,
		AWS: aws.Config{Region: "us-east-1", Credentials: aws.NewCredentialsCache(creds)}, EndpointURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	seq, pulled := countedRequests(1000, "f")
	var ok, refused int
	for r := range c.Stream(t.Context(), seq) {
		switch {
		case r.Err == nil:
			ok++
		case errors.Is(r.Err, lambdafan.ErrCredentials):
			refused++
		default:
			t.Fatalf("unexpected result %+v", r)
		}
	}
	if ok != 10 || refused == 0 || pulled.Load() > 20 || int64(ok+refused) != pulled.Load() {
		t.Errorf("%d ok, %d refused, %d pulled: want 10 ok, the run stopped soon after, one result per pulled request", ok, refused, pulled.Load())
	}
}

// failingCredentials cannot produce credentials, like an SSO profile whose
// session has ended.
type failingCredentials struct{}

func (failingCredentials) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{}, errors.New("the SSO session has expired; run aws sso login")
}

func TestCredentials_UnobtainableStopsTheRun(t *testing.T) {
	srv := builtins(t)
	c, err := lambdafan.New(lambdafan.Config{Concurrency: 1,
		AWS: aws.Config{Region: "us-east-1", Credentials: failingCredentials{}}, EndpointURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range c.Stream(t.Context(), slices.Values(slices.Repeat([]lambdafan.Request{{FunctionName: "echo"}}, 100))) {
		n++
		if !errors.Is(r.Err, lambdafan.ErrCredentials) || r.Attempts > 1 {
			t.Errorf("result %+v", r)
		}
	}
	// Stream pulls up to four times the concurrency ahead (plus one the
	// feeder holds); it must stop there, not go through all 100.
	if n == 0 || n > 4*1+1 {
		t.Errorf("%d results: the run should stop after the first credentials failure", n)
	}
	if srv.Emulator.Stats().Requests != 0 {
		t.Errorf("%d requests reached the endpoint without credentials", srv.Emulator.Stats().Requests)
	}
}

// TestCredentials_RefusedSignaturesStopTheRun: an unknown access key and a
// wrong secret key (every signature refused) fail every later request the
// same way, so the Stream stops early instead of sending them all.
func TestCredentials_RefusedSignaturesStopTheRun(t *testing.T) {
	tests := []struct {
		name, wantType string
		creds          func(srv *emulatortest.Server) aws.CredentialsProvider
	}{
		{"unknown access key id", "UnrecognizedClientException", func(srv *emulatortest.Server) aws.CredentialsProvider {
			return credentials.NewStaticCredentialsProvider("AKIDUNKNOWN", srv.SecretAccessKey, "")
		}},
		{"wrong secret key", "InvalidSignatureException", func(srv *emulatortest.Server) aws.CredentialsProvider {
			return credentials.NewStaticCredentialsProvider(srv.AccessKeyID, "wrong-"+srv.SecretAccessKey, "")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := builtins(t)
			c, err := lambdafan.New(lambdafan.Config{Concurrency: 2, EndpointURL: srv.URL,
				AWS: aws.Config{Region: "us-east-1", Credentials: aws.NewCredentialsCache(tt.creds(srv))}})
			if err != nil {
				t.Fatal(err)
			}
			seq, pulled := countedRequests(1000, "echo")
			results, refused := 0, 0
			for r := range c.Stream(t.Context(), seq) {
				results++
				if !errors.Is(r.Err, lambdafan.ErrCredentials) {
					t.Fatalf("result %+v (err %v), want ErrCredentials", r, r.Err)
				}
				var ie *lambdafan.InvokeError
				if errors.As(r.Err, &ie) {
					if ie.StatusCode != 403 || ie.Type != tt.wantType {
						t.Errorf("refused with %v, want %s", ie, tt.wantType)
					}
					refused++
				}
			}
			// Up to four times the concurrency pulled ahead, plus the one
			// the feeder holds; each refused once and after one refresh.
			if refused == 0 || pulled.Load() > 4*2+1 || int64(results) != pulled.Load() {
				t.Errorf("%d results, %d refused, %d pulled: want the run stopped after the first refusal, one result per pulled request",
					results, refused, pulled.Load())
			}
			if n := srv.Emulator.Stats().Requests; n > 2*(4*2+1) {
				t.Errorf("%d requests reached Lambda", n)
			}
		})
	}
}

func TestInvokeAll_StoppedRunLeavesNoUnsentRequestOK(t *testing.T) {
	// A wrong secret stops the run after the first refusal: the requests
	// it never pulled must not come back as successes.
	srv := builtins(t)
	awsCfg := srv.AWSConfig()
	awsCfg.Credentials = credentials.NewStaticCredentialsProvider(emulator.DefaultAccessKeyID, "wrong-secret", "")
	c, err := lambdafan.New(lambdafan.Config{Concurrency: 1, AWS: awsCfg, EndpointURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	results := c.InvokeAll(t.Context(), slices.Repeat([]lambdafan.Request{{FunctionName: "echo"}}, 100))
	sent := 0
	for i, r := range results {
		if r.OK() || !errors.Is(r.Err, lambdafan.ErrCredentials) {
			t.Fatalf("results[%d] = %+v, want a credentials error", i, r)
		}
		sent += r.Attempts
	}
	if sent == 0 || sent > 10 {
		t.Errorf("%d attempts for 100 requests: want the run stopped after the first refusals", sent)
	}
}
