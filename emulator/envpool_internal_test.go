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

// testPrograms builds the programs in testdata once per test binary, into
// one temporary directory that TestMain removes.
type testPrograms struct {
	mu    sync.Mutex
	dir   string
	built map[string]*testProgram // by testdata directory name
}

type testProgram struct {
	once sync.Once
	path string
	err  error
}

// builtPrograms belongs to this test binary only; TestMain cleans it up.
var builtPrograms testPrograms

func TestMain(m *testing.M) {
	code := m.Run()
	if builtPrograms.dir != "" {
		_ = os.RemoveAll(builtPrograms.dir)
	}
	os.Exit(code)
}

// build returns the path of testdata/name built with CGO_ENABLED=0 and
// -tags lambda.norpc as a program called file, building it on first use.
func (tp *testPrograms) build(tb testing.TB, name, file string) string {
	tb.Helper()
	tp.mu.Lock()
	if tp.built == nil {
		tp.built = map[string]*testProgram{}
	}
	p := tp.built[name]
	if p == nil {
		p = &testProgram{}
		tp.built[name] = p
	}
	if tp.dir == "" {
		var err error
		if tp.dir, err = os.MkdirTemp("", "lambdafan-emulator-test-"); err != nil {
			tp.mu.Unlock()
			tb.Fatalf("build %s: %v", name, err)
		}
	}
	dir := tp.dir
	tp.mu.Unlock()
	p.once.Do(func() {
		p.path = filepath.Join(dir, name, file)
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", p.path, "./testdata/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			p.err = &buildError{err: err, output: string(out)}
		}
	})
	if p.err != nil {
		tb.Fatalf("build %s: %v", name, p.err)
	}
	return p.path
}

// RuntimeHandlerBinary returns the path of testdata/runtimehandler built as
// a Lambda "bootstrap" (with -tags lambda.norpc, as for provided.al2023),
// building it on first use. Tests of package emulator_test use it too.
func RuntimeHandlerBinary(tb testing.TB) string {
	tb.Helper()
	return builtPrograms.build(tb, "runtimehandler", "bootstrap")
}

// LoadClientBinary returns the path of testdata/loadclient, the client
// process of throughput benchmarks, building it on first use.
func LoadClientBinary(tb testing.TB) string {
	tb.Helper()
	return builtPrograms.build(tb, "loadclient", "loadclient")
}

// EnvironmentPIDs returns the process IDs of a Command function's live
// execution environments, for benchmarks that account their CPU.
func EnvironmentPIDs(s *Server, function string) []int {
	fn, ok := s.functions[function]
	if !ok {
		return nil
	}
	p, ok := fn.handler.(*envPool)
	if !ok {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pids := make([]int, 0, len(p.live))
	for e := range p.live {
		pids = append(pids, e.pid())
	}
	return pids
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
		p := newEnvPool("cold", bin, nil, env, 1, log)
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
	p := newEnvPool("sleepy", bin, nil, env, 1, slog.New(slog.DiscardHandler))
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
