package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
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
			emu, err := emulator.New(emulator.Config{Functions: append(emulator.BuiltinFunctions(), streamingFunction())})
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

// streamingFunction is the scripts' function "stream": it streams the
// strings of its event's "chunks", one write each (or, invoked with
// Invoke, answers them whole), then fails with the event's "fail" as
// message when it has one.
func streamingFunction() emulator.Function {
	return emulator.Function{Name: "stream", Handler: streamHandler(func(ctx context.Context, inv *emulator.Invocation) emulator.Output {
		var ev struct {
			Chunks []string `json:"chunks"`
			Fail   string   `json:"fail"`
		}
		if err := json.Unmarshal(inv.Payload, &ev); err != nil {
			return emulator.Output{Error: true, Payload: emulator.ErrorDocument("InvalidInput", err.Error())}
		}
		w, buffered := inv.Stream, new(bytes.Buffer)
		if w == nil { // invoked with Invoke: the response goes whole
			w = buffered
		}
		for _, c := range ev.Chunks {
			if _, err := io.WriteString(w, c); err != nil {
				break
			}
		}
		if ev.Fail != "" {
			return emulator.Output{Streamed: inv.Stream != nil, Error: true, Payload: emulator.ErrorDocument("Error", ev.Fail)}
		}
		return emulator.Output{Streamed: inv.Stream != nil, Payload: buffered.Bytes()}
	})}
}

// streamHandler adapts a function to emulator.Handler.
type streamHandler func(ctx context.Context, inv *emulator.Invocation) emulator.Output

func (f streamHandler) Invoke(ctx context.Context, inv *emulator.Invocation) emulator.Output {
	return f(ctx, inv)
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
