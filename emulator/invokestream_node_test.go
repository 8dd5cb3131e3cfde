package emulator_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
	"github.com/lambdafan/lambdafan/internal/nodetest"
)

// streamingHandler is a Node.js handler streaming its response with
// awslambda.streamifyResponse: the event's chunks, one write each, then
// an error when the event says fail.
const streamingHandler = `export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  for (const chunk of event.chunks) {
    responseStream.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (event.fail) {
    throw new Error(event.fail);
  }
  responseStream.end();
});
`

// TestInvokeWithResponseStream_NodeRIC streams with the official Node.js
// runtime interface client (aws-lambda-ric 4.0.2): the SDK for Go's
// InvokeWithResponseStream and Invoke, and the SDK for JavaScript's
// InvokeWithResponseStreamCommand, against a handler that streams and
// one that fails midway.
func TestInvokeWithResponseStream_NodeRIC(t *testing.T) {
	modules := nodetest.Modules(t, "aws-lambda-ric/index.mjs", "@aws-sdk/client-lambda/package.json")
	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{nodeFunction(t, "node-stream", streamingHandler)}})
	c := newClient(srv)
	const ok = `{"chunks":["hello ","from ","node"]}`
	const fail = `{"chunks":["hello ","from "],"fail":"broke midway"}`

	t.Run("InvokeWithResponseStream", func(t *testing.T) {
		s := invokeStream(t, c, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("node-stream"), Payload: []byte(ok)})
		if s.body() != "hello from node" || s.complete.ErrorCode != nil {
			t.Errorf("body %q (chunks %q), InvokeComplete error %s", s.body(), s.chunks, aws.ToString(s.complete.ErrorCode))
		}
	})

	t.Run("InvokeWithResponseStream, failing midway", func(t *testing.T) {
		s := invokeStream(t, c, &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("node-stream"), Payload: []byte(fail)})
		var doc struct {
			ErrorType, ErrorMessage string
			Trace                   []string
		}
		_ = json.Unmarshal([]byte(aws.ToString(s.complete.ErrorDetails)), &doc)
		if s.body() != "hello from " || aws.ToString(s.complete.ErrorCode) != "Error" || doc.ErrorMessage != "broke midway" || len(doc.Trace) == 0 {
			t.Errorf("body %q, InvokeComplete %s / %s", s.body(), aws.ToString(s.complete.ErrorCode), aws.ToString(s.complete.ErrorDetails))
		}
	})

	t.Run("Invoke", func(t *testing.T) {
		out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("node-stream"), Payload: []byte(ok)})
		if err != nil || out.FunctionError != nil || string(out.Payload) != "hello from node" {
			t.Fatalf("Invoke: %v, function error %s, payload %q", err, aws.ToString(out.FunctionError), out.Payload)
		}
	})

	t.Run("Invoke, failing midway", func(t *testing.T) {
		out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("node-stream"), Payload: []byte(fail)})
		var doc struct{ ErrorType, ErrorMessage string }
		if err != nil || json.Unmarshal(out.Payload, &doc) != nil {
			t.Fatalf("Invoke: %v, payload %q", err, out.Payload)
		}
		if aws.ToString(out.FunctionError) != "Unhandled" || doc.ErrorType != "Error" || doc.ErrorMessage != "broke midway" {
			t.Errorf("function error %q, payload %s", aws.ToString(out.FunctionError), out.Payload)
		}
	})

	t.Run("the SDK for JavaScript", func(t *testing.T) {
		for _, tc := range []struct{ payload, want string }{
			{ok, `{"body":"hello from node","complete":{}}`},
			{fail, `{"body":"hello from ","complete":{"ErrorCode":"Error"}}`},
		} {
			if got := nodeSDKStream(t, modules, srv, "node-stream", tc.payload); got != tc.want {
				t.Errorf("InvokeWithResponseStreamCommand delivered %s, want %s", got, tc.want)
			}
		}
	})
}

// nodeSDKScript invokes a function with the SDK for JavaScript's
// InvokeWithResponseStreamCommand and prints, as JSON, the chunks it
// received together (pieces that reach the emulator together may travel
// in one chunk) and the InvokeComplete event, its ErrorCode only.
const nodeSDKScript = `const path = require("node:path");
const { LambdaClient, InvokeWithResponseStreamCommand } = require(path.join(process.env.LAMBDAFAN_NODE_MODULES, "@aws-sdk/client-lambda"));
(async () => {
  const client = new LambdaClient({ endpoint: process.env.ENDPOINT, region: process.env.AWS_REGION, maxAttempts: 1 });
  const res = await client.send(new InvokeWithResponseStreamCommand({ FunctionName: process.env.FUNCTION, Payload: Buffer.from(process.env.PAYLOAD) }));
  const out = { body: "", complete: null };
  for await (const ev of res.EventStream) {
    if (ev.PayloadChunk) out.body += Buffer.from(ev.PayloadChunk.Payload).toString();
    if (ev.InvokeComplete) out.complete = ev.InvokeComplete.ErrorCode ? { ErrorCode: ev.InvokeComplete.ErrorCode } : {};
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => { console.error(err); process.exit(1); });
`

func nodeSDKStream(t *testing.T, modules string, srv *emulatortest.Server, function, payload string) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "invoke.cjs")
	if err := os.WriteFile(script, []byte(nodeSDKScript), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", script)
	cmd.Env = append(os.Environ(), "LAMBDAFAN_NODE_MODULES="+modules, "ENDPOINT="+srv.URL, "AWS_REGION="+emulatortest.Region,
		"AWS_ACCESS_KEY_ID="+srv.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+srv.SecretAccessKey, "FUNCTION="+function, "PAYLOAD="+payload)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node SDK client: %v\n%s", err, stderr)
	}
	return strings.TrimSpace(string(out))
}
