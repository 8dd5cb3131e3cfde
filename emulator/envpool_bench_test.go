package emulator_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// BenchmarkCommand_Concurrency50 invokes a real aws-lambda-go handler that
// sleeps 10 ms, 50 invocations at a time, through the whole HTTP path: the
// client signs each call, the emulator verifies it, hands the event to one
// of 50 warm processes over the Runtime API and answers with the
// process's response. The ideal is 5,000 invokes/s (50 / 10 ms); on a
// small machine the CPU cost per invocation (client, emulator and handler
// process together) decides how close it gets.
//
// Sub-benchmarks vary the client — the AWS SDK's Lambda client, or a lean
// net/http client signing with the SDK's v4.Signer, as lambdafan's own
// client does — and the handler processes' GOMAXPROCS (the Go default, or
// 1 through the function's Environment).
func BenchmarkCommand_Concurrency50(b *testing.B) {
	for _, client := range []string{"sdk", "signed-http"} {
		for _, procs := range []string{"", "1"} {
			name := fmt.Sprintf("client=%s/GOMAXPROCS=%s", client, cmp.Or(procs, "default"))
			b.Run(name, func(b *testing.B) { benchConcurrency50(b, client, procs) })
		}
	}
}

func benchConcurrency50(b *testing.B, client, procs string) {
	const concurrency = 50
	fn := emulator.Function{Name: "sleepy", Command: []string{emulator.RuntimeHandlerBinary(b)}}
	if procs != "" {
		fn.Environment = map[string]string{"GOMAXPROCS": procs}
	}
	srv := emulatortest.New(b, emulator.Config{Functions: []emulator.Function{fn}})
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 2 * concurrency
		t.MaxIdleConnsPerHost = 2 * concurrency
	})
	invoke := sdkInvoker(srv, hc)
	if client == "signed-http" {
		invoke = signedHTTPInvoker(srv, hc)
	}

	var failures atomic.Int64
	call := func(payload []byte) {
		if err := invoke(payload); err != nil && failures.Add(1) == 1 {
			b.Errorf("invoke: %v", err)
		}
	}
	// Start the 50 environments (and connections) before measuring: long
	// invocations overlap, so each round adds environments until there
	// are 50.
	for round := 0; srv.Stats().ColdStarts < concurrency && round < 5; round++ {
		var wg sync.WaitGroup
		for range concurrency {
			wg.Go(func() { call([]byte(`{"action":"sleep","ms":200}`)) })
		}
		wg.Wait()
	}
	cold := srv.Stats().ColdStarts

	payload := []byte(`{"action":"sleep","ms":10}`)
	// RunParallel rather than b.Loop: the point is 50 callers at once.
	// It starts parallelism × GOMAXPROCS goroutines.
	b.SetParallelism((concurrency + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			call(payload)
		}
	})
	elapsed := time.Since(start)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "invokes/s")
	b.ReportMetric(float64(failures.Load()), "errors")
	if extra := srv.Stats().ColdStarts - cold; extra > 0 {
		b.Logf("%d cold starts while measuring", extra)
	}
}

// sdkInvoker calls the function with the AWS SDK's Lambda client.
func sdkInvoker(srv *emulatortest.Server, hc aws.HTTPClient) func([]byte) error {
	cfg := srv.AWSConfig()
	cfg.HTTPClient = hc
	c := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
	return func(payload []byte) error {
		out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("sleepy"), Payload: payload})
		if err != nil {
			return err
		}
		if out.FunctionError != nil {
			return fmt.Errorf("function error: %s", out.Payload)
		}
		return nil
	}
}

// signedHTTPInvoker calls the function with plain net/http, signing each
// request with the SDK's SigV4 signer.
func signedHTTPInvoker(srv *emulatortest.Server, hc *awshttp.BuildableClient) func([]byte) error {
	url := srv.URL + "/2015-03-31/functions/sleepy/invocations"
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}
	return func(payload []byte) error {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(payload)
		if err := signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "lambda", emulatortest.Region, time.Now()); err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
			return fmt.Errorf("status %d %s: %s", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), body)
		}
		return nil
	}
}
