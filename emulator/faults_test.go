package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// only injects f into the first call.
func only(f emulator.Fault) func(int64) emulator.Fault {
	return func(n int64) emulator.Fault {
		if n == 0 {
			return f
		}
		return emulator.NoFault
	}
}

func TestFaults_Wire(t *testing.T) {
	for _, tc := range []struct {
		fault      emulator.Fault
		status     int
		code       string
		body       string
		retryAfter string // "" for none
		sdkErr     any    // pointer to the SDK error type it decodes into; nil for a generic API error
	}{
		{fault: emulator.FaultThrottle, status: 429, code: "TooManyRequestsException",
			body: `{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate exceeded"}`, sdkErr: new(*types.TooManyRequestsException)},
		{fault: emulator.FaultThrottleRetryAfter, status: 429, code: "TooManyRequestsException", retryAfter: "3",
			body: `{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate exceeded"}`, sdkErr: new(*types.TooManyRequestsException)},
		{fault: emulator.FaultServerError, status: 500, code: "ServiceException",
			body: `{"Type":"Service","Message":"An error occurred and the request cannot be processed."}`, sdkErr: new(*types.ServiceException)},
		{fault: emulator.FaultBadGateway, status: 502, code: "EC2UnexpectedException",
			body: `{"Type":"Service","Message":"Lambda received an unexpected EC2 client exception while setting up for the Lambda function."}`, sdkErr: new(*types.EC2UnexpectedException)},
		{fault: emulator.FaultUnavailable, status: 503, code: "ServiceUnavailableException",
			body: `{"message":"Service Unavailable"}`},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			srv := emulatortest.New(t, emulator.Config{
				Functions:       emulator.BuiltinFunctions(),
				CountExecutions: true,
				Faults:          emulator.Faults{Schedule: only(tc.fault), RetryAfter: 2500 * time.Millisecond},
			})
			resp, body := call{function: "echo", body: []byte(`"raw"`)}.do(t, srv)
			if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-Errortype") != tc.code || string(body) != tc.body {
				t.Errorf("got %d %s %s\nwant %d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), body, tc.status, tc.code, tc.body)
			}
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if !uuidRE.MatchString(resp.Header.Get("X-Amzn-Requestid")) {
				t.Errorf("no request id")
			}

			// The fault struck once; the same call now runs.
			_, err := newClient(srv).Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`"sdk"`)})
			if err != nil {
				t.Fatalf("second call: %v", err)
			}
			if ex := srv.Emulator.Executions(); ex[`"raw"`] != 0 || ex[`"sdk"`] != 1 {
				t.Errorf("executions %v: the faulted call must not run", ex)
			}
			if st := srv.Emulator.Stats(); st.Faults[tc.fault] != 1 || len(st.Faults) != 1 {
				t.Errorf("fault counts %v", st.Faults)
			}
		})
	}

	// The SDK decodes each fault into the error Lambda's real one decodes into.
	t.Run("SDK errors", func(t *testing.T) {
		schedule := []emulator.Fault{emulator.FaultThrottle, emulator.FaultThrottleRetryAfter, emulator.FaultServerError, emulator.FaultBadGateway, emulator.FaultUnavailable}
		srv := emulatortest.New(t, emulator.Config{
			Functions: emulator.BuiltinFunctions(),
			Faults: emulator.Faults{RetryAfter: 2 * time.Second, Schedule: func(n int64) emulator.Fault {
				return schedule[n%int64(len(schedule))]
			}},
		})
		client := newClient(srv)
		invoke := func() error {
			_, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("echo")})
			return err
		}
		var tm *types.TooManyRequestsException
		if err := invoke(); !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonCallerRateLimitExceeded || tm.RetryAfterSeconds != nil {
			t.Errorf("throttle: %v", err)
		}
		if err := invoke(); !errors.As(err, &tm) || aws.ToString(tm.RetryAfterSeconds) != "2" {
			t.Errorf("throttle with Retry-After: %v (RetryAfterSeconds %v)", err, tm.RetryAfterSeconds)
		}
		var se *types.ServiceException
		if err := invoke(); !errors.As(err, &se) || aws.ToString(se.Message) != "An error occurred and the request cannot be processed." {
			t.Errorf("500: %v", err)
		}
		var ec2 *types.EC2UnexpectedException
		if err := invoke(); !errors.As(err, &ec2) {
			t.Errorf("502: %v", err)
		}
		var ae smithy.APIError
		if err := invoke(); !errors.As(err, &ae) || ae.ErrorCode() != "ServiceUnavailableException" {
			t.Errorf("503: %v", err)
		}
	})
}

func TestFaults_Reset(t *testing.T) {
	for _, tc := range []struct {
		fault    emulator.Fault
		executed int
	}{
		{emulator.FaultResetBefore, 0},
		{emulator.FaultResetAfter, 1},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			srv := emulatortest.New(t, emulator.Config{
				Functions:       emulator.BuiltinFunctions(),
				CountExecutions: true,
				Faults:          emulator.Faults{Schedule: only(tc.fault)},
			})
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := client.Do(call{function: "echo", body: []byte(`"reset"`)}.request(t, srv))
			if err == nil {
				resp.Body.Close()
				t.Fatalf("got %s, want the connection dropped", resp.Status)
			}
			if n := srv.Emulator.Executions()[`"reset"`]; n != tc.executed {
				t.Errorf("function ran %d times, want %d", n, tc.executed)
			}
			// A client that retries the reset call runs it again: the
			// counter exposes the duplicate.
			resp, body := call{function: "echo", body: []byte(`"reset"`)}.do(t, srv)
			if resp.StatusCode != 200 || string(body) != `"reset"` {
				t.Fatalf("retry: %d %s", resp.StatusCode, body)
			}
			if n := srv.Emulator.Executions()[`"reset"`]; n != tc.executed+1 {
				t.Errorf("after the retry the function ran %d times, want %d", n, tc.executed+1)
			}
		})
	}

	t.Run("SDK sees a transport error", func(t *testing.T) {
		srv := emulatortest.New(t, emulator.Config{Functions: emulator.BuiltinFunctions(), Faults: emulator.Faults{ResetBefore: 1}})
		_, err := newClient(srv).Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("echo")})
		var ae smithy.APIError
		if err == nil || errors.As(err, &ae) {
			t.Fatalf("got %v, want a transport error, not an API error", err)
		}
	})
}

// TestFaults_Timing runs the handler in a synctest bubble, where time is
// virtual: the added latency and the held answer are measured exactly.
func TestFaults_Timing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults emulator.Faults
		want   time.Duration
	}{
		{"latency", emulator.Faults{Latency: 250 * time.Millisecond}, 250 * time.Millisecond},
		{"slow", emulator.Faults{Slow: 1, SlowDelay: 7 * time.Second}, 7 * time.Second},
		{"slow default", emulator.Faults{Slow: 1}, 10 * time.Second},
		{"latency and slow", emulator.Faults{Slow: 1, SlowDelay: time.Second, Latency: time.Second}, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ran := make(chan time.Duration, 1)
				start := time.Now()
				emu, err := emulator.New(emulator.Config{NoAuth: true, Faults: tc.faults, Functions: []emulator.Function{{
					Name: "f",
					Handler: emulator.HandlerFunc(func(_ context.Context, inv *emulator.Invocation) ([]byte, error) {
						ran <- time.Since(start)
						return inv.Payload, nil
					}),
				}}})
				if err != nil {
					t.Fatal(err)
				}
				defer emu.Close()
				w := httptest.NewRecorder()
				emu.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), http.MethodPost, invokePath("f"), strings.NewReader(`1`)))
				if elapsed := time.Since(start); w.Code != 200 || elapsed != tc.want {
					t.Errorf("answered %d after %v, want 200 after %v", w.Code, elapsed, tc.want)
				}
				if at := <-ran; at != tc.faults.Latency {
					t.Errorf("function ran after %v, want after the latency %v", at, tc.faults.Latency)
				}
			})
		})
	}
}

func TestFaults_Schedule(t *testing.T) {
	plan := []emulator.Fault{emulator.NoFault, emulator.FaultThrottle, emulator.FaultServerError, emulator.NoFault, emulator.FaultThrottle}
	srv := emulatortest.New(t, emulator.Config{
		Functions: emulator.BuiltinFunctions(),
		Faults:    emulator.Faults{Schedule: func(n int64) emulator.Fault { return plan[n%int64(len(plan))] }},
	})
	var got []int
	for i := range 2 * len(plan) {
		resp, _ := call{function: "echo", body: fmt.Appendf(nil, "%d", i)}.do(t, srv)
		got = append(got, resp.StatusCode)
	}
	want := []int{200, 429, 500, 200, 429, 200, 429, 500, 200, 429}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	st := srv.Emulator.Stats()
	if st.Faults[emulator.FaultThrottle] != 4 || st.Faults[emulator.FaultServerError] != 2 || st.Executions != 4 || st.Requests != 10 {
		t.Errorf("stats %+v", st)
	}
	if st.Throttles != 0 {
		t.Errorf("injected throttles counted as concurrency throttles: %d", st.Throttles)
	}
}

func TestFaults_Rates(t *testing.T) {
	t.Run("a rate of 1 always strikes", func(t *testing.T) {
		srv := emulatortest.New(t, emulator.Config{Functions: emulator.BuiltinFunctions(), Faults: emulator.Faults{Unavailable: 1}})
		for range 5 {
			if resp, _ := (call{function: "echo"}).do(t, srv); resp.StatusCode != 503 {
				t.Fatalf("status %d, want 503", resp.StatusCode)
			}
		}
	})
	t.Run("rates split calls", func(t *testing.T) {
		srv := emulatortest.New(t, emulator.Config{Functions: emulator.BuiltinFunctions(), Faults: emulator.Faults{Throttle: 0.5, ServerError: 0.5}})
		for range 20 {
			if resp, _ := (call{function: "echo"}).do(t, srv); resp.StatusCode != 429 && resp.StatusCode != 500 {
				t.Fatalf("status %d, want 429 or 500", resp.StatusCode)
			}
		}
		if st := srv.Emulator.Stats(); st.Faults[emulator.FaultThrottle]+st.Faults[emulator.FaultServerError] != 20 || st.Executions != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	for _, tc := range []struct {
		name   string
		faults emulator.Faults
	}{
		{"negative", emulator.Faults{Throttle: -0.1}},
		{"above 1", emulator.Faults{ServerError: 1.5}},
		{"sum above 1", emulator.Faults{Throttle: 0.6, ResetAfter: 0.5}},
		{"NaN", emulator.Faults{Slow: nan()}},
		{"negative latency", emulator.Faults{Latency: -time.Second}},
	} {
		t.Run("invalid "+tc.name, func(t *testing.T) {
			if _, err := emulator.New(emulator.Config{Faults: tc.faults}); err == nil {
				t.Errorf("New accepted %+v", tc.faults)
			}
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}
