package lambdafan

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// testAWSConfig is an AWS config with fixed credentials, a session token
// included, for tests against httptest servers.
func testAWSConfig() aws.Config {
	return aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "SESSIONTOKEN-d2f1c9e7")}
}

// responseSize is an answer's body size and framing, and whether the
// client must refuse it as too large.
type responseSize struct {
	name          string
	size          int
	contentLength bool
	wantTooLarge  bool
}

// responseSizes are the answers at and over Lambda's response limit.
func responseSizes() []responseSize {
	return []responseSize{
		{"chunked at the limit", maxResponseBytes, false, false},
		{"chunked over the limit", maxResponseBytes + 1, false, true},
		{"chunked far over the limit", 2 * maxResponseBytes, false, true},
		{"Content-Length at the limit", maxResponseBytes, true, false},
		{"Content-Length over the limit", maxResponseBytes + 1, true, true},
	}
}

// TestClient_ResponseBodyLimit: a body over Lambda's limit is an error,
// never a truncated success; one that announces its length is not read.
func TestClient_ResponseBodyLimit(t *testing.T) {
	tests := responseSizes()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("x"), tt.size)
			body[0], body[len(body)-1] = '"', '"'
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000003")
				w.Header().Set("X-Amz-Executed-Version", "$LATEST")
				if !tt.contentLength {
					// Without a Content-Length, and flushed before the
					// body, the answer is chunked.
					w.WriteHeader(http.StatusOK)
					w.(http.Flusher).Flush()
					w.Write(body)
					return
				}
				w.Header().Set("Content-Length", strconv.Itoa(tt.size))
				if !tt.wantTooLarge {
					w.Write(body)
					return
				}
				// Announce the length, then send nothing: a client that
				// reads the body waits until its attempt times out.
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}))
			t.Cleanup(srv.Close)
			c, err := New(Config{AWS: testAWSConfig(), EndpointURL: srv.URL, AttemptTimeout: 10 * time.Second, MaxAttempts: 2, RetryUnsafe: true})
			if err != nil {
				t.Fatal(err)
			}
			r := c.Invoke(t.Context(), Request{FunctionName: "f"})
			if !tt.wantTooLarge {
				if r.Err != nil || len(r.Payload) != tt.size {
					t.Fatalf("err %v, payload of %d bytes; want %d bytes", r.Err, len(r.Payload), tt.size)
				}
				return
			}
			var te *TransportError
			if !errors.Is(r.Err, ErrResponseTooLarge) || !errors.As(r.Err, &te) || !te.Sent {
				t.Fatalf("err %v, want a *TransportError{Sent: true} wrapping ErrResponseTooLarge", r.Err)
			}
			if r.OK() || r.Payload != nil || r.Attempts != 1 || r.StatusCode != 200 || r.RequestID == "" {
				t.Errorf("result %+v (payload of %d bytes)", r, len(r.Payload))
			}
		})
	}
}
