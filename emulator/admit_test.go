package emulator_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// slowBody is a raw connection that sent the headers of an Invoke call
// declaring a MaxSyncPayloadBytes body and is sending all of it but the
// last bytes, then nothing more: the slow-body probe.
type slowBody struct {
	conn net.Conn
	br   *bufio.Reader
}

// partialBody is what a slowBody sends: a JSON object lacking its end.
func partialBody() []byte {
	b := make([]byte, emulator.MaxSyncPayloadBytes-3)
	for i := range b {
		b[i] = ' '
	}
	b[0] = '{'
	return b
}

// startSlowBodies opens n slowBody connections to srv, each with the
// headers header returns, each sending body, and closes them when the
// test ends. Writers run in goroutines (the server may never read what
// they write) that the cleanup waits for.
func startSlowBodies(t *testing.T, srv *emulatortest.Server, n int, body []byte, header func() string) []*slowBody {
	t.Helper()
	var writers sync.WaitGroup
	probes := make([]*slowBody, n)
	for i := range probes {
		conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n%s\r\n",
			invokePath("echo"), strings.TrimPrefix(srv.URL, "http://"), emulator.MaxSyncPayloadBytes, header())
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		writers.Go(func() { _, _ = conn.Write(body) })
		probes[i] = &slowBody{conn: conn, br: bufio.NewReader(conn)}
	}
	t.Cleanup(func() {
		for _, p := range probes {
			if p != nil {
				p.conn.Close()
			}
		}
		writers.Wait()
	})
	return probes
}

// answer reads the probe's response. The deadline only turns a server
// that never answers (reading a body it should not) into a failure
// instead of a hung test.
func (p *slowBody) answer(t *testing.T) *http.Response {
	t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(p.br, nil)
	if err != nil {
		t.Fatalf("no answer to a slow body: %v", err)
	}
	resp.Body.Close()
	return resp
}

// liveHeap is the bytes of live heap objects after a collection. Two
// collections: the first only moves what sync.Pools hold to their victim
// caches, the second frees it.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// headerValidAuthorization is what an attacker without the secret can
// send: the access key ID (the documentation's example, public), a
// current date, a well-formed scope, and a wrong signature.
func headerValidAuthorization() string {
	now := time.Now().UTC()
	return fmt.Sprintf("X-Amz-Date: %s\r\nAuthorization: AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=%064d\r\n",
		now.Format("20060102T150405Z"), emulator.DefaultAccessKeyID, now.Format("20060102"), 0)
}

// TestServer_SlowBodies is the slow-body probe of issue 10: many POSTs
// declaring a 6 MB body and sending all but a few bytes of it. Before the
// fix the server read (and allocated) every body before looking at the
// signature, answered none, and held 6 MB per connection for as long as
// the client liked.
func TestServer_SlowBodies(t *testing.T) {
	const probes = 40
	const budget = 8 << 20 // room for one body

	t.Run("unsigned: answered 403 unread", func(t *testing.T) {
		srv := emulatortest.New(t, emulator.Config{Functions: emulator.BuiltinFunctions(), MaxRequestBytes: budget})
		body := partialBody()
		before := liveHeap()
		ps := startSlowBodies(t, srv, probes, body, func() string { return "" })
		for _, p := range ps {
			if resp := p.answer(t); resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != "MissingAuthenticationTokenException" {
				t.Fatalf("got %d %s, want 403 MissingAuthenticationTokenException", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
			}
		}
		if grew := int64(liveHeap()) - int64(before); grew > 16<<20 { // read, they would take 240 MB
			t.Errorf("live heap grew by %d MB for %d unsigned slow bodies; none should be read", grew>>20, probes)
		}
	})

	t.Run("signed without the secret: bounded by the budget", func(t *testing.T) {
		srv := emulatortest.New(t, emulator.Config{Functions: emulator.BuiltinFunctions(), MaxRequestBytes: budget})
		body := partialBody()
		before := liveHeap()
		ps := startSlowBodies(t, srv, probes, body, headerValidAuthorization)
		// One body fits the budget and is being read; every other probe
		// is throttled at once, unread. Which one is read is up to the
		// scheduler, so the answers are collected concurrently.
		answers := make(chan *http.Response, probes)
		var readers sync.WaitGroup
		for _, p := range ps {
			readers.Go(func() {
				_ = p.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
				resp, err := http.ReadResponse(p.br, nil)
				if err == nil {
					resp.Body.Close()
				}
				answers <- resp // nil: no answer
			})
		}
		t.Cleanup(readers.Wait)
		throttled := 0
		for range probes - 1 {
			resp := <-answers
			if resp == nil {
				t.Fatalf("%d slow bodies throttled, then no answer", throttled)
			}
			if resp.StatusCode != 429 || resp.Header.Get("X-Amzn-Errortype") != "TooManyRequestsException" {
				t.Fatalf("got %d %s, want 429 TooManyRequestsException", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
			}
			throttled++
		}
		grew := int64(liveHeap()) - int64(before)
		t.Logf("%d of %d slow bodies throttled; live heap grew by %.1f MB", throttled, probes, float64(grew)/(1<<20))
		// Unbounded, it grows by 240 MB; the slack covers connections
		// and goroutines on a loaded machine.
		if grew > budget+16<<20 {
			t.Errorf("live heap grew by %d MB, more than the %d MB budget", grew>>20, budget>>20)
		}
		for _, p := range ps {
			p.conn.Close() // ends the one read in progress
		}
		readers.Wait()
		if st := srv.Emulator.Stats(); st.Throttles != probes-1 || st.Executions != 0 {
			t.Errorf("%d throttles, %d executions; want %d, 0", st.Throttles, st.Executions, probes-1)
		}
	})
}

// TestServer_ContentSHA256 checks the path of clients that sign
// X-Amz-Content-Sha256: the signature is verified over it before the
// body is read, and the body must then have that hash.
func TestServer_ContentSHA256(t *testing.T) {
	srv := emulatortest.New(t, emulator.Config{Functions: emulator.BuiltinFunctions(), MaxRequestBytes: 8 << 20})
	body := []byte(`{"signed":"hash"}`)
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	withHash := func(h string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", h) }
	}

	t.Run("valid", func(t *testing.T) {
		resp, got := call{function: "echo", body: body, prepare: withHash(hash)}.do(t, srv)
		if resp.StatusCode != 200 || string(got) != string(body) {
			t.Fatalf("got %d %s, want 200 and the payload", resp.StatusCode, got)
		}
	})
	t.Run("body differs from the signed hash", func(t *testing.T) {
		other := []byte(`{"signed":"HASH"}`)
		resp, got := call{function: "echo", body: body, prepare: withHash(hash), tamper: func(r *http.Request) {
			r.Body, r.GetBody, r.ContentLength = io.NopCloser(strings.NewReader(string(other))), nil, int64(len(other))
		}}.do(t, srv)
		if resp.StatusCode != 403 || errorBody(t, got)["message"] != mismatch {
			t.Fatalf("got %d %s, want 403 %q", resp.StatusCode, got, mismatch)
		}
	})
	t.Run("bad signature answered before the body", func(t *testing.T) {
		// The body is never sent: only an answer given unread can come.
		ps := startSlowBodies(t, srv, 1, partialBody(), func() string {
			r, _ := http.NewRequest(http.MethodPost, srv.URL+invokePath("echo"), nil)
			r.Header.Set("X-Amz-Content-Sha256", hash)
			creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: "not the secret"}
			if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, hash, "lambda", emulatortest.Region, time.Now()); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Content-Sha256"} {
				b.WriteString(k + ": " + r.Header.Get(k) + "\r\n")
			}
			return b.String()
		})
		if resp := ps[0].answer(t); resp.StatusCode != 403 || resp.Header.Get("X-Amzn-Errortype") != "InvalidSignatureException" {
			t.Fatalf("got %d %s, want 403 InvalidSignatureException", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
		}
	})
}

// TestServer_RequestBudgetReleased checks that the budget is given back:
// calls one after another, each as large as the budget allows, all run.
func TestServer_RequestBudgetReleased(t *testing.T) {
	// Room for one body (a chunked one takes a byte more, to tell it is
	// not over the limit).
	srv := emulatortest.New(t, emulator.Config{Functions: emulator.BuiltinFunctions(), MaxRequestBytes: emulator.MaxSyncPayloadBytes + 1})
	body := jsonString(emulator.MaxSyncPayloadBytes - 10)
	for i := range 3 {
		if resp, _ := (call{function: "echo", body: body}).do(t, srv); resp.StatusCode != 200 {
			t.Fatalf("call %d: %d, want 200", i, resp.StatusCode)
		}
		chunkedCall := call{function: "echo", body: body, prepare: chunked}
		if resp, _ := chunkedCall.do(t, srv); resp.StatusCode != 200 {
			t.Fatalf("chunked call %d: %d, want 200", i, resp.StatusCode)
		}
	}
}
