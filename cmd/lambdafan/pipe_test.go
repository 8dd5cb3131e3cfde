package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestBrokenPipeStopsAndKeepsResults(t *testing.T) {
	// `lambdafan invoke ... | head -1`: standard output closes after the
	// first line. The run must stop starting invocations, let those in
	// flight finish, put every result standard output could not take in a
	// file it names, and exit 141 — not die of SIGPIPE with results lost.
	const n, c, pass = 500, 10, 5
	rig := newInterruptRig(t, pass)
	input := writeRequests(t, n)
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cmd := exec.Command(bin, "invoke", "-c", fmt.Sprint(c), "--endpoint-url", rig.url, input)
	cmd.Env = append(rig.env, "TMPDIR="+tmp)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	stdout.Close() // what head does after its first line
	rig.waitHeld(c - pass)
	rig.releaseAll()
	err = cmd.Wait()
	if cmd.ProcessState.ExitCode() != 141 {
		t.Fatalf("exit: %v, want status 141\n%s", err, stderr.String())
	}
	m := regexp.MustCompile(`cannot write results to standard output after (\d+) results: .*broken pipe`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no broken-pipe message:\n%s", stderr.String())
	}
	written, _ := strconv.Atoi(m[1])
	spills, _ := filepath.Glob(filepath.Join(tmp, "lambdafan-unwritten-*.jsonl"))
	if len(spills) != 1 || !strings.Contains(stderr.String(), spills[0]) {
		t.Fatalf("spill files %v, not named in:\n%s", spills, stderr.String())
	}
	b, err := os.ReadFile(spills[0])
	if err != nil {
		t.Fatal(err)
	}
	okSpilled, notSent := strings.Count(string(b), `"outcome":"ok"`), strings.Count(string(b), `"outcome":"not_sent"`)
	if lines := strings.Count(string(b), "\n"); lines != okSpilled+notSent {
		t.Errorf("%d spilled results, %d ok and %d not sent:\n%s", lines, okSpilled, notSent, b)
	}
	// Every invocation's result is in standard output or in the file.
	if got := int64(written + okSpilled); got != rig.started.Load() {
		t.Errorf("%d results written and %d spilled for %d executions", written, okSpilled, rig.started.Load())
	}
	if rig.started.Load() >= n {
		t.Errorf("all %d requests ran: the broken pipe did not stop the run", n)
	}
	t.Logf("%d results written, %d ok and %d not sent spilled; %d executions of %d requests", written, okSpilled, notSent, rig.started.Load(), n)
}
