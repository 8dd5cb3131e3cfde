package emulator_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/emulatortest"
)

// TestInvoke_Wire checks status, headers and exact bodies of answers on
// the wire against those of real Lambda answers (sources in apierror.go
// and invoke.go).
func TestInvoke_Wire(t *testing.T) {
	rec := make(recorder, 16)
	srv := emulatortest.New(t, emulator.Config{Functions: append(emulator.BuiltinFunctions(),
		emulator.Function{Name: "rec", Handler: rec},
		emulator.Function{Name: "blocked", Handler: rec, ReservedConcurrency: ptr(0)},
	)})

	const (
		absent   = "\x00absent"
		anyValue = "\x00any"
	)
	type headers map[string]string
	for _, tc := range []struct {
		name   string
		call   call
		status int
		header headers
		body   string // exact, or any
	}{
		{
			name:   "request response",
			call:   call{function: "echo", body: []byte(`{"a":1}`)},
			status: 200,
			header: headers{"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST", "X-Amz-Function-Error": absent, "X-Amz-Log-Result": absent, "X-Amzn-Errortype": absent},
			body:   `{"a":1}`,
		},
		{
			name:   "function error",
			call:   call{function: "fail", body: []byte(`{"message":"boom"}`)},
			status: 200,
			header: headers{"Content-Type": "application/json", "X-Amz-Executed-Version": "$LATEST", "X-Amz-Function-Error": "Unhandled"},
			body:   `{"errorMessage":"boom","errorType":"Error"}`,
		},
		{
			name:   "log tail",
			call:   call{function: "echo", header: map[string]string{"X-Amz-Log-Type": "Tail"}},
			status: 200,
			header: headers{"X-Amz-Log-Result": anyValue},
			body:   `{}`,
		},
		{
			name:   "event",
			call:   call{function: "rec", body: []byte(`1`), header: map[string]string{"X-Amz-Invocation-Type": "Event"}},
			status: 202,
			header: headers{"X-Amz-Executed-Version": absent, "Content-Type": absent, "Content-Length": "0", "X-Amz-Log-Result": absent},
			body:   "",
		},
		{
			name:   "event ignores log tail",
			call:   call{function: "rec", body: []byte(`2`), header: map[string]string{"X-Amz-Invocation-Type": "Event", "X-Amz-Log-Type": "Tail"}},
			status: 202,
			header: headers{"X-Amz-Log-Result": absent},
			body:   "",
		},
		{
			name:   "dry run",
			call:   call{function: "echo", header: map[string]string{"X-Amz-Invocation-Type": "DryRun"}},
			status: 204,
			header: headers{"X-Amz-Executed-Version": "$LATEST", "Content-Type": absent},
			body:   "",
		},
		{
			name:   "unknown function",
			call:   call{function: "nope"},
			status: 404,
			header: headers{"X-Amzn-Errortype": "ResourceNotFoundException", "Content-Type": "application/json", "X-Amz-Executed-Version": absent},
			body:   `{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"}`,
		},
		{
			name:   "unknown alias, qualified ARN in the message",
			call:   call{function: "echo", query: "Qualifier=v9"},
			status: 404,
			header: headers{"X-Amzn-Errortype": "ResourceNotFoundException"},
			body:   `{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:echo:v9"}`,
		},
		{
			name:   "ARN of another region",
			call:   call{function: "arn:aws:lambda:us-west-2:123456789012:function:echo"},
			status: 404,
			header: headers{"X-Amzn-Errortype": "ResourceNotFoundException"},
			body:   `{"Type":"User","Message":"Functions from 'us-west-2' are not reachable in this region ('us-east-1')"}`,
		},
		{
			name:   "ARN of another account",
			call:   call{function: "arn:aws:lambda:us-east-1:999999999999:function:echo"},
			status: 403,
			header: headers{"X-Amzn-Errortype": "AccessDeniedException", "Content-Type": "application/json"},
			body:   `{"Message":"User: arn:aws:iam::123456789012:root is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:999999999999:function:echo because no resource-based policy allows the lambda:InvokeFunction action"}`,
		},
		{
			name:   "region from the signature",
			call:   call{function: "arn:aws:lambda:us-west-2:123456789012:function:nope", region: "us-west-2"},
			status: 404,
			body:   `{"Type":"User","Message":"Function not found: arn:aws:lambda:us-west-2:123456789012:function:nope"}`,
		},
		{
			name:   "China partition in ARNs",
			call:   call{function: "nope", region: "cn-north-1"},
			status: 404,
			body:   `{"Type":"User","Message":"Function not found: arn:aws-cn:lambda:cn-north-1:123456789012:function:nope"}`,
		},
		{
			name:   "throttled",
			call:   call{function: "blocked"},
			status: 429,
			header: headers{"X-Amzn-Errortype": "TooManyRequestsException", "Retry-After": absent},
			body:   `{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`,
		},
		{
			name:   "invalid JSON",
			call:   call{function: "echo", body: []byte(`{"a" 1}`)},
			status: 400,
			header: headers{"X-Amzn-Errortype": "InvalidRequestContentException"},
			body:   `{"Type":"User","message":"Could not parse request body into json: Could not parse payload into json: invalid character '1' after object key at offset 6"}`,
		},
		{
			name:   "invalid log type",
			call:   call{function: "echo", header: map[string]string{"X-Amz-Log-Type": "All"}},
			status: 400,
			header: headers{"X-Amzn-Errortype": "ValidationException"},
			body:   `{"message":"1 validation error detected: Value 'All' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]"}`,
		},
		{
			// The 177-byte body of ex-aws/ex_aws#442, byte for byte.
			name:   "invalid invocation type",
			call:   call{function: "echo", header: map[string]string{"X-Amz-Invocation-Type": "dry_run"}},
			status: 400,
			header: headers{"X-Amzn-Errortype": "ValidationException", "Content-Length": "177"},
			body:   `{"message":"1 validation error detected: Value 'dry_run' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [DryRun, RequestResponse, Event]"}`,
		},
		{
			name:   "function name too long",
			call:   call{function: strings.Repeat("f", 257)},
			status: 400,
			header: headers{"X-Amzn-Errortype": "ValidationException"},
			body:   `{"message":"1 validation error detected: Value '` + strings.Repeat("f", 257) + `' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 256"}`,
		},
		{
			name:   "synchronous payload too large",
			call:   call{function: "echo", body: jsonString(emulator.MaxSyncPayloadBytes + 1)},
			status: 413,
			header: headers{"X-Amzn-Errortype": "RequestEntityTooLargeException"},
			body:   `{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}`,
		},
		{
			name:   "event payload too large",
			call:   call{function: "echo", body: jsonString(emulator.MaxAsyncPayloadBytes + 10), header: map[string]string{"X-Amz-Invocation-Type": "Event"}},
			status: 413,
			header: headers{"X-Amzn-Errortype": "RequestEntityTooLargeException"},
			body:   `{"Message":"1048586 byte payload is too large for the Event invocation type (limit 1048576 bytes)"}`,
		},
		{
			name:   "chunked body",
			call:   call{function: "echo", body: []byte(`{"chunked":true}`), prepare: chunked},
			status: 200,
			body:   `{"chunked":true}`,
		},
		{
			name:   "chunked body too large",
			call:   call{function: "echo", body: jsonString(emulator.MaxSyncPayloadBytes + 1), prepare: chunked},
			status: 413,
			header: headers{"X-Amzn-Errortype": "RequestEntityTooLargeException"},
			body:   `{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}`,
		},
		{
			name:   "unsigned",
			call:   call{function: "echo", unsigned: true},
			status: 403,
			header: headers{"X-Amzn-Errortype": "MissingAuthenticationTokenException", "Content-Type": "application/json"},
			body:   `{"message":"Missing Authentication Token"}`,
		},
		{
			name: "unknown operation",
			call: call{function: "echo", prepare: func(r *http.Request) {
				r.URL.Path = strings.TrimSuffix(r.URL.Path, "/invocations") + "/invoke-async"
				r.URL.RawPath = ""
			}},
			status: 404,
			header: headers{"X-Amzn-Errortype": "UnknownOperationException"},
			body:   anyValue,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.call.do(t, srv)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d (body %.200s)", resp.StatusCode, tc.status, body)
			}
			if id := resp.Header.Get("X-Amzn-Requestid"); !uuidRE.MatchString(id) {
				t.Errorf("x-amzn-RequestId %q, want a UUID", id)
			}
			for k, want := range tc.header {
				got, ok := resp.Header[http.CanonicalHeaderKey(k)]
				switch {
				case want == absent && ok:
					t.Errorf("header %s: %q, want none", k, got)
				case want == anyValue && !ok:
					t.Errorf("header %s missing", k)
				case want != absent && want != anyValue && (len(got) != 1 || got[0] != want):
					t.Errorf("header %s: %q, want %q", k, got, want)
				}
			}
			if tc.body != anyValue && string(body) != tc.body {
				t.Errorf("body\n%.300s\nwant\n%s", body, tc.body)
			}
			if tc.status >= 400 && len(body) > 0 {
				errorBody(t, body) // the body is a JSON object
			}
		})
	}
}

// chunked makes a request send its body without a Content-Length.
func chunked(r *http.Request) {
	r.Body, r.GetBody, r.ContentLength = io.NopCloser(r.Body), nil, 0
}

// TestServer_ServeHTTP_NoAuth drives the handler directly: with NoAuth an
// unsigned request runs, in the default region.
func TestServer_ServeHTTP_NoAuth(t *testing.T) {
	rec := make(recorder, 1)
	emu, err := emulator.New(emulator.Config{NoAuth: true, Functions: []emulator.Function{{Name: "rec", Handler: rec}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })

	w := httptest.NewRecorder()
	emu.ServeHTTP(w, httptest.NewRequestWithContext(t.Context(), http.MethodPost, invokePath("rec"), strings.NewReader(`"hi"`)))
	if w.Code != 200 || w.Body.String() != `"hi"` {
		t.Fatalf("got %d %q, want 200 \"hi\"", w.Code, w.Body)
	}
	if inv := <-rec; inv.InvokedFunctionARN != "arn:aws:lambda:us-east-1:123456789012:function:rec" || inv.Region != emulator.DefaultRegion {
		t.Errorf("invoked ARN %q, region %q", inv.InvokedFunctionARN, inv.Region)
	}
}
