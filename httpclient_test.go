package lambdafan

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdafan/lambdafan/internal/transport"
)

// TestHTTPClient_CABundleHTTP1AndResumption: the default client trusts the
// AWS config's CA bundle, speaks HTTP/1.1 at low concurrency and resumes
// TLS sessions.
func TestHTTPClient_CABundleHTTP1AndResumption(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true // the server offers h2; the policy picks HTTP/1.1
	srv.StartTLS()
	defer srv.Close()
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	awsCfg, err := config.LoadDefaultConfig(t.Context(), config.WithCustomCABundle(bytes.NewReader(bundle)))
	if err != nil {
		t.Fatal(err)
	}
	client := transport.NewClient(4, sdkRootCAs(&awsCfg))
	var resumed []bool
	for range 2 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "HTTP/1.1" || resp.TLS == nil {
			t.Fatalf("server saw %q over TLS %v, want HTTP/1.1 over TLS", body, resp.TLS != nil)
		}
		resumed = append(resumed, resp.TLS.DidResume)
		client.CloseIdleConnections() // the next request dials again
	}
	if resumed[0] || !resumed[1] {
		t.Errorf("resumed = %v, want [false true]: the second handshake should resume the first one's session", resumed)
	}
}

// TestClient_WideFanOutUsesFewHTTP2Connections invokes a burst of
// requests that the server answers only once all of them have arrived: the
// client must neither cap the concurrency nor open many more than
// ⌈C/h2StreamsPerConn⌉ connections.
func TestClient_WideFanOutUsesFewHTTP2Connections(t *testing.T) {
	const c = 300
	var arrived, conns atomic.Int32
	all := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) == c {
			close(all)
		}
		select {
		case <-all:
		case <-r.Context().Done():
		}
		w.Header().Set("X-Amzn-Requestid", r.Proto)
		io.Copy(w, r.Body)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	awsCfg, err := config.LoadDefaultConfig(t.Context(), config.WithCustomCABundle(bytes.NewReader(bundle)),
		config.WithRegion("us-east-1"), config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")))
	if err != nil {
		t.Fatal(err)
	}
	client, err := New(Config{AWS: awsCfg, EndpointURL: srv.URL, Concurrency: c})
	if err != nil {
		t.Fatal(err)
	}
	defer client.http.CloseIdleConnections()
	reqs := make([]Request, c)
	for i := range reqs {
		reqs[i] = Request{FunctionName: "f", Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))}
	}
	for i, r := range client.InvokeAll(t.Context(), reqs) {
		if r.Err != nil || string(r.Payload) != string(reqs[i].Payload.([]byte)) || r.RequestID != "HTTP/2.0" {
			t.Fatalf("request %d: %+v (payload %s), want its payload echoed over HTTP/2.0", i, r, r.Payload)
		}
	}
	// One connection per shard, plus the dials that raced the first
	// connections (their requests got one just after their turn began): a
	// turn's worth, two on a loaded machine, where a shard's first
	// connection may take long enough for the next turn to start. A storm
	// would be ~c.
	shards := (c + transport.StreamsPerConn - 1) / transport.StreamsPerConn
	if n, most := int(conns.Load()), shards+2*transport.DialsInFlight(c, runtime.GOMAXPROCS(0)); n < shards || n > most {
		t.Errorf("%d connections for %d concurrent requests, want %d to %d", n, c, shards, most)
	}
}

// TestNew_MemoryDoesNotGrowWithConcurrency: what New allocates up front
// must not depend on Config.Concurrency (a concurrency of 2147483647 on a
// two-line input was killed at 24 GB): transports are made as the load
// needs them.
func TestNew_MemoryDoesNotGrowWithConcurrency(t *testing.T) {
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	allocated := func(concurrency int) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, err := New(Config{AWS: awsCfg, Concurrency: concurrency})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		runtime.KeepAlive(c)
		return after.TotalAlloc - before.TotalAlloc
	}
	allocated(DefaultConcurrency) // warm up one-time allocations
	small, huge := allocated(DefaultConcurrency), allocated(MaxConcurrency)
	if huge > small+64<<10 {
		t.Errorf("New allocated %d bytes for Concurrency %d, %d for %d: want no more than 64 KiB extra",
			huge, MaxConcurrency, small, DefaultConcurrency)
	}
	// The transport alone, past the limit New enforces (not so far past
	// that a regression would exhaust the machine's memory).
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	hc := transport.NewClient(10*MaxConcurrency, nil)
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(hc)
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("transport.NewClient allocated %d bytes for concurrency %d, want under 64 KiB", n, 10*MaxConcurrency)
	}
	// The adaptive limits hold counters, not slots.
	runtime.ReadMemStats(&before)
	a := newAdmission(1, math.MaxInt32, 0)
	a.limits("us-east-1", "f")
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(a)
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<10 {
		t.Errorf("the adaptive limits allocated %d bytes for concurrency %d, want under 4 KiB", n, math.MaxInt32)
	}
}

func TestNew_ConcurrencyAboveTheMaximum(t *testing.T) {
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	_, err := New(Config{AWS: awsCfg, Concurrency: math.MaxInt32})
	want := fmt.Sprintf("concurrency %d is above the maximum %d: split the run over several processes", math.MaxInt32, MaxConcurrency)
	if err == nil || err.Error() != want {
		t.Errorf("New(Concurrency: MaxInt32) = %v, want %q", err, want)
	}
	if _, err := New(Config{AWS: awsCfg, Concurrency: MaxConcurrency}); err != nil {
		t.Errorf("New(Concurrency: MaxConcurrency) = %v", err)
	}
}
