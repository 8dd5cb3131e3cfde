package execenv

import (
	"net/http"
	"testing"
	"time"
)

// withLimits gives an environment's connections the deadlines l.
func withLimits(l connLimits) func(*environment) {
	return func(e *environment) { e.pool.limits = l }
}

// short is a deadline a stalled test client reaches quickly; hour is one
// it never reaches.
const (
	short = 50 * time.Millisecond
	hour  = time.Hour
)

func TestRuntimeConn_Deadlines(t *testing.T) {
	t.Run("headers that stall", func(t *testing.T) {
		e := rawEnvironment(t, withLimits(connLimits{header: short, body: hour, idle: hour}))
		rt := dialRuntime(t, e)
		rt.send("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: rt\r\n")
		if !rt.closed() {
			t.Error("a request whose headers stalled kept its connection")
		}
	})

	t.Run("a body that stalls", func(t *testing.T) {
		e := rawEnvironment(t, withLimits(connLimits{header: hour, body: short, idle: hour}))
		rt := dialRuntime(t, e)
		rt.send("POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: rt\r\nContent-Length: 10\r\n\r\n{\"a\"")
		if resp, _ := rt.response(); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status %d, want 400 for a body cut short", resp.StatusCode)
		}
		if !rt.closed() {
			t.Error("a request whose body stalled kept its connection")
		}
	})

	t.Run("an idle connection", func(t *testing.T) {
		e := rawEnvironment(t, withLimits(connLimits{header: hour, body: hour, idle: short}))
		silent := dialRuntime(t, e)
		if !silent.closed() {
			t.Error("a connection that sent nothing was kept")
		}
		rt := dialRuntime(t, e)
		rt.send("GET /2018-06-01/nonsense HTTP/1.1\r\nHost: rt\r\n\r\n")
		if resp, _ := rt.response(); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", resp.StatusCode)
		}
		if !rt.closed() {
			t.Error("a connection idle after its request was kept")
		}
	})

	t.Run("a next that waits outlives the idle limit", func(t *testing.T) {
		e := rawEnvironment(t, withLimits(connLimits{header: hour, body: hour, idle: short}))
		rt := dialRuntime(t, e)
		rt.send(nextRequest)
		e.awaitWaiting()
		// A connection opened after the /next began to wait reaches the
		// idle limit later than the /next would if it had one.
		later := dialRuntime(t, e)
		if !later.closed() {
			t.Fatal("an idle connection was kept")
		}
		call := testCall(`{"n":1}`)
		e.offer(call)
		if resp, body := rt.response(); resp.StatusCode != http.StatusOK || body != `{"n":1}` {
			t.Fatalf("the waiting /next got %d %q", resp.StatusCode, body)
		}
		// Once it has its invocation the connection is idle.
		if !rt.closed() {
			t.Error("a connection idle after its invocation was kept")
		}
	})
}
