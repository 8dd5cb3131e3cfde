package lambdafan_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
	"github.com/lambdafan/lambdafan/internal/nodetest"
)

// nodeStreamingHandler streams the event's chunks with
// awslambda.streamifyResponse, then fails when the event says so.
const nodeStreamingHandler = `export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
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

// TestClient_ResponseStream_NodeRIC streams through AWS's own Node.js
// runtime interface client (aws-lambda-ric, installed by
// .ci/setup-node-ric into LAMBDAFAN_NODE_MODULES) and holds lambdafan to
// what the SDK's InvokeWithResponseStream decodes of the same function.
func TestClient_ResponseStream_NodeRIC(t *testing.T) {
	ric := nodetest.RIC(t)
	code := t.TempDir()
	if err := os.WriteFile(filepath.Join(code, "index.mjs"), []byte(nodeStreamingHandler), 0o644); err != nil {
		t.Fatal(err)
	}
	fn := emulator.Function{Name: "node-stream", Command: ric, CodeDir: code, RuntimeHandler: "index.handler"}
	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{fn}})
	c := newClient(t, srv, lambdafan.Config{})
	sdk := lambda.NewFromConfig(srv.AWSConfig(), func(o *lambda.Options) { o.RetryMaxAttempts = 1 })

	for _, tt := range []struct{ name, event string }{
		{"streamed", `{"chunks":["hello ","from ","node"]}`},
		{"failing midway", `{"chunks":["hello ","from "],"fail":"broke midway"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := sdkInvokeStream(t, sdk, &lambda.InvokeWithResponseStreamInput{
				FunctionName: aws.String("node-stream"), Payload: []byte(tt.event), LogType: types.LogTypeTail})
			req := lambdafan.Request{FunctionName: "node-stream", Payload: []byte(tt.event), LogType: lambdafan.LogTail, ResponseStream: true}
			r := c.Invoke(t.Context(), req)
			checkStreamResult(t, "Invoke", r, r.Payload, want)
			s, err := c.InvokeStream(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := io.ReadAll(s)
			if err != nil {
				t.Fatal(err)
			}
			checkStreamResult(t, "InvokeStream", s.Result(), got, want)
		})
	}
}
