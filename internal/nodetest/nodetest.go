// Package nodetest finds, for tests, AWS's Node.js runtime interface
// client (aws-lambda-ric) and SDK (@aws-sdk/client-lambda) that
// .ci/setup-node-ric installs and whose node_modules directory .ci/run
// exports as LAMBDAFAN_NODE_MODULES; it skips the test, saying why, where
// they are missing.
package nodetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Env is the variable naming the node_modules directory.
const Env = "LAMBDAFAN_NODE_MODULES"

// Modules returns the node_modules directory, which holds each of need
// (paths relative to it, e.g. "aws-lambda-ric/index.mjs"), or skips t.
func Modules(t testing.TB, need ...string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed, so the Node.js runtime tests cannot run")
	}
	dir := os.Getenv(Env)
	if dir == "" {
		t.Skip(Env + " is not set: .ci/setup-node-ric installs aws-lambda-ric and @aws-sdk/client-lambda and prints the directory")
	}
	for _, m := range need {
		if _, err := os.Stat(filepath.Join(dir, m)); err != nil {
			t.Skipf("%s lacks %s: %v", Env, m, err)
		}
	}
	return dir
}

// RIC returns the command that runs aws-lambda-ric, or skips t.
func RIC(t testing.TB) []string {
	t.Helper()
	const index = "aws-lambda-ric/index.mjs"
	dir := Modules(t, index)
	node, _ := exec.LookPath("node") // found by Modules
	return []string{node, filepath.Join(dir, index)}
}
