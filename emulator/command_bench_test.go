package emulator_test

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// BenchmarkCommand_Concurrency50 invokes a real aws-lambda-go handler that
// sleeps 10 ms, 50 invocations at a time, through the whole HTTP path: a
// client process signs each call, the emulator verifies it, hands the
// event to one of 50 warm processes over the Runtime API and answers with
// the process's response. The ideal is 5,000 invokes/s (50 / 10 ms); on a
// small machine the CPU cost per invocation (client, emulator and handler
// processes together) decides how close it gets.
//
// The client is testdata/loadclient, a lean net/http client signing with
// the SDK's v4.Signer (as lambdafan's own client does), in its own process
// (on one P) so that the CPU each party uses is measured apart: *-cpu-us/op is CPU
// time per invocation of the emulator (this process), of all handler
// processes together and of the client; *-cs/op counts their context
// switches and *-rw/op their read and write system calls (Linux only);
// others-cpu-us/op is the machine's remaining busy time per invocation,
// which tells a run disturbed by other work. Sub-benchmarks vary the
// handler processes' GOMAXPROCS (Go's default, or 1 through the
// function's Environment), and run the function the way Lambda Managed
// Instances do, with several invocations per process
// (MaxConcurrencyPerEnvironment); no-freeze keeps the processes running
// between invocations (Config.NoFreeze), which tells what freezing them
// (two signals per invocation) costs. On a shared machine compare runs
// interleaved and check the load first:
//
//	uptime
//	go test -run '^$' -bench 'Command_Concurrency50' -benchtime 20000x -count 5 ./emulator
func BenchmarkCommand_Concurrency50(b *testing.B) {
	for _, procs := range []string{"", "1"} {
		b.Run("GOMAXPROCS="+cmp.Or(procs, "default"), func(b *testing.B) {
			fn := emulator.Function{Name: "sleepy", Command: []string{emulator.RuntimeHandlerBinary(b)}}
			if procs != "" {
				fn.Environment = map[string]string{"GOMAXPROCS": procs}
			}
			benchConcurrency50(b, emulator.Config{}, fn)
		})
	}
	b.Run("GOMAXPROCS=default/no-freeze", func(b *testing.B) {
		benchConcurrency50(b, emulator.Config{NoFreeze: true}, emulator.Function{Name: "sleepy", Command: []string{emulator.RuntimeHandlerBinary(b)}})
	})
	for _, per := range []int{10, 50} {
		b.Run("managed/per-environment="+strconv.Itoa(per), func(b *testing.B) {
			benchConcurrency50(b, emulator.Config{}, emulator.Function{Name: "sleepy", Command: []string{emulator.RuntimeHandlerBinary(b)}, MaxConcurrencyPerEnvironment: per})
		})
	}
}

func benchConcurrency50(b *testing.B, cfg emulator.Config, fn emulator.Function) {
	const concurrency = 50
	cfg.Functions = []emulator.Function{fn}
	srv := emulatortest.New(b, cfg)
	client := startLoadClient(b, srv, fn.Name, concurrency)

	// Start the environments (and connections) before measuring: long
	// invocations overlap, so each round adds environments until there
	// are enough for 50 at once.
	envs := int64((concurrency + max(fn.MaxConcurrencyPerEnvironment, 1) - 1) / max(fn.MaxConcurrencyPerEnvironment, 1))
	for round := 0; srv.Emulator.Stats().ColdStarts < envs && round < 5; round++ {
		client.run(b, concurrency, `{"action":"sleep","ms":200}`)
	}
	cold := srv.Emulator.Stats().ColdStarts
	pids := emulator.EnvironmentPIDs(srv.Emulator, fn.Name)

	machine0, self0, handlers0 := machineBusy(), selfUsage(), processesUsage(pids)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	r := client.run(b, b.N, `{"action":"sleep","ms":10}`)
	elapsed := time.Since(start)
	b.StopTimer()
	self, handlers := selfUsage().sub(self0), processesUsage(pids).sub(handlers0)
	machine := machineBusy() - machine0

	n := float64(b.N)
	perOp := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / n }
	b.ReportMetric(n/elapsed.Seconds(), "invokes/s")
	b.ReportMetric(float64(r.Errors), "errors")
	b.ReportMetric(perOp(self.cpu), "emulator-cpu-us/op")
	b.ReportMetric(perOp(handlers.cpu), "handlers-cpu-us/op")
	b.ReportMetric(perOp(time.Duration(r.CPUNanos)), "client-cpu-us/op")
	b.ReportMetric(perOp(max(0, machine-self.cpu-handlers.cpu-time.Duration(r.CPUNanos))), "others-cpu-us/op")
	b.ReportMetric(float64(self.switches)/n, "emulator-cs/op")
	b.ReportMetric(float64(handlers.switches)/n, "handlers-cs/op")
	b.ReportMetric(float64(r.Switches)/n, "client-cs/op")
	b.ReportMetric(float64(self.rw)/n, "emulator-rw/op")
	b.ReportMetric(float64(handlers.rw)/n, "handlers-rw/op")
	if r.Errors > 0 {
		b.Errorf("%d of %d invocations failed, the first with: %s", r.Errors, b.N, r.FirstError)
	}
	if extra := srv.Emulator.Stats().ColdStarts - cold; extra > 0 {
		b.Logf("%d cold starts while measuring", extra)
	}
}

// loadClient drives testdata/loadclient, the benchmarks' client process.
type loadClient struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// loadReport is what the client process reports after a run.
type loadReport struct {
	N          int    `json:"n"`
	Errors     int64  `json:"errors"`
	FirstError string `json:"firstError"`
	Nanos      int64  `json:"nanos"`
	CPUNanos   int64  `json:"cpuNanos"`
	Switches   int64  `json:"switches"`
}

// startLoadClient starts a client process invoking function on srv,
// concurrency calls at a time; it ends with the benchmark.
func startLoadClient(b *testing.B, srv *emulatortest.Server, function string, concurrency int) *loadClient {
	b.Helper()
	cmd := exec.Command(emulator.LoadClientBinary(b), "-url", srv.URL, "-function", function,
		"-concurrency", strconv.Itoa(concurrency), "-region", emulatortest.Region)
	// One P: the client needs a fraction of a core, and on one P its
	// goroutines hand requests and responses to each other without
	// waking other threads, which cost it 15-20% more CPU and added
	// scheduling delays to what the benchmark measures.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "AWS_ACCESS_KEY_ID="+srv.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+srv.SecretAccessKey)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close() // the client exits at the end of its input
		if err := cmd.Wait(); err != nil {
			b.Errorf("load client: %v", err)
		}
	})
	return &loadClient{cmd: cmd, in: in, out: bufio.NewScanner(out)}
}

// run makes n invocations with payload and returns the client's report.
func (c *loadClient) run(b *testing.B, n int, payload string) loadReport {
	b.Helper()
	line, _ := json.Marshal(struct {
		N       int    `json:"n"`
		Payload string `json:"payload"`
	}{n, payload})
	if _, err := c.in.Write(append(line, '\n')); err != nil {
		b.Fatalf("load client: %v", err)
	}
	if !c.out.Scan() {
		b.Fatalf("load client ended: %v", c.out.Err())
	}
	var r loadReport
	if err := json.Unmarshal(c.out.Bytes(), &r); err != nil {
		b.Fatalf("load client report %q: %v", c.out.Text(), err)
	}
	return r
}

// usage is what a process has used so far.
type usage struct {
	cpu      time.Duration // user + system
	switches int64         // context switches, voluntary or not
	rw       int64         // read and write system calls
}

func (u usage) sub(v usage) usage {
	return usage{cpu: u.cpu - v.cpu, switches: u.switches - v.switches, rw: u.rw - v.rw}
}

// selfUsage is this process's usage.
func selfUsage() usage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return usage{
		cpu:      time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		switches: int64(ru.Nvcsw + ru.Nivcsw),
		rw:       procIO("self"),
	}
}

// processesUsage sums the usage of other processes, read from /proc
// (zero elsewhere): CPU from /proc/PID/stat, context switches from each
// thread's status, system calls from /proc/PID/io.
func processesUsage(pids []int) usage {
	var u usage
	for _, pid := range pids {
		dir := "/proc/" + strconv.Itoa(pid)
		if stat, err := os.ReadFile(dir + "/stat"); err == nil {
			// Fields after the command's closing parenthesis; utime and
			// stime are the 12th and 13th, in clock ticks (1/100 s).
			if i := bytes.LastIndexByte(stat, ')'); i >= 0 {
				f := strings.Fields(string(stat[i+1:]))
				if len(f) > 12 {
					ut, _ := strconv.ParseInt(f[11], 10, 64)
					st, _ := strconv.ParseInt(f[12], 10, 64)
					u.cpu += time.Duration(ut+st) * 10 * time.Millisecond
				}
			}
		}
		tasks, _ := os.ReadDir(dir + "/task")
		for _, t := range tasks {
			status, err := os.ReadFile(dir + "/task/" + t.Name() + "/status")
			if err != nil {
				continue
			}
			for line := range strings.Lines(string(status)) {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
					n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					u.switches += n
				}
			}
		}
		u.rw += procIO(strconv.Itoa(pid))
	}
	return u
}

// procIO is the number of read and write system calls of /proc/pid/io.
func procIO(pid string) int64 {
	io, err := os.ReadFile("/proc/" + pid + "/io")
	if err != nil {
		return 0
	}
	var n int64
	for line := range strings.Lines(string(io)) {
		if k, v, ok := strings.Cut(line, ":"); ok && (k == "syscr" || k == "syscw") {
			c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			n += c
		}
	}
	return n
}

// machineBusy is the CPU time all processors have been busy, from the
// first line of /proc/stat (zero elsewhere).
func machineBusy() time.Duration {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 && i < 8 { // not idle, iowait, guest time (counted in user)
			busy += n
		}
	}
	return time.Duration(busy) * 10 * time.Millisecond
}
