package lambdafan_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
)

// Invoke sends one request and waits for its result. Failures are data in
// Result.Err, typed for errors.As: here the function fails and says why.
func ExampleClient_Invoke() {
	emu, _ := emulator.New(emulator.Config{Functions: emulator.BuiltinFunctions()})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	defer emu.Close()
	ak, sk := emu.Credentials()

	ctx := context.Background()
	client, err := lambdafan.New(lambdafan.Config{
		AWS: aws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
		},
		EndpointURL: srv.URL,
	})
	if err != nil {
		panic(err)
	}

	r := client.Invoke(ctx, lambdafan.Request{FunctionName: "echo", Payload: map[string]string{"hello": "world"}})
	fmt.Println(r.StatusCode, string(r.Payload), r.Err)

	r = client.Invoke(ctx, lambdafan.Request{FunctionName: "fail", Payload: map[string]string{"message": "out of paper"}})
	var fe *lambdafan.FunctionError
	if errors.As(r.Err, &fe) {
		fmt.Println(r.StatusCode, fe.Kind, fe.ErrorType, fe.ErrorMessage)
	}
	// Output:
	// 200 {"hello":"world"} <nil>
	// 200 Unhandled Error out of paper
}

// The original snippet's example: three requests to three functions, each
// with its own payload and invocation type (a synchronous one, an
// asynchronous one in a region of its own, and a DryRun that only checks
// permission), with every result back in input order. Here the requests
// go to a local emulator; against AWS, build the client with
// lambdafan.NewDefault (the SDK's default credential chain) and drop
// EndpointURL.
func ExampleClient_InvokeAll() {
	emu, _ := emulator.New(emulator.Config{Functions: []emulator.Function{
		echoFunction("resize-image"), echoFunction("send-email"), echoFunction("rebuild-index"),
	}})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	defer emu.Close()
	ak, sk := emu.Credentials()

	ctx := context.Background()
	client, err := lambdafan.New(lambdafan.Config{
		AWS: aws.Config{
			Region:      "us-east-1", // the default region
			Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
		},
		EndpointURL: srv.URL,
		Concurrency: 100,
	})
	if err != nil {
		panic(err)
	}
	results := client.InvokeAll(ctx, []lambdafan.Request{
		{FunctionName: "resize-image", Payload: map[string]string{"key": "cat.jpg"}},
		{FunctionName: "send-email", Payload: map[string]string{"to": "ops@example.com"}, InvocationType: lambdafan.Event, Region: "eu-west-1"},
		{FunctionName: "rebuild-index", Payload: map[string]bool{"full": true}, InvocationType: lambdafan.DryRun},
	})
	for _, r := range results {
		fmt.Println(r.Index, r.FunctionName, r.Region, r.InvocationType, r.StatusCode, string(r.Payload), r.Err)
	}
	// Output:
	// 0 resize-image us-east-1 RequestResponse 200 {"key":"cat.jpg"} <nil>
	// 1 send-email eu-west-1 Event 202  <nil>
	// 2 rebuild-index us-east-1 DryRun 204  <nil>
}

// echoFunction is an emulated function that answers with its payload.
func echoFunction(name string) emulator.Function {
	return emulator.Function{Name: name, Handler: emulator.HandlerFunc(
		func(_ context.Context, inv *emulator.Invocation) ([]byte, error) { return inv.Payload, nil },
	)}
}

// Stream takes requests lazily and yields results as they complete, so a
// run over millions of requests needs memory for the requests in flight
// only.
func ExampleClient_Stream() {
	emu, _ := emulator.New(emulator.Config{Functions: emulator.BuiltinFunctions()})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	defer emu.Close()
	ak, sk := emu.Credentials()

	ctx := context.Background()
	client, _ := lambdafan.New(lambdafan.Config{
		AWS:         aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(ak, sk, "")},
		EndpointURL: srv.URL,
	})
	requests := func(yield func(lambdafan.Request) bool) {
		for i := range 1000 {
			if !yield(lambdafan.Request{FunctionName: "echo", Payload: map[string]int{"i": i}}) {
				return
			}
		}
	}
	ok := 0
	for r := range client.Stream(ctx, requests) {
		if r.OK() {
			ok++
		}
	}
	fmt.Println(ok, "succeeded")
	// Output: 1000 succeeded
}

// StreamWith adds two controls to Stream: BeforeSend, called just before
// a request is first sent, lets a caller journal it durably first (so that
// a run that crashes knows which requests may have run); Stop, once
// closed, ends the run gracefully, starting no new attempt.
func ExampleClient_StreamWith() {
	emu, _ := emulator.New(emulator.Config{Functions: emulator.BuiltinFunctions()})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	defer emu.Close()
	ak, sk := emu.Credentials()

	ctx := context.Background()
	client, _ := lambdafan.New(lambdafan.Config{
		AWS:         aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(ak, sk, "")},
		EndpointURL: srv.URL,
	})
	requests := slices.Values([]lambdafan.Request{
		{FunctionName: "echo", Payload: map[string]int{"n": 0}},
		{FunctionName: "echo", Payload: map[string]int{"n": 1}},
		{FunctionName: "echo", Payload: map[string]int{"n": 2}},
	})

	var (
		mu      sync.Mutex // BeforeSend is called concurrently
		journal []int      // a real caller appends to a file and syncs it
	)
	stop := make(chan struct{}) // close it, on an interrupt say, to stop
	opts := lambdafan.StreamOptions{
		Stop: stop,
		BeforeSend: func(_ context.Context, index int) error {
			mu.Lock()
			defer mu.Unlock()
			journal = append(journal, index)
			return nil // an error here would leave the request unsent
		},
	}
	ok := 0
	for r := range client.StreamWith(ctx, requests, opts) {
		if r.OK() {
			ok++
		}
	}
	slices.Sort(journal)
	fmt.Println("journaled", journal, "then", ok, "succeeded")
	// Output: journaled [0 1 2] then 3 succeeded
}

// Validate checks requests as the client would before sending them,
// offline: here before a run, to refuse a bad input file as a whole.
func ExampleValidate() {
	reqs := []lambdafan.Request{
		{FunctionName: "my-function", Payload: []byte(`{"k":1}`)},
		{FunctionName: "my-function:live", Qualifier: "beta"},
		{FunctionName: "arn:aws:lambda:eu-west-1:123456789012:function:f", Region: "us-east-1"},
	}
	for i, req := range reqs {
		if err := lambdafan.Validate(req, "us-east-1"); err != nil {
			fmt.Println(i, err)
		}
	}
	// Output:
	// 1 invalid qualifier: "beta" contradicts the qualifier "live" in function_name "my-function:live"
	// 2 invalid region: "us-east-1" contradicts the region "eu-west-1" of function ARN "arn:aws:lambda:eu-west-1:123456789012:function:f" (Lambda cannot invoke across regions)
}

// InvokeStream reads a function's streamed response as it arrives — here
// copied to standard output, never held whole — and then says how the
// function ended.
func ExampleClient_InvokeStream() {
	countdown := emulator.Function{Name: "countdown", Handler: exampleStreamer{}}
	emu, _ := emulator.New(emulator.Config{Functions: []emulator.Function{countdown}})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	defer emu.Close()
	ak, sk := emu.Credentials()

	ctx := context.Background()
	client, err := lambdafan.New(lambdafan.Config{
		AWS: aws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
		},
		EndpointURL: srv.URL,
	})
	if err != nil {
		panic(err)
	}
	s, err := client.InvokeStream(ctx, lambdafan.Request{FunctionName: "countdown"})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	if _, err := io.Copy(os.Stdout, s); err != nil {
		panic(err) // the stream was cut short
	}
	r := s.Result()
	fmt.Println(r.StatusCode, r.Err)
	// Output:
	// 3 2 1 lift-off
	// 200 <nil>
}

// exampleStreamer streams its response in pieces.
type exampleStreamer struct{}

func (exampleStreamer) Invoke(ctx context.Context, inv *emulator.Invocation) emulator.Output {
	for _, piece := range []string{"3 ", "2 ", "1 ", "lift-off\n"} {
		if _, err := io.WriteString(inv.Stream, piece); err != nil {
			break
		}
	}
	return emulator.Output{Streamed: true}
}
