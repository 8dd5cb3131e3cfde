package lambdafan

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// benchPayload is a typical small event, as in the bench harness.
var benchPayload = []byte(`{"data":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)

func newBenchClient(b *testing.B, endpoint string) *Client {
	b.Helper()
	c, err := New(Config{
		AWS:         aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")},
		EndpointURL: endpoint,
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkPrepare measures validating a request and computing what all its
// attempts share: the URL, the body and its SHA-256.
func BenchmarkPrepare(b *testing.B) {
	c := newBenchClient(b, "")
	req := Request{FunctionName: "my-function", Payload: benchPayload}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.prepare(b.Context(), &req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewRequest measures building and SigV4-signing one attempt's
// HTTP request.
func BenchmarkNewRequest(b *testing.B) {
	c := newBenchClient(b, "")
	p, err := c.prepare(b.Context(), &Request{FunctionName: "my-function", Payload: benchPayload})
	if err != nil {
		b.Fatal(err)
	}
	creds, err := c.credentials.Retrieve(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.newRequest(b.Context(), p, creds); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInvoke measures whole invocations, one at a time, against a
// loopback endpoint that echoes the payload.
func BenchmarkInvoke(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["X-Amzn-Requestid"] = []string{"00000000-0000-4000-8000-000000000001"}
		w.Write(benchPayload)
	}))
	defer srv.Close()
	c := newBenchClient(b, srv.URL)
	req := Request{FunctionName: "my-function", Payload: benchPayload}
	b.ReportAllocs()
	for b.Loop() {
		if r := c.invoke(b.Context(), nil, 0, &req); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "invokes/s")
}
