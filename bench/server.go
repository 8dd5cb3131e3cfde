package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// serverOptions configure the fake Lambda endpoint process.
type serverOptions struct {
	delay      time.Duration // how long each "execution" takes
	tls        string        // "off" (plain HTTP/1.1), "h1" (TLS, HTTP/1.1 only) or "h2" (TLS, HTTP/2 offered)
	certFile   string
	keyFile    string
	maxStreams int // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS
}

// serverStats is what the fake endpoint reports about the requests it
// served since the previous report.
type serverStats struct {
	Requests int64   `json:"requests"`
	HTTP1    int64   `json:"http1"`
	HTTP2    int64   `json:"http2"`
	Conns    int64   `json:"conns"`   // new connections accepted
	Resumed  int64   `json:"resumed"` // TLS handshakes that resumed a session
	CPU      float64 `json:"cpu_us"`
}

// fakeLambda answers the Invoke API the way Lambda answers a successful
// synchronous invocation: 200, X-Amz-Executed-Version, x-amzn-RequestId and
// the request's payload echoed back, after the configured delay. It does
// not verify signatures: it measures what a client costs, not what a
// verifier costs (the emulator package does verify them).
type fakeLambda struct {
	delay    time.Duration
	requests atomic.Int64
	http2    atomic.Int64
	conns    atomic.Int64
	resumed  atomic.Int64
	nextID   atomic.Uint64
	bufs     sync.Pool
}

// Pre-built header values: the fake should cost as little as possible so
// that the machine's cores go to the clients being measured.
var (
	jsonContentType = []string{"application/json"}
	latestVersion   = []string{lambdaapi.Latest}
)

func (f *fakeLambda) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	if r.ProtoMajor == 2 {
		f.http2.Add(1)
	}
	buf, _ := f.bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer f.bufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f.delay > 0 {
		t := time.NewTimer(f.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h[lambdaapi.HeaderExecutedVersion] = latestVersion
	h[lambdaapi.HeaderRequestID] = []string{f.requestID()}
	h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// requestID returns a unique UUID-shaped request ID. It counts rather than
// call lambdaapi.NewRequestID, whose crypto/rand read per request would be
// the fake's cost, not the measured client's.
func (f *fakeLambda) requestID() string {
	b := make([]byte, 0, 36)
	b = append(b, "00000000-0000-4000-8000-"...)
	n := f.nextID.Add(1)
	const hex = "0123456789abcdef"
	for shift := 44; shift >= 0; shift -= 4 {
		b = append(b, hex[(n>>shift)&0xf])
	}
	return string(b)
}

func (f *fakeLambda) connState(_ net.Conn, s http.ConnState) {
	if s == http.StateNew {
		f.conns.Add(1)
	}
}

// serve runs the fake endpoint until standard input closes. It prints its
// address as the first line of standard output, then answers each "stats"
// line read from standard input with one JSON line of serverStats covering
// the time since the previous one.
func serve(opts serverOptions, stdin io.Reader, stdout io.Writer) error {
	f := &fakeLambda{delay: opts.delay}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:   f,
		ConnState: f.connState,
		Protocols: new(http.Protocols),
		// Clients abandon surplus dials mid-handshake; that is theirs to
		// count (new connections), not noise for the report.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	srv.Protocols.SetHTTP1(true)
	srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: opts.maxStreams}
	scheme := "http"
	if opts.tls != "off" {
		scheme = "https"
		srv.Protocols.SetHTTP2(opts.tls == "h2")
		srv.TLSConfig = &tls.Config{VerifyConnection: func(cs tls.ConnectionState) error {
			if cs.DidResume {
				f.resumed.Add(1)
			}
			return nil
		}}
	}
	errc := make(chan error, 1)
	go func() {
		if scheme == "https" {
			errc <- srv.ServeTLS(ln, opts.certFile, opts.keyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	defer srv.Close()
	fmt.Fprintf(stdout, "%s://%s\n", scheme, ln.Addr())

	last := serverStats{CPU: cpuMicros()}
	lines := bufio.NewScanner(stdin)
	for lines.Scan() {
		now := serverStats{
			Requests: f.requests.Load(),
			HTTP2:    f.http2.Load(),
			Conns:    f.conns.Load(),
			Resumed:  f.resumed.Load(),
			CPU:      cpuMicros(),
		}
		d := serverStats{
			Requests: now.Requests - last.Requests,
			HTTP2:    now.HTTP2 - last.HTTP2,
			Conns:    now.Conns - last.Conns,
			Resumed:  now.Resumed - last.Resumed,
			CPU:      now.CPU - last.CPU,
		}
		d.HTTP1 = d.Requests - d.HTTP2
		last = now
		if err := json.NewEncoder(stdout).Encode(d); err != nil {
			return err
		}
	}
	select {
	case err := <-errc:
		return err
	default:
		return lines.Err()
	}
}

// runServer is the -serve mode of the bench binary.
func runServer(opts serverOptions) int {
	if err := serve(opts, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench server:", err)
		return 1
	}
	return 0
}
