package lambdafan_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
)

// The original snippet's example: a synchronous invocation in one region,
// an asynchronous one in another, and a DryRun in the default region, with
// every result back in input order. Here the requests go to a local
// emulator; against AWS, build the client with lambdafan.NewDefault (the
// SDK's default credential chain) and drop EndpointURL.
func ExampleClient_InvokeAll() {
	emu, _ := emulator.New(emulator.Config{Functions: emulator.BuiltinFunctions()})
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
		{FunctionName: "echo", Payload: map[string]string{"key": "value"}, Region: "us-west-2"},
		{FunctionName: "echo", Payload: map[string]int{"n": 1}, InvocationType: lambdafan.Event, Region: "eu-west-1"},
		{FunctionName: "echo", InvocationType: lambdafan.DryRun},
	})
	for _, r := range results {
		fmt.Println(r.Index, r.Region, r.InvocationType, r.StatusCode, string(r.Payload), r.Err)
	}
	// Output:
	// 0 us-west-2 RequestResponse 200 {"key":"value"} <nil>
	// 1 eu-west-1 Event 202  <nil>
	// 2 us-east-1 DryRun 204  <nil>
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
		AWS:         aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(ak, sk, "")},
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
