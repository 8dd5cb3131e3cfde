// Package emulatortest starts an in-process Lambda emulator for tests, in
// the spirit of net/http/httptest: register Go handlers, point any AWS SDK
// client (or lambdafan) at URL with the server's credentials, and let
// t.Cleanup stop it.
//
//	srv := emulatortest.New(t, emulator.Config{Functions: []emulator.Function{{
//		Name: "greet",
//		Handler: emulator.HandlerFunc(func(ctx context.Context, inv *emulator.Invocation) ([]byte, error) {
//			return []byte(`"hello"`), nil
//		}),
//	}}})
//	client := lambda.NewFromConfig(srv.AWSConfig())
package emulatortest

import (
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdafan/lambdafan/emulator"
)

// Region is the region AWSConfig configures; the emulator serves every
// region.
const Region = "us-east-1"

// Server is a running emulator on a loopback port. New's cleanup stops
// it: the emulator, then the HTTP server. A test may stop the emulator
// sooner through Emulator (Shutdown, to let queued events finish); the
// HTTP server then keeps answering, with the stopped emulator, until the
// cleanup.
type Server struct {
	// Emulator is the emulator being served, for its Stats, Executions
	// and Functions. It is a named field rather than embedded, like
	// httptest.Server's Config: embedding would offer its Close and
	// Shutdown, which stop the emulator but leave the HTTP server
	// running.
	Emulator *emulator.Server
	// URL is the endpoint URL, e.g. "http://127.0.0.1:34567".
	URL string
	// AccessKeyID and SecretAccessKey are the credentials requests must be
	// signed with.
	AccessKeyID, SecretAccessKey string
}

// New starts an emulator for cfg on 127.0.0.1 and stops it when the test
// ends. It fails the test if cfg is invalid.
func New(t testing.TB, cfg emulator.Config) *Server {
	t.Helper()
	emu, err := emulator.New(cfg)
	if err != nil {
		t.Fatalf("emulatortest: %v", err)
	}
	hs := httptest.NewServer(emu)
	t.Cleanup(func() {
		// Stop the emulator first: it cancels running invocations, which
		// outlive their HTTP requests (as in Lambda) and would otherwise
		// hold up the HTTP server's Close until they finish.
		if err := emu.Close(); err != nil {
			t.Errorf("emulatortest: close: %v", err)
		}
		hs.Close()
	})
	ak, sk := emu.Credentials()
	return &Server{Emulator: emu, URL: hs.URL, AccessKeyID: ak, SecretAccessKey: sk}
}

// Credentials returns a provider of the server's static credentials.
func (s *Server) Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, "")
}

// AWSConfig returns an AWS SDK configuration that reaches the server:
// its credentials, Region, and BaseEndpoint set to URL.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  s.Credentials(),
		BaseEndpoint: aws.String(s.URL),
	}
}
