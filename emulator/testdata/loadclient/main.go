// Command loadclient is the client of the emulator's throughput
// benchmarks, run as its own process so that the benchmark can account
// the client's CPU separately from the emulator's and the handlers'.
//
// It invokes one function with a fixed payload, signing each request with
// the AWS SDK's SigV4 signer over a pooled net/http client, as a lean
// fan-out client does. Each line it reads on stdin is a JSON object
// {"n": N, "payload": "…"}: it then makes N invocations with that payload,
// -concurrency at a time, and prints one JSON line with what it measured.
// It exits at the end of its input.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// report is what loadclient prints after each run.
type report struct {
	N          int    `json:"n"`
	Errors     int64  `json:"errors"`
	FirstError string `json:"firstError,omitempty"`
	Nanos      int64  `json:"nanos"`    // wall time of the run
	CPUNanos   int64  `json:"cpuNanos"` // this process's user + system CPU
	Switches   int64  `json:"switches"` // this process's context switches
}

// command is one line of input.
type command struct {
	N       int    `json:"n"`
	Payload string `json:"payload"`
}

type client struct {
	url    string
	region string
	creds  aws.Credentials
	signer *v4.Signer
	http   *http.Client
}

func (c *client) invoke(ctx context.Context, payload []byte, hash string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	if err := c.signer.SignHTTP(ctx, c.creds, req, hash, "lambda", c.region, time.Now()); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		return fmt.Errorf("status %d %s: %s", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), body)
	}
	return nil
}

// run makes n invocations with payload, concurrency at a time.
func (c *client) run(n int, payload []byte, concurrency int) report {
	sum := sha256.Sum256(payload)
	hash := hex.EncodeToString(sum[:])
	var next atomic.Int64
	var errs atomic.Int64
	var firstErr atomic.Pointer[string]
	cpu0, sw0 := usage()
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := c.invoke(context.Background(), payload, hash); err != nil {
					errs.Add(1)
					msg := err.Error()
					firstErr.CompareAndSwap(nil, &msg)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, sw1 := usage()
	r := report{N: n, Errors: errs.Load(), Nanos: elapsed.Nanoseconds(), CPUNanos: cpu1 - cpu0, Switches: sw1 - sw0}
	if p := firstErr.Load(); p != nil {
		r.FirstError = *p
	}
	return r
}

func main() {
	url := flag.String("url", "", "the emulator's endpoint URL")
	function := flag.String("function", "", "the function to invoke")
	concurrency := flag.Int("concurrency", 50, "invocations at a time")
	region := flag.String("region", "us-east-1", "the region to sign for")
	flag.Parse()
	c := &client{
		url:    *url + "/2015-03-31/functions/" + *function + "/invocations",
		region: *region,
		creds:  aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY")},
		signer: v4.NewSigner(),
		http: &http.Client{Transport: &http.Transport{
			MaxIdleConns:        *concurrency,
			MaxIdleConnsPerHost: *concurrency,
			MaxConnsPerHost:     *concurrency,
		}},
	}
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var cmd command
		if err := json.Unmarshal(in.Bytes(), &cmd); err != nil || cmd.N < 0 {
			fmt.Fprintf(os.Stderr, "loadclient: bad command %q\n", in.Text())
			os.Exit(2)
		}
		if err := out.Encode(c.run(cmd.N, []byte(cmd.Payload), *concurrency)); err != nil {
			os.Exit(1)
		}
	}
}
