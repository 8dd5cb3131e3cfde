package execenv_test

import (
	"cmp"
	"context"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan/emulator/internal/execenv"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// BenchmarkPool_ColdStart starts a fresh execution environment of an
// aws-lambda-go handler per iteration and measures spawn to first
// response (ms/coldstart, the metric to compare with the ≤ 10 ms target)
// and spawn to first /next (init-ms, what REPORT lines show as Init
// Duration). ns/op also includes shutting the environment down.
func BenchmarkPool_ColdStart(b *testing.B) {
	cfg := execenv.Config{Function: "cold", Command: []string{runtimeHandler(b)}, MemorySize: 128, Region: "us-east-1"}
	b.ReportAllocs()
	var total, initTotal time.Duration
	n := 0
	for b.Loop() {
		p, err := execenv.NewPool(cfg)
		if err != nil {
			b.Fatal(err)
		}
		inv := &execenv.Invocation{RequestID: lambdaapi.NewRequestID(), Payload: []byte(`{}`), Deadline: time.Now().Add(10 * time.Second), Log: io.Discard}
		start := time.Now()
		out := p.Invoke(context.Background(), inv)
		total += time.Since(start)
		initTotal += out.InitDuration
		n++
		if out.Error || out.InitDuration == 0 {
			b.Fatalf("cold invocation: error=%v init=%v payload=%s", out.Error, out.InitDuration, out.Payload)
		}
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)/float64(n)/float64(time.Millisecond), "ms/coldstart")
	b.ReportMetric(float64(initTotal)/float64(n)/float64(time.Millisecond), "init-ms")
}

// BenchmarkPool_Concurrency50 runs the handler that sleeps 10 ms in 50
// warm environments, calling the pool directly: the Runtime API path
// without the Invoke API's HTTP, signing and client costs. Sub-benchmarks
// vary the handler processes' GOMAXPROCS.
func BenchmarkPool_Concurrency50(b *testing.B) {
	for _, procs := range []string{"", "1"} {
		b.Run("GOMAXPROCS="+cmp.Or(procs, "default"), func(b *testing.B) { benchPool(b, procs) })
	}
}

func benchPool(b *testing.B, procs string) {
	const concurrency = 50
	cfg := execenv.Config{Function: "sleepy", Command: []string{runtimeHandler(b)}, MemorySize: 128, Region: "us-east-1"}
	if procs != "" {
		cfg.Environment = map[string]string{"GOMAXPROCS": procs}
	}
	p, err := execenv.NewPool(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	invoke := func(payload []byte) execenv.Output {
		inv := &execenv.Invocation{RequestID: lambdaapi.NewRequestID(), Payload: payload, Deadline: time.Now().Add(3 * time.Second), Log: io.Discard}
		ctx, cancel := context.WithDeadline(context.Background(), inv.Deadline)
		defer cancel()
		return p.Invoke(ctx, inv)
	}
	// 50 overlapping invocations start the 50 environments.
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() { invoke([]byte(`{"action":"sleep","ms":300}`)) })
	}
	wg.Wait()
	payload := []byte(`{"action":"sleep","ms":10}`)
	// RunParallel rather than b.Loop: the point is 50 callers at once.
	b.SetParallelism((concurrency + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if out := invoke(payload); out.Error {
				b.Errorf("invoke: %s", out.Payload)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "invokes/s")
}
