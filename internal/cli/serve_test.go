package cli

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdafan/lambdafan/emulator"
)

// startServe runs `lambdafan serve args…` in the background and returns
// its URL, a channel that delivers interrupts to it, and a function that
// waits for it to end and returns its exit status and the rest of its
// standard error.
func startServe(t *testing.T, args ...string) (url string, signals chan os.Signal, wait func() (int, string)) {
	t.Helper()
	pr, pw := io.Pipe()
	signals = make(chan os.Signal, 2)
	status := make(chan int, 1)
	go func() {
		status <- Main(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...),
			Stdio{In: strings.NewReader(""), Out: io.Discard, Err: pw}, signals)
		pw.Close()
	}()
	// Read standard error as serve writes it (a pipe blocks the writer),
	// handing the first line over at once and the rest at the end.
	firstLine := make(chan string, 1)
	rest := make(chan string, 1)
	go func() {
		br := bufio.NewReader(pr)
		line, _ := br.ReadString('\n')
		firstLine <- line
		b, _ := io.ReadAll(br)
		rest <- string(b)
	}()
	first := <-firstLine
	m := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first line %q does not say where serve listens", first)
	}
	return m[1], signals, func() (int, string) {
		return <-status, <-rest
	}
}

func sdkClient(url string) *lambda.Client {
	return lambda.NewFromConfig(aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider(emulator.DefaultAccessKeyID, emulator.DefaultSecretAccessKey, ""),
		BaseEndpoint: aws.String(url),
	})
}

func TestServe_SDKClientAndCleanStop(t *testing.T) {
	url, signals, wait := startServe(t)
	client := sdkClient(url)

	out, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"a":1}`)})
	if err != nil || out.StatusCode != 200 || string(out.Payload) != `{"a":1}` || aws.ToString(out.ExecutedVersion) != "$LATEST" {
		t.Fatalf("echo: %+v, %v", out, err)
	}
	out, err = client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("fail"), Payload: []byte(`{}`)})
	if err != nil || aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("fail: %+v, %v", out, err)
	}
	out, err = client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeEvent})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("event: %+v, %v", out, err)
	}
	_, err = client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("nope")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("unknown function: %v, want a ResourceNotFoundException", err)
	}

	signals <- os.Interrupt
	status, stderr := wait()
	if status != ExitOK {
		t.Errorf("serve exited %d after an interrupt\n%s", status, stderr)
	}
	if !strings.Contains(stderr, "shutting down") || !strings.Contains(stderr, "stopped after 4 requests, 3 executions (1 function errors, 0 throttles); 0 queued events dropped") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

func TestServe_FunctionsFileAndFaults(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/functions.yaml"
	if err := os.WriteFile(file, []byte("functions:\n  - name: only\n    handler: echo\n    reserved_concurrency: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	url, signals, wait := startServe(t, "--functions", file, "--fault-throttle", "1")
	client := sdkClient(url)
	_, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("only")})
	var throttled *types.TooManyRequestsException
	if !errors.As(err, &throttled) {
		t.Fatalf("with --fault-throttle 1: %v, want a TooManyRequestsException", err)
	}
	_, err = client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("echo")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("a built-in not in the file: %v, want a ResourceNotFoundException", err)
	}
	signals <- os.Interrupt
	if status, stderr := wait(); status != ExitOK {
		t.Errorf("exit %d\n%s", status, stderr)
	}
}

func TestServe_BadFunctionsFile(t *testing.T) {
	var stderr strings.Builder
	status := Main(context.Background(), []string{"serve", "--functions", t.TempDir() + "/missing.yaml"},
		Stdio{In: strings.NewReader(""), Out: io.Discard, Err: &stderr}, nil)
	if status != ExitUsage || !strings.Contains(stderr.String(), "--functions:") {
		t.Errorf("exit %d, stderr %q", status, stderr.String())
	}
}

func TestServe_EnvironmentFlags(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		noFreeze bool
		idle     time.Duration
	}{
		{nil, false, emulator.DefaultIdleTimeout},
		{[]string{"--no-freeze", "--idle-timeout", "30s"}, true, 30 * time.Second},
		{[]string{"--idle-timeout", "0"}, false, -1}, // never
	} {
		opts, err := parseServeFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if cfg := opts.config(nil); cfg.NoFreeze != tc.noFreeze || cfg.IdleTimeout != tc.idle {
			t.Errorf("%q: NoFreeze %v, IdleTimeout %v; want %v, %v", tc.args, cfg.NoFreeze, cfg.IdleTimeout, tc.noFreeze, tc.idle)
		}
	}
	if _, err := parseServeFlags([]string{"--idle-timeout", "-1s"}, io.Discard); err == nil {
		t.Error("a negative --idle-timeout was accepted")
	}
}
