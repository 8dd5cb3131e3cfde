// Package testprog builds the Go programs the emulator's tests run as
// processes (the aws-lambda-go handler of execution environments, the
// benchmarks' load client), each once per test binary.
package testprog

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// Programs builds programs into a temporary directory of its own, which
// Remove deletes: a test binary keeps one in a variable and calls Remove
// from TestMain after m.Run. The zero value is ready for use. It is safe
// for concurrent use.
type Programs struct {
	mu    sync.Mutex
	dir   string              // "" until the first Build
	built map[string]*program // by package directory
}

type program struct {
	once sync.Once
	path string
	err  error
}

// Build returns the path of the Go main package in dir (relative to the
// test's working directory, its package's directory) built as a program
// named file, building it on first use. It builds the way Go functions are
// built for Lambda's provided.al2023 runtime: CGO_ENABLED=0 and
// -tags lambda.norpc.
func (p *Programs) Build(tb testing.TB, dir, file string) string {
	tb.Helper()
	p.mu.Lock()
	if p.dir == "" {
		var err error
		if p.dir, err = os.MkdirTemp("", "lambdafan-emulator-test-"); err != nil {
			p.mu.Unlock()
			tb.Fatalf("build %s: %v", dir, err)
		}
		p.built = map[string]*program{}
	}
	prog := p.built[dir]
	if prog == nil {
		// A directory per program: the file names may be the same.
		prog = &program{path: filepath.Join(p.dir, strconv.Itoa(len(p.built)), file)}
		p.built[dir] = prog
	}
	p.mu.Unlock()
	prog.once.Do(func() {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", prog.path, "./"+filepath.ToSlash(filepath.Clean(dir)))
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if output, err := cmd.CombinedOutput(); err != nil {
			prog.err = &buildError{err: err, output: string(output)}
		}
	})
	if prog.err != nil {
		tb.Fatalf("build %s: %v", dir, prog.err)
	}
	return prog.path
}

// Remove deletes the programs built so far.
func (p *Programs) Remove() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dir != "" {
		_ = os.RemoveAll(p.dir)
	}
}

type buildError struct {
	err    error
	output string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.output }
