// Command runtimehandler is the aws-lambda-go handler the emulator's tests
// and benchmarks run as a real execution environment. The event's action
// chooses what it does; TEST_INIT makes its initialisation fail,
// TEST_INIT_MS makes it take that many milliseconds, TEST_TICKS starts a
// ticker whose ticks action "ticks" returns, and TEST_SHUTDOWN_FILE
// registers an extension that writes the SHUTDOWN event it gets there.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Action  string `json:"action"`
	MS      int    `json:"ms"`
	Message string `json:"message"`
	Code    int    `json:"code"`
	Size    int    `json:"size"`
}

type result struct {
	PID           int               `json:"pid"`
	Start         int64             `json:"start"` // Unix ns
	End           int64             `json:"end"`   // Unix ns
	RequestID     string            `json:"requestId,omitempty"`
	FunctionARN   string            `json:"functionArn,omitempty"`
	DeadlineMS    int64             `json:"deadlineMs,omitempty"`
	TraceID       string            `json:"traceId,omitempty"`
	ClientCustom  map[string]string `json:"clientCustom,omitempty"`
	ClientEnv     map[string]string `json:"clientEnv,omitempty"`
	ClientAppName string            `json:"clientAppName,omitempty"`
	Env           map[string]string `json:"env,omitempty"`
	Padding       string            `json:"padding,omitempty"`
	Ticks         int64             `json:"ticks"`
	Cwd           string            `json:"cwd,omitempty"`
}

// ticks counts the ticks of a 10 ms ticker started at init when
// TEST_TICKS is set: a process frozen between invocations misses them.
var ticks atomic.Int64

// handledError is returned for action "fail"; aws-lambda-go reports its
// type name, "handledError", as errorType.
type handledError struct{ msg string }

func (e *handledError) Error() string { return e.msg }

func handle(ctx context.Context, ev event) (*result, error) {
	res := &result{PID: os.Getpid(), Start: time.Now().UnixNano()}
	switch ev.Action {
	case "sleep":
		if ev.Message != "" {
			fmt.Println(ev.Message)
		}
		t := time.NewTimer(time.Duration(ev.MS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case "print":
		fmt.Println(ev.Message)
		fmt.Fprintln(os.Stderr, "stderr: "+ev.Message)
	case "exit":
		fmt.Println("exiting with", ev.Code)
		os.Exit(ev.Code)
	case "fail":
		return nil, &handledError{ev.Message}
	case "big":
		res.Padding = strings.Repeat("x", ev.Size)
	case "spew":
		// Size bytes on stdout, in lines of 100.
		line := []byte(strings.Repeat("x", 99) + "\n")
		for n := 0; n < ev.Size; n += len(line) {
			_, _ = os.Stdout.Write(line[:min(len(line), ev.Size-n)])
		}
	case "ticks":
		res.Ticks = ticks.Load()
	case "context":
		time.Sleep(time.Duration(ev.MS) * time.Millisecond)
		lc, _ := lambdacontext.FromContext(ctx)
		res.RequestID = lc.AwsRequestID
		res.FunctionARN = lc.InvokedFunctionArn
		res.ClientCustom = lc.ClientContext.Custom
		res.ClientEnv = lc.ClientContext.Env
		res.ClientAppName = lc.ClientContext.Client.AppTitle
		if d, ok := ctx.Deadline(); ok {
			res.DeadlineMS = d.UnixMilli()
		}
		res.TraceID, _ = ctx.Value("x-amzn-trace-id").(string)
		res.Cwd, _ = os.Getwd()
		res.Env = map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			res.Env[k] = v
		}
	}
	res.End = time.Now().UnixNano()
	return res, nil
}

// postInitError reports an init failure the way custom runtimes do.
func postInitError() {
	url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(`{"errorMessage":"init failed on purpose","errorType":"InitFailure"}`)))
	req.Header.Set("Lambda-Runtime-Function-Error-Type", "InitFailure")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

func main() {
	switch os.Getenv("TEST_INIT") {
	case "post-error":
		postInitError()
		os.Exit(1)
	case "exit":
		fmt.Println("exiting during init")
		os.Exit(3)
	case "probe":
		probe()
		return
	}
	if ms, err := strconv.Atoi(os.Getenv("TEST_INIT_MS")); err == nil {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	if os.Getenv("TEST_TICKS") != "" {
		go func() {
			for range time.Tick(10 * time.Millisecond) {
				ticks.Add(1)
			}
		}()
	}
	fmt.Println("init: runtimehandler ready")
	if file := os.Getenv("TEST_SHUTDOWN_FILE"); file != "" {
		watchShutdown(file)
	}
	var opts []lambda.Option
	if file := os.Getenv("TEST_SIGTERM_FILE"); file != "" {
		opts = append(opts, lambda.WithEnableSIGTERM(func() {
			_ = os.WriteFile(file, []byte("SIGTERM received\n"), 0o644)
		}))
	}
	lambda.StartWithOptions(handle, opts...)
}

// watchShutdown registers an extension for the SHUTDOWN event, as
// external extensions do, and writes the event it gets to file.
func watchShutdown(file string) {
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2020-01-01/extension/"
	req, _ := http.NewRequest(http.MethodPost, base+"register", strings.NewReader(`{"events":["SHUTDOWN"]}`))
	req.Header.Set("Lambda-Extension-Name", "shutdown-watcher")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	resp.Body.Close()
	id := resp.Header.Get("Lambda-Extension-Identifier")
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"event/next", nil)
		req.Header.Set("Lambda-Extension-Identifier", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		var ev struct{ EventType, ShutdownReason string }
		_ = json.NewDecoder(resp.Body).Decode(&ev)
		_ = os.WriteFile(file, []byte(ev.EventType+" "+ev.ShutdownReason+"\n"), 0o644)
	}()
}

// probeReport is what the probe runtime answers: what it saw on the
// Runtime API.
type probeReport struct {
	Headers    map[string]string `json:"headers"`
	Payload    string            `json:"payload"`
	StaleCode  int               `json:"staleCode"`
	StaleBody  string            `json:"staleBody"`
	UnknownURL int               `json:"unknownUrl"`
}

// probe is a hand-written runtime loop that records the /next headers and
// how the emulator answers a response for an unknown request ID.
func probe() {
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/"
	for {
		resp, err := http.Get(base + "invocation/next")
		if err != nil {
			os.Exit(2)
		}
		var rep probeReport
		rep.Headers = map[string]string{}
		for k := range resp.Header {
			rep.Headers[k] = resp.Header.Get(k)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		resp.Body.Close()
		rep.Payload = buf.String()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")

		stale, err := http.Post(base+"invocation/not-"+id+"/response", "application/json", strings.NewReader(`"stale"`))
		if err == nil {
			buf.Reset()
			_, _ = buf.ReadFrom(stale.Body)
			stale.Body.Close()
			rep.StaleCode, rep.StaleBody = stale.StatusCode, buf.String()
		}
		if unknown, err := http.Get(base + "nonsense"); err == nil {
			unknown.Body.Close()
			rep.UnknownURL = unknown.StatusCode
		}
		body, _ := json.Marshal(rep)
		ok, err := http.Post(base+"invocation/"+id+"/response", "application/json", bytes.NewReader(body))
		if err != nil || ok.StatusCode != http.StatusAccepted {
			os.Exit(4)
		}
		ok.Body.Close()
	}
}
