package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/lambdafan/lambdafan/internal/store"
)

// s3Rig is an S3-compatible server on loopback (gofakes3, in memory) with
// a bucket, the environment that points the real binary at it, and a
// store that reaches it from the test.
type s3Rig struct {
	url   string
	env   []string
	store store.Store
}

func newS3Rig(t *testing.T, base []string) *s3Rig {
	backend := s3mem.New()
	if err := backend.CreateBucket(fakeS3Bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
	}
	return &s3Rig{
		url:   srv.URL,
		env:   append(append([]string{}, base...), "AWS_ENDPOINT_URL_S3="+srv.URL),
		store: store.Store{S3: store.NewS3Client(cfg)},
	}
}

func (r *s3Rig) put(t *testing.T, url string, b []byte) {
	loc, err := store.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := r.store.Create(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := obj.Close(); err != nil {
		t.Fatal(err)
	}
}

// scaleN is the size of TestShardsOnS3's run: LAMBDAFAN_SCALE_N, or a
// size that keeps the suite quick.
func scaleN(t *testing.T) int {
	if s := os.Getenv("LAMBDAFAN_SCALE_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("LAMBDAFAN_SCALE_N=%q", s)
		}
		return n
	}
	return 4000
}

func TestShardsOnS3(t *testing.T) {
	// A run split over 4 processes of the real binary, input in S3 and
	// results to S3; then shard 3 is killed mid-run and resumed; then
	// `lambdafan summary --input` proves one result per request.
	// LAMBDAFAN_SCALE_N=100000 is the full size.
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	const shards = 4
	n := scaleN(t)
	rig := newInterruptRig(t, int64(n)) // "work" answers at once for the first n executions
	s3 := newS3Rig(t, rig.env)
	var input bytes.Buffer
	for i := range n {
		fmt.Fprintf(&input, `{"function_name":"work","payload":{"i":%d}}`+"\n", i)
	}
	s3.put(t, "s3://bucket/run/requests.jsonl", input.Bytes())
	local := filepath.Join(t.TempDir(), "requests.jsonl")
	if err := os.WriteFile(local, input.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	journals := t.TempDir()
	invoke := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"invoke", "-q", "-c", "64", "--endpoint-url", rig.url, "--journal-dir", journals}, args...)...)
		cmd.Env = s3.env
		return cmd
	}

	// Shards 0–2 run to the end, at once; shard 3 is killed with 50
	// invocations in flight, then resumed.
	start := time.Now()
	var waits []func() (int64, error)
	var stderrs []*bytes.Buffer
	for k := range shards - 1 {
		cmd := invoke("--shard", fmt.Sprintf("%d/%d", k, shards), "-o", "s3://bucket/run/results/part-{shard}.jsonl", "s3://bucket/run/requests.jsonl")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waits, stderrs = append(waits, peakRSS(cmd)), append(stderrs, &stderr)
	}
	var peaks [shards]int64
	for k, wait := range waits {
		var err error
		if peaks[k], err = wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", k, err, stderrs[k])
		}
	}
	elapsed := time.Since(start)

	rig.pass.Store(rig.started.Load() + 200) // shard 3: 200 answered, then held
	killed := invoke("--shard", "3/4", "-c", "50", "-o", "s3://bucket/run/results/part-{shard}.jsonl", "s3://bucket/run/requests.jsonl")
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	rig.waitHeld(50)
	killed.Process.Kill()
	killed.Wait()
	rig.releaseAll()
	resumed := invoke("--shard", "3/4", "--resume", "s3://bucket/run/results/part-{shard}.jsonl", "s3://bucket/run/requests.jsonl")
	var resumedOut bytes.Buffer
	resumed.Stdout, resumed.Stderr = &resumedOut, &resumedOut
	if err := resumed.Start(); err != nil {
		t.Fatal(err)
	}
	// Exit status 1: the results the kill lost are "unknown".
	if peaks[3], err = peakRSS(resumed)(); err != nil && resumed.ProcessState.ExitCode() != 1 {
		t.Fatalf("resumed shard 3: %v\n%s", err, resumedOut.String())
	}

	summary := exec.Command(bin, "summary", "--input", "s3://bucket/run/requests.jsonl", "--shards", "4", "s3://bucket/run/results/")
	summary.Env = s3.env
	out, err := summary.CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("%d requests in s3://bucket/run/requests.jsonl: %d with one result, 0 without, 0 with more than one; 0 results", n, n)) {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	executions := rig.emu.Executions()
	for i := range n {
		if got := executions[fmt.Sprintf(`{"i":%d}`, i)]; got != 1 {
			t.Fatalf("request %d executed %d times", i, got)
		}
	}
	for k, rss := range peaks {
		if rss > 100<<20 {
			t.Errorf("shard %d: peak RSS %d MB, want at most 100 MB", k, rss>>20)
		}
	}
	t.Logf("%d requests, 4 shards on S3: shards 0–2 in %v; peak RSS per shard %v MB; shard 3 killed and resumed; summary:\n%s",
		n, elapsed.Round(time.Millisecond), mb(peaks[:]), out)

	// One shard's throughput reading its input from S3 and from a local
	// file, in this run (results to standard output).
	for _, in := range []string{"s3://bucket/run/requests.jsonl", local} {
		cmd := invoke(in)
		cmd.Stdout = io.Discard
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		peak, err := peakRSS(cmd)()
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		d := time.Since(start)
		t.Logf("one process, input %s: %d requests in %v (%.0f/s), peak RSS %d MB", in, n, d.Round(time.Millisecond), float64(n)/d.Seconds(), peak>>20)
	}
}

// peakRSS watches a started command's peak resident set size (VmHWM in
// /proc/PID/status, which the kernel keeps) until it exits, and returns a
// function that waits for it and reports the last value read. (The
// rusage of a child started from this test process counts the pages of
// this process it was forked from; a child's own VmHWM does not.)
func peakRSS(cmd *exec.Cmd) (wait func() (int64, error)) {
	var peak atomic.Int64
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if hwm := vmHWM(cmd.Process.Pid); hwm > peak.Load() {
				peak.Store(hwm)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() (int64, error) {
		err := cmd.Wait()
		close(done)
		<-watched
		return peak.Load(), err
	}
}

// vmHWM reads a process's peak resident set size in bytes, 0 if it is gone.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mb(bytes []int64) []int64 {
	out := make([]int64, len(bytes))
	for i, b := range bytes {
		out[i] = b >> 20
	}
	return out
}
