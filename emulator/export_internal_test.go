package emulator

import (
	"os"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan/emulator/internal/testprog"
)

// builtPrograms belongs to this test binary only; TestMain cleans it up.
var builtPrograms testprog.Programs

func TestMain(m *testing.M) {
	code := m.Run()
	builtPrograms.Remove()
	os.Exit(code)
}

// RuntimeHandlerBinary returns the path of the aws-lambda-go handler the
// execution environments' tests use (package execenv's
// testdata/runtimehandler), built as a Lambda "bootstrap", building it on
// first use. Tests of package emulator_test run it as a Command function.
func RuntimeHandlerBinary(tb testing.TB) string {
	tb.Helper()
	return builtPrograms.Build(tb, "internal/execenv/testdata/runtimehandler", "bootstrap")
}

// StreamRuntimeBinary returns the path of a runtime that streams its
// responses over raw HTTP/1.1 (package execenv's testdata/streamruntime),
// building it on first use.
func StreamRuntimeBinary(tb testing.TB) string {
	tb.Helper()
	return builtPrograms.Build(tb, "internal/execenv/testdata/streamruntime", "bootstrap")
}

// LoadClientBinary returns the path of testdata/loadclient, the client
// process of throughput benchmarks, building it on first use.
func LoadClientBinary(tb testing.TB) string {
	tb.Helper()
	return builtPrograms.Build(tb, "testdata/loadclient", "loadclient")
}

// EnvironmentPIDs returns the process IDs of a Command function's live
// execution environments, for benchmarks that account their CPU.
func EnvironmentPIDs(s *Server, function string) []int {
	fn, ok := s.functions[function]
	if !ok {
		return nil
	}
	h, ok := fn.handler.(*commandHandler)
	if !ok {
		return nil
	}
	return h.pids()
}

// WithInitTimeout returns cfg with the init phase of Command functions'
// execution environments limited to d instead of Lambda's 10 seconds.
func WithInitTimeout(cfg Config, d time.Duration) Config {
	cfg.initTimeout = d
	return cfg
}
