package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdafan/lambdafan/emulator"
)

// The tests of the HTTP server in front of the emulator run in a synctest
// bubble, over net.Pipe connections: its timeouts then run on the
// bubble's fake clock, and "nothing happens until the timeout" is an
// observation (a deadlock in the bubble fails the test) rather than a wait.

// pipeListener is a net.Listener whose connections are net.Pipe pairs.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	// Room for pending connections, as a kernel's accept backlog.
	return &pipeListener{conns: make(chan net.Conn, 16), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial connects to the listener.
func (l *pipeListener) dial(context.Context, string, string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "emulator" }

// testServer is an emulator behind newHTTPServer, in a bubble.
type testServer struct {
	emu    *emulator.Server
	srv    *http.Server
	ln     *pipeListener
	served chan error
	// transports are the clients' transports, closed with the server.
	transports []*http.Transport
}

// testLimits are the limits of the tests: the defaults, uncapped.
func testLimits() serverLimits {
	lim := defaultServerLimits()
	lim.maxConns = 0
	return lim
}

// startTestServer must be called inside the bubble; stop must be called
// before the bubble ends.
func startTestServer(t *testing.T, cfg emulator.Config, lim serverLimits) *testServer {
	t.Helper()
	emu, err := emulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{emu: emu, ln: newPipeListener(), served: make(chan error, 1)}
	var ln net.Listener
	ts.srv, ln = newHTTPServer(emu, ts.ln, lim)
	go func() { ts.served <- ts.srv.Serve(ln) }()
	return ts
}

func (ts *testServer) stop(t *testing.T) {
	if err := ts.emu.Close(); err != nil {
		t.Errorf("emulator close: %v", err)
	}
	ts.srv.Close()
	<-ts.served
	for _, tr := range ts.transports {
		tr.CloseIdleConnections()
	}
}

// client returns an SDK Lambda client of its own connections to ts.
func (ts *testServer) client() *lambda.Client {
	tr := &http.Transport{DialContext: ts.ln.dial}
	ts.transports = append(ts.transports, tr)
	return lambda.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(emulator.DefaultAccessKeyID, emulator.DefaultSecretAccessKey, ""),
		BaseEndpoint: aws.String("http://emulator"),
		HTTPClient:   &http.Client{Transport: tr},
	}, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
}

// rawConn is a connection to ts written and read by hand.
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func (ts *testServer) rawConn(t *testing.T) *rawConn {
	t.Helper()
	c, err := ts.ln.dial(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

// signedInvoke is a signed Invoke request of function with payload.
func signedInvoke(t *testing.T, function string, payload []byte) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, "http://emulator/2015-03-31/functions/"+function+"/invocations", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(payload)
	creds := aws.Credentials{AccessKeyID: emulator.DefaultAccessKeyID, SecretAccessKey: emulator.DefaultSecretAccessKey}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, hex.EncodeToString(sum[:]), "lambda", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return r
}

// send writes r on the connection, in a goroutine: a pipe write blocks
// until the server reads.
func (c *rawConn) send(r *http.Request) <-chan error {
	done := make(chan error, 1)
	go func() { done <- r.Write(c) }()
	return done
}

// response reads one response and its body.
func (c *rawConn) response(t *testing.T) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// closedByServer reports whether the server closed the connection (a read
// ends without data).
func (c *rawConn) closedByServer() bool {
	_, err := c.br.ReadByte()
	return errors.Is(err, io.EOF)
}

func TestHTTPServer_IdleKeepAliveClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := testLimits()
		ts := startTestServer(t, emulator.Config{Functions: emulator.BuiltinFunctions()}, lim)
		defer ts.stop(t)

		c := ts.rawConn(t)
		defer c.Close()
		<-c.send(signedInvoke(t, "echo", []byte(`1`)))
		if resp, body := c.response(t); resp.StatusCode != 200 || body != "1" {
			t.Fatalf("got %d %s", resp.StatusCode, body)
		}
		start := time.Now()
		if !c.closedByServer() {
			t.Fatal("the idle connection was not closed")
		}
		if idle := time.Since(start); idle != lim.idle {
			t.Errorf("closed after %v idle, want %v", idle, lim.idle)
		}
	})
}

func TestHTTPServer_SlowRequest(t *testing.T) {
	t.Run("headers", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lim := testLimits()
			ts := startTestServer(t, emulator.Config{Functions: emulator.BuiltinFunctions()}, lim)
			defer ts.stop(t)
			c := ts.rawConn(t)
			defer c.Close()
			start := time.Now()
			go io.WriteString(c, "POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: emulator\r\n")
			if !c.closedByServer() {
				t.Fatal("a request whose headers never end was answered")
			}
			if d := time.Since(start); d != lim.readHeader {
				t.Errorf("closed after %v, want %v", d, lim.readHeader)
			}
		})
	})
	t.Run("body", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lim := testLimits()
			ts := startTestServer(t, emulator.Config{Functions: emulator.BuiltinFunctions()}, lim)
			defer ts.stop(t)
			c := ts.rawConn(t)
			defer c.Close()
			// A correctly signed request whose body stops short.
			var raw bytes.Buffer
			if err := signedInvoke(t, "echo", []byte(`{"n":1234567890}`)).Write(&raw); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			go c.Write(raw.Bytes()[:raw.Len()-5])
			resp, _ := c.response(t)
			if d := time.Since(start); d != lim.read || resp.StatusCode != 400 {
				t.Errorf("answered %d after %v, want 400 after %v", resp.StatusCode, d, lim.read)
			}
		})
	})
}

// TestHTTPServer_LongInvocation checks that no timeout of the server cuts a
// synchronous invocation that runs as long as Lambda allows, or an
// answer the emulator holds back on the request's context (FaultSlow)
// for longer than ReadTimeout.
func TestHTTPServer_LongInvocation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := testLimits()
		const runs = emulator.MaxTimeout - time.Second
		long := emulator.Function{Name: "long", Timeout: emulator.MaxTimeout,
			Handler: emulator.HandlerFunc(func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) {
				select {
				case <-time.After(runs):
					return []byte(`"done"`), nil
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			})}
		slowEcho := emulator.Faults{SlowDelay: 5 * time.Minute, Schedule: func(n int64) emulator.Fault {
			if n == 2 { // the third call
				return emulator.FaultSlow
			}
			return emulator.NoFault
		}}
		ts := startTestServer(t, emulator.Config{Functions: append(emulator.BuiltinFunctions(), long), Faults: slowEcho}, lim)
		defer ts.stop(t)
		client := ts.client()

		for i, tc := range []struct {
			function string
			want     time.Duration
		}{
			{"long", runs},
			{"long", runs}, // again, on the same connection
			{"echo", slowEcho.SlowDelay},
		} {
			start := time.Now()
			out, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String(tc.function), Payload: []byte(`"x"`)})
			if err != nil || out.FunctionError != nil {
				t.Fatalf("call %d: %v, %+v", i, err, out)
			}
			if d := time.Since(start); d != tc.want {
				t.Errorf("call %d answered after %v, want %v", i, d, tc.want)
			}
		}
	})
}

// TestHTTPServer_AnswerDeadline checks that a client that does not read
// its answer holds the handler, and the request bytes it holds, only for
// the answer timeout.
func TestHTTPServer_AnswerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := testLimits()
		// Shorter than the idle timeout: the client's keep-alive
		// connection is not closed at the same instant it is reused.
		lim.answer = lim.idle / 2
		// An answer larger than the server's write buffer, and a budget
		// of one such request.
		payload := []byte(`"` + string(bytes.Repeat([]byte("x"), 64<<10)) + `"`)
		ts := startTestServer(t, emulator.Config{Functions: emulator.BuiltinFunctions(), MaxRequestBytes: int64(len(payload))}, lim)
		defer ts.stop(t)

		stuck := ts.rawConn(t)
		defer stuck.Close()
		<-stuck.send(signedInvoke(t, "echo", payload)) // and never read
		synctest.Wait()

		client := ts.client()
		call := func(payload []byte) error {
			_, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: payload})
			return err
		}
		var throttled *types.TooManyRequestsException
		if err := call([]byte(`"small"`)); !errors.As(err, &throttled) {
			t.Fatalf("while the answer is stuck: %v, want the budget spent (429)", err)
		}
		// Just past the stuck answer's deadline (on the bubble's fake
		// clock), not at the same instant: the server must have closed
		// that connection, and released its budget, before the next call.
		time.Sleep(lim.answer + time.Millisecond)
		synctest.Wait()
		// A small answer: one that fills the pipe would wait for the
		// client's reads, which the bubble cannot tell from a stall.
		if err := call([]byte(`"small"`)); err != nil {
			t.Fatalf("after the answer timeout: %v", err)
		}
	})
}

func TestConnLimiter_Caps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := testLimits()
		lim.maxConns = 2
		started, release := make(chan string, 3), make(chan struct{})
		hold := emulator.Function{Name: "hold", Handler: emulator.HandlerFunc(func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) {
			started <- string(inv.Payload)
			<-release
			return inv.Payload, nil
		})}
		ts := startTestServer(t, emulator.Config{Functions: []emulator.Function{hold}}, lim)
		defer ts.stop(t)

		var calls sync.WaitGroup
		for i := range 3 {
			client := ts.client() // a connection each
			calls.Go(func() {
				if _, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("hold"), Payload: []byte(strconv.Itoa(i))}); err != nil {
					t.Errorf("call %d: %v", i, err)
				}
			})
		}
		synctest.Wait()
		if n := len(started); n != 2 {
			t.Fatalf("%d calls served at once on a cap of 2 connections", n)
		}
		close(release)
		calls.Wait()
		if n := len(started); n != 3 {
			t.Errorf("%d calls served in all, want 3", n)
		}
	})
}

func TestConnLimiter_ShedsIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := testLimits()
		lim.maxConns = 2
		ts := startTestServer(t, emulator.Config{Functions: emulator.BuiltinFunctions()}, lim)
		defer ts.stop(t)

		// Two keep-alive connections, idle after one call each, the first
		// idle longer.
		idle := make([]*rawConn, 2)
		for i := range idle {
			idle[i] = ts.rawConn(t)
			defer idle[i].Close()
			<-idle[i].send(signedInvoke(t, "echo", []byte(`1`)))
			idle[i].response(t)
			time.Sleep(time.Second)
		}
		start := time.Now()
		if _, err := ts.client().Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("echo")}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("served after %v: it waited for an idle connection to time out", d)
		}
		if !idle[0].closedByServer() {
			t.Error("the connection idle longest was not closed")
		}
	})
}

func TestMaxConnsFor(t *testing.T) {
	for nofile, want := range map[uint64]int{0: 0, 10: 16, 256: 128, 1024: 512, 1 << 20: 1 << 19} {
		if got := maxConnsFor(nofile); got != want {
			t.Errorf("maxConnsFor(%d) = %d, want %d", nofile, got, want)
		}
	}
}
