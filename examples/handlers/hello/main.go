// Command hello is a small AWS Lambda function written with
// github.com/aws/aws-lambda-go: it greets {"name": …}, logs a line per
// invocation and fails with a function error when asked to greet "error".
//
// Build it as a Lambda "bootstrap" for the provided.al2023 runtime:
//
//	CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap .
//
// examples/functions.yaml serves it with `lambdafan serve`.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Request is the event hello expects.
type Request struct {
	Name string `json:"name"`
}

// Response is what hello returns.
type Response struct {
	Greeting string `json:"greeting"`
}

// GreetingError is hello's function error; aws-lambda-go reports its
// type name, "GreetingError", as the errorType.
type GreetingError struct {
	Name string
}

func (e *GreetingError) Error() string { return fmt.Sprintf("refusing to greet %q", e.Name) }

func greet(ctx context.Context, req Request) (Response, error) {
	requestID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	log.Printf("request %s: greeting %q", requestID, req.Name)
	switch req.Name {
	case "":
		req.Name = "world"
	case "error":
		return Response{}, &GreetingError{Name: req.Name}
	}
	greeting := os.Getenv("GREETING")
	if greeting == "" {
		greeting = "Hello"
	}
	return Response{Greeting: fmt.Sprintf("%s, %s!", greeting, req.Name)}, nil
}

func main() {
	lambda.Start(greet)
}
