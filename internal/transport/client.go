// Package transport is lambdafan's HTTP transport policy for fan-outs:
// the http.Client its Client uses unless the caller supplies one, and the
// Waiter an attempt hands it so that dials its request no longer needs are
// dropped. The policy was measured with go run ./bench (docs/BENCHMARKS.md).
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
package transport

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"runtime"
	"time"
)

const (
	// h2MinConcurrency is the concurrency from which HTTP/2 is offered.
	h2MinConcurrency = 256
	// h2HandOverWait bounds how long a dial waits for its request to be
	// handed a new HTTP/2 connection before going ahead (see acquire).
	h2HandOverWait = 250 * time.Millisecond
	// StreamsPerConn is the number of requests planned per HTTP/2
	// connection: below the 100 streams Go's client assumes until the
	// server's settings arrive (and RFC 9113's recommended minimum), and
	// below Lambda's reported 128, so that a shard's load fits on one
	// connection with room to spare for streams still closing.
	StreamsPerConn = 80
)

// DialsInFlight is how many dials to one host may run at once for a client
// of the given concurrency on procs CPUs (GOMAXPROCS): a sixteenth of the
// concurrency, at least 4 per CPU, at most 64. That is enough to open C
// connections quickly over a real network (where a handshake takes round
// trips, not CPU), few enough that a burst on a busy machine opens
// connections one after another instead of all at the end.
func DialsInFlight(concurrency, procs int) int {
	return min(max(concurrency/16, 4*procs), 64)
}

// NewClient builds the client for a fan-out of the given concurrency,
// following the policy above: no overall timeout (a synchronous invocation
// may legitimately take 15 minutes; each attempt has its own deadline),
// idle pools the size of the concurrency, paced dials, roots trusted (nil:
// the system's), and redirects never followed. What it
// allocates up front does not depend on the concurrency: transports are
// made as the load needs them.
func NewClient(concurrency int, roots *x509.CertPool) *http.Client {
	slots := &dialSlots{limit: DialsInFlight(concurrency, runtime.GOMAXPROCS(0))}
	tlsCfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		RootCAs:            roots,
		NextProtos:         []string{"http/1.1"},
		ClientSessionCache: tls.NewLRUClientSessionCache(0),
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	shards := 1
	if concurrency >= h2MinConcurrency {
		tlsCfg.NextProtos = []string{"h2", "http/1.1"}
		protocols.SetHTTP2(true)
		shards = (concurrency + StreamsPerConn - 1) / StreamsPerConn
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

// WithoutRedirects returns a shallow copy of a caller's client that never
// follows redirects, leaving the caller's client as it was.
func WithoutRedirects(c *http.Client) *http.Client {
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
