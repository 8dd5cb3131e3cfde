package lambdafan

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Transport policy (measured with go run ./bench; see docs/BENCHMARKS.md).
//
// Up to h2MinConcurrency requests in flight: HTTP/1.1 only, one connection
// per request in flight. Go's HTTP/2 client costs about 40% more CPU per
// request than HTTP/1.1 when CPU-bound, and a few hundred connections are
// cheap. The idle pool is as large as the concurrency, so every connection
// is reused once open, and the number of connections per host is never
// capped (a cap would cap concurrency on HTTP/1.1).
//
// Wider fan-outs: HTTP/2 when the endpoint offers it, over few
// connections. A thousand HTTP/1.1 connections cost a thousand handshakes,
// two goroutines each and their buffers, and the burst that opens them
// competes with the requests for the CPU. HTTP/2 carries up to the
// server's stream limit per connection (Lambda reportedly allows 128), so
// requests are spread over ⌈C/h2StreamsPerConn⌉ transports (made as the
// load first needs them), each request to the transport with the fewest
// in flight; each transport then needs one
// connection per host, and opens more only if the server allows fewer
// streams than planned (concurrency is never capped). An endpoint that does
// not offer HTTP/2 gets HTTP/1.1 through the same transports, uncapped as
// above. (Transports that queue requests at the stream limit instead,
// StrictMaxConcurrentRequests, were tried and dropped: in one run a burst
// of 1,000 requests stalled on one connection for good.)
//
// Either way, a burst must not start a storm of handshakes: C requests
// arriving at once would each start their own, all competing for the CPU,
// none finishing early, and most of them unneeded once the first
// connections exist (HTTP/2) or are released (HTTP/1.1). So dials are
// paced and pruned:
//
//   - at most dialsInFlight(C, GOMAXPROCS) dials per host run at once (a
//     dial is a TCP connect plus, for https, the TLS handshake); the rest
//     wait their turn, first come first served;
//   - a host's first dial runs alone: if it brings HTTP/2, net/http hands
//     that connection to every request then waiting;
//   - a waiting dial is dropped when its request has meanwhile been handed
//     a connection (an HTTP/2 one, or an HTTP/1.1 one another request
//     released), or is over;
//   - TLS sessions are resumed (a shared client session cache), so
//     handshakes after the first ones skip certificate verification.
//
// Connections idle for IdleConnTimeout are closed; TCP keep-alives keep
// long synchronous invocations alive through NATs.

const (
	// h2MinConcurrency is the concurrency from which HTTP/2 is offered.
	h2MinConcurrency = 256
	// h2HandOverWait bounds how long a dial waits for its request to be
	// handed a new HTTP/2 connection before going ahead (see acquire).
	h2HandOverWait = 250 * time.Millisecond
	// h2StreamsPerConn is the number of requests planned per HTTP/2
	// connection: below the 100 streams Go's client assumes until the
	// server's settings arrive (and RFC 9113's recommended minimum), and
	// below Lambda's reported 128, so that a shard's load fits on one
	// connection with room to spare for streams still closing.
	h2StreamsPerConn = 80
)

// dialsInFlight is how many dials to one host may run at once for a client
// of the given concurrency on procs CPUs (GOMAXPROCS): a sixteenth of the
// concurrency, at least 4 per CPU, at most 64. That is enough to open C
// connections quickly over a real network (where a handshake takes round
// trips, not CPU), few enough that a burst on a busy machine opens
// connections one after another instead of all at the end.
func dialsInFlight(concurrency, procs int) int {
	return min(max(concurrency/16, 4*procs), 64)
}

// newHTTPClient builds the client used when Config.HTTPClient is nil,
// following the transport policy above: no overall timeout (a synchronous
// invocation may legitimately take 15 minutes; each attempt has its own
// deadline), idle pools the size of the concurrency, paced dials, the AWS
// configuration's CA bundle trusted, and redirects never followed. What it
// allocates up front does not depend on the concurrency: transports are
// made as the load needs them.
func newHTTPClient(awsCfg *aws.Config, concurrency int) *http.Client {
	slots := &dialSlots{limit: dialsInFlight(concurrency, runtime.GOMAXPROCS(0))}
	tlsCfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		RootCAs:            sdkRootCAs(awsCfg),
		NextProtos:         []string{"http/1.1"},
		ClientSessionCache: tls.NewLRUClientSessionCache(0),
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	shards := 1
	if concurrency >= h2MinConcurrency {
		tlsCfg.NextProtos = []string{"h2", "http/1.1"}
		protocols.SetHTTP2(true)
		shards = (concurrency + h2StreamsPerConn - 1) / h2StreamsPerConn
	}
	newTransport := func() *http.Transport {
		d := &pacedDialer{
			dialer: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
			// Each transport amends its own copy (net/http adds to
			// NextProtos); the session cache stays shared.
			tls:              tlsCfg.Clone(),
			handshakeTimeout: 10 * time.Second,
			slots:            slots,
		}
		return &http.Transport{
			Proxy:          http.ProxyFromEnvironment,
			DialContext:    d.dialContext,
			DialTLSContext: d.dialTLSContext, // not used through a proxy: the transport then dials the proxy with DialContext and does TLS itself
			// The handshake through a proxy uses this configuration.
			TLSClientConfig:       d.tls,
			TLSHandshakeTimeout:   d.handshakeTimeout,
			Protocols:             protocols,
			MaxIdleConns:          0, // no overall limit; the per-host limit governs
			MaxIdleConnsPerHost:   concurrency,
			MaxConnsPerHost:       0, // a cap would cap concurrency
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: 0,
		}
	}
	if shards == 1 {
		return &http.Client{Transport: newTransport(), CheckRedirect: refuseRedirect}
	}
	return &http.Client{Transport: newShardedTransport(shards, newTransport), CheckRedirect: refuseRedirect}
}

// withoutRedirects returns a shallow copy of a caller's client that never
// follows redirects, leaving the caller's client as it was.
func withoutRedirects(c *http.Client) *http.Client {
	cp := *c
	cp.CheckRedirect = refuseRedirect
	return &cp
}

// refuseRedirect makes an http.Client return a redirect as the response
// instead of following it. Lambda never redirects an Invoke; following one
// would re-send the payload and the session token to wherever the
// redirect points, and a redirect to another function's path would invoke
// that function on the strength of the original request.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// shardedTransport spreads requests over up to max transports, each to the
// one with the fewest requests in flight, so that none carries more than
// ⌈C/max⌉ at once (within one HTTP/2 connection's stream limit). The
// transports are made as they are first needed: a new one only when every
// one made so far has requests in flight, which is where picking among all
// max of them would have gone (the first idle one). So its memory follows
// the load, not the concurrency. It is safe for concurrent use.
type shardedTransport struct {
	max          int
	newTransport func() *http.Transport
	mu           sync.Mutex               // serialises growth
	shards       atomic.Pointer[[]*shard] // the shards made so far, never empty; replaced, never modified, when it grows
}

// shard is one transport of a shardedTransport and its load.
type shard struct {
	t    *http.Transport
	load atomic.Int32 // requests in flight, until their body is closed
}

func newShardedTransport(maxShards int, newTransport func() *http.Transport) *shardedTransport {
	st := &shardedTransport{max: maxShards, newTransport: newTransport}
	first := []*shard{{t: newTransport()}}
	st.shards.Store(&first)
	return st
}

func (st *shardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := st.pick()
	s.load.Add(1)
	resp, err := s.t.RoundTrip(req)
	if err != nil {
		s.load.Add(-1)
		return nil, err
	}
	resp.Body = &shardBody{ReadCloser: resp.Body, load: &s.load}
	return resp, nil
}

// pick returns the shard with the fewest requests in flight, the first of
// them on a tie; it makes a new shard when all are busy and fewer than max
// exist.
func (st *shardedTransport) pick() *shard {
	for {
		shards := *st.shards.Load()
		best, bestLoad := shards[0], shards[0].load.Load()
		for _, s := range shards[1:] {
			if l := s.load.Load(); l < bestLoad {
				best, bestLoad = s, l
			}
		}
		if bestLoad == 0 || len(shards) >= st.max {
			return best
		}
		if s := st.grow(len(shards)); s != nil {
			return s
		}
		// Another request added a shard meanwhile: look again.
	}
}

// grow adds a shard if there are still seen shards, and returns it; or nil
// if another request has added one since.
func (st *shardedTransport) grow(seen int) *shard {
	st.mu.Lock()
	defer st.mu.Unlock()
	shards := *st.shards.Load()
	if len(shards) != seen {
		return nil
	}
	s := &shard{t: st.newTransport()}
	grown := append(shards[:len(shards):len(shards)], s)
	st.shards.Store(&grown)
	return s
}

// CloseIdleConnections closes the idle connections of every shard.
func (st *shardedTransport) CloseIdleConnections() {
	for _, s := range *st.shards.Load() {
		s.t.CloseIdleConnections()
	}
}

// shardBody is a response body that counts its request out of its shard's
// load when closed (an HTTP/2 stream ends then).
type shardBody struct {
	io.ReadCloser
	load   *atomic.Int32
	closed atomic.Bool
}

func (b *shardBody) Close() error {
	if b.closed.CompareAndSwap(false, true) {
		b.load.Add(-1)
	}
	return b.ReadCloser.Close()
}

// dialSlots limits the dials in flight per host across a client's
// transports. It is safe for concurrent use.
type dialSlots struct {
	limit int
	mu    sync.Mutex
	sem   map[string]chan struct{} // per address: a semaphore of limit slots
}

func (ds *dialSlots) get(addr string) chan struct{} {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	sem, ok := ds.sem[addr]
	if !ok {
		if ds.sem == nil {
			ds.sem = map[string]chan struct{}{}
		}
		sem = make(chan struct{}, ds.limit)
		ds.sem[addr] = sem
	}
	return sem
}

// pacedDialer opens the connections of one transport, taking turns with
// the other transports of the client (dialSlots), and skips dials that are
// no longer needed. It is safe for concurrent use.
type pacedDialer struct {
	dialer           net.Dialer
	tls              *tls.Config
	handshakeTimeout time.Duration
	slots            *dialSlots

	mu    sync.Mutex
	hosts map[string]*hostState // per address
}

// hostState is what a pacedDialer knows of one address. Its fields are
// guarded by pacedDialer.mu.
type hostState struct {
	first chan struct{} // a one-slot semaphore until a dial succeeds, then nil
	h2At  time.Time     // when this transport last got an HTTP/2 connection
}

// errSurplusDial drops a dial whose request already has a connection. The
// transport discards the error: nobody waits for this dial any more.
var errSurplusDial = errors.New("lambdafan: dial no longer needed")

func (d *pacedDialer) host(addr string) *hostState {
	if d.hosts == nil {
		d.hosts = map[string]*hostState{}
	}
	h, ok := d.hosts[addr]
	if !ok {
		h = &hostState{first: make(chan struct{}, 1)}
		d.hosts[addr] = h
	}
	return h
}

// acquire waits for a turn to dial addr and returns its release function,
// to be called with whether the dial succeeded; or errSurplusDial when the
// request the dial is for no longer needs it.
//
// Until a dial to addr succeeds, this transport dials it one at a time:
// the first connection tells whether the host speaks HTTP/2, and if it
// does, net/http hands it to every request then waiting for a connection,
// whose own dials are then dropped (each waits, up to h2HandOverWait, for
// its request to get it). After that at most dialSlots.limit
// dials run at once, and a dial whose request got a connection meanwhile
// (HTTP/1.1: one that another request released) is dropped when its turn
// comes.
func (d *pacedDialer) acquire(ctx context.Context, addr string) (release func(ok bool), err error) {
	asked := time.Now()
	w := connWaiterFrom(ctx)
	d.mu.Lock()
	first := d.host(addr).first
	d.mu.Unlock()
	if first != nil {
		select {
		case first <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if w != nil {
		d.mu.Lock()
		h2At := d.host(addr).h2At
		d.mu.Unlock()
		if h2At.After(asked) {
			// net/http hands the new HTTP/2 connection to every request
			// that was waiting for one, this one included; failing the
			// dial before that would fail the request. It may still need
			// a connection of its own if the server allows fewer streams
			// than planned: then the dial goes ahead after a while.
			if first != nil {
				<-first
				first = nil
			}
			t := time.NewTimer(h2HandOverWait)
			defer t.Stop()
			select {
			case <-w.settledChan():
				return nil, errSurplusDial
			case <-t.C:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	sem := d.slots.get(addr)
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		if first != nil {
			<-first
		}
		return nil, ctx.Err()
	}
	release = func(ok bool) {
		<-sem
		if first != nil {
			if ok {
				d.mu.Lock()
				d.host(addr).first = nil
				d.mu.Unlock()
			}
			<-first
		}
	}
	if w != nil && w.settled() {
		release(false)
		return nil, errSurplusDial
	}
	return release, nil
}

func (d *pacedDialer) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	release, err := d.acquire(ctx, addr)
	if err != nil {
		return nil, err
	}
	conn, err := d.dialer.DialContext(ctx, network, addr)
	release(err == nil)
	return conn, err
}

// dialTLSContext dials and completes the TLS handshake in one turn, since
// the handshake is what a burst of dials competes for.
func (d *pacedDialer) dialTLSContext(ctx context.Context, network, addr string) (net.Conn, error) {
	release, err := d.acquire(ctx, addr)
	if err != nil {
		return nil, err
	}
	conn, err := d.dialTLS(ctx, network, addr)
	release(err == nil)
	return conn, err
}

func (d *pacedDialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	raw := c
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		raw.Close()
		return nil, err
	}
	cfg := d.tls
	if cfg.ServerName != host {
		cfg = cfg.Clone() // shares the session cache
		cfg.ServerName = host
	}
	hsCtx, cancel := context.WithTimeout(ctx, d.handshakeTimeout)
	defer cancel()
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(hsCtx); err != nil {
		raw.Close()
		return nil, err
	}
	if conn.ConnectionState().NegotiatedProtocol == "h2" {
		d.mu.Lock()
		d.host(addr).h2At = time.Now() // before the dial's turn ends: see acquire
		d.mu.Unlock()
	}
	return conn, nil
}

// connWaiter tracks whether the request of an attempt has been given a
// connection, or is over, so that a dial started on its behalf can be
// dropped once it is not needed. The attempt puts it in the request's
// context, whose values the transport passes on to its dials (but not its
// cancellation: net/http lets dials outlive their requests). It is safe for
// concurrent use.
type connWaiter struct {
	mu   sync.Mutex
	done bool          // the request got a connection, or is over
	ch   chan struct{} // closed when done; made only when a dial waits
}

// settle records that the request needs no dial any more.
func (w *connWaiter) settle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.done = true
		if w.ch != nil {
			close(w.ch)
		}
	}
}

func (w *connWaiter) settled() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}

// settledChan returns a channel closed once the request is settled.
func (w *connWaiter) settledChan() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ch == nil {
		w.ch = make(chan struct{})
		if w.done {
			close(w.ch)
		}
	}
	return w.ch
}

type connWaiterKey struct{}

func withConnWaiter(ctx context.Context, w *connWaiter) context.Context {
	return context.WithValue(ctx, connWaiterKey{}, w)
}

func connWaiterFrom(ctx context.Context) *connWaiter {
	w, _ := ctx.Value(connWaiterKey{}).(*connWaiter)
	return w
}

// sdkRootCAs returns the custom CA bundle the SDK config loader installed
// (from AWS_CA_BUNDLE or a profile's ca_bundle), or nil for the system
// roots. The loader puts it on the SDK's own HTTP client; lambdafan reads it
// from there rather than parsing the bundle a second way.
func sdkRootCAs(awsCfg *aws.Config) *x509.CertPool {
	if awsCfg == nil {
		return nil
	}
	bc, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		return nil
	}
	if tc := bc.GetTransport().TLSClientConfig; tc != nil {
		return tc.RootCAs
	}
	return nil
}
