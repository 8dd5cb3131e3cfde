package lambdafan

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// payloadServer answers every Invoke with body: with a Content-Length
// (cut short after half the body when cut is set) or chunked.
func payloadServer(t *testing.T, body []byte, contentLength, cut bool) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000004")
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		if contentLength {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		}
		w.WriteHeader(http.StatusOK)
		if cut {
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // close the connection mid-body
		}
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{AWS: testAWSConfig(), EndpointURL: srv.URL, AttemptTimeout: 10 * time.Second, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func quotedBody(size int) []byte {
	b := bytes.Repeat([]byte("x"), size)
	b[0], b[len(b)-1] = '"', '"'
	return b
}

// into returns a PayloadWriter that writes into buf, emptied first.
func into(buf *bytes.Buffer) func(Result) (io.Writer, error) {
	return func(Result) (io.Writer, error) {
		buf.Reset()
		return buf, nil
	}
}

// TestPayloadWriter_limits: a payload going to a PayloadWriter is held to
// the same size limit as one kept in the Result.
func TestPayloadWriter_limits(t *testing.T) {
	for _, tt := range responseSizes() {
		t.Run(tt.name, func(t *testing.T) {
			body := quotedBody(tt.size)
			c := payloadServer(t, body, tt.contentLength, false)
			var got bytes.Buffer
			r := c.Invoke(t.Context(), Request{FunctionName: "f", PayloadWriter: into(&got)})
			if !tt.wantTooLarge {
				if r.Err != nil || !bytes.Equal(got.Bytes(), body) || r.Payload != nil {
					t.Fatalf("err %v, writer got %d bytes, payload %d bytes; want the %d bytes in the writer", r.Err, got.Len(), len(r.Payload), tt.size)
				}
				return
			}
			var te *TransportError
			if !errors.Is(r.Err, ErrResponseTooLarge) || !errors.As(r.Err, &te) || !te.Sent || errors.Is(r.Err, ErrPayloadWrite) {
				t.Fatalf("err %v, want a *TransportError{Sent: true} wrapping ErrResponseTooLarge", r.Err)
			}
		})
	}
}

// TestPayloadWriter_cutShort: a body that ends early is a transport error,
// not the writer's.
func TestPayloadWriter_cutShort(t *testing.T) {
	c := payloadServer(t, quotedBody(1<<20), true, true)
	var got bytes.Buffer
	r := c.Invoke(t.Context(), Request{FunctionName: "f", PayloadWriter: into(&got)})
	var te *TransportError
	if !errors.As(r.Err, &te) || !te.Sent || errors.Is(r.Err, ErrPayloadWrite) || errors.Is(r.Err, ErrResponseTooLarge) {
		t.Fatalf("err %v, want a *TransportError{Sent: true} that is not ErrPayloadWrite", r.Err)
	}
}

// TestPayloadWriter_noWholeCopy: a buffered payload goes from the
// connection to a writer that reads (here a bytes.Buffer with room) without
// being held whole in memory on the way.
func TestPayloadWriter_noWholeCopy(t *testing.T) {
	const size = 4 << 20
	body := quotedBody(size)
	c := payloadServer(t, body, true, false)
	var got bytes.Buffer
	got.Grow(2 * size)
	w := into(&got)
	if r := c.Invoke(t.Context(), Request{FunctionName: "f", PayloadWriter: w}); r.Err != nil { // warm the connection
		t.Fatal(r.Err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := c.Invoke(t.Context(), Request{FunctionName: "f", PayloadWriter: w})
	runtime.ReadMemStats(&after)
	if r.Err != nil || !bytes.Equal(got.Bytes(), body) {
		t.Fatalf("err %v, writer got %d bytes", r.Err, got.Len())
	}
	// The server's side allocates nothing in proportion either.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Errorf("invoking with a %d-byte payload allocated %d bytes; want far less than the payload", size, alloc)
	}
}
