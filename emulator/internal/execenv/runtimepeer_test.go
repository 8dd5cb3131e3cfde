package execenv_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan/emulator/internal/execenv"
	"github.com/lambdafan/lambdafan/emulator/internal/peer"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// foreignEnv makes the test binary, re-executed, a foreign process that
// attacks the Runtime API at the address in it (see foreignRuntime).
const foreignEnv = "EXECENV_TEST_FOREIGN_RUNTIME"

// foreignRuntime is a local process outside any execution environment
// that tries to use one's Runtime API, as told by the commands on its
// standard input, one per line:
//
//	next N       GET /next, and answer whatever it receives with a forged response
//	post N ID    POST a forged response for request ID
//
// Each attempt runs on its own connection, in its own goroutine, and
// reports "N sent" once its request is written (or could not be) and then
// "N <outcome>" on standard output: "closed" when the connection ended
// without an answer, "status CODE" for an answer ("status 200 ID forged
// CODE" for an invocation it received and answered), "timeout" when
// nothing came within 5 seconds. It exits once its input ends and its
// attempts have reported.
func foreignRuntime(addr string) int {
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		out = bufio.NewWriter(os.Stdout)
	)
	report := func(n, s string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(out, n, s)
		out.Flush()
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		wg.Go(func() {
			switch f[0] {
			case "next":
				report(f[1], foreignAttempt(addr, func() { report(f[1], "sent") },
					"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"))
			case "post":
				report(f[1], foreignAttempt(addr, func() { report(f[1], "sent") }, forgedResponse(f[2])))
			}
		})
	}
	wg.Wait()
	return 0
}

const forgedBody = `{"forged":true}`

func forgedResponse(requestID string) string {
	return "POST /2018-06-01/runtime/invocation/" + requestID + "/response HTTP/1.1\r\nHost: x\r\nContent-Length: " +
		fmt.Sprint(len(forgedBody)) + "\r\n\r\n" + forgedBody
}

// foreignAttempt sends request on a new connection to addr and describes
// what came back; sent is called once the request is written.
func foreignAttempt(addr string, sent func(), request string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		sent()
		return "closed"
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, request)
	sent()
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return "timeout"
		}
		return "closed"
	}
	resp.Body.Close()
	id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
	if resp.StatusCode != http.StatusOK || id == "" {
		return fmt.Sprint("status ", resp.StatusCode)
	}
	// An invocation: answer it, as a hijacker would.
	if _, err := io.WriteString(c, forgedResponse(id)); err != nil {
		return fmt.Sprint("status 200 ", id, " forged failed")
	}
	forged, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Sprint("status 200 ", id, " forged closed")
	}
	forged.Body.Close()
	return fmt.Sprint("status 200 ", id, " forged ", forged.StatusCode)
}

// foreignProcess drives a foreignRuntime process.
type foreignProcess struct {
	in    io.WriteCloser
	lines chan string
	wait  func() error
}

func startForeign(t *testing.T, addr string) *foreignProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), foreignEnv+"="+addr)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &foreignProcess{in: in, lines: make(chan string), wait: cmd.Wait}
	go func() {
		defer close(f.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		in.Close()
		for range f.lines {
		}
		_ = cmd.Wait()
	})
	return f
}

func (f *foreignProcess) send(t *testing.T, command string) {
	t.Helper()
	if _, err := io.WriteString(f.in, command+"\n"); err != nil {
		t.Fatal(err)
	}
}

// await returns the report of attempt n that starts with prefix,
// keeping the others in reports.
func (f *foreignProcess) await(t *testing.T, reports map[string][]string, n, prefix string) {
	t.Helper()
	for {
		for _, r := range reports[n] {
			if strings.HasPrefix(r, prefix) {
				return
			}
		}
		line, ok := <-f.lines
		if !ok {
			t.Fatalf("the foreign process ended before attempt %s reported %q", n, prefix)
		}
		k, v, _ := strings.Cut(line, " ")
		reports[k] = append(reports[k], v)
	}
}

// TestRuntimeAPI_ForeignProcess has another local process poll an
// environment's /next and post forged responses while real invocations
// run: it never receives an invocation, cannot answer one, and every
// caller gets the function's own answer.
func TestRuntimeAPI_ForeignProcess(t *testing.T) {
	if !peer.Supported {
		t.Skip("peer identity is not supported on this system: any local process may use a Runtime API (see runtimepeer.go)")
	}
	p := newPool(t, 0)
	first := invoke(p, `{"action":"context"}`)
	var ctx struct {
		PID int
		Env map[string]string
	}
	if err := json.Unmarshal(first.out.Payload, &ctx); err != nil || first.out.Error {
		t.Fatalf("context: %s (%v)", first.out.Payload, err)
	}
	addr := ctx.Env["AWS_LAMBDA_RUNTIME_API"]
	foreign := startForeign(t, addr)
	reports := map[string][]string{}

	const rounds = 8
	for i := range rounds {
		next, post := fmt.Sprint("n", i), fmt.Sprint("p", i)
		// A /next of its own, then a real invocation, which runs while the
		// foreign process posts a forged response for it.
		foreign.send(t, "next "+next)
		foreign.await(t, reports, next, "sent")
		id := lambdaapi.NewRequestID()
		done := make(chan execenv.Output, 1)
		go func() {
			inv := &execenv.Invocation{RequestID: id, Payload: []byte(`{"action":"sleep","ms":50}`),
				Deadline: time.Now().Add(10 * time.Second).Truncate(time.Millisecond), Log: io.Discard}
			ctx, cancel := context.WithDeadline(context.Background(), inv.Deadline)
			defer cancel()
			done <- p.Invoke(ctx, inv)
		}()
		foreign.send(t, "post "+post+" "+id)
		out := <-done
		var res struct {
			PID    int
			Forged bool
		}
		if err := json.Unmarshal(out.Payload, &res); err != nil || out.Error || res.Forged || res.PID != ctx.PID {
			t.Fatalf("round %d: the caller got %s, want the function's answer from pid %d", i, out.Payload, ctx.PID)
		}
		foreign.await(t, reports, next, "closed")
		foreign.await(t, reports, post, "closed")
	}
	for n, rs := range reports {
		for _, r := range rs {
			if r != "sent" && r != "closed" {
				t.Errorf("foreign attempt %s: %s, want the connection refused", n, r)
			}
		}
	}
}
