package emulator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// benchPayload is a small JSON event, like most fan-out payloads.
var benchPayload = []byte(`{"id":12345,"name":"benchmark","values":[1,2,3,4,5],"nested":{"ok":true}}`)

// cpuTime is the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loopbackClient signs and sends Invoke requests over a pooled transport
// sized to the concurrency, as a fan-out client does.
type loopbackClient struct {
	url    string
	creds  aws.Credentials
	signer *v4.Signer
	http   *http.Client
	hash   string
}

func newLoopbackClient(url string, creds aws.Credentials, concurrency int) *loopbackClient {
	sum := sha256.Sum256(benchPayload)
	return &loopbackClient{
		url:    url + invokePath("echo"),
		creds:  creds,
		signer: v4.NewSigner(),
		http: &http.Client{Transport: &http.Transport{
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			MaxConnsPerHost:     concurrency,
		}},
		hash: hex.EncodeToString(sum[:]),
	}
}

func (c *loopbackClient) invoke(b *testing.B) {
	req, err := http.NewRequestWithContext(b.Context(), http.MethodPost, c.url, bytes.NewReader(benchPayload))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.signer.SignHTTP(b.Context(), c.creds, req, c.hash, "lambda", emulatortest.Region, time.Now()); err != nil {
		b.Fatal(err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n != int64(len(benchPayload)) {
		b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
	}
}

// BenchmarkServer_Loopback measures signed invocations of the built-in
// echo over loopback HTTP at fan-out concurrency. "null" serves the same
// requests with a handler that only reads the body and answers it, to
// separate the client's and net/http's CPU from the emulator's:
// emulator CPU per invoke ≈ cpu-µs/invoke(echo) − cpu-µs/invoke(null).
func BenchmarkServer_Loopback(b *testing.B) {
	for _, concurrency := range []int{32, 64} {
		for _, target := range []string{"echo", "null"} {
			b.Run(fmt.Sprintf("%s/c=%d", target, concurrency), func(b *testing.B) {
				srv := emulatortest.New(b, emulator.Config{Functions: emulator.BuiltinFunctions()})
				url := srv.URL
				if target == "null" {
					hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						body, _ := io.ReadAll(r.Body)
						w.Header()["Content-Type"] = []string{"application/json"}
						_, _ = w.Write(body)
					}))
					b.Cleanup(hs.Close)
					url = hs.URL
				}
				client := newLoopbackClient(url, aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}, concurrency)
				b.Cleanup(client.http.CloseIdleConnections)
				b.ReportAllocs()
				b.SetParallelism((concurrency + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				cpu0, start := cpuTime(), time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						client.invoke(b)
					}
				})
				elapsed, cpu := time.Since(start), cpuTime()-cpu0
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "invokes/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/invoke")
			})
		}
	}
}

// BenchmarkServer_ServeHTTP measures the emulator alone: signed requests
// handed to ServeHTTP with an httptest.ResponseRecorder, no network.
// Signing happens once, outside the loop; the server's clock is frozen at
// the signing time.
func BenchmarkServer_ServeHTTP(b *testing.B) {
	for _, tc := range []struct {
		name         string
		noAuth, tail bool
	}{
		{name: "signed"},
		{name: "noauth", noAuth: true},
		{name: "noauth/tail", noAuth: true, tail: true}, // with the framed log, LogType Tail
	} {
		noAuth := tc.noAuth
		b.Run(tc.name, func(b *testing.B) {
			at := time.Now()
			emu, err := emulator.New(emulator.Config{Functions: emulator.BuiltinFunctions(), NoAuth: noAuth, Now: func() time.Time { return at }})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = emu.Close() })
			signed := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9001"+invokePath("echo"), bytes.NewReader(benchPayload))
			if tc.tail {
				signed.Header.Set("X-Amz-Log-Type", "Tail")
			}
			sum := sha256.Sum256(benchPayload)
			creds := aws.Credentials{AccessKeyID: emulator.DefaultAccessKeyID, SecretAccessKey: emulator.DefaultSecretAccessKey}
			if err := v4.NewSigner().SignHTTP(b.Context(), creds, signed, hex.EncodeToString(sum[:]), "lambda", emulatortest.Region, at); err != nil {
				b.Fatal(err)
			}
			body := bytes.NewReader(benchPayload)
			req := *signed
			w := &discardWriter{header: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				body.Reset(benchPayload)
				req.Body = io.NopCloser(body)
				clear(w.header)
				emu.ServeHTTP(w, &req)
				if w.code != 200 {
					b.Fatalf("status %d", w.code)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/invoke")
		})
	}
}

// discardWriter is a ResponseWriter that keeps only the status, so the
// benchmark measures the emulator rather than a recorder.
type discardWriter struct {
	header http.Header
	code   int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
