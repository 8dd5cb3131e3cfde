package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan/emulator"
)

// The Step Functions tests run the real binary against moto (see
// motoRig): requests uploaded, a DISTRIBUTED Map parsed and run by moto,
// each item's lambda:invoke sent to the emulator, results written by the
// ResultWriter and collected. moto 5.2.1 runs one execution per account
// and region in a process (StartExecution deep-copies the state machine,
// whose backend then holds the first execution's lock), so each case has
// a region of its own.

const sfnRole = "arn:aws:iam::123456789012:role/lambdafan-sfn"

// sfnResult is the part of a result line the tests check.
type sfnResult struct {
	Line    int             `json:"line"`
	ID      json.RawMessage `json:"id"`
	Outcome string          `json:"outcome"`
	Payload json.RawMessage `json:"payload"`
	Error   *struct {
		Kind, Type, Message string
	} `json:"error"`
}

func readResults(t *testing.T, path string) map[int]sfnResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[int]sfnResult{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r sfnResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("result line %q: %v", sc.Text(), err)
		}
		if _, dup := got[r.Line]; dup {
			t.Errorf("line %d has more than one result", r.Line)
		}
		got[r.Line] = r
	}
	return got
}

type sfnCase struct {
	rig    *motoRig
	bin    string
	region string
	bucket string
	dir    string
	env    []string
}

func newSFNCase(t *testing.T, rig *motoRig, bin, region string) *sfnCase {
	c := &sfnCase{rig: rig, bin: bin, region: region, bucket: "work-" + region, dir: t.TempDir(), env: rig.env(t, region)}
	rig.bucket(t, region, c.bucket)
	return c
}

func (c *sfnCase) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(c.bin, args...)
	cmd.Env = c.env
	return cmd
}

func (c *sfnCase) invokeArgs(extra ...string) []string {
	return append([]string{"invoke", "--via", "stepfunctions", "--sfn-role-arn", sfnRole,
		"--work-dir", "s3://" + c.bucket + "/lambdafan/", "--sfn-child-type", "standard", "--sfn-poll", "200ms"}, extra...)
}

func run(t *testing.T, cmd *exec.Cmd) (stdout, stderr string, status int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func TestStepFunctions(t *testing.T) {
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	rig := startMoto(t, emulator.Config{
		Functions:       emulator.BuiltinFunctions(),
		CountExecutions: true,
		// One call in 20 is throttled: the state machine retries those,
		// and only those.
		Faults: emulator.Faults{Throttle: 0.05},
	})

	t.Run("1000 requests", func(t *testing.T) {
		c := newSFNCase(t, rig, bin, "us-west-2")
		// 1,000 lines: 991 to echo (every tenth with a log tail, every
		// hundredth with a client context and a numeric id), 4 to a
		// function that fails, 3 to one that does not exist, a line that
		// is not JSON and a request for another region, refused before
		// anything starts.
		var in bytes.Buffer
		for i := 1; i <= 1000; i++ {
			switch {
			case i == 500:
				in.WriteString("{not json\n")
			case i == 501:
				fmt.Fprintf(&in, `{"function_name":"echo","region":"eu-west-1","id":"r%d"}`+"\n", i)
			case i%300 == 7:
				fmt.Fprintf(&in, `{"function_name":"fail","payload":{"i":%d},"id":"r%d"}`+"\n", i, i)
			case i%400 == 11:
				fmt.Fprintf(&in, `{"function_name":"nosuch","payload":{"i":%d},"id":"r%d"}`+"\n", i, i)
			case i%100 == 0:
				fmt.Fprintf(&in, `{"function_name":"echo","payload":{"i":%d},"client_context":{"custom":{"i":%d}},"id":%d}`+"\n", i, i, i)
			case i%10 == 0:
				fmt.Fprintf(&in, `{"function_name":"echo","payload":{"i":%d},"log_type":"Tail","id":"r%d"}`+"\n", i, i)
			default:
				fmt.Fprintf(&in, `{"function_name":"echo","payload":{"i":%d},"id":"r%d"}`+"\n", i, i)
			}
		}
		input := filepath.Join(c.dir, "requests.jsonl")
		out := filepath.Join(c.dir, "results.jsonl")
		if err := os.WriteFile(input, in.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, stderr, status := run(t, c.cmd(c.invokeArgs("-c", "64", "--max-backoff", "1s", "--progress", "always", "-o", out, input)...))
		elapsed := time.Since(start)
		t.Logf("invoke --via stepfunctions, 1000 lines, %v, exit %d; stderr (progress lines cut):\n%s", elapsed.Round(time.Millisecond), status, lastLines(stderr))
		if status != 1 {
			t.Fatalf("exit status %d, want 1 (some requests failed)", status)
		}
		// The progress line, drawn from DescribeMapRun's item counts.
		progress := ""
		for _, l := range strings.Split(stderr, "\r") {
			if strings.Contains(l, "/998 (") && strings.Contains(l, "map run running") {
				progress = strings.ReplaceAll(l, "\x1b[K", "")
			}
		}
		if progress == "" {
			t.Error("no progress line with the map run's counts")
		}
		t.Logf("a progress line: %s", progress)
		got := readResults(t, out)
		if len(got) != 1000 {
			t.Fatalf("%d results, want 1000", len(got))
		}
		outcomes := map[string]int{}
		for line := 1; line <= 1000; line++ {
			r, ok := got[line]
			if !ok {
				t.Errorf("line %d has no result", line)
				continue
			}
			outcomes[r.Outcome]++
		}
		want := map[string]int{"ok": 991, "function_error": 4, "error": 3, "invalid": 2}
		if fmt.Sprint(outcomes) != fmt.Sprint(want) {
			t.Errorf("outcomes %v, want %v", outcomes, want)
		}
		if r := got[42]; r.Outcome != "ok" || string(r.Payload) != `{"i":42}` || string(r.ID) != `"r42"` {
			t.Errorf("line 42 = %+v", r)
		}
		if r := got[100]; r.Outcome != "ok" || string(r.ID) != "100" {
			t.Errorf("line 100 (numeric id, client context) = %+v", r)
		}
		if r := got[501]; r.Outcome != "invalid" || r.Error == nil || !strings.Contains(r.Error.Message, "state machine runs in us-west-2") {
			t.Errorf("line 501 (another region) = %+v", r)
		}
		// Throttled calls were retried, and nothing ran twice.
		for payload, n := range rig.emu.Executions() {
			if n != 1 {
				t.Errorf("payload %s executed %d times", payload, n)
			}
		}
		stats := rig.emu.Stats()
		t.Logf("emulator: %+v", stats)

		sumOut, sumErr, sumStatus := run(t, c.cmd("summary", "--input", input, out))
		t.Logf("lambdafan summary --input requests.jsonl results.jsonl (exit %d):\n%s%s", sumStatus, sumOut, sumErr)
		if sumStatus != 0 || !strings.Contains(sumOut, "1000 requests in") || !strings.Contains(sumOut, "1000 with one result, 0 without, 0 with more than one") {
			t.Errorf("summary exit %d:\n%s", sumStatus, sumOut)
		}
	})

	t.Run("detach, then collect", func(t *testing.T) {
		c := newSFNCase(t, rig, bin, "eu-central-1")
		input := writeSFNRequests(t, c.dir, 30, `{"function_name":"echo","payload":{"d":%d}}`)
		_, stderr, status := run(t, c.cmd(c.invokeArgs("--detach", input)...))
		arn := executionARN(stderr)
		if status != 0 || arn == "" || !strings.Contains(stderr, "lambdafan collect -o RESULTS "+arn) {
			t.Fatalf("invoke --detach: exit %d\n%s", status, stderr)
		}
		out := filepath.Join(c.dir, "results.jsonl")
		_, stderr, status = run(t, c.cmd("collect", "--sfn-poll", "200ms", "-o", out, arn))
		t.Logf("collect (exit %d):\n%s", status, lastLines(stderr))
		if got := readResults(t, out); status != 0 || len(got) != 30 || got[30].Outcome != "ok" || string(got[30].Payload) != `{"d":30}` {
			t.Errorf("collect: exit %d, %d results, line 30 %+v", status, len(got), got[30])
		}
		// Collecting again gives the same file.
		again := filepath.Join(c.dir, "again.jsonl")
		if _, stderr, status := run(t, c.cmd("collect", "-q", "-o", again, arn)); status != 0 {
			t.Fatalf("second collect: exit %d\n%s", status, stderr)
		}
		a, _ := os.ReadFile(out)
		b, _ := os.ReadFile(again)
		if !bytes.Equal(a, b) {
			t.Error("a second collect wrote other results")
		}
	})

	t.Run("every request refused", func(t *testing.T) {
		c := newSFNCase(t, rig, bin, "eu-west-3")
		input := writeSFNRequests(t, c.dir, 3, `{"function_name":"echo","region":"us-east-1","id":%d}`)
		out := filepath.Join(c.dir, "results.jsonl")
		_, stderr, status := run(t, c.cmd(c.invokeArgs("-o", out, input)...))
		got := readResults(t, out)
		if status != 1 || len(got) != 3 || got[2].Outcome != "invalid" || !strings.Contains(stderr, "no execution started") {
			t.Errorf("exit %d, %d results\n%s", status, len(got), stderr)
		}
	})

	t.Run("interrupt detaches", func(t *testing.T) {
		c := newSFNCase(t, rig, bin, "ap-southeast-2")
		input := writeSFNRequests(t, c.dir, 12, `{"function_name":"sleep","payload":{"ms":150,"s":%d}}`)
		out := filepath.Join(c.dir, "results.jsonl")
		cmd := c.cmd(c.invokeArgs("-c", "3", "-o", out, input)...)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var log strings.Builder
		sc := bufio.NewScanner(stderr)
		arn := ""
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "arn:") && arn == "" {
				arn = sc.Text()
				cmd.Process.Signal(syscall.SIGINT)
			}
		}
		err = cmd.Wait()
		ee, _ := err.(*exec.ExitError)
		if ee == nil || ee.ExitCode() != 130 || arn == "" || !strings.Contains(log.String(), "detached; the execution runs on") ||
			!strings.Contains(log.String(), "lambdafan collect -o "+out+" "+arn) {
			t.Fatalf("interrupted invoke: %v\n%s", err, log.String())
		}
		if _, err := os.Stat(out); err == nil {
			t.Error("an interrupted invoke wrote results")
		}
		_, serr, status := run(t, c.cmd("collect", "--sfn-poll", "200ms", "-o", out, arn))
		if got := readResults(t, out); status != 0 || len(got) != 12 || got[12].Outcome != "ok" {
			t.Errorf("collect after the interrupt: exit %d, %d results\n%s", status, len(got), serr)
		}
	})

	t.Run("stop, then collect", func(t *testing.T) {
		c := newSFNCase(t, rig, bin, "ca-central-1")
		input := writeSFNRequests(t, c.dir, 20, `{"function_name":"sleep","payload":{"ms":400,"s":%d}}`)
		_, stderr, status := run(t, c.cmd(c.invokeArgs("-c", "2", "--detach", input)...))
		arn := executionARN(stderr)
		if status != 0 || arn == "" {
			t.Fatalf("invoke --detach: exit %d\n%s", status, stderr)
		}
		_, stderr, status = run(t, c.cmd("stop", arn))
		if status != 0 || !strings.Contains(stderr, "stopped "+arn) {
			t.Fatalf("stop: exit %d\n%s", status, stderr)
		}
		out := filepath.Join(c.dir, "results.jsonl")
		_, stderr, status = run(t, c.cmd("collect", "-o", out, arn))
		t.Logf("collect after stop (exit %d):\n%s", status, lastLines(stderr))
		got := readResults(t, out)
		if status != 1 || len(got) != 20 || !strings.Contains(stderr, "the execution ended ABORTED") {
			t.Fatalf("collect: exit %d, %d results", status, len(got))
		}
		for line, r := range got {
			// moto writes no results for an aborted Map Run: every outcome
			// is unknown, never ok or not_sent by guess.
			if r.Outcome != "unknown" {
				t.Errorf("line %d: %+v", line, r)
			}
		}
	})
}

// writeSFNRequests writes n requests made from format (with %d the line)
// and returns the file's path.
func writeSFNRequests(t *testing.T, dir string, n int, format string) string {
	t.Helper()
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, format+"\n", i)
	}
	path := filepath.Join(dir, "requests.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// executionARN returns the execution ARN invoke printed on its own line.
func executionARN(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "arn:aws:states:") {
			return l
		}
	}
	return ""
}

// lastLines returns s without the progress line's redraws.
func lastLines(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if i := strings.LastIndex(l, "\r"); i >= 0 {
			l = l[i+1:]
		}
		l = strings.ReplaceAll(l, "\x1b[K", "")
		if strings.TrimSpace(l) != "" {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
