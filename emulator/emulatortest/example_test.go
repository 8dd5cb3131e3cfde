package emulatortest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// New starts an emulator on 127.0.0.1 for one test: register Go handlers,
// point an AWS SDK client (or lambdafan) at it, and let the test's cleanup
// stop it. In a test, pass the test's *testing.T; an example has none, so
// exampleT stands in for it here.
func ExampleNew() {
	t := &exampleT{}
	defer t.cleanup()

	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{{
		Name: "greet",
		Handler: emulator.HandlerFunc(func(_ context.Context, inv *emulator.Invocation) ([]byte, error) {
			var name string
			if err := json.Unmarshal(inv.Payload, &name); err != nil {
				return nil, err
			}
			return json.Marshal("hello, " + name)
		}),
	}}})
	client := lambda.NewFromConfig(srv.AWSConfig())
	out, err := client.Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String("greet"),
		Payload:      []byte(`"world"`),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out.Payload), srv.Emulator.Stats().Executions)
	// Output: "hello, world" 1
}

// exampleT is the part of testing.TB that New uses, for an example, which
// has no *testing.T: it runs cleanups when told to and panics on failure.
// Any other method panics too (the embedded TB is nil).
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (*exampleT) Helper() {}

func (t *exampleT) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }

func (*exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (*exampleT) Errorf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// cleanup runs the cleanups, last registered first, as testing does.
func (t *exampleT) cleanup() {
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
}
