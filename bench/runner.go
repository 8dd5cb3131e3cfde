package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// childEnv marks a re-executed bench process as a server or client child.
const childEnv = "LAMBDAFAN_BENCH_CHILD"

// noRaceExitDelay stops a race-enabled child (the smoke test's) from
// waiting a second before it exits.
const noRaceExitDelay = "GORACE=atexit_sleep_ms=0"

// runner starts the fake endpoint and the client children of each
// scenario.
type runner struct {
	self       string // this program, re-executed for children
	cli        string // the lambdafan binary
	python     string // the interpreter of the python-aiohttp client
	dir        string // scratch files: certificates, JSONL input and output
	certs      certFiles
	profileDir string // when set, children write CPU profiles here
	log        io.Writer
}

// measurement is one client child's run.
type measurement struct {
	wall       float64 // seconds
	cpu        float64 // client CPU µs, whole child process
	rss        int64   // peak RSS bytes
	allocs     float64 // heap objects; -1 when unknown (the CLI binary)
	allocBytes float64
	csw        int64 // context switches of the client process, voluntary and not
	failed     int64
	server     serverStats
}

// serverProc is a running fake endpoint child.
type serverProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	url   string
}

func (r *runner) startServer(s scenario) (*serverProc, error) {
	cmd := exec.Command(r.self, "-serve",
		"-delay", s.delay.String(), "-tls", s.tls,
		"-cert", r.certs.Cert, "-key", r.certs.Key)
	cmd.Env = append(os.Environ(), childEnv+"=1", noRaceExitDelay)
	cmd.Stderr = r.log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProc{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	line, err := p.out.ReadString('\n')
	if err != nil {
		p.close()
		return nil, fmt.Errorf("fake endpoint did not start: %w", err)
	}
	p.url = strings.TrimSpace(line)
	return p, nil
}

// stats returns the server's counters since the previous call.
func (p *serverProc) stats() (serverStats, error) {
	var st serverStats
	if _, err := io.WriteString(p.stdin, "stats\n"); err != nil {
		return st, err
	}
	line, err := p.out.ReadBytes('\n')
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(line, &st)
}

func (p *serverProc) close() error {
	p.stdin.Close()
	return p.cmd.Wait()
}

// clientEnv is the environment of client children: AWS settings isolated
// from the machine's own (no profiles, no IMDS), static credentials, and
// the throwaway CA trusted through AWS_CA_BUNDLE for TLS scenarios.
func (r *runner) clientEnv(s scenario) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		childEnv+"=1",
		noRaceExitDelay,
		"AWS_ACCESS_KEY_ID="+benchKeyID,
		"AWS_SECRET_ACCESS_KEY="+benchSecret,
		"AWS_REGION="+benchRegion,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(r.dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(r.dir, "no-credentials"),
	)
	if s.tls != "off" {
		env = append(env, "AWS_CA_BUNDLE="+r.certs.CA)
	}
	return env
}

// runVariant runs one client child against srv and measures it.
func (r *runner) runVariant(s scenario, variant string, srv *serverProc, rep int) (measurement, error) {
	if _, err := srv.stats(); err != nil { // reset the server's counters
		return measurement{}, err
	}
	var m measurement
	var err error
	switch variant {
	case "cli", "cli-stdout":
		m, err = r.runCLI(s, srv.url, variant, rep)
	case pythonVariant:
		m, err = r.runPython(s, srv.url)
	default:
		m, err = r.runClientChild(s, variant, srv.url, rep)
	}
	if err != nil {
		return m, err
	}
	m.server, err = srv.stats()
	return m, err
}

func (r *runner) runClientChild(s scenario, variant, url string, rep int) (measurement, error) {
	args := []string{"-client", variant, "-url", url,
		"-n", strconv.Itoa(s.n), "-c", strconv.Itoa(s.c), "-payload", strconv.Itoa(s.payload)}
	if r.profileDir != "" {
		args = append(args, "-cpuprofile-file", filepath.Join(r.profileDir, fmt.Sprintf("%s-%s-%d.prof", s.name, variant, rep)))
	}
	cmd := exec.Command(r.self, args...)
	cmd.Env = r.clientEnv(s)
	cmd.Stderr = r.log
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		return measurement{}, fmt.Errorf("client %s: %w", variant, err)
	}
	var res childResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return measurement{}, fmt.Errorf("client %s: bad report %q: %w", variant, stdout.Bytes(), err)
	}
	m := fromRusage(cmd.ProcessState)
	m.wall = res.Wall
	m.allocs, m.allocBytes = float64(res.Allocs), float64(res.AllocBytes)
	m.failed = res.Failed
	return m, nil
}

// runCLI runs the lambdafan binary end to end: a JSONL file of requests in,
// a JSONL file of results out, written with -o (which keeps the crash
// journal beside it) or, for the cli-stdout variant, to standard output
// redirected to the file (no journal: the journal's cost is the
// difference). Its wall time includes process start-up.
func (r *runner) runCLI(s scenario, url, variant string, rep int) (measurement, error) {
	toStdout := variant == "cli-stdout"
	in, err := r.inputFile(s)
	if err != nil {
		return measurement{}, err
	}
	out := filepath.Join(r.dir, "results.jsonl")
	args := []string{"invoke", "-q", "-c", strconv.Itoa(s.c), "--endpoint-url", url}
	if !toStdout {
		args = append(args, "-o", out)
	}
	cmd := exec.Command(r.cli, append(args, in)...)
	if toStdout {
		f, err := os.Create(out)
		if err != nil {
			return measurement{}, err
		}
		defer f.Close()
		cmd.Stdout = f
	}
	cmd.Env = r.clientEnv(s)
	if r.profileDir != "" {
		cmd.Env = append(cmd.Env, "LAMBDAFAN_CPUPROFILE="+filepath.Join(r.profileDir, fmt.Sprintf("%s-%s-%d.prof", s.name, variant, rep)))
	}
	cmd.Stderr = r.log
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	m := fromRusage(cmd.ProcessState)
	m.wall, m.allocs, m.allocBytes = wall.Seconds(), -1, -1
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 1: // some invocations failed
	case err != nil:
		return m, fmt.Errorf("lambdafan invoke: %w", err)
	}
	lines, err := countLines(out)
	if err != nil {
		return m, err
	}
	if exit != nil || lines != s.n {
		m.failed = max(1, int64(s.n-lines))
	}
	return m, os.Remove(out)
}

func fromRusage(ps *os.ProcessState) measurement {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return measurement{}
	}
	return measurement{cpu: rusageCPU(ru), rss: peakRSSBytes(ru), csw: ru.Nvcsw + ru.Nivcsw}
}

// inputFile writes (once per size) the JSONL requests of scenario s.
func (r *runner) inputFile(s scenario) (string, error) {
	path := filepath.Join(r.dir, fmt.Sprintf("requests-%d-%d.jsonl", s.n, s.payload))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	line := fmt.Appendf(nil, `{"function_name":%q,"payload":%s}`+"\n", benchFunction, makePayload(s.payload))
	for range s.n {
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	buf := make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// makePayload returns a JSON object of exactly size bytes (at least 12).
func makePayload(size int) []byte {
	const head, tail = `{"data":"`, `"}`
	b := make([]byte, 0, max(size, len(head)+len(tail)))
	b = append(b, head...)
	for len(b) < size-len(tail) {
		b = append(b, 'x')
	}
	return append(b, tail...)
}
