package execenv

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// rawEnvironment is an environment without a process: its Runtime API on
// a loopback port, for tests that speak raw HTTP to it. Each of set
// changes it before it serves.
func rawEnvironment(t *testing.T, set ...func(*environment)) *environment {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := newPool("raw", "/nonexistent/bootstrap", nil, nil, 1, slog.New(slog.DiscardHandler))
	e := &environment{
		pool:       p,
		ln:         ln,
		spawned:    time.Now(),
		slots:      1,
		fetched:    map[string]*envCall{},
		initFailed: make(chan struct{}),
		dead:       make(chan struct{}),
		shutdown:   make(chan struct{}),
		conns:      map[*runtimeConn]struct{}{},
		// The test is the runtime: it connects from its own process.
		admit: admitAny,
	}
	for _, f := range set {
		f(e)
	}
	e.initialized = make(chan struct{})
	p.wg.Go(e.accept)
	t.Cleanup(func() {
		close(e.dead)
		e.beginShutdown()
		e.closeRuntimeAPI()
		p.wg.Wait()
	})
	return e
}

// rawRuntime is a runtime's connection to a rawEnvironment.
type rawRuntime struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRuntime(t *testing.T, e *environment) *rawRuntime {
	t.Helper()
	c, err := net.Dial("tcp", e.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawRuntime{t: t, c: c, br: bufio.NewReader(c)}
}

// send writes raw request bytes.
func (r *rawRuntime) send(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatal(err)
	}
}

// response reads one response and its body.
func (r *rawRuntime) response() (*http.Response, string) {
	r.t.Helper()
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		r.t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

// closed reports whether the server closed the connection: reading ends
// (with EOF, or a reset when the server closed it with the request
// unread) rather than returning more of an answer. It gives up after
// ten seconds, which no test's limits come near.
func (r *rawRuntime) closed() bool {
	_ = r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer r.c.SetReadDeadline(time.Time{})
	_, err := r.br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

const nextRequest = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: rt\r\n\r\n"

func testCall(payload string) *envCall {
	return &envCall{
		inv: &Invocation{
			RequestID:          lambdaapi.NewRequestID(),
			InvokedFunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:raw",
			Payload:            []byte(payload),
			Deadline:           time.Now().Add(time.Minute),
		},
		result: make(chan runtimeResult, 1),
	}
}

// waitingConns returns how many /next wait.
func (e *environment) waitingConns() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.waiting)
}

// awaitWaiting returns once a /next waits. Nothing but the state tells
// when the goroutine serving the connection has read the request, so it
// yields until then.
func (e *environment) awaitWaiting() {
	for e.waitingConns() == 0 {
		runtime.Gosched()
	}
}

func TestRuntimeConn(t *testing.T) {
	t.Run("keep-alive invocations, waiting and queued", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		// Queued before the runtime asks: the reader answers.
		call := testCall(`{"n":1}`)
		inv := call.inv
		e.offer(call)
		rt.send(nextRequest)
		resp, body := rt.response()
		if resp.StatusCode != 200 || body != `{"n":1}` {
			t.Fatalf("/next = %d %q", resp.StatusCode, body)
		}
		for _, h := range []string{hdrRequestID, hdrDeadline, hdrFunctionARN, hdrTraceID} {
			if resp.Header.Get(h) == "" {
				t.Errorf("/next lacks %s", h)
			}
		}
		if resp.Header.Get(hdrRequestID) != inv.RequestID || resp.Close {
			t.Errorf("request ID %q, close %v", resp.Header.Get(hdrRequestID), resp.Close)
		}
		if got, want := resp.Header.Get(hdrDeadline), strconv.FormatInt(inv.Deadline.UnixMilli(), 10); got != want {
			t.Errorf("%s = %q, want %s (the deadline in Unix milliseconds)", hdrDeadline, got, want)
		}
		if got := resp.Header.Get(hdrFunctionARN); got != inv.InvokedFunctionARN {
			t.Errorf("%s = %q, want %q", hdrFunctionARN, got, inv.InvokedFunctionARN)
		}
		// A chunked response with a trailer, as aws-lambda-go posts it.
		rt.send("POST /2018-06-01/runtime/invocation/" + inv.RequestID + "/response HTTP/1.1\r\nHost: rt\r\n" +
			"Transfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type\r\n\r\n" +
			"3\r\n\"ok\r\n1\r\n\"\r\n0\r\nLambda-Runtime-Function-Error-Type: \r\n\r\n")
		resp, body = rt.response()
		if resp.StatusCode != http.StatusAccepted || body != statusOKBody {
			t.Fatalf("/response = %d %q", resp.StatusCode, body)
		}
		if res := <-call.result; string(res.payload) != `"ok"` || res.isError {
			t.Errorf("result = %q error %v", res.payload, res.isError)
		}
		// Then a /next that waits: whoever offers the invocation answers.
		rt.send(nextRequest)
		call = testCall(`{"n":2}`)
		inv = call.inv
		go e.offer(call)
		resp, body = rt.response()
		if body != `{"n":2}` || resp.Header.Get(hdrRequestID) != inv.RequestID {
			t.Fatalf("second /next = %q for %s", body, resp.Header.Get(hdrRequestID))
		}
	})

	t.Run("expect 100-continue", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		call := testCall(`{}`)
		inv := call.inv
		e.offer(call)
		rt.send(nextRequest)
		rt.response()
		rt.send("POST /2018-06-01/runtime/invocation/" + inv.RequestID + "/error HTTP/1.1\r\nHost: rt\r\n" +
			"Expect: 100-continue\r\nLambda-Runtime-Function-Error-Type: Custom\r\nContent-Length: 4\r\n\r\n")
		if resp, _ := rt.response(); resp.StatusCode != http.StatusContinue {
			t.Fatalf("status %d, want 100 Continue", resp.StatusCode)
		}
		rt.send("boom")
		if resp, _ := rt.response(); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d, want 202", resp.StatusCode)
		}
		if res := <-call.result; !res.isError || !strings.Contains(string(res.payload), `"errorType":"Custom"`) {
			t.Errorf("result = %s error %v", res.payload, res.isError)
		}
	})

	t.Run("connection close", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		rt.send("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: rt\r\nConnection: close\r\n\r\n")
		go e.offer(testCall(`{}`))
		resp, _ := rt.response()
		if !resp.Close || !rt.closed() {
			t.Errorf("the answer to a request with Connection: close kept the connection")
		}
	})

	t.Run("HTTP/1.0", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		rt.send("GET /2018-06-01/nonsense HTTP/1.0\r\n\r\n")
		if resp, _ := rt.response(); resp.StatusCode != http.StatusNotFound || !rt.closed() {
			t.Errorf("HTTP/1.0 request: status %d, connection kept", resp.StatusCode)
		}
	})

	t.Run("malformed request", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		rt.send("NONSENSE\r\n\r\n")
		if resp, _ := rt.response(); resp.StatusCode != http.StatusBadRequest || !rt.closed() {
			t.Errorf("malformed request: status %d, connection kept", resp.StatusCode)
		}
	})

	t.Run("headers too large", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		// The server answers and closes before it has read everything
		// sent: the write may fail, and the body may be lost to a reset.
		go io.WriteString(rt.c, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nX-Big: "+strings.Repeat("x", maxRuntimeHeaderBytes)+"\r\n\r\n")
		resp, err := http.ReadResponse(rt.br, nil)
		if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("response %v, %v; want 431", resp, err)
		}
	})

	t.Run("request sent before the answer to next", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		rt.send(nextRequest + nextRequest)
		if !rt.closed() {
			t.Fatal("pipelined request: connection kept")
		}
		e.serving.Wait()
		if n := e.waitingConns(); n != 0 {
			t.Fatalf("%d connections still wait", n)
		}
		call := testCall(`{}`)
		e.offer(call)
		if !e.unqueue(call) {
			t.Error("the invocation was not queued for the next /next")
		}
	})

	t.Run("runtime hangs up while waiting", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		rt.send(nextRequest)
		e.awaitWaiting()
		rt.c.Close()
		e.serving.Wait()
		call := testCall(`{}`)
		e.offer(call)
		if !e.unqueue(call) {
			t.Error("an invocation went to a runtime that hung up")
		}
	})

	t.Run("answer that cannot be written", func(t *testing.T) {
		e := rawEnvironment(t)
		rt := dialRuntime(t, e)
		rt.send(nextRequest)
		e.awaitWaiting()
		e.mu.Lock()
		rc := e.waiting[0]
		e.mu.Unlock()
		rc.c.Close()
		call := testCall(`{}`)
		e.offer(call)
		if !e.unqueue(call) {
			t.Error("an invocation that could not be written is lost")
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if len(e.fetched) != 0 {
			t.Error("an invocation that could not be written counts as fetched")
		}
	})
}

func TestRuntimeConn_Admission(t *testing.T) {
	t.Run("a process outside the environment", func(t *testing.T) {
		e := rawEnvironment(t, func(e *environment) { e.admit = func(net.Conn) bool { return false } })
		rt := dialRuntime(t, e)
		rt.send(nextRequest)
		if !rt.closed() {
			t.Fatal("a refused process's connection was served")
		}
		call := testCall(`{}`)
		e.offer(call)
		if !e.unqueue(call) {
			t.Error("an invocation went to a refused connection")
		}
	})

	t.Run("a second next where peers cannot be told apart", func(t *testing.T) {
		e := rawEnvironment(t, func(e *environment) { e.singleNext = true })
		runtime := dialRuntime(t, e)
		runtime.send(nextRequest)
		e.awaitWaiting()
		intruder := dialRuntime(t, e)
		intruder.send(nextRequest)
		if !intruder.closed() {
			t.Fatal("a second /next was accepted on a one-slot environment")
		}
		call := testCall(`{"n":1}`)
		e.offer(call)
		if _, body := runtime.response(); body != `{"n":1}` {
			t.Errorf("the runtime's /next got %q", body)
		}
	})
}
