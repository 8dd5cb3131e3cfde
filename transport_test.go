package lambdafan

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func TestNewHTTPClient_CABundleHTTP1AndResumption(t *testing.T) {
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
	client := newHTTPClient(&awsCfg, 4)
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

func TestPacedDialer_Acquire(t *testing.T) {
	d := &pacedDialer{slots: &dialSlots{limit: 2}}
	ctx := t.Context()
	done, cancel := context.WithCancel(ctx)
	cancel()

	// Until a dial succeeds, one at a time.
	r1, err := d.acquire(ctx, "a:443")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.acquire(done, "a:443"); !errors.Is(err, context.Canceled) {
		t.Fatalf("second dial before any succeeded: err %v, want to wait", err)
	}
	r1(false) // failed: still one at a time
	if r1, err = d.acquire(ctx, "a:443"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.acquire(done, "a:443"); !errors.Is(err, context.Canceled) {
		t.Fatalf("second dial before any succeeded: err %v, want to wait", err)
	}
	r1(true)

	// Then up to the limit per host.
	r1, err = d.acquire(ctx, "a:443")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := d.acquire(ctx, "a:443")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.acquire(done, "a:443"); !errors.Is(err, context.Canceled) {
		t.Fatalf("third concurrent dial: err %v, want to wait", err)
	}
	if r, err := d.acquire(ctx, "b:443"); err != nil { // other hosts have their own turns
		t.Fatal(err)
	} else {
		r(true)
	}
	r1(true)
	r3, err := d.acquire(ctx, "a:443")
	if err != nil {
		t.Fatal(err)
	}
	r2(true)
	r3(true)

	// A dial whose request got a connection or is over gives its turn back.
	settled := &connWaiter{}
	settled.settle()
	for range 3 {
		if _, err := d.acquire(withConnWaiter(ctx, settled), "a:443"); !errors.Is(err, errSurplusDial) {
			t.Fatalf("dial for a settled request: err %v, want errSurplusDial", err)
		}
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
	client, err := New(t.Context(), Config{AWS: &awsCfg, EndpointURL: srv.URL, Concurrency: c})
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
	// One connection per shard, plus at most one turn of dials that raced
	// the first connections (their requests got one just after the turn
	// began); a storm would be ~c.
	shards := (c + h2StreamsPerConn - 1) / h2StreamsPerConn
	if n, most := int(conns.Load()), shards+dialsInFlight(c, runtime.GOMAXPROCS(0)); n < shards || n > most {
		t.Errorf("%d connections for %d concurrent requests, want %d to %d", n, c, shards, most)
	}
}

func TestDialsInFlight(t *testing.T) {
	// A sixteenth of the concurrency, at least 4 per CPU, at most 64.
	for _, tc := range []struct {
		concurrency, procs, want int
	}{
		{1, 1, 4},       // 4 per CPU
		{1, 2, 8},       // 4 per CPU
		{64, 1, 4},      // a sixteenth, equal to 4 per CPU
		{100, 1, 6},     // a sixteenth, rounded down
		{1000, 2, 62},   // a sixteenth
		{200, 8, 32},    // 4 per CPU, above a sixteenth
		{1024, 2, 64},   // a sixteenth, at the cap
		{1040, 2, 64},   // a sixteenth, 65, capped
		{100000, 2, 64}, // a sixteenth, capped
		{1, 16, 64},     // 4 per CPU, at the cap
		{1, 17, 64},     // 4 per CPU, 68, capped
	} {
		if got := dialsInFlight(tc.concurrency, tc.procs); got != tc.want {
			t.Errorf("dialsInFlight(%d, %d) = %d, want %d", tc.concurrency, tc.procs, got, tc.want)
		}
	}
}

// TestNew_MemoryDoesNotGrowWithConcurrency: what New allocates up front
// must not depend on Config.Concurrency (a concurrency of 2147483647 on a
// two-line input was killed at 24 GB): transports are made as the load
// needs them.
func TestNew_MemoryDoesNotGrowWithConcurrency(t *testing.T) {
	awsCfg := &aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	allocated := func(concurrency int) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, err := New(t.Context(), Config{AWS: awsCfg, Concurrency: concurrency})
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
	hc := newHTTPClient(nil, 10*MaxConcurrency)
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(hc)
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("newHTTPClient allocated %d bytes for concurrency %d, want under 64 KiB", n, 10*MaxConcurrency)
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
	awsCfg := &aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	_, err := New(t.Context(), Config{AWS: awsCfg, Concurrency: math.MaxInt32})
	want := fmt.Sprintf("concurrency %d is above the maximum %d: split the run over several processes", math.MaxInt32, MaxConcurrency)
	if err == nil || err.Error() != want {
		t.Errorf("New(Concurrency: MaxInt32) = %v, want %q", err, want)
	}
	if _, err := New(t.Context(), Config{AWS: awsCfg, Concurrency: MaxConcurrency}); err != nil {
		t.Errorf("New(Concurrency: MaxConcurrency) = %v", err)
	}
}

// TestShardedTransport_MadeAsNeeded: a shard is made only when every shard
// made so far is busy, and never more than planned.
func TestShardedTransport_MadeAsNeeded(t *testing.T) {
	var block atomic.Bool
	release := make(chan struct{})
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if block.Load() {
			arrived <- struct{}{}
			<-release
		}
	}))
	defer srv.Close()
	st := newShardedTransport(3, func() *http.Transport { return &http.Transport{} })
	defer st.CloseIdleConnections()
	shards := func() int {
		st.mu.Lock()
		defer st.mu.Unlock()
		return len(*st.shards.Load())
	}
	client := &http.Client{Transport: st}
	get := func() {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}
	if n := shards(); n != 1 {
		t.Fatalf("%d shards made up front, want 1", n)
	}
	for range 3 {
		get()
	}
	if n := shards(); n != 1 {
		t.Errorf("%d shards made for one request at a time, want 1", n)
	}
	block.Store(true)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(get)
		<-arrived
		if n, want := shards(), min(i+1, 3); n != want {
			t.Errorf("%d shards with %d requests in flight, want %d", n, i+1, want)
		}
	}
	close(release)
	wg.Wait()
}
