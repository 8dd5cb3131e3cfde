package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// failFirst is a handler that fails its first n executions.
type failFirst struct {
	n     int64
	calls atomic.Int64
}

func (f *failFirst) Invoke(_ context.Context, inv *emulator.Invocation) emulator.Output {
	if f.calls.Add(1) <= f.n {
		return emulator.Output{Payload: emulator.ErrorDocument("Error", "not yet"), Error: true}
	}
	return emulator.Output{Payload: inv.Payload}
}

// sendEvents invokes function asynchronously n times and checks each is
// accepted.
func sendEvents(t *testing.T, client *lambda.Client, function string, n int) {
	t.Helper()
	for i := range n {
		out, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(function),
			InvocationType: types.InvocationTypeEvent, Payload: fmt.Appendf(nil, "%d", i)})
		if err != nil || out.StatusCode != 202 {
			t.Fatalf("event %d: %v", i, err)
		}
	}
}

// eventCounts are the Stats an event's fate shows in.
type eventCounts struct {
	Executions, FunctionErrors, EventRetries, EventsFailed, EventsSucceeded int64
}

func countsOf(st emulator.Stats) eventCounts {
	return eventCounts{st.Executions, st.FunctionErrors, st.EventRetries, st.EventsFailed, st.EventsSucceeded}
}

func TestServer_EventRetries(t *testing.T) {
	short := []time.Duration{time.Millisecond, 2 * time.Millisecond}
	for _, tc := range []struct {
		name       string
		failures   int64
		maxRetries *int
		want       eventCounts
	}{
		{name: "always failing runs 1 + 2 times", failures: 99,
			want: eventCounts{Executions: 3, FunctionErrors: 3, EventRetries: 2, EventsFailed: 1}},
		{name: "max retries 1", failures: 99, maxRetries: ptr(1),
			want: eventCounts{Executions: 2, FunctionErrors: 2, EventRetries: 1, EventsFailed: 1}},
		{name: "max retries 0", failures: 99, maxRetries: ptr(0),
			want: eventCounts{Executions: 1, FunctionErrors: 1, EventsFailed: 1}},
		{name: "succeeds on the second attempt", failures: 1,
			want: eventCounts{Executions: 2, FunctionErrors: 1, EventRetries: 1, EventsSucceeded: 1}},
		{name: "succeeds at once", failures: 0,
			want: eventCounts{Executions: 1, EventsSucceeded: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &failFirst{n: tc.failures}
			srv := emulatortest.New(t, emulator.Config{
				EventRetryDelays: short,
				Functions:        []emulator.Function{{Name: "f", Handler: h, MaxEventRetries: tc.maxRetries}},
			})
			sendEvents(t, newClient(srv), "f", 1)
			if err := srv.Emulator.Shutdown(t.Context()); err != nil { // drains the queue and the retries
				t.Fatal(err)
			}
			st := srv.Emulator.Stats()
			if countsOf(st) != tc.want || st.EventsQueued != 1 || st.EventsDropped != 0 {
				t.Errorf("stats %+v, want %+v with 1 queued, none dropped", st, tc.want)
			}
			if n := h.calls.Load(); n != tc.want.Executions {
				t.Errorf("handler ran %d times, want %d", n, tc.want.Executions)
			}
		})
	}
}

func TestServer_Shutdown(t *testing.T) {
	t.Run("drains queued events", func(t *testing.T) {
		b := newBlocker(8)
		srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{
			{Name: "one", Handler: b, ReservedConcurrency: ptr(1)},
		}})
		sendEvents(t, newClient(srv), "one", 3)
		<-b.started // one runs, two wait for concurrency
		done := make(chan error, 1)
		go func() { done <- srv.Emulator.Shutdown(t.Context()) }()
		close(b.release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if st := srv.Emulator.Stats(); st.EventsSucceeded != 3 || st.EventsDropped != 0 || st.Executions != 3 {
			t.Errorf("after Shutdown: %+v; want all 3 events run", st)
		}
	})

	t.Run("gives up when its context ends", func(t *testing.T) {
		b := newBlocker(8)
		srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{
			{Name: "one", Handler: b, ReservedConcurrency: ptr(1)},
		}})
		sendEvents(t, newClient(srv), "one", 3)
		<-b.started
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := srv.Emulator.Shutdown(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Shutdown returned %v, want context.Canceled", err)
		}
		// The running event was cancelled and the other two dropped: none
		// of the three completed.
		if st := srv.Emulator.Stats(); st.EventsDropped != 3 || st.EventsSucceeded != 0 || st.Executions != 1 {
			t.Errorf("stats %+v; want 3 dropped, 1 execution", st)
		}
	})
}

func TestServer_Close(t *testing.T) {
	t.Run("drops queued events", func(t *testing.T) {
		b := newBlocker(8)
		srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{
			{Name: "one", Handler: b, ReservedConcurrency: ptr(1)},
		}})
		sendEvents(t, newClient(srv), "one", 5)
		<-b.started
		if err := srv.Emulator.Close(); err != nil {
			t.Fatal(err)
		}
		if st := srv.Emulator.Stats(); st.EventsQueued != 5 || st.EventsDropped != 5 || st.Executions != 1 {
			t.Errorf("stats %+v; want 5 queued and dropped, 1 execution (cancelled)", st)
		}
		if err := srv.Emulator.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})

	t.Run("fails a running synchronous call with a ServiceException", func(t *testing.T) {
		b := newBlocker(1)
		srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{{Name: "f", Handler: b}}})
		result := burst(t, newClient(srv), "f", 1)
		<-b.started
		if err := srv.Emulator.Close(); err != nil {
			t.Fatal(err)
		}
		var se *types.ServiceException
		if err := (<-result).err; !errors.As(err, &se) {
			t.Fatalf("got %v, want ServiceException", err)
		}
		if st := srv.Emulator.Stats(); st.FunctionErrors != 0 || st.Errors != 1 || st.Executions != 1 {
			t.Errorf("stats %+v; want the cancelled call counted as an error answer, not a function error", st)
		}
	})

	t.Run("drops pending retries", func(t *testing.T) {
		h := &failFirst{n: 99}
		srv := emulatortest.New(t, emulator.Config{
			EventRetryDelays: []time.Duration{time.Hour},
			Functions:        []emulator.Function{{Name: "f", Handler: h}},
		})
		sendEvents(t, newClient(srv), "f", 1)
		if err := srv.Emulator.Close(); err != nil {
			t.Fatal(err)
		}
		// Whether Close came before or after the first execution, the
		// event ends dropped: never failed for good, never succeeded.
		if st := srv.Emulator.Stats(); st.EventsDropped != 1 || st.EventsFailed != 0 || st.EventsSucceeded != 0 || st.Executions > 1 {
			t.Errorf("stats %+v; want the event dropped after at most one execution", st)
		}
	})

	t.Run("events of a function with reserved concurrency 0 are dropped", func(t *testing.T) {
		h := &failFirst{}
		srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{{Name: "off", Handler: h, ReservedConcurrency: ptr(0)}}})
		sendEvents(t, newClient(srv), "off", 2)
		if err := srv.Emulator.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if st := srv.Emulator.Stats(); st.EventsDropped != 2 || st.Executions != 0 {
			t.Errorf("stats %+v; want both events dropped unrun", st)
		}
	})
}

// TestServer_EventQueueBound sends Event invocations to a function that
// is busy: the queue takes as many as its bounds allow and throttles the
// rest as Lambda throttles asynchronous invocations. Before the fix it
// took them all, 1 MB each, for as long as the function stayed busy.
func TestServer_EventQueueBound(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		blk := newBlocker(4)
		srv := emulatortest.New(t, emulator.Config{MaxQueuedEvents: 3,
			Functions: []emulator.Function{{Name: "busy", Handler: blk, ReservedConcurrency: ptr(1)}}})
		client := newClient(srv)
		sendEvents(t, client, "busy", 3) // one runs, two wait
		<-blk.started
		_, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("busy"),
			InvocationType: types.InvocationTypeEvent, Payload: []byte(`"one too many"`)})
		if reason := throttleReason(t, err); reason != types.ThrottleReasonCallerRateLimitExceeded {
			t.Errorf("reason %q, want CallerRateLimitExceeded", reason)
		}
		close(blk.release)
		if st := srv.Emulator.Stats(); st.EventsQueued != 3 || st.Throttles != 1 {
			t.Errorf("%d events queued, %d throttled; want 3, 1", st.EventsQueued, st.Throttles)
		}
	})

	t.Run("bytes", func(t *testing.T) {
		const mb = 1 << 20
		const bound = 8 * mb
		blk := newBlocker(bound / emulator.MaxAsyncPayloadBytes) // room for every accepted event
		srv := emulatortest.New(t, emulator.Config{MaxQueuedEventBytes: bound,
			Functions: []emulator.Function{{Name: "busy", Handler: blk, ReservedConcurrency: ptr(1)}}})
		client := newClient(srv)
		payload := jsonString(emulator.MaxAsyncPayloadBytes)
		before := liveHeap()
		accepted, throttled := 0, 0
		for range 100 {
			_, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("busy"),
				InvocationType: types.InvocationTypeEvent, Payload: payload})
			if err == nil {
				accepted++
				continue
			}
			if reason := throttleReason(t, err); reason != types.ThrottleReasonCallerRateLimitExceeded {
				t.Fatalf("reason %q, want CallerRateLimitExceeded", reason)
			}
			throttled++
		}
		grew := int64(liveHeap()) - int64(before)
		t.Logf("%d accepted, %d throttled; live heap grew by %.1f MB", accepted, throttled, float64(grew)/mb)
		if accepted != bound/emulator.MaxAsyncPayloadBytes {
			t.Errorf("%d events of 1 MB accepted, want %d", accepted, bound/emulator.MaxAsyncPayloadBytes)
		}
		// Unbounded, it grows by 100 MB. The slack covers the payload the
		// running handler copies and, on a loaded machine, calls whose
		// goroutines have answered but not yet ended.
		if grew > bound+16*mb {
			t.Errorf("live heap grew by %d MB holding events, more than the %d MB bound", grew/mb, bound/mb)
		}
		close(blk.release)
	})
}
