package functionsfile

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// latest is the only version the emulator has, the one aliases map to.
const latest = lambdaapi.Latest

// File is a functions file loaded by [Load]: the functions to serve and
// the account settings. Close it once the [emulator.Server] serving its
// functions is closed.
type File struct {
	// Path is the file's path, as given to Load.
	Path string
	// AccountConcurrency is account_concurrency; 0 when the file sets
	// none ([emulator.Config] then applies
	// [emulator.DefaultAccountConcurrency]).
	AccountConcurrency int
	// Functions are the file's functions, in file order.
	Functions []emulator.Function

	// cleanup removes what loading built; nil when nothing was built.
	cleanup func() error
}

// Close removes the executables built for the file's build: functions.
// Call it after the Server running them is closed. It is safe to call on a
// zero File and more than once.
func (f File) Close() error {
	if f.cleanup == nil {
		return nil
	}
	return f.cleanup()
}

// Load reads a YAML functions file: the functions
// `lambdafan serve --functions` serves. Paths in it are relative to the
// file's directory. Functions with build: are compiled while loading, so
// this can take seconds; close the returned file to remove the programs.
//
// The schema (docs/FUNCTIONS.md describes it with examples):
//
//	account_concurrency: 100        # optional; the account's concurrency quota
//	functions:                      # required, at least one
//	  - name: hello                 # required; Lambda's naming rules
//	    # exactly one of handler, command and build:
//	    handler: echo               # a built-in handler (see emulator.BuiltinFunctions)
//	    command: [./bin/bootstrap, --flag]   # program and arguments, speaking the Runtime API
//	    build: ./handlers/hello     # a Go main package, built with go build
//	    code: ./app                 # command and build functions: LAMBDA_TASK_ROOT and working directory
//	    runtime_handler: index.handler  # command and build functions: _HANDLER
//	    timeout: 10                 # seconds (a number) or a Go duration ("1m30s"); default 3s, at most 15m
//	    memory_size: 256            # MB, 128..10240; default 128
//	    reserved_concurrency: 5     # optional; 0 throttles every synchronous call
//	    environment: {KEY: value}   # variables for command and build functions
//	    aliases: {live: $LATEST}    # alias → version; only $LATEST exists
//	    max_event_retries: 0        # 0..2; default 2
//	    max_concurrency_per_environment: 16  # command and build functions; 1..1600, default 1
//
// A command's program is taken relative to the file's directory unless
// it is absolute, or a bare name found on PATH. code is relative to the
// file's directory too; without it, a command given as a path runs in its
// program's directory, and other command and build functions in the
// file's directory. A build directory is
// compiled once, at load time, with
// `CGO_ENABLED=0 go build -tags lambda.norpc -o <temporary dir>/bootstrap`
// (the way Go functions are built for the provided.al2023 runtime) run in
// that directory, which must belong to a Go module; the function then
// runs the result as its command.
//
// Unknown keys are errors, and every error names the file, the line and
// the field, e.g. "functions.yaml:7: functions[1].timeout: …".
func Load(path string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("functions file: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return File{}, fmt.Errorf("functions file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	l := &fileLoader{path: path, dir: filepath.Dir(abs), builds: map[string]string{}}
	ff, err := l.load(&doc)
	if err != nil {
		_ = l.removeBuilds()
		return File{}, err
	}
	ff.Path = path
	if l.buildDir != "" {
		ff.cleanup = l.removeBuilds
	}
	return ff, nil
}

// fileLoader turns a functions file's YAML tree into a File.
type fileLoader struct {
	path     string
	dir      string            // the file's directory, absolute
	buildDir string            // temporary directory of built programs
	builds   map[string]string // package directory → built program
}

// errorAt is an error at a line of the file, about a field.
func (l *fileLoader) errorAt(n *yaml.Node, field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	return fmt.Errorf("%s:%d: %s", l.path, n.Line, msg)
}

func (l *fileLoader) load(doc *yaml.Node) (File, error) {
	var ff File
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return ff, fmt.Errorf("%s:1: the file is empty; it needs a functions list", l.path)
	}
	root := resolve(doc.Content[0])
	var functions *yaml.Node
	err := l.mapping(root, "", func(key, value *yaml.Node) error {
		switch key.Value {
		case "account_concurrency":
			n, err := l.integer(value, key.Value, 1, math.MaxInt32)
			ff.AccountConcurrency = n
			return err
		case "functions":
			functions = value
			return nil
		}
		return l.errorAt(key, "", "unknown key %q (want account_concurrency, functions)", key.Value)
	})
	if err != nil {
		return ff, err
	}
	if functions == nil {
		return ff, l.errorAt(root, "", "missing key functions")
	}
	if functions.Kind != yaml.SequenceNode || len(functions.Content) == 0 {
		return ff, l.errorAt(functions, "functions", "must be a list of at least one function")
	}
	defined := map[string]int{} // name → line
	reserved := 0
	for i, item := range functions.Content {
		fn, err := l.function(resolve(item), fmt.Sprintf("functions[%d]", i))
		if err != nil {
			return ff, err
		}
		if line, dup := defined[fn.Name]; dup {
			return ff, l.errorAt(item, fmt.Sprintf("functions[%d].name", i), "function %s is already defined at line %d", fn.Name, line)
		}
		defined[fn.Name] = item.Line
		if fn.ReservedConcurrency != nil {
			reserved += *fn.ReservedConcurrency
		}
		ff.Functions = append(ff.Functions, fn)
	}
	if account := cmp.Or(ff.AccountConcurrency, emulator.DefaultAccountConcurrency); reserved > account {
		return ff, l.errorAt(functions, "functions", "functions reserve %d concurrent executions, more than the account's %d (account_concurrency)", reserved, account)
	}
	return ff, nil
}

// function reads one entry of the functions list.
func (l *fileLoader) function(n *yaml.Node, field string) (emulator.Function, error) {
	var fn emulator.Function
	var code []*yaml.Node // the handler, command and build keys present
	var build *yaml.Node
	var nameNode *yaml.Node
	var codeNode *yaml.Node
	err := l.mapping(n, field, func(key, value *yaml.Node) error {
		f := field + "." + key.Value
		var err error
		switch key.Value {
		case "name":
			nameNode = value
			fn.Name, err = l.scalar(value, f)
			if err == nil {
				if cerr := lambdaapi.CheckName(fn.Name); cerr != nil {
					err = l.errorAt(value, f, "%v", cerr)
				}
			}
		case "handler":
			code = append(code, key)
			var name string
			if name, err = l.scalar(value, f); err == nil {
				h, ok, names := builtinHandler(name)
				if !ok {
					return l.errorAt(value, f, "unknown built-in handler %q (have %s)", name, strings.Join(names, ", "))
				}
				fn.Handler = h
			}
		case "command":
			code = append(code, key)
			fn.Command, err = l.command(value, f)
		case "build":
			code = append(code, key)
			build = value
		case "code":
			codeNode = value
			fn.CodeDir, err = l.directory(value, f)
		case "runtime_handler":
			fn.RuntimeHandler, err = l.scalar(value, f)
		case "timeout":
			fn.Timeout, err = l.timeout(value, f)
		case "memory_size":
			fn.MemorySize, err = l.integer(value, f, 128, 10240)
		case "reserved_concurrency":
			var r int
			r, err = l.integer(value, f, 0, math.MaxInt32)
			fn.ReservedConcurrency = &r
		case "max_event_retries":
			var r int
			r, err = l.integer(value, f, 0, 2)
			fn.MaxEventRetries = &r
		case "max_concurrency_per_environment":
			fn.MaxConcurrencyPerEnvironment, err = l.integer(value, f, 1, emulator.MaxConcurrencyPerEnvironment)
		case "environment":
			fn.Environment, err = l.stringMap(value, f, nil)
		case "aliases":
			fn.Aliases, err = l.stringMap(value, f, func(v *yaml.Node) error {
				if v.Value != latest {
					return l.errorAt(v, f, "alias maps to version %q; only $LATEST exists", v.Value)
				}
				return nil
			})
		default:
			err = l.errorAt(key, field, "unknown key %q (want name, handler, command, build, code, runtime_handler, timeout, memory_size, reserved_concurrency, environment, aliases, max_event_retries, max_concurrency_per_environment)", key.Value)
		}
		return err
	})
	if err != nil {
		return fn, err
	}
	if nameNode == nil {
		return fn, l.errorAt(n, field, "missing key name")
	}
	if len(code) != 1 {
		at := n
		if len(code) > 1 {
			at = code[1]
		}
		return fn, l.errorAt(at, field, "set exactly one of handler, command and build")
	}
	if build != nil {
		if fn.Command, err = l.build(build, field+".build"); err != nil {
			return fn, err
		}
	}
	if fn.Handler != nil && codeNode != nil {
		return fn, l.errorAt(codeNode, field+".code", "applies to command and build functions only")
	}
	if fn.CodeDir == "" && (build != nil || (len(fn.Command) > 0 && !filepath.IsAbs(fn.Command[0]) && !strings.ContainsAny(fn.Command[0], `/\`))) {
		// A program found on PATH (node, python3) says nothing of where
		// the function's code is; nor does a program built into a
		// temporary directory.
		fn.CodeDir = l.dir
	}
	if err := fn.Validate(); err != nil {
		return fn, l.errorAt(n, field, "%v", err)
	}
	return fn, nil
}

// mapping calls each for every key of a mapping node, in order, after
// checking that keys are scalars and do not repeat.
func (l *fileLoader) mapping(n *yaml.Node, field string, each func(key, value *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return l.errorAt(n, field, "must be a mapping of keys to values")
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], resolve(n.Content[i+1])
		if key.Kind != yaml.ScalarNode {
			return l.errorAt(key, field, "keys must be plain strings")
		}
		if line, dup := seen[key.Value]; dup {
			return l.errorAt(key, field, "key %q repeats the one at line %d", key.Value, line)
		}
		seen[key.Value] = key.Line
		if err := each(key, value); err != nil {
			return err
		}
	}
	return nil
}

// scalar returns a scalar's text.
func (l *fileLoader) scalar(n *yaml.Node, field string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", l.errorAt(n, field, "must be a single value")
	}
	return n.Value, nil
}

// integer returns a whole number in lo..hi.
func (l *fileLoader) integer(n *yaml.Node, field string, lo, hi int) (int, error) {
	var v int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		return 0, l.errorAt(n, field, "%q is not a whole number", n.Value)
	}
	if v < lo || v > hi {
		return 0, l.errorAt(n, field, "%d is outside %d..%d", v, lo, hi)
	}
	return v, nil
}

// timeout reads seconds (a number) or a Go duration string.
func (l *fileLoader) timeout(n *yaml.Node, field string) (time.Duration, error) {
	var d time.Duration
	switch n.ShortTag() {
	case "!!int", "!!float":
		var secs float64
		if err := n.Decode(&secs); err != nil {
			return 0, l.errorAt(n, field, "%q is not a number", n.Value)
		}
		d = time.Duration(secs * float64(time.Second))
	case "!!str":
		var err error
		if d, err = time.ParseDuration(n.Value); err != nil {
			return 0, l.errorAt(n, field, "%q is neither seconds nor a duration like 30s or 1m30s", n.Value)
		}
	default:
		return 0, l.errorAt(n, field, "must be seconds or a duration like 30s")
	}
	if d <= 0 || d > emulator.MaxTimeout {
		return 0, l.errorAt(n, field, "%v is outside (0, %v]", d, emulator.MaxTimeout)
	}
	return d, nil
}

// stringMap reads a mapping of names to single values; check, when not
// nil, vets each value.
func (l *fileLoader) stringMap(n *yaml.Node, field string, check func(*yaml.Node) error) (map[string]string, error) {
	m := map[string]string{}
	err := l.mapping(n, field, func(key, value *yaml.Node) error {
		v, err := l.scalar(value, field+"."+key.Value)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(value); err != nil {
				return err
			}
		}
		m[key.Value] = v
		return nil
	})
	return m, err
}

// directory reads a directory's path, relative to the file's directory,
// which must exist.
func (l *fileLoader) directory(n *yaml.Node, field string) (string, error) {
	dir, err := l.scalar(n, field)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(l.dir, dir)
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return "", l.errorAt(n, field, "%s is not a directory", n.Value)
	}
	return dir, nil
}

// command reads a program and its arguments and resolves the program.
func (l *fileLoader) command(n *yaml.Node, field string) ([]string, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, l.errorAt(n, field, "must be a list: [program, arguments...]")
	}
	var cmd []string
	for _, item := range n.Content {
		s, err := l.scalar(resolve(item), field)
		if err != nil {
			return nil, err
		}
		cmd = append(cmd, s)
	}
	program, err := l.program(cmd[0])
	if err != nil {
		return nil, l.errorAt(n.Content[0], field, "%v", err)
	}
	cmd[0] = program
	return cmd, nil
}

// program resolves a command's program: absolute paths stay, bare names
// found on PATH stay, anything else is relative to the file's directory.
func (l *fileLoader) program(name string) (string, error) {
	if name == "" {
		return "", errors.New("the program is empty")
	}
	if !filepath.IsAbs(name) && !strings.ContainsAny(name, `/\`) {
		if _, err := exec.LookPath(name); err == nil {
			return name, nil
		}
	}
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(l.dir, name)
	}
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return "", fmt.Errorf("program %s: %w", name, errors.Unwrap(err))
	case info.IsDir():
		return "", fmt.Errorf("program %s is a directory", name)
	case info.Mode()&0o111 == 0:
		return "", fmt.Errorf("program %s is not executable", name)
	}
	return path, nil
}

// resolve follows a YAML alias (*name) to the node it refers to.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}
