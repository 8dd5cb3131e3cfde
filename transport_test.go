package lambdafan

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
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
	d := &pacedDialer{limit: 2}
	ctx := t.Context()
	r1, err := d.acquire(ctx, "a:443")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := d.acquire(ctx, "a:443")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := d.acquire(ctx, "b:443"); err != nil { // other hosts have their own slots
		t.Fatal(err)
	} else {
		r()
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.acquire(done, "a:443"); !errors.Is(err, context.Canceled) {
		t.Fatalf("third concurrent dial: err %v, want to wait (and see the context cancelled)", err)
	}
	r1()
	r3, err := d.acquire(ctx, "a:443")
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r3()

	w := &connWaiter{}
	w.gotConn.Store(true)
	for range 3 { // a surplus dial gives its slot back
		if _, err := d.acquire(withConnWaiter(ctx, w), "a:443"); !errors.Is(err, errSurplusDial) {
			t.Fatalf("dial for a request that has a connection: err %v, want errSurplusDial", err)
		}
	}
}

func TestDialsInFlight(t *testing.T) {
	for _, c := range []int{1, 64, 1000, 100000} {
		if n := dialsInFlight(c); n < 1 || n > 64 {
			t.Errorf("dialsInFlight(%d) = %d, want 1..64", c, n)
		}
	}
}
