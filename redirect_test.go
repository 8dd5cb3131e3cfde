package lambdafan_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lambdafan/lambdafan"
)

// lambdaOK answers like a successful synchronous Invoke and counts the
// requests it receives.
func lambdaOK(n *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000002")
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		fmt.Fprint(w, `"ran"`)
	}
}

// staticAWS is an AWS config with fixed credentials, a session token
// included.
func staticAWS() aws.Config {
	return aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "SESSIONTOKEN-d2f1c9e7")}
}

// TestClient_NeverFollowsRedirects: Lambda never redirects an Invoke.
// Following one would re-send the payload and the session token to
// another host, or invoke another function with the original request.
func TestClient_NeverFollowsRedirects(t *testing.T) {
	var other, sameServer atomic.Int64
	otherSrv := httptest.NewServer(lambdaOK(&other))
	t.Cleanup(otherSrv.Close)
	const fnPath = "/2015-03-31/functions/f/invocations"
	var location atomic.Value // the redirect target of the current case
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+fnPath, func(w http.ResponseWriter, r *http.Request) {
		status := 307
		fmt.Sscan(r.URL.Query().Get("Qualifier"), &status) // the case's status rides in the qualifier
		w.Header().Set("Location", location.Load().(string))
		w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000001")
		w.WriteHeader(status)
	})
	mux.HandleFunc("/", lambdaOK(&sameServer))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	userClient := &http.Client{} // follows redirects, as net/http does by default
	clients := map[string]*http.Client{"built-in client": nil, "user client": userClient}
	targets := map[string]string{
		"same server, another function": srv.URL + "/2015-03-31/functions/other/invocations",
		"another server":                otherSrv.URL + "/2015-03-31/functions/f/invocations",
	}
	for clientName, hc := range clients {
		c, err := lambdafan.New(lambdafan.Config{AWS: staticAWS(), EndpointURL: srv.URL, HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		for targetName, target := range targets {
			for _, status := range []int{301, 302, 307, 308} {
				t.Run(fmt.Sprintf("%s/%s/%d", clientName, targetName, status), func(t *testing.T) {
					location.Store(target)
					before := other.Load() + sameServer.Load()
					r := c.Invoke(t.Context(), lambdafan.Request{FunctionName: "f", Qualifier: fmt.Sprint(status), Payload: []byte(`{"secret":"payload"}`)})
					if n := other.Load() + sameServer.Load() - before; n != 0 {
						t.Errorf("the redirect target received %d requests", n)
					}
					var ie *lambdafan.InvokeError
					if !errors.As(r.Err, &ie) || ie.StatusCode != status || r.StatusCode != status || r.Attempts != 1 {
						t.Fatalf("result %+v (err %v), want an *InvokeError with status %d after 1 attempt", r, r.Err, status)
					}
					if !strings.Contains(ie.Message, "redirect not followed") || r.OK() {
						t.Errorf("error %q", ie.Error())
					}
				})
			}
		}
	}
	if userClient.CheckRedirect != nil {
		t.Error("New modified the caller's http.Client")
	}
}
