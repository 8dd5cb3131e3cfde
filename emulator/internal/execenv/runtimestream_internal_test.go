package execenv

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"runtime"
	"testing"
)

// chanWriter passes each Write on, so a test sees it as it happens.
type chanWriter chan string

func (w chanWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

// streamHeaders starts a streamed response for request id.
func streamHeaders(id string) string {
	return "POST /2018-06-01/runtime/invocation/" + id + "/response HTTP/1.1\r\nHost: rt\r\n" +
		"Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n" +
		"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n"
}

func TestRuntimeConn_Stream(t *testing.T) {
	t.Run("read as it arrives, with the error trailers", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		call := testCall(`{}`)
		writes := make(chanWriter)
		call.inv.Stream = writes
		e.offer(call)
		rt.send(nextRequest)
		rt.response()

		rt.send(streamHeaders(call.inv.RequestID) + "6\r\nfirst \r\n")
		res := <-call.result
		if res.stream == nil {
			t.Fatal("a streamed response was not handed over as a stream")
		}
		done := make(chan runtimeResult)
		go func() { done <- takeStream(context.Background(), call.inv, res) }()
		// Each piece reaches the invoker before the runtime sends the next.
		if w := <-writes; w != "first " {
			t.Fatalf("first write %q", w)
		}
		rt.send("6\r\nsecond\r\n")
		if w := <-writes; w != "second" {
			t.Fatalf("second write %q", w)
		}
		doc := `{"errorType":"Error","errorMessage":"broke","trace":[]}`
		rt.send("0\r\nLambda-Runtime-Function-Error-Type: Error\r\nLambda-Runtime-Function-Error-Body: " +
			base64.StdEncoding.EncodeToString([]byte(doc)) + "\r\n\r\n")
		got := <-done
		if !got.isError || string(got.payload) != doc || !got.streamed {
			t.Errorf("result: error %v, streamed %v, payload %s; want the trailer's error", got.isError, got.streamed, got.payload)
		}
		if resp, _ := rt.response(); resp.StatusCode != http.StatusAccepted {
			t.Errorf("the runtime got %d, want 202 once its stream ended", resp.StatusCode)
		}
	})

	t.Run("an invoker that stops waiting", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		call := testCall(`{}`)
		e.offer(call)
		rt.send(nextRequest)
		rt.response()
		rt.send(streamHeaders(call.inv.RequestID) + "4\r\nsome\r\n")
		// The invoker gives up before it takes the stream (as on a
		// timeout).
		e.awaitAnswered(call)
		e.abandon(call)
		dropStream(call)
		rt.send("4\r\nmore\r\n0\r\n\r\n")
		if resp, _ := rt.response(); resp.StatusCode != http.StatusAccepted {
			t.Errorf("the runtime got %d, want 202 for a stream read and dropped", resp.StatusCode)
		}
	})

	t.Run("an invoker that stops reading", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		call := testCall(`{}`)
		call.inv.Stream = chanWriter(make(chan string, 1))
		e.offer(call)
		rt.send(nextRequest)
		rt.response()
		rt.send(streamHeaders(call.inv.RequestID) + "4\r\nsome\r\n")
		ctx, cancel := context.WithCancel(context.Background())
		res := <-call.result
		cancel() // the emulator closing, say: reading stops at once
		if got := takeStream(ctx, call.inv, res); !got.isError {
			t.Errorf("result %s, want an error for a stream cut off", got.payload)
		}
		if resp, _ := rt.response(); resp.StatusCode != http.StatusBadRequest || !rt.closed() {
			t.Errorf("the runtime got %d and its connection kept, want 400 and closed", resp.StatusCode)
		}
	})

	t.Run("a Write that fails", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		call := testCall(`{}`)
		call.inv.Stream = failingWriter{}
		e.offer(call)
		rt.send(nextRequest)
		rt.response()
		rt.send(streamHeaders(call.inv.RequestID) + "4\r\nsome\r\n4\r\nmore\r\n0\r\n\r\n")
		got := takeStream(context.Background(), call.inv, <-call.result)
		if got.isError {
			t.Errorf("result: error %s; a caller that went away does not fail the function", got.payload)
		}
		if resp, _ := rt.response(); resp.StatusCode != http.StatusAccepted {
			t.Errorf("the runtime got %d, want 202", resp.StatusCode)
		}
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWriteFailed }

var errWriteFailed = errors.New("the caller went away")

// awaitAnswered returns once the runtime has answered call. Nothing but
// the state tells when the connection's goroutine has, so it yields
// until then.
func (e *environment) awaitAnswered(call *envCall) {
	for {
		e.mu.Lock()
		pending := e.fetched[call.inv.RequestID] == call
		e.mu.Unlock()
		if !pending {
			return
		}
		runtime.Gosched()
	}
}
