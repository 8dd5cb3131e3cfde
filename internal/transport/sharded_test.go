package transport

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

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
