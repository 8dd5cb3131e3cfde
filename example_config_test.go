package lambdafan_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
)

// The SDK's default configuration: credentials from the environment, the
// shared profiles, SSO, web identity or an instance role; the region from
// AWS_REGION or the profile.
func ExampleNewDefault() {
	ctx := context.Background()
	client, err := lambdafan.NewDefault(ctx, lambdafan.Config{Concurrency: 200})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = client // client.InvokeAll(ctx, requests)
}

// A named profile of ~/.aws/config, and a region that overrides the
// profile's.
func ExampleNewDefault_profile() {
	ctx := context.Background()
	client, err := lambdafan.NewDefault(ctx, lambdafan.Config{},
		config.WithSharedConfigProfile("batch"),
		config.WithRegion("eu-west-1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = client
}

// Static credentials and a custom endpoint (here the project's emulator on
// loopback): an aws.Config built by hand, and no I/O in New.
func ExampleNew() {
	emu, err := emulator.New(emulator.Config{Functions: emulator.BuiltinFunctions()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer emu.Close()
	srv := httptest.NewServer(emu)
	defer srv.Close()
	ak, sk := emu.Credentials()

	client, err := lambdafan.New(lambdafan.Config{
		AWS: aws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
		},
		EndpointURL: srv.URL,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := client.Invoke(context.Background(), lambdafan.Request{FunctionName: "echo", Payload: []byte(`{"hello":"world"}`)})
	fmt.Println(r.StatusCode, string(r.Payload), r.Err)
	// Output: 200 {"hello":"world"} <nil>
}
