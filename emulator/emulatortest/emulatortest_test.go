package emulatortest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

func TestNew(t *testing.T) {
	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{{
		Name: "greet",
		Handler: emulator.HandlerFunc(func(_ context.Context, inv *emulator.Invocation) ([]byte, error) {
			return []byte(`"hello"`), nil
		}),
	}}})
	out, err := lambda.NewFromConfig(srv.AWSConfig()).Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("greet")})
	if err != nil || string(out.Payload) != `"hello"` {
		t.Fatalf("got %s, %v", out.Payload, err)
	}
	if st := srv.Emulator.Stats(); st.Executions != 1 {
		t.Errorf("%d executions", st.Executions)
	}
}

// TestNew_cleanupWithRunningInvocation ends a test while a handler is still
// blocked: the cleanup must not wait for it, and the caller gets an answer.
func TestNew_cleanupWithRunningInvocation(t *testing.T) {
	started := make(chan struct{})
	answered := make(chan error, 1)
	t.Run("inner", func(t *testing.T) {
		srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{{
			Name: "stuck",
			Handler: emulator.HandlerFunc(func(ctx context.Context, _ *emulator.Invocation) ([]byte, error) {
				close(started)
				<-ctx.Done() // only the emulator stopping ends it
				return nil, ctx.Err()
			}),
		}}})
		client := lambda.NewFromConfig(srv.AWSConfig(), func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
		go func() {
			_, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("stuck")})
			answered <- err
		}()
		<-started
	})
	var se *types.ServiceException
	if err := <-answered; !errors.As(err, &se) {
		t.Errorf("the running call got %v, want a ServiceException", err)
	}
}
