package lambdafan_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// TestSecretsNeverLeak runs requests that succeed, fail, are throttled
// and retried, and are refused for a bad signature, with debug logging on,
// and checks that neither results, errors nor logs contain the secret key,
// the session token or a signature.
func TestSecretsNeverLeak(t *testing.T) {
	const token = "SESSIONTOKEN-d2f1c9e7"
	srv := emulatortest.New(t, emulator.Config{
		Functions: emulator.BuiltinFunctions(),
		Faults: emulator.Faults{Schedule: func(n int64) emulator.Fault {
			if n%3 == 0 {
				return emulator.FaultThrottle
			}
			return emulator.NoFault
		}},
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	run := func(secret string) []lambdafan.Result {
		c, err := lambdafan.New(t.Context(), lambdafan.Config{
			AWS:         &aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKeyID, secret, token)},
			EndpointURL: srv.URL, Logger: logger, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		return c.InvokeAll(t.Context(), []lambdafan.Request{
			{FunctionName: "echo", Payload: []byte(`{}`), LogType: lambdafan.LogTail},
			{FunctionName: "fail"},
			{FunctionName: "missing"},
			{FunctionName: "echo", InvocationType: lambdafan.Event},
		})
	}
	results := append(run(srv.SecretAccessKey), run("wrong-"+srv.SecretAccessKey)...)

	var everything strings.Builder
	refused := 0
	for _, r := range results {
		fmt.Fprintf(&everything, "%+v %s %s\n", r, r.Payload, r.LogTail)
		if r.Err != nil {
			everything.WriteString(r.Err.Error() + "\n")
			if strings.Contains(r.Err.Error(), "InvalidSignatureException") {
				refused++
			}
		}
	}
	everything.Write(logs.Bytes())
	if refused != 4 || !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("the scenario did not happen: %d refused, logs:\n%s", refused, logs.String())
	}
	for _, secret := range []string{srv.SecretAccessKey, token, "Signature=", "X-Amz-Security-Token", "Authorization"} {
		if strings.Contains(everything.String(), secret) {
			t.Errorf("%q appears in results or logs", secret)
		}
	}
}
