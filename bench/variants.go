package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// The in-process client variants. Each one invokes the function "bench" n
// times, c at a time, with the same payload, and returns how many calls
// failed (an error, or a response that is not the payload echoed back).
var variants = map[string]func(ctx context.Context, j job) (failed int64, err error){
	"lambdafan": func(ctx context.Context, j job) (int64, error) { return runLambdafan(ctx, j, false) },
	// lambdafan-writer hands each payload to a PayloadWriter that reads it
	// into a pooled buffer, as raw-signed does, instead of a new slice per
	// Result: how a caller that does not keep the payloads avoids their
	// garbage.
	"lambdafan-writer": func(ctx context.Context, j job) (int64, error) { return runLambdafan(ctx, j, true) },
	"sdk-default":      func(ctx context.Context, j job) (int64, error) { return runSDK(ctx, j, false) },
	"sdk-tuned":        func(ctx context.Context, j job) (int64, error) { return runSDK(ctx, j, true) },
	"raw":              runRaw,
	"raw-signed":       runRawSigned,
}

// job is one client run.
type job struct {
	url     string
	n, c    int
	payload []byte
}

const (
	benchRegion   = "us-east-1"
	benchFunction = "bench"
	benchKeyID    = "AKIAIOSFODNN7EXAMPLE"
	benchSecret   = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// runLambdafan streams the requests through the library's Client, which
// loads the AWS configuration (and so AWS_CA_BUNDLE) itself.
func runLambdafan(ctx context.Context, j job, pooled bool) (int64, error) {
	c, err := lambdafan.NewDefault(ctx, lambdafan.Config{EndpointURL: j.url, Concurrency: j.c},
		config.WithRegion(benchRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(benchKeyID, benchSecret, "")))
	if err != nil {
		return 0, err
	}
	var bufs sync.Pool
	var mu sync.Mutex
	received := map[string]*bytes.Buffer{} // by request ID, with pooled
	reqs := func(yield func(lambdafan.Request) bool) {
		for i := range j.n {
			req := lambdafan.Request{FunctionName: benchFunction, Payload: j.payload}
			if pooled {
				req.ID = strconv.Itoa(i)
				req.PayloadWriter = func(lambdafan.Result) (io.Writer, error) {
					buf, _ := bufs.Get().(*bytes.Buffer)
					if buf == nil {
						buf = new(bytes.Buffer)
					}
					buf.Reset()
					mu.Lock()
					received[req.ID] = buf
					mu.Unlock()
					return buf, nil
				}
			}
			if !yield(req) {
				return
			}
		}
	}
	var failed int64
	for r := range c.Stream(ctx, iter.Seq[lambdafan.Request](reqs)) {
		payload := r.Payload
		var buf *bytes.Buffer
		if pooled {
			mu.Lock()
			buf = received[r.ID]
			delete(received, r.ID)
			mu.Unlock()
			if buf != nil {
				payload = buf.Bytes()
			}
		}
		if r.Err != nil || !bytes.Equal(payload, j.payload) {
			failed++
		}
		if buf != nil {
			bufs.Put(buf)
		}
	}
	return failed, nil
}

// runSDK calls the AWS SDK's Lambda client from c goroutines: with the
// SDK's default configuration, or tuned for fan-out (idle pool sized to
// the concurrency, client-side retry quota disabled).
func runSDK(ctx context.Context, j job, tuned bool) (int64, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(benchRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(benchKeyID, benchSecret, "")),
	}
	if tuned {
		hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = j.c
		})
		opts = append(opts,
			config.WithHTTPClient(hc),
			config.WithRetryer(func() aws.Retryer {
				return retry.NewStandard(func(o *retry.StandardOptions) { o.RateLimiter = ratelimit.None })
			}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return 0, err
	}
	client := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(j.url) })
	in := &lambda.InvokeInput{FunctionName: aws.String(benchFunction), Payload: j.payload}
	return fanOut(j.n, j.c, func() bool {
		out, err := client.Invoke(ctx, in)
		return err == nil && bytes.Equal(out.Payload, j.payload)
	}), nil
}

// runRaw is the ceiling: unsigned POSTs over a net/http Transport with an
// idle pool sized to the concurrency, reading each body into a reused
// buffer.
func runRaw(ctx context.Context, j job) (int64, error) {
	client, err := rawClient(j.c)
	if err != nil {
		return 0, err
	}
	url := j.url + lambdaapi.InvokePath(benchFunction)
	var bufs sync.Pool
	return fanOut(j.n, j.c, func() bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(j.payload))
		if err != nil {
			return false
		}
		req.Header.Set("Content-Type", "application/json")
		return sendAndCheck(client, req, j.payload, &bufs)
	}), nil
}

// runRawSigned is the signed baseline: what a straightforward fan-out
// client costs once it signs as Lambda requires. It is raw plus, per
// request, the SHA-256 of the body (hex, as SigV4's payload hash) and the
// SDK's v4 signer's SignHTTP; no retries, no limits.
func runRawSigned(ctx context.Context, j job) (int64, error) {
	client, err := rawClient(j.c)
	if err != nil {
		return 0, err
	}
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: benchKeyID, SecretAccessKey: benchSecret, Source: "bench"}
	url := j.url + lambdaapi.InvokePath(benchFunction)
	var bufs sync.Pool
	return fanOut(j.n, j.c, func() bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(j.payload))
		if err != nil {
			return false
		}
		req.Header.Set("Content-Type", "application/json")
		sum := sha256.Sum256(j.payload)
		if err := signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), lambdaapi.SigningName, benchRegion, time.Now()); err != nil {
			return false
		}
		return sendAndCheck(client, req, j.payload, &bufs)
	}), nil
}

// rawClient is the net/http client of the raw variants: a clone of the
// default transport with an idle pool sized to the concurrency, trusting
// AWS_CA_BUNDLE when set.
func rawClient(concurrency int) (*http.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = concurrency
	if path := os.Getenv("AWS_CA_BUNDLE"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no certificates in %s", path)
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: t}, nil
}

// sendAndCheck sends req and reports whether the answer is 200 with want
// echoed, reading the body into a pooled buffer.
func sendAndCheck(client *http.Client, req *http.Request, want []byte, bufs *sync.Pool) bool {
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	buf, _ := bufs.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	ok := err == nil && resp.StatusCode == http.StatusOK && bytes.Equal(buf.Bytes(), want)
	bufs.Put(buf)
	return ok
}

// fanOut makes n calls from c goroutines and returns how many failed.
func fanOut(n, c int, call func() bool) int64 {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if !call() {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return failed.Load()
}
