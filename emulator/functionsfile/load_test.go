package functionsfile_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
	"github.com/lambdafan/lambdafan/emulator/functionsfile"
)

// writeFunctionsFile writes a functions file and an executable "bootstrap"
// beside it, and returns the file's path.
func writeFunctionsFile(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notexec"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "functions.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	path := writeFunctionsFile(t, `
account_concurrency: 50
functions:
  - name: echo
    handler: echo
  - name: custom
    command: [./bootstrap, --verbose]
    timeout: 2.5
    memory_size: 512
    reserved_concurrency: 4
    max_event_retries: 0
    environment:
      MODE: test
      PORT: 8080
    aliases:
      live: $LATEST
  - name: shell
    command: [sh, -c, "exit 0"]
    timeout: 1m30s
    max_concurrency_per_environment: 16
  - name: node
    command: [sh, ric.mjs]
    code: app
    runtime_handler: index.handler
`)
	dir := filepath.Dir(path)
	if err := os.Mkdir(filepath.Join(dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	ff, err := functionsfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ff.Close()
	if ff.AccountConcurrency != 50 || len(ff.Functions) != 4 || ff.Path != path {
		t.Fatalf("file = %+v", ff)
	}
	echo, custom, shell, node := ff.Functions[0], ff.Functions[1], ff.Functions[2], ff.Functions[3]
	if echo.Name != "echo" || echo.Handler == nil || echo.Command != nil {
		t.Errorf("echo = %+v", echo)
	}
	wantCmd := []string{filepath.Join(filepath.Dir(path), "bootstrap"), "--verbose"}
	if strings.Join(custom.Command, " ") != strings.Join(wantCmd, " ") {
		t.Errorf("command = %q, want %q", custom.Command, wantCmd)
	}
	if custom.Timeout != 2500*time.Millisecond || custom.MemorySize != 512 {
		t.Errorf("timeout, memory = %v, %d", custom.Timeout, custom.MemorySize)
	}
	if custom.ReservedConcurrency == nil || *custom.ReservedConcurrency != 4 || custom.MaxEventRetries == nil || *custom.MaxEventRetries != 0 {
		t.Errorf("reserved, retries = %v, %v", custom.ReservedConcurrency, custom.MaxEventRetries)
	}
	if custom.Environment["MODE"] != "test" || custom.Environment["PORT"] != "8080" || custom.Aliases["live"] != "$LATEST" {
		t.Errorf("environment, aliases = %v, %v", custom.Environment, custom.Aliases)
	}
	if shell.Command[0] != "sh" || shell.Timeout != 90*time.Second {
		t.Errorf("shell = %q, %v; a bare name on PATH stays as it is", shell.Command, shell.Timeout)
	}
	if shell.MaxConcurrencyPerEnvironment != 16 || custom.MaxConcurrencyPerEnvironment != 0 {
		t.Errorf("max concurrency per environment = %d, %d", shell.MaxConcurrencyPerEnvironment, custom.MaxConcurrencyPerEnvironment)
	}
	// code is relative to the file; without it a program given as a path
	// keeps its own directory (the emulator's default), and one found on
	// PATH runs in the file's directory.
	if node.CodeDir != filepath.Join(dir, "app") || node.RuntimeHandler != "index.handler" {
		t.Errorf("code, runtime handler = %q, %q, want %q, index.handler", node.CodeDir, node.RuntimeHandler, filepath.Join(dir, "app"))
	}
	if custom.CodeDir != "" || shell.CodeDir != dir || echo.CodeDir != "" {
		t.Errorf("default code directories = %q, %q, %q, want \"\", %q, \"\"", custom.CodeDir, shell.CodeDir, echo.CodeDir, dir)
	}
	// The functions are valid for a Server.
	srv := emulatortest.New(t, emulator.Config{Functions: ff.Functions, AccountConcurrency: ff.AccountConcurrency})
	if got := len(srv.Emulator.Functions()); got != 4 {
		t.Errorf("server serves %d functions", got)
	}
}

func TestLoad_Errors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"empty file", ``, "functions.yaml:1: the file is empty"},
		{"syntax", "functions:\n  - name: a\n    handler: [echo\n", "functions.yaml: yaml: line "},
		{"unknown top-level key", "account: 3\nfunctions: []\n", `functions.yaml:1: unknown key "account"`},
		{"missing functions", "account_concurrency: 3\n", "functions.yaml:1: missing key functions"},
		{"no functions", "functions: []\n", "functions.yaml:1: functions: must be a list of at least one function"},
		{"functions not a list", "functions: {a: b}\n", "functions.yaml:1: functions: must be a list"},
		{"account concurrency", "account_concurrency: many\nfunctions: [{name: a, handler: echo}]\n", `functions.yaml:1: account_concurrency: "many" is not a whole number`},
		{"unknown function key", "functions:\n  - name: a\n    handler: echo\n    timout: 3\n", `functions.yaml:4: functions[0]: unknown key "timout"`},
		{"max concurrency out of range", "functions:\n  - name: a\n    command: [./bootstrap]\n    max_concurrency_per_environment: 1601\n", `functions.yaml:4: functions[0].max_concurrency_per_environment: `},
		{"max concurrency of a built-in", "functions:\n  - name: a\n    handler: echo\n    max_concurrency_per_environment: 4\n", `functions.yaml:2: functions[0]: function a: max concurrency per environment applies to command functions only`},
		{"environment of a built-in", "functions:\n  - name: a\n    handler: echo\n    environment: {A: 1}\n", `functions.yaml:2: functions[0]: function a: environment applies to command functions only`},
		{"repeated key", "functions:\n  - name: a\n    handler: echo\n    name: b\n", `functions.yaml:4: functions[0]: key "name" repeats the one at line 2`},
		{"missing name", "functions:\n  - handler: echo\n", "functions.yaml:2: functions[0]: missing key name"},
		{"bad name", "functions:\n  - name: not valid\n    handler: echo\n", "functions.yaml:2: functions[0].name: function name"},
		{"duplicate name", "functions:\n  - {name: a, handler: echo}\n  - {name: a, handler: fail}\n", "functions.yaml:3: functions[1].name: function a is already defined at line 2"},
		{"no handler", "functions:\n  - name: a\n", "functions.yaml:2: functions[0]: set exactly one of handler, command and build"},
		{"two handlers", "functions:\n  - name: a\n    handler: echo\n    command: [./bootstrap]\n", "functions.yaml:4: functions[0]: set exactly one of handler, command and build"},
		{"unknown builtin", "functions:\n  - name: a\n    handler: greet\n", `functions.yaml:3: functions[0].handler: unknown built-in handler "greet" (have echo, fail, sleep)`},
		{"command not a list", "functions:\n  - name: a\n    command: ./bootstrap\n", "functions.yaml:3: functions[0].command: must be a list"},
		{"missing program", "functions:\n  - name: a\n    command: [./nothere]\n", "functions.yaml:3: functions[0].command: program ./nothere: no such file or directory"},
		{"program not executable", "functions:\n  - name: a\n    command: [notexec]\n", "functions.yaml:3: functions[0].command: program notexec is not executable"},
		{"timeout word", "functions:\n  - name: a\n    handler: echo\n    timeout: fast\n", `functions.yaml:4: functions[0].timeout: "fast" is neither seconds nor a duration`},
		{"timeout zero", "functions:\n  - name: a\n    handler: echo\n    timeout: 0\n", "functions.yaml:4: functions[0].timeout: 0s is outside (0, 15m0s]"},
		{"timeout too long", "functions:\n  - name: a\n    handler: echo\n    timeout: 20m\n", "functions.yaml:4: functions[0].timeout: 20m0s is outside (0, 15m0s]"},
		{"memory too small", "functions:\n  - name: a\n    handler: echo\n    memory_size: 64\n", "functions.yaml:4: functions[0].memory_size: 64 is outside 128..10240"},
		{"memory not a number", "functions:\n  - name: a\n    handler: echo\n    memory_size: 1.5\n", `functions.yaml:4: functions[0].memory_size: "1.5" is not a whole number`},
		{"negative reserved", "functions:\n  - name: a\n    handler: echo\n    reserved_concurrency: -1\n", "functions.yaml:4: functions[0].reserved_concurrency: -1 is outside 0.."},
		{"retries", "functions:\n  - name: a\n    handler: echo\n    max_event_retries: 3\n", "functions.yaml:4: functions[0].max_event_retries: 3 is outside 0..2"},
		{"environment not a map", "functions:\n  - name: a\n    handler: echo\n    environment: [A=1]\n", "functions.yaml:4: functions[0].environment: must be a mapping"},
		{"environment value list", "functions:\n  - name: a\n    handler: echo\n    environment:\n      A: [1]\n", "functions.yaml:5: functions[0].environment.A: must be a single value"},
		{"alias to a version", "functions:\n  - name: a\n    handler: echo\n    aliases:\n      live: \"1\"\n", `functions.yaml:5: functions[0].aliases: alias maps to version "1"; only $LATEST exists`},
		{"bad alias name", "functions:\n  - name: a\n    handler: echo\n    aliases:\n      \"7\": $LATEST\n", `functions.yaml:2: functions[0]: function a: "7" is not a valid alias name`},
		{"too much reserved", "account_concurrency: 10\nfunctions:\n  - {name: a, handler: echo, reserved_concurrency: 11}\n", "functions.yaml:3: functions: functions reserve 11 concurrent executions, more than the account's 10"},
		{"build not a directory", "functions:\n  - name: a\n    build: ./nowhere\n", "functions.yaml:3: functions[0].build: ./nowhere is not a directory"},
		{"code not a directory", "functions:\n  - name: a\n    command: [./bootstrap]\n    code: bootstrap\n", "functions.yaml:4: functions[0].code: bootstrap is not a directory"},
		{"code of a built-in", "functions:\n  - name: a\n    handler: echo\n    code: .\n", "functions.yaml:4: functions[0].code: applies to command and build functions only"},
		{"runtime handler of a built-in", "functions:\n  - name: a\n    handler: echo\n    runtime_handler: index.handler\n", "functions.yaml:2: functions[0]: function a: a runtime handler applies to command functions only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFunctionsFile(t, tt.yaml)
			ff, err := functionsfile.Load(path)
			if err == nil {
				ff.Close()
				t.Fatalf("loaded %+v, want error %q", ff, tt.want)
			}
			want := filepath.Join(filepath.Dir(path), tt.want)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, want)
			}
		})
	}
	if _, err := functionsfile.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
}

// TestLoad_Examples loads examples/functions.yaml, which builds
// examples/handlers/hello, and invokes hello through the emulator.
func TestLoad_Examples(t *testing.T) {
	ff, err := functionsfile.Load("../../examples/functions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // runs after the server's cleanup
		if err := ff.Close(); err != nil {
			t.Error(err)
		}
		var hello emulator.Function
		for _, fn := range ff.Functions {
			if fn.Name == "hello" {
				hello = fn
			}
		}
		if _, err := os.Stat(hello.Command[0]); !os.IsNotExist(err) {
			t.Errorf("Close left the built program %s: %v", hello.Command[0], err)
		}
	})
	names := []string{}
	for _, fn := range ff.Functions {
		names = append(names, fn.Name)
	}
	if strings.Join(names, ",") != "echo,sleep,fail,hello" {
		t.Errorf("functions = %v", names)
	}
	srv := emulatortest.New(t, emulator.Config{Functions: ff.Functions, AccountConcurrency: ff.AccountConcurrency})
	c := lambda.NewFromConfig(srv.AWSConfig(), func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })

	out, logged := invokeLogged(t, c, "hello:live", `{"name":"Ada"}`)
	var resp struct{ Greeting string }
	if err := json.Unmarshal(out.Payload, &resp); err != nil || resp.Greeting != "Hello, Ada!" {
		t.Errorf("hello answered %s (%v), want a greeting for Ada", out.Payload, err)
	}
	if aws.ToString(out.ExecutedVersion) != "$LATEST" {
		t.Errorf("executed version %q", aws.ToString(out.ExecutedVersion))
	}
	if !strings.Contains(logged, `greeting "Ada"`) {
		t.Errorf("the invocation's log lacks hello's line:\n%s", logged)
	}

	out, _ = invokeLogged(t, c, "hello", `{"name":"error"}`)
	var doc struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(out.Payload, &doc); err != nil || aws.ToString(out.FunctionError) != "Unhandled" ||
		doc.ErrorType != "GreetingError" || doc.ErrorMessage != `refusing to greet "error"` {
		t.Errorf("error = %q %s (%v), want Unhandled GreetingError", aws.ToString(out.FunctionError), out.Payload, err)
	}

	out, err = c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"x":1}`)})
	if err != nil || string(out.Payload) != `{"x":1}` {
		t.Errorf("echo: %v %s", err, out.Payload)
	}
}

// invokeLogged invokes function with LogType Tail and returns the output
// and what the function logged: the log between its START and END lines.
func invokeLogged(t *testing.T, c *lambda.Client, function, payload string) (*lambda.InvokeOutput, string) {
	t.Helper()
	out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(function), Payload: []byte(payload), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatalf("invoke %s: %v", function, err)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatalf("log result: %v", err)
	}
	log := string(raw)
	start, end := strings.Index(log, "START RequestId:"), strings.Index(log, "END RequestId:")
	if start < 0 || end < start {
		t.Fatalf("log lacks START/END lines:\n%s", log)
	}
	body := log[start:end]
	return out, body[strings.IndexByte(body, '\n')+1:]
}
