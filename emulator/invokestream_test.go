package emulator_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// streamed is what the SDK's InvokeWithResponseStream delivered.
type streamed struct {
	out      *lambda.InvokeWithResponseStreamOutput
	chunks   []string
	complete *types.InvokeWithResponseStreamCompleteEvent
	events   int // InvokeComplete events
}

// body is the chunks together.
func (s streamed) body() string { return strings.Join(s.chunks, "") }

// invokeStream calls InvokeWithResponseStream with the real SDK client
// and reads the whole event stream. On a loaded machine the SDK's event
// stream reader now and then finds its connection closed under it
// (net.ErrClosed, "use of closed network connection", reported in
// aws/aws-sdk-go-v2#1825 and #2737 for other operations): the SDK's
// transport, not the stream it reads. That attempt says nothing of the
// stream, so it is made again, up to three times in all; any other error
// fails the test at once.
func invokeStream(t testing.TB, c *lambda.Client, in *lambda.InvokeWithResponseStreamInput) streamed {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, err := readStream(t, c, in)
		if err == nil {
			return s
		}
		if !errors.Is(err, net.ErrClosed) || attempt == 3 {
			t.Fatalf("event stream: %v", err)
		}
		t.Logf("event stream, attempt %d: %v; again", attempt, err)
	}
}

// readStream makes one InvokeWithResponseStream call and reads its whole
// event stream; it returns the stream's read error, if any.
func readStream(t testing.TB, c *lambda.Client, in *lambda.InvokeWithResponseStreamInput) (streamed, error) {
	t.Helper()
	out, err := c.InvokeWithResponseStream(context.Background(), in)
	if err != nil {
		t.Fatalf("InvokeWithResponseStream: %v", err)
	}
	s := streamed{out: out}
	stream := out.GetStream()
	defer stream.Close()
	for ev := range stream.Events() {
		switch v := ev.(type) {
		case *types.InvokeWithResponseStreamResponseEventMemberPayloadChunk:
			if s.complete != nil {
				t.Errorf("a PayloadChunk after InvokeComplete")
			}
			s.chunks = append(s.chunks, string(v.Value.Payload))
		case *types.InvokeWithResponseStreamResponseEventMemberInvokeComplete:
			s.complete = &v.Value
			s.events++
		default:
			t.Errorf("unexpected event %T", ev)
		}
	}
	if err := stream.Err(); err != nil {
		return s, err
	}
	if s.events != 1 {
		t.Fatalf("%d InvokeComplete events, want 1 (chunks %q)", s.events, s.chunks)
	}
	return s, nil
}

// streamServer serves fns with a retry-less SDK client.
func streamServer(t testing.TB, fns ...emulator.Function) *lambda.Client {
	t.Helper()
	srv := emulatortest.New(t, emulator.Config{Functions: fns})
	return newClient(srv)
}

func TestInvokeWithResponseStream_GoHandlers(t *testing.T) {
	buffered := emulator.Function{Name: "buffered", Handler: emulator.HandlerFunc(func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) {
		return []byte(`{"whole":true}`), nil
	})}
	streaming := emulator.Function{Name: "streaming", Handler: handlerFunc(func(ctx context.Context, inv *emulator.Invocation) emulator.Output {
		for _, piece := range []string{"one ", "two ", "three"} {
			if _, err := inv.Stream.Write([]byte(piece)); err != nil {
				return emulator.Output{Error: true, Payload: emulator.ErrorDocument("WriteFailed", err.Error())}
			}
		}
		return emulator.Output{Streamed: true}
	})}
	failing := emulator.Function{Name: "failing", Handler: emulator.HandlerFunc(func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) {
		return nil, &emulator.FunctionError{Type: "Custom", Message: "it failed"}
	})}
	slow := emulator.Function{Name: "slow", Timeout: time.Second, Handler: handlerFunc(func(ctx context.Context, inv *emulator.Invocation) emulator.Output {
		_, _ = inv.Stream.Write([]byte("a start"))
		<-ctx.Done()
		return emulator.Output{Streamed: true}
	})}
	c := streamServer(t, buffered, streaming, failing, slow)

	t.Run("a buffered response in one chunk", func(t *testing.T) {
		s := invokeStream(t, c, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("buffered"), Payload: []byte(`{}`)})
		if len(s.chunks) != 1 || s.chunks[0] != `{"whole":true}` {
			t.Errorf("chunks %q, want the response in one", s.chunks)
		}
		if s.out.StatusCode != 200 || aws.ToString(s.out.ExecutedVersion) != "$LATEST" || aws.ToString(s.out.ResponseStreamContentType) != "application/vnd.amazon.eventstream" {
			t.Errorf("status %d, version %q, content type %q", s.out.StatusCode, aws.ToString(s.out.ExecutedVersion), aws.ToString(s.out.ResponseStreamContentType))
		}
		if s.complete.ErrorCode != nil || s.complete.ErrorDetails != nil || s.complete.LogResult != nil {
			t.Errorf("InvokeComplete %+v, want it empty", *s.complete)
		}
	})

	t.Run("a streamed response, chunk by chunk", func(t *testing.T) {
		s := invokeStream(t, c, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("streaming")})
		if strings.Join(s.chunks, "|") != "one |two |three" {
			t.Errorf("chunks %q, want one per write", s.chunks)
		}
	})

	t.Run("a function error", func(t *testing.T) {
		s := invokeStream(t, c, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("failing")})
		if len(s.chunks) != 0 || aws.ToString(s.complete.ErrorCode) != "Custom" ||
			aws.ToString(s.complete.ErrorDetails) != `{"errorMessage":"it failed","errorType":"Custom"}` {
			t.Errorf("chunks %q, InvokeComplete %s / %s", s.chunks, aws.ToString(s.complete.ErrorCode), aws.ToString(s.complete.ErrorDetails))
		}
	})

	t.Run("a timeout midway", func(t *testing.T) {
		s := invokeStream(t, c, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("slow")})
		if s.body() != "a start" || aws.ToString(s.complete.ErrorCode) != "Sandbox.Timedout" ||
			!strings.Contains(aws.ToString(s.complete.ErrorDetails), "Task timed out after 1.00 seconds") {
			t.Errorf("chunks %q, InvokeComplete %s / %s", s.chunks, aws.ToString(s.complete.ErrorCode), aws.ToString(s.complete.ErrorDetails))
		}
	})

	t.Run("the log tail", func(t *testing.T) {
		s := invokeStream(t, c, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("buffered"), LogType: types.LogTypeTail})
		log, err := base64.StdEncoding.DecodeString(aws.ToString(s.complete.LogResult))
		if err != nil || !strings.Contains(string(log), "START RequestId: ") || !strings.Contains(string(log), "REPORT RequestId: ") {
			t.Errorf("LogResult %q (%v), want the invocation's log", log, err)
		}
	})

	t.Run("dry run", func(t *testing.T) {
		out, err := c.InvokeWithResponseStream(context.Background(), &lambda.InvokeWithResponseStreamInput{
			FunctionName: aws.String("buffered"), InvocationType: types.ResponseStreamingInvocationTypeDryRun})
		if err != nil || out.StatusCode != http.StatusNoContent {
			t.Fatalf("DryRun: %v, %+v", err, out)
		}
		out.GetStream().Close()
	})

	t.Run("rejected calls", func(t *testing.T) {
		for _, tc := range []struct {
			name, function, invocationType, code string
		}{
			{"Event", "buffered", "Event", "ValidationException"},
			{"an unknown function", "nothere", "", "ResourceNotFoundException"},
		} {
			_, err := c.InvokeWithResponseStream(context.Background(), &lambda.InvokeWithResponseStreamInput{
				FunctionName: aws.String(tc.function), InvocationType: types.ResponseStreamingInvocationType(tc.invocationType)})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
	})
}

// handlerFunc adapts a function to emulator.Handler.
type handlerFunc func(ctx context.Context, inv *emulator.Invocation) emulator.Output

func (f handlerFunc) Invoke(ctx context.Context, inv *emulator.Invocation) emulator.Output {
	return f(ctx, inv)
}

// TestInvokeWithResponseStream_Runtime streams through the Runtime API:
// testdata/streamruntime of package execenv posts its responses in
// streaming mode, with error trailers when it fails midway.
func TestInvokeWithResponseStream_Runtime(t *testing.T) {
	c := streamServer(t, emulator.Function{Name: "rt", Command: []string{emulator.StreamRuntimeBinary(t)}})
	const event = `{"chunks":["hello ","streaming ","world"]`

	t.Run("InvokeWithResponseStream", func(t *testing.T) {
		s := invokeStream(t, c, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("rt"), Payload: []byte(event + `}`)})
		if s.body() != "hello streaming world" || s.complete.ErrorCode != nil {
			t.Errorf("body %q, InvokeComplete error %v", s.body(), aws.ToString(s.complete.ErrorCode))
		}
	})

	t.Run("InvokeWithResponseStream, failing midway", func(t *testing.T) {
		s := invokeStream(t, c, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("rt"),
			Payload: []byte(event + `,"failType":"Error","failMessage":"broke midway"}`)})
		var doc struct{ ErrorType, ErrorMessage string }
		_ = json.Unmarshal([]byte(aws.ToString(s.complete.ErrorDetails)), &doc)
		if s.body() != "hello streaming world" || aws.ToString(s.complete.ErrorCode) != "Error" || doc.ErrorMessage != "broke midway" {
			t.Errorf("body %q, InvokeComplete %s / %s", s.body(), aws.ToString(s.complete.ErrorCode), aws.ToString(s.complete.ErrorDetails))
		}
	})

	t.Run("Invoke", func(t *testing.T) {
		out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("rt"), Payload: []byte(event + `}`)})
		if err != nil || out.FunctionError != nil || string(out.Payload) != "hello streaming world" {
			t.Fatalf("Invoke: %v, function error %v, payload %q", err, aws.ToString(out.FunctionError), out.Payload)
		}
	})

	t.Run("Invoke, failing midway", func(t *testing.T) {
		out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("rt"),
			Payload: []byte(event + `,"failType":"Error","failMessage":"broke midway"}`)})
		var doc struct{ ErrorType, ErrorMessage string }
		if err != nil || json.Unmarshal(out.Payload, &doc) != nil {
			t.Fatalf("Invoke: %v, payload %q", err, out.Payload)
		}
		if aws.ToString(out.FunctionError) != "Unhandled" || doc.ErrorType != "Error" || doc.ErrorMessage != "broke midway" {
			t.Errorf("function error %q, payload %s", aws.ToString(out.FunctionError), out.Payload)
		}
	})

	t.Run("beyond 6 MB", func(t *testing.T) {
		s := invokeStream(t, c, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("rt"), Payload: []byte(`{"size":7000000}`)})
		if n := len(s.body()); n != 7000000 || s.complete.ErrorCode != nil {
			t.Errorf("streamed %d bytes, error %v; want 7000000 bytes", n, aws.ToString(s.complete.ErrorCode))
		}
		out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("rt"), Payload: []byte(`{"size":7000000}`)})
		if err != nil || !strings.Contains(string(out.Payload), "Function.ResponseSizeTooLarge") {
			t.Errorf("Invoke: %v, %.200s; want Function.ResponseSizeTooLarge", err, out.Payload)
		}
	})
}
