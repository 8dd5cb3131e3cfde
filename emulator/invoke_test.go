package emulator_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// recorder is a function that reports every invocation it runs and
// answers with its payload.
type recorder chan *emulator.Invocation

func (rec recorder) Invoke(ctx context.Context, inv *emulator.Invocation) emulator.Output {
	fmt.Fprintf(inv.Log, "handling %s\n", inv.Payload)
	rec <- inv
	return emulator.Output{Payload: inv.Payload}
}

// customError is returned by a HandlerFunc to check errorType naming.
type customError struct{ code int }

func (e *customError) Error() string { return fmt.Sprintf("custom failure %d", e.code) }

// conformanceServer serves the built-ins plus "rec" (a recorder with an
// alias "live") and "custom" (fails with a customError).
func conformanceServer(t *testing.T) (*emulatortest.Server, recorder) {
	rec := make(recorder, 16)
	fns := append(emulator.BuiltinFunctions(),
		emulator.Function{Name: "rec", Handler: rec, Aliases: map[string]string{"live": "$LATEST"}},
		emulator.Function{Name: "custom", Handler: emulator.HandlerFunc(func(context.Context, *emulator.Invocation) ([]byte, error) {
			return nil, &customError{code: 7}
		})},
		emulator.Function{Name: "blocked", Handler: rec, ReservedConcurrency: ptr(0)},
	)
	return emulatortest.New(t, emulator.Config{Functions: fns}), rec
}

func TestInvoke_SDK(t *testing.T) {
	srv, rec := conformanceServer(t)
	client := newClient(srv)
	ctx := t.Context()
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:rec"

	t.Run("request response", func(t *testing.T) {
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"a":1}`)})
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode != 200 || string(out.Payload) != `{"a":1}` || aws.ToString(out.ExecutedVersion) != "$LATEST" {
			t.Errorf("got status %d, payload %s, version %q; want 200, the payload, $LATEST", out.StatusCode, out.Payload, aws.ToString(out.ExecutedVersion))
		}
		if out.FunctionError != nil || out.LogResult != nil {
			t.Errorf("FunctionError %v, LogResult %v; want neither", out.FunctionError, out.LogResult)
		}
		id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
		if !ok || !uuidRE.MatchString(id) {
			t.Errorf("request id %q (found %v), want a version 4 UUID", id, ok)
		}
	})

	t.Run("empty payload becomes an empty object", func(t *testing.T) {
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo")})
		if err != nil || string(out.Payload) != "{}" {
			t.Fatalf("got %s, %v; want {}", out.Payload, err)
		}
	})

	t.Run("event", func(t *testing.T) {
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("rec"), InvocationType: types.InvocationTypeEvent,
			Payload: []byte(`"event"`), ClientContext: aws.String(base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`)))})
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode != 202 || len(out.Payload) != 0 || out.ExecutedVersion != nil {
			t.Errorf("got status %d, payload %q, version %v; want 202, nothing, no version", out.StatusCode, out.Payload, out.ExecutedVersion)
		}
		inv := <-rec // runs later, on the event queue
		if string(inv.Payload) != `"event"` {
			t.Errorf("event ran with payload %s", inv.Payload)
		}
		if inv.ClientContext != nil {
			t.Errorf("event got client context %s; Lambda passes it to synchronous invocations only", inv.ClientContext)
		}
	})

	t.Run("dry run", func(t *testing.T) {
		before := srv.Emulator.Stats().Executions
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeDryRun, Payload: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode != 204 || len(out.Payload) != 0 || aws.ToString(out.ExecutedVersion) != "$LATEST" {
			t.Errorf("got status %d, payload %q, version %q; want 204, nothing, $LATEST", out.StatusCode, out.Payload, aws.ToString(out.ExecutedVersion))
		}
		if n := srv.Emulator.Stats().Executions; n != before {
			t.Errorf("dry run executed the function (%d executions, was %d)", n, before)
		}
	})

	t.Run("log tail", func(t *testing.T) {
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("rec"), LogType: types.LogTypeTail, Payload: []byte(`"tail"`)})
		if err != nil {
			t.Fatal(err)
		}
		<-rec
		id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
		log, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
		if err != nil {
			t.Fatalf("LogResult %q is not base64: %v", aws.ToString(out.LogResult), err)
		}
		lines := strings.Split(strings.TrimSuffix(string(log), "\n"), "\n")
		if len(lines) != 4 ||
			lines[0] != "START RequestId: "+id+" Version: $LATEST" ||
			lines[1] != `handling "tail"` ||
			lines[2] != "END RequestId: "+id ||
			!regexp.MustCompile(`^REPORT RequestId: `+id+`\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\t$`).MatchString(lines[3]) {
			t.Errorf("log is\n%s\nwant START, the function's output, END and REPORT for request %s", log, id)
		}
	})

	t.Run("client context", func(t *testing.T) {
		const cc = `{"client":{"app_title":"t"},"custom":{"k":"v"}}`
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("rec"), Payload: []byte(`1`),
			ClientContext: aws.String(base64.StdEncoding.EncodeToString([]byte(cc)))})
		if err != nil {
			t.Fatal(err)
		}
		if inv := <-rec; string(inv.ClientContext) != cc {
			t.Errorf("handler saw client context %q, want %q", inv.ClientContext, cc)
		}
	})

	for _, tc := range []struct {
		name, function, qualifier, invokedARN string
	}{
		{"name", "rec", "", arn},
		{"qualifier alias", "rec", "live", arn + ":live"},
		{"qualifier $LATEST", "rec", "$LATEST", arn + ":$LATEST"},
		{"name:alias", "rec:live", "", arn + ":live"},
		{"name:alias and same qualifier", "rec:live", "live", arn + ":live"},
		{"full ARN", arn, "", arn},
		{"full ARN with alias", arn + ":live", "", arn + ":live"},
		{"partial ARN", "123456789012:function:rec", "", arn},
		{"region partial ARN", "us-east-1:123456789012:function:rec:live", "", arn + ":live"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &lambda.InvokeInput{FunctionName: aws.String(tc.function), Payload: []byte(`"q"`)}
			if tc.qualifier != "" {
				in.Qualifier = aws.String(tc.qualifier)
			}
			out, err := client.Invoke(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			inv := <-rec
			if inv.InvokedFunctionARN != tc.invokedARN || inv.FunctionName != "rec" || inv.Version != "$LATEST" {
				t.Errorf("handler saw ARN %q, name %q, version %q; want %q, rec, $LATEST", inv.InvokedFunctionARN, inv.FunctionName, inv.Version, tc.invokedARN)
			}
			if v := aws.ToString(out.ExecutedVersion); v != "$LATEST" {
				t.Errorf("executed version %q, want $LATEST", v)
			}
		})
	}

	t.Run("function error", func(t *testing.T) {
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fail"), Payload: []byte(`{"message":"boom"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" {
			t.Errorf("got status %d, FunctionError %q; want 200, Unhandled", out.StatusCode, aws.ToString(out.FunctionError))
		}
		if string(out.Payload) != `{"errorMessage":"boom","errorType":"Error"}` {
			t.Errorf("payload %s", out.Payload)
		}
	})

	t.Run("function error type from Go error", func(t *testing.T) {
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("custom")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.FunctionError) != "Unhandled" || string(out.Payload) != `{"errorMessage":"custom failure 7","errorType":"customError"}` {
			t.Errorf("got FunctionError %q, payload %s", aws.ToString(out.FunctionError), out.Payload)
		}
	})
}

// TestInvoke_Region checks that a function sees the region it was
// invoked in, the region the call was signed for, in Invocation.Region
// and in the ARN it was invoked by, synchronously and as an Event.
func TestInvoke_Region(t *testing.T) {
	srv, rec := conformanceServer(t)
	for _, tc := range []struct{ region, arn string }{
		{"eu-west-1", "arn:aws:lambda:eu-west-1:123456789012:function:rec"},
		{"cn-north-1", "arn:aws-cn:lambda:cn-north-1:123456789012:function:rec"},
		{"xx-fake-9", "arn:aws:lambda:xx-fake-9:123456789012:function:rec"},
	} {
		cfg := srv.AWSConfig()
		cfg.Region = tc.region
		client := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
		for _, typ := range []types.InvocationType{types.InvocationTypeRequestResponse, types.InvocationTypeEvent} {
			if _, err := client.Invoke(t.Context(), &lambda.InvokeInput{FunctionName: aws.String("rec"), InvocationType: typ}); err != nil {
				t.Fatalf("%s %s: %v", tc.region, typ, err)
			}
			inv := <-rec
			if inv.Region != tc.region || inv.InvokedFunctionARN != tc.arn {
				t.Errorf("%s %s: handler saw region %q, ARN %q; want %q, %q", tc.region, typ, inv.Region, inv.InvokedFunctionARN, tc.region, tc.arn)
			}
		}
	}
}

// TestInvoke_SDKErrors checks that the SDK decodes every error answer into
// the error Lambda's real answer decodes into.
func TestInvoke_SDKErrors(t *testing.T) {
	srv, _ := conformanceServer(t)
	client := newClient(srv)
	ctx := t.Context()

	// apiError checks err's code, HTTP status and message.
	apiError := func(t *testing.T, err error, code string, status int, message string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("error %v is not an API error", err)
		}
		if ae.ErrorCode() != code || ae.ErrorMessage() != message {
			t.Errorf("got %s %q, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, message)
		}
		var re *smithyhttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != status {
			t.Errorf("HTTP status of %v is not %d", err, status)
		}
		var rid *awshttp.ResponseError
		if !errors.As(err, &rid) || !uuidRE.MatchString(rid.ServiceRequestID()) {
			t.Errorf("error %v carries no request id (x-amzn-RequestId)", err)
		}
	}

	t.Run("unknown function", func(t *testing.T) {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("nope")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) || aws.ToString(nf.Type) != "User" {
			t.Fatalf("got %v, want ResourceNotFoundException of Type User", err)
		}
		apiError(t, err, "ResourceNotFoundException", 404, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope")
	})

	t.Run("unknown alias", func(t *testing.T) {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("rec"), Qualifier: aws.String("nope")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("got %v, want ResourceNotFoundException", err)
		}
		apiError(t, err, "ResourceNotFoundException", 404, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:rec:nope")
	})

	t.Run("ARN of another account", func(t *testing.T) {
		// Whether or not the function exists there: the caller may not
		// use another account's functions.
		for _, name := range []string{"echo", "nope"} {
			_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:999999999999:function:" + name)})
			apiError(t, err, "AccessDeniedException", 403,
				"User: arn:aws:iam::123456789012:root is not authorized to perform: lambda:InvokeFunction on resource: "+
					"arn:aws:lambda:us-east-1:999999999999:function:"+name+" because no resource-based policy allows the lambda:InvokeFunction action")
		}
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("999999999999:function:echo:live")})
		apiError(t, err, "AccessDeniedException", 403,
			"User: arn:aws:iam::123456789012:root is not authorized to perform: lambda:InvokeFunction on resource: "+
				"arn:aws:lambda:us-east-1:999999999999:function:echo:live because no resource-based policy allows the lambda:InvokeFunction action")
	})

	t.Run("ARN of another region", func(t *testing.T) {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:eu-west-1:123456789012:function:echo")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("got %v, want ResourceNotFoundException", err)
		}
		apiError(t, err, "ResourceNotFoundException", 404, "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')")
	})

	t.Run("qualifier contradicting the name", func(t *testing.T) {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("rec:live"), Qualifier: aws.String("$LATEST")})
		var ip *types.InvalidParameterValueException
		if !errors.As(err, &ip) {
			t.Fatalf("got %v, want InvalidParameterValueException", err)
		}
		apiError(t, err, "InvalidParameterValueException", 400, "The derived qualifier from the function name does not match the specified qualifier.")
	})

	// Parameters outside the model's constraints: AWS's front end answers
	// ValidationException, which the Lambda model does not declare.
	t.Run("invalid function name", func(t *testing.T) {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("no spaces")})
		apiError(t, err, "ValidationException", 400, `1 validation error detected: Value 'no spaces' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:|(((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?))(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`)
	})

	t.Run("invalid invocation type", func(t *testing.T) {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: "dry_run"})
		apiError(t, err, "ValidationException", 400, "1 validation error detected: Value 'dry_run' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [DryRun, RequestResponse, Event]")
	})

	t.Run("invalid qualifier", func(t *testing.T) {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Qualifier: aws.String("v.1")})
		apiError(t, err, "ValidationException", 400, "1 validation error detected: Value 'v.1' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+")
	})

	t.Run("invalid JSON", func(t *testing.T) {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"a":`)})
		var ic *types.InvalidRequestContentException
		if !errors.As(err, &ic) || aws.ToString(ic.Type) != "User" {
			t.Fatalf("got %v, want InvalidRequestContentException of Type User", err)
		}
		if msg := aws.ToString(ic.Message); !strings.HasPrefix(msg, "Could not parse request body into json: Could not parse payload into json: ") {
			t.Errorf("message %q", msg)
		}
	})

	t.Run("invalid client context", func(t *testing.T) {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), ClientContext: aws.String("string")})
		var ic *types.InvalidRequestContentException
		if !errors.As(err, &ic) {
			t.Fatalf("got %v, want InvalidRequestContentException", err)
		}
		apiError(t, err, "InvalidRequestContentException", 400, "Client context must be a valid Base64-encoded JSON object.")
	})

	t.Run("throttled", func(t *testing.T) {
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("blocked")})
		var tm *types.TooManyRequestsException
		if !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded || aws.ToString(tm.Type) != "User" {
			t.Fatalf("got %v, want TooManyRequestsException with Reason ReservedFunctionConcurrentInvocationLimitExceeded", err)
		}
		apiError(t, err, "TooManyRequestsException", 429, "Rate Exceeded.")
	})

	// Lambda answers oversized requests with RequestEntityTooLargeException,
	// which its API model does not declare (the model's
	// RequestTooLargeException is never sent; aws/aws-sdk-go#3080), so the
	// SDK decodes a generic API error, not *types.RequestTooLargeException.
	t.Run("synchronous payload too large", func(t *testing.T) {
		payload := jsonString(emulator.MaxSyncPayloadBytes + 1)
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: payload})
		apiError(t, err, "RequestEntityTooLargeException", 413, "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		var modelled *types.RequestTooLargeException
		if errors.As(err, &modelled) {
			t.Errorf("decoded as *types.RequestTooLargeException; real Lambda's code is RequestEntityTooLargeException")
		}
	})

	t.Run("event payload too large", func(t *testing.T) {
		payload := jsonString(emulator.MaxAsyncPayloadBytes + 1)
		_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeEvent, Payload: payload})
		apiError(t, err, "RequestEntityTooLargeException", 413, "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)")
	})

	t.Run("payloads at the limits are accepted", func(t *testing.T) {
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: jsonString(emulator.MaxSyncPayloadBytes)})
		if err != nil || len(out.Payload) != emulator.MaxSyncPayloadBytes {
			t.Errorf("6 MB synchronous payload: %d bytes back, %v", len(out.Payload), err)
		}
		out, err = client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeEvent, Payload: jsonString(emulator.MaxAsyncPayloadBytes)})
		if err != nil || out.StatusCode != 202 {
			t.Errorf("1 MB event payload: status %d, %v", out.StatusCode, err)
		}
	})
}

// jsonString returns a JSON string of exactly n bytes.
func jsonString(n int) []byte {
	b := bytes.Repeat([]byte("x"), n)
	b[0], b[n-1] = '"', '"'
	return b
}
