package functionsfile

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// build compiles the Go main package a build: key names, once per
// directory, and returns the command that runs it.
func (l *fileLoader) build(n *yaml.Node, field string) ([]string, error) {
	dir, err := l.scalar(n, field)
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(l.dir, dir)
	}
	if program, ok := l.builds[dir]; ok {
		return []string{program}, nil
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return nil, l.errorAt(n, field, "%s is not a directory", n.Value)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, l.errorAt(n, field, "building %s needs the go command: %v", n.Value, err)
	}
	if l.buildDir == "" {
		if l.buildDir, err = os.MkdirTemp("", "lambdafan-functions-"); err != nil {
			return nil, l.errorAt(n, field, "%v", err)
		}
	}
	// Each program is called bootstrap, like a Go function's in Lambda
	// (it is also what _HANDLER then says).
	out := filepath.Join(l.buildDir, strconv.Itoa(len(l.builds)), "bootstrap")
	cmd := exec.Command(goTool, "build", "-tags", "lambda.norpc", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if output, err := cmd.CombinedOutput(); err != nil {
		return nil, l.errorAt(n, field, "go build %s: %v\n%s", n.Value, err, strings.TrimSpace(string(output)))
	}
	l.builds[dir] = out
	return []string{out}, nil
}

// removeBuilds deletes the programs built while loading.
func (l *fileLoader) removeBuilds() error {
	if l.buildDir == "" {
		return nil
	}
	if err := os.RemoveAll(l.buildDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove built functions: %w", err)
	}
	return nil
}
