package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

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
var errSurplusDial = errors.New("dial no longer needed")

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
	w := waiterFrom(ctx)
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
