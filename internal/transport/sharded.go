package transport

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

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
