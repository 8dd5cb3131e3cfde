package emulator

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// testHandlers builds the aws-lambda-go handlers in testdata once per test
// binary; TestMain removes them.
type testHandlers struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// builtHandlers belongs to this test binary only; TestMain cleans it up.
var builtHandlers testHandlers

func TestMain(m *testing.M) {
	code := m.Run()
	if builtHandlers.dir != "" {
		_ = os.RemoveAll(builtHandlers.dir)
	}
	os.Exit(code)
}

// RuntimeHandlerBinary returns the path of testdata/runtimehandler built as
// a Lambda "bootstrap" (with -tags lambda.norpc, as for provided.al2023),
// building it on first use. Tests of package emulator_test use it too.
func RuntimeHandlerBinary(tb testing.TB) string {
	tb.Helper()
	h := &builtHandlers
	h.once.Do(func() {
		h.dir, h.err = os.MkdirTemp("", "lambdafan-emulator-test-")
		if h.err != nil {
			return
		}
		h.path = filepath.Join(h.dir, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", h.path, "./testdata/runtimehandler")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			h.err = &buildError{err: err, output: string(out)}
		}
	})
	if h.err != nil {
		tb.Fatalf("build test handler: %v", h.err)
	}
	return h.path
}

type buildError struct {
	err    error
	output string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.output }

// BenchmarkEnvPool_ColdStart starts a fresh execution environment of an
// aws-lambda-go handler per iteration and measures spawn to first
// response (ms/coldstart, the metric to compare with the ≤ 10 ms target)
// and spawn to first /next (init-ms, what REPORT lines show as Init
// Duration). ns/op also includes shutting the environment down.
func BenchmarkEnvPool_ColdStart(b *testing.B) {
	bin := RuntimeHandlerBinary(b)
	env := (&Server{cfg: Config{AccessKeyID: DefaultAccessKeyID, SecretAccessKey: DefaultSecretAccessKey}, now: time.Now}).
		runtimeEnv(Function{Name: "cold", Command: []string{bin}, MemorySize: DefaultMemorySize})
	log := slog.New(slog.DiscardHandler)
	b.ReportAllocs()
	var total, initTotal time.Duration
	n := 0
	for b.Loop() {
		p := newEnvPool("cold", bin, nil, env, log)
		inv := &Invocation{RequestID: newRequestID(), Payload: []byte(`{}`), Deadline: time.Now().Add(10 * time.Second), Log: io.Discard}
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

// BenchmarkEnvPool_Concurrency50 runs the handler that sleeps 10 ms in 50
// warm environments, calling the pool directly: the Runtime API path
// without the Invoke API's HTTP, signing and client costs. Sub-benchmarks
// vary the handler processes' GOMAXPROCS.
func BenchmarkEnvPool_Concurrency50(b *testing.B) {
	for _, procs := range []string{"", "1"} {
		b.Run("GOMAXPROCS="+cmp.Or(procs, "default"), func(b *testing.B) { benchEnvPool(b, procs) })
	}
}

func benchEnvPool(b *testing.B, procs string) {
	const concurrency = 50
	bin := RuntimeHandlerBinary(b)
	fn := Function{Name: "sleepy", Command: []string{bin}, MemorySize: DefaultMemorySize}
	if procs != "" {
		fn.Environment = map[string]string{"GOMAXPROCS": procs}
	}
	env := (&Server{cfg: Config{AccessKeyID: DefaultAccessKeyID, SecretAccessKey: DefaultSecretAccessKey}, now: time.Now}).runtimeEnv(fn)
	p := newEnvPool("sleepy", bin, nil, env, slog.New(slog.DiscardHandler))
	defer p.Close()
	invoke := func(payload []byte) Output {
		inv := &Invocation{RequestID: newRequestID(), Payload: payload, Deadline: time.Now().Add(3 * time.Second), Log: io.Discard}
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
