package execenv_test

import (
	"os"
	"testing"

	"github.com/lambdafan/lambdafan/emulator/internal/testprog"
)

// builtPrograms belongs to this test binary only; TestMain cleans it up.
var builtPrograms testprog.Programs

func TestMain(m *testing.M) {
	if addr := os.Getenv(foreignEnv); addr != "" {
		os.Exit(foreignRuntime(addr))
	}
	code := m.Run()
	builtPrograms.Remove()
	os.Exit(code)
}

// runtimeHandler returns the path of testdata/runtimehandler, an
// aws-lambda-go handler whose event's action chooses what it does, built
// as a Lambda "bootstrap" on first use.
func runtimeHandler(tb testing.TB) string {
	tb.Helper()
	return builtPrograms.Build(tb, "testdata/runtimehandler", "bootstrap")
}
