package lambdafan_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"

	"github.com/lambdafan/lambdafan"
)

// TestCredentials_ProviderMessageWithheld uses a real credential_process
// profile whose helper prints a secret key and a session token with an
// expiration the SDK cannot parse. The SDK's error quotes the helper's
// output; neither results nor debug logs may repeat it.
func TestCredentials_ProviderMessageWithheld(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	configFile := filepath.Join(dir, "config")
	profile := fmt.Sprintf("[profile leaky]\nregion = us-east-1\ncredential_process = %s=bad-expiration %s\n", credentialHelperEnv, exe)
	if err := os.WriteFile(configFile, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"} {
		t.Setenv(v, "") // the profile's credentials, not the environment's
	}
	awsCfg, err := config.LoadDefaultConfig(t.Context(),
		config.WithSharedConfigFiles([]string{configFile}),
		config.WithSharedCredentialsFiles([]string{filepath.Join(dir, "credentials")}),
		config.WithSharedConfigProfile("leaky"))
	if err != nil {
		t.Fatal(err)
	}
	// The scenario: the provider's own error carries the secrets.
	if _, err := awsCfg.Credentials.Retrieve(t.Context()); err == nil || !strings.Contains(err.Error(), helperSecretKey) {
		t.Fatalf("the SDK's error does not quote the helper's output (the scenario did not happen): %v", err)
	}

	srv := builtins(t)
	var logs bytes.Buffer
	c, err := lambdafan.New(lambdafan.Config{AWS: awsCfg, EndpointURL: srv.URL,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	results := append(c.InvokeAll(t.Context(), []lambdafan.Request{{FunctionName: "echo"}, {FunctionName: "echo"}}),
		c.Invoke(t.Context(), lambdafan.Request{FunctionName: "echo", Payload: []byte(`{}`)}))
	var everything strings.Builder
	for _, r := range results {
		var ce *lambdafan.CredentialsError
		var pe *processcreds.ProviderError
		if !errors.Is(r.Err, lambdafan.ErrCredentials) || !errors.As(r.Err, &ce) || !errors.As(r.Err, &pe) {
			t.Fatalf("result %+v: want an error that is ErrCredentials, a *CredentialsError and the provider's error", r)
		}
		if !strings.Contains(r.Err.Error(), "credential_process") || !strings.Contains(r.Err.Error(), "withheld") {
			t.Errorf("error %q does not say which provider failed and why its message is missing", r.Err)
		}
		fmt.Fprintf(&everything, "%+v %s %s %s\n", r, r.Payload, r.LogTail, r.Err)
	}
	everything.Write(logs.Bytes())
	for _, secret := range []string{helperSecretKey, helperSessionToken, "bPxRfiCY", "FwoGZXIv"} {
		if strings.Contains(everything.String(), secret) {
			t.Errorf("%q appears in results or logs:\n%s", secret, everything.String())
		}
	}
	if n := srv.Emulator.Stats().Requests; n != 0 {
		t.Errorf("%d requests reached Lambda without credentials", n)
	}
}

func TestCredentialsError(t *testing.T) {
	cause := errors.New("aws_secret_access_key = s3cret")
	err := error(&lambdafan.CredentialsError{Err: fmt.Errorf("refresh: %w", cause)})
	if !errors.Is(err, lambdafan.ErrCredentials) || !errors.Is(err, cause) {
		t.Errorf("%v does not unwrap to ErrCredentials and its cause", err)
	}
	const want = "AWS credentials unusable: the credential provider failed (its message is withheld: it may contain secrets)"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cancelled := &lambdafan.CredentialsError{Err: fmt.Errorf("get token: %w", ctx.Err())}
	if got := cancelled.Error(); !strings.HasSuffix(got, ": context canceled") {
		t.Errorf("Error() = %q, want the cancellation named", got)
	}
}
