package main

import (
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lambdafan/lambdafan/emulator"
)

var update = flag.Bool("update", false, "rewrite the scripts' expected files from the actual output")

// TestMain lets the scripts run this test binary as the real lambdafan
// command (testscript re-executes it with the command's name).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"lambdafan": main})
}

// TestScripts runs testdata/script/*.txtar. Each script gets an emulator
// of its own on loopback and an environment that points the AWS SDK at it
// (endpoint, credentials, region) and nowhere else: no shared config
// files, no instance metadata.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Cmds:          s3Commands,
		Setup: func(env *testscript.Env) error {
			emu, err := emulator.New(emulator.Config{Functions: emulator.BuiltinFunctions()})
			if err != nil {
				return err
			}
			srv := httptest.NewServer(emu)
			env.Defer(func() {
				emu.Close()
				srv.Close()
			})
			ak, sk := emu.Credentials()
			env.Setenv("EMULATOR_URL", srv.URL)
			env.Setenv("EMULATOR_ACCESS_KEY_ID", ak)
			env.Setenv("EMULATOR_SECRET_ACCESS_KEY", sk)
			env.Setenv("EXAMPLES", examples)
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			env.Setenv("AWS_CONFIG_FILE", filepath.Join(env.WorkDir, "no-aws-config"))
			env.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(env.WorkDir, "no-aws-credentials"))
			env.Setenv("XDG_STATE_HOME", filepath.Join(env.WorkDir, ".state"))
			return startFakeS3(env)
		},
	})
}

func TestMainIsThin(t *testing.T) {
	// The command's logic lives in internal/cli; main only wires signals
	// and standard streams.
	b, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if n := countLines(b); n > 30 {
		t.Errorf("main.go has %d lines; keep it under 30", n)
	}
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
