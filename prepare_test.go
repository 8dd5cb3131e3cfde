package lambdafan

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func newTestClient(t *testing.T, region string) *Client {
	t.Helper()
	c, err := New(Config{
		AWS: aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// invalidRequest is a request prepare and Validate refuse.
type invalidRequest struct {
	name      string
	req       Request
	noRegion  bool
	wantField string
	wantText  string
}

func invalidRequests() []invalidRequest {
	big := bytes.Repeat([]byte("a"), MaxAsyncPayloadBytes)
	bigJSON := append(append([]byte(`"`), big...), '"')
	return []invalidRequest{
		{"missing function", Request{}, false, "function_name", "missing"},
		{"bad function", Request{FunctionName: "a b"}, false, "function_name", "invalid character"},
		{"bad invocation type", Request{FunctionName: "f", InvocationType: "Sync"}, false, "invocation_type", `"Sync"`},
		{"bad log type", Request{FunctionName: "f", LogType: "Full"}, false, "log_type", `"Full"`},
		{"bad region", Request{FunctionName: "f", Region: "mars"}, false, "region", "not an AWS region"},
		{"region contradicts ARN", Request{FunctionName: "arn:aws:lambda:eu-west-1:123456789012:function:f", Region: "us-east-1"}, false, "region", "contradicts"},
		{"qualifier contradicts name", Request{FunctionName: "f:live", Qualifier: "beta"}, false, "qualifier", "contradicts"},
		{"bad qualifier", Request{FunctionName: "f", Qualifier: "a:b"}, false, "qualifier", "invalid character"},
		{"event payload too large", Request{FunctionName: "f", InvocationType: Event, Payload: bigJSON}, false, "payload", "1048576-byte limit"},
		{"sync payload too large", Request{FunctionName: "f", Payload: bytes.Repeat([]byte(" "), MaxSyncPayloadBytes+1)}, false, "payload", "6291456-byte limit"},
		{"payload not encodable", Request{FunctionName: "f", Payload: make(chan int)}, false, "payload", "cannot encode"},
		{"client context not object", Request{FunctionName: "f", ClientContext: []byte(`[1]`)}, false, "client_context", "JSON object"},
		{"client context too large", Request{FunctionName: "f", ClientContext: map[string]string{"k": strings.Repeat("x", 3000)}}, false, "client_context", "3583-byte limit"},
		{"no region", Request{FunctionName: "f"}, true, "region", "no region"},
		{"several problems: the first", Request{FunctionName: "f", LogType: "Full", Region: "mars", Payload: make(chan int)}, false, "log_type", `"Full"`},
	}
}

func TestPrepare_Invalid(t *testing.T) {
	for _, tt := range invalidRequests() {
		t.Run(tt.name, func(t *testing.T) {
			region := "us-east-1"
			if tt.noRegion {
				region = ""
			}
			c := newTestClient(t, region)
			_, err := c.prepare(t.Context(), &tt.req)
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("prepare error = %v, want a *RequestError", err)
			}
			if re.Field != tt.wantField || !strings.Contains(re.Error(), tt.wantText) {
				t.Errorf("error = %q (field %s), want field %s mentioning %q", re, re.Field, tt.wantField, tt.wantText)
			}
		})
	}
}

func TestPrepare_Valid(t *testing.T) {
	c := newTestClient(t, "us-east-1")
	tests := []struct {
		name       string
		req        Request
		wantRegion string
		wantPath   string
		wantQuery  string
		wantBody   string
	}{
		{"defaults", Request{FunctionName: "f", Payload: map[string]int{"a": 1}}, "us-east-1", "/2015-03-31/functions/f/invocations", "", `{"a":1}`},
		{"raw payload passes through", Request{FunctionName: "f", Payload: []byte(`{ "raw" : true }`)}, "us-east-1", "/2015-03-31/functions/f/invocations", "", `{ "raw" : true }`},
		{"request region overrides default", Request{FunctionName: "f", Region: "eu-west-1"}, "eu-west-1", "/2015-03-31/functions/f/invocations", "", ""},
		{"ARN region", Request{FunctionName: "arn:aws:lambda:ap-south-1:123456789012:function:f"}, "ap-south-1",
			"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aap-south-1%3A123456789012%3Afunction%3Af/invocations", "", ""},
		{"ARN and same region", Request{FunctionName: "arn:aws:lambda:ap-south-1:123456789012:function:f", Region: "ap-south-1"}, "ap-south-1",
			"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aap-south-1%3A123456789012%3Afunction%3Af/invocations", "", ""},
		{"qualifier", Request{FunctionName: "f", Qualifier: "$LATEST"}, "us-east-1", "/2015-03-31/functions/f/invocations", "Qualifier=%24LATEST", ""},
		{"same qualifier twice", Request{FunctionName: "f:live", Qualifier: "live"}, "us-east-1", "/2015-03-31/functions/f%3Alive/invocations", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := c.prepare(t.Context(), &tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if p.region != tt.wantRegion || p.url.EscapedPath() != tt.wantPath || p.url.RawQuery != tt.wantQuery || string(p.body) != tt.wantBody {
				t.Errorf("got region %s path %s query %q body %s\nwant region %s path %s query %q body %s",
					p.region, p.url.EscapedPath(), p.url.RawQuery, p.body, tt.wantRegion, tt.wantPath, tt.wantQuery, tt.wantBody)
			}
		})
	}
}

func TestPrepare_ClientContextIsBase64(t *testing.T) {
	c := newTestClient(t, "us-east-1")
	p, err := c.prepare(t.Context(), &Request{FunctionName: "f", ClientContext: map[string]any{"custom": map[string]int{"a": 1}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := base64.StdEncoding.DecodeString(p.clientContext)
	if err != nil || string(got) != `{"custom":{"a":1}}` {
		t.Errorf("client context header %q decodes to %q, %v", p.clientContext, got, err)
	}
}

// TestValidate_AsPrepare: Validate refuses what the client refuses before
// sending, with the same error, and accepts what it accepts, without a
// client.
func TestValidate_AsPrepare(t *testing.T) {
	for _, tt := range invalidRequests() {
		t.Run(tt.name, func(t *testing.T) {
			region := "us-east-1"
			if tt.noRegion {
				region = ""
			}
			_, prepareErr := newTestClient(t, region).prepare(t.Context(), &tt.req)
			err := Validate(tt.req, region)
			var re *RequestError
			if !errors.As(err, &re) || err.Error() != prepareErr.Error() || re.Field != tt.wantField {
				t.Errorf("Validate error = %v, want the *RequestError prepare returns: %v", err, prepareErr)
			}
		})
	}
	for _, req := range []Request{
		{FunctionName: "f", Payload: []byte(`{"a":1}`)},
		{FunctionName: "arn:aws:lambda:ap-south-1:123456789012:function:f", Qualifier: "live", InvocationType: Event, LogType: LogTail},
		{FunctionName: "f:live", Qualifier: "live", Region: "eu-west-1", ClientContext: map[string]any{"custom": 1}},
	} {
		if err := Validate(req, "us-east-1"); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", req, err)
		}
	}
	// The default region applies only to requests that name none.
	if err := Validate(Request{FunctionName: "f"}, "mars"); err == nil || !strings.Contains(err.Error(), "default region") {
		t.Errorf("an invalid default region: %v", err)
	}
	if err := Validate(Request{FunctionName: "f", Region: "eu-west-1"}, "mars"); err != nil {
		t.Errorf("an invalid default region unused: %v", err)
	}
	if err := Validate(Request{FunctionName: "f"}, ""); err == nil || !strings.Contains(err.Error(), "no region") {
		t.Errorf("no region: %v", err)
	}
}

// TestPrepare_CachedRouteSameError: once a function's route is cached,
// a later request to it with another problem reports the same error as
// without the cache.
func TestPrepare_CachedRouteSameError(t *testing.T) {
	c := newTestClient(t, "us-east-1")
	if _, err := c.prepare(t.Context(), &Request{FunctionName: "f"}); err != nil {
		t.Fatal(err)
	}
	bad := Request{FunctionName: "f", InvocationType: Event, Payload: bytes.Repeat([]byte(" "), MaxAsyncPayloadBytes+1)}
	_, cachedErr := c.prepare(t.Context(), &bad)
	if err := Validate(bad, "us-east-1"); cachedErr == nil || err == nil || err.Error() != cachedErr.Error() {
		t.Errorf("cached route: %v; Validate: %v", cachedErr, err)
	}
}
