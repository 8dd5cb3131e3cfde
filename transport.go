package lambdafan

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
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
// HTTP/1.1 only, one connection per request in flight. Go's HTTP/2 client
// costs markedly more CPU per request than HTTP/1.1, and an HTTP/2
// connection carries at most the server's stream limit (Lambda reportedly
// allows 128), so a fan-out wider than that needs several connections
// anyway. HTTP/1.1 with an idle pool as large as the concurrency reuses
// every connection once it is open, and never caps concurrency: the number
// of connections per host is unlimited.
//
// What HTTP/1.1 must avoid is the handshake storm of a burst: C requests
// arriving at once each start their own TLS handshake, all compete for the
// CPU, none finishes early, and most requests that later find a connection
// freed by a finished one still complete a dial nobody needs. So dials are
// paced and pruned:
//
//   - at most dialsInFlight(C) dials per host run at once (a dial is a TCP
//     connect plus, for https, the TLS handshake); the rest wait their turn,
//     first come first served;
//   - a dial whose request has meanwhile been handed a connection that
//     another request released is dropped before it starts;
//   - TLS sessions are resumed (a shared client session cache), so
//     handshakes after the first ones skip certificate verification.
//
// Connections idle for IdleConnTimeout are closed; TCP keep-alives keep
// long synchronous invocations alive through NATs.

// dialsInFlight is how many dials to one host may run at once for a client
// of the given concurrency: enough to open C connections quickly over a
// real network (where a handshake takes round trips, not CPU), few enough
// that a burst on a busy machine opens connections one after another
// instead of all at the end.
func dialsInFlight(concurrency int) int {
	return min(max(concurrency/16, 4*runtime.GOMAXPROCS(0)), 64)
}

// newHTTPClient builds the client used when Config.HTTPClient is nil,
// following the transport policy above: no overall timeout (a synchronous
// invocation may legitimately take 15 minutes; each attempt has its own
// deadline), an idle pool the size of the concurrency, paced dials, and
// the AWS configuration's CA bundle trusted.
func newHTTPClient(awsCfg *aws.Config, concurrency int) *http.Client {
	d := &pacedDialer{
		dialer: net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
		tls: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			RootCAs:            sdkRootCAs(awsCfg),
			NextProtos:         []string{"http/1.1"},
			ClientSessionCache: tls.NewLRUClientSessionCache(0),
		},
		handshakeTimeout: 10 * time.Second,
		limit:            dialsInFlight(concurrency),
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	t := &http.Transport{
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
	return &http.Client{Transport: t}
}

// pacedDialer opens connections for the transport, at most limit per host
// at a time, skipping dials that are no longer needed. It is safe for
// concurrent use.
type pacedDialer struct {
	dialer           net.Dialer
	tls              *tls.Config
	handshakeTimeout time.Duration
	limit            int

	mu    sync.Mutex
	slots map[string]chan struct{} // per address: a semaphore of limit slots
}

// errSurplusDial drops a dial whose request already has a connection. The
// transport discards the error: nobody waits for this dial any more.
var errSurplusDial = errors.New("lambdafan: dial no longer needed")

// acquire waits for a dial slot for addr and returns its release function.
func (d *pacedDialer) acquire(ctx context.Context, addr string) (release func(), err error) {
	d.mu.Lock()
	sem, ok := d.slots[addr]
	if !ok {
		if d.slots == nil {
			d.slots = map[string]chan struct{}{}
		}
		sem = make(chan struct{}, d.limit)
		d.slots[addr] = sem
	}
	d.mu.Unlock()
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if w := connWaiterFrom(ctx); w != nil && w.gotConn.Load() {
		<-sem
		return nil, errSurplusDial
	}
	return func() { <-sem }, nil
}

func (d *pacedDialer) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	release, err := d.acquire(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer release()
	return d.dialer.DialContext(ctx, network, addr)
}

// dialTLSContext dials and completes the TLS handshake inside one slot,
// since the handshake is what a burst of dials competes for.
func (d *pacedDialer) dialTLSContext(ctx context.Context, network, addr string) (net.Conn, error) {
	release, err := d.acquire(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer release()
	raw, err := d.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
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
	return conn, nil
}

// connWaiter tracks whether the request of an attempt has been given a
// connection, so that a dial started on its behalf can be dropped once it
// has one. The attempt puts it in the request's context (whose values the
// transport passes on to its dials).
type connWaiter struct {
	gotConn atomic.Bool
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
