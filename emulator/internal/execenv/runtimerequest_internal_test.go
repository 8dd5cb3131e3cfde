package execenv

import (
	"bufio"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
)

// parseRuntimeRequests parses raw as a connection's requests, reading
// each body, and returns them with their bodies and the first error.
func parseRuntimeRequests(raw string) ([]runtimeRequest, []string, error) {
	lr := &limitedConnReader{remain: math.MaxInt64}
	rr := &requestReader{lr: lr, br: bufio.NewReaderSize(strings.NewReader(raw), 64)}
	var reqs []runtimeRequest
	var bodies []string
	for {
		var req runtimeRequest
		if err := rr.read(&req); err != nil {
			if err == io.EOF {
				err = nil
			}
			return reqs, bodies, err
		}
		body, err := io.ReadAll(req.body)
		if err != nil {
			return reqs, bodies, err
		}
		if !req.body.done() {
			return reqs, bodies, errors.New("body not done after EOF")
		}
		req.body = nil
		reqs = append(reqs, req)
		bodies = append(bodies, string(body))
	}
}

func TestRequestReader(t *testing.T) {
	long := strings.Repeat("x", 10_000) // an X-Ray error cause can be this long
	const h = "Host: rt\r\n"
	tests := []struct {
		name string
		raw  string
		want runtimeRequest
		body string
		err  error
	}{
		{name: "next",
			raw:  "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUser-Agent: aws-lambda-go/go1.26\r\nAccept-Encoding: gzip\r\n\r\n",
			want: runtimeRequest{method: "GET", path: runtimeNextPath}},
		{name: "chunked response with trailer",
			raw: "POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type\r\n\r\n" +
				"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nLambda-Runtime-Function-Error-Type: \r\n\r\n",
			want: runtimeRequest{method: "POST", path: "/2018-06-01/runtime/invocation/abc/response", contentLength: -1},
			body: "hello world"},
		{name: "chunked without trailer",
			raw:  "POST /p HTTP/1.1\r\n" + h + "transfer-encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
			want: runtimeRequest{method: "POST", path: "/p", contentLength: -1},
			body: "ok"},
		{name: "streamed response failing mid-stream",
			raw: "POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\n" + h +
				"Lambda-Runtime-Function-Response-Mode: streaming\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n" +
				"Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
				"4\r\npart\r\n0\r\nlambda-runtime-function-error-type: Error\r\nLambda-Runtime-Function-Error-Body: eyJlcnJvclR5cGUiOiJFcnJvciJ9\r\nLambda-Runtime-Function-Error-Type: Second\r\n\r\n",
			want: runtimeRequest{method: "POST", path: "/2018-06-01/runtime/invocation/abc/response", contentLength: -1,
				responseMode: "streaming", trailerErrorType: "Error", trailerErrorBody: "eyJlcnJvclR5cGUiOiJFcnJvciJ9"},
			body: "part"},
		{name: "error with type and long x-ray cause",
			raw:  "POST /2018-06-01/runtime/invocation/abc/error HTTP/1.1\r\n" + h + "lambda-runtime-function-error-type: Function.Boom\r\nLambda-Runtime-Function-Error-Type: Second\r\nLambda-Runtime-Function-Xray-Error-Cause: " + long + "\r\nContent-Length: 4\r\n\r\nboom",
			want: runtimeRequest{method: "POST", path: "/2018-06-01/runtime/invocation/abc/error", contentLength: 4, errorType: "Function.Boom"},
			body: "boom"},
		{name: "connection close and expect",
			raw:  "POST /2018-06-01/runtime/init/error HTTP/1.1\r\n" + h + "Connection: keep-alive, Close\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n{}",
			want: runtimeRequest{method: "POST", path: runtimeInitErrorPath, close: true, expectContinue: true, contentLength: 2},
			body: "{}"},
		{name: "HTTP/1.0 closes",
			raw:  "GET /2018-06-01/runtime/invocation/next HTTP/1.0\r\n\r\n",
			want: runtimeRequest{method: "GET", path: runtimeNextPath, close: true}},
		{name: "HTTP/1.0 keep-alive",
			raw:  "GET /2018-06-01/runtime/invocation/next HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
			want: runtimeRequest{method: "GET", path: runtimeNextPath}},
		{name: "HTTP/1.0 close wins over keep-alive",
			raw:  "GET /p HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n",
			want: runtimeRequest{method: "GET", path: "/p", close: true}},
		{name: "HTTP/1.0 ignores a transfer coding and closes",
			raw:  "POST /p HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nok",
			want: runtimeRequest{method: "POST", path: "/p", close: true, contentLength: 2},
			body: "ok"},
		{name: "chunked and a length: chunked, then close",
			raw:  "POST /p HTTP/1.1\r\n" + h + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
			want: runtimeRequest{method: "POST", path: "/p", close: true, contentLength: -1},
			body: "ok"},
		{name: "extension register",
			raw:  "POST /2020-01-01/extension/register HTTP/1.1\r\n" + h + "Lambda-Extension-Name:  GoLangEnableSIGTERM \r\nContent-Length: 13\r\n\r\n{\"events\":[]}",
			want: runtimeRequest{method: "POST", path: extensionRegisterPath, contentLength: 13, extensionName: "GoLangEnableSIGTERM"},
			body: `{"events":[]}`},
		{name: "absolute form, query, escapes, LF endings",
			raw:  "\r\nPUT http://127.0.0.1:9001/2018-06-01/runtime/invocation/a%2Fb?x=1 HTTP/1.1\n" + "Host: x\n" + "Content-Length: 0\n\n",
			want: runtimeRequest{method: "PUT", path: "/2018-06-01/runtime/invocation/a/b"}},
		{name: "absolute form without a path",
			raw:  "GET http://127.0.0.1:9001 HTTP/1.1\r\n" + h + "\r\n",
			want: runtimeRequest{method: "GET", path: "/"}},
		{name: "same length twice",
			raw:  "POST /p HTTP/1.1\r\n" + h + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx",
			want: runtimeRequest{method: "POST", path: "/p", contentLength: 1}, body: "x"},
		{name: "no request line", raw: "GET /p\r\n\r\n", err: errRequestLine},
		{name: "method not a token", raw: "G(T /p HTTP/1.1\r\n" + h + "\r\n", err: errRequestLine},
		{name: "HTTP/2 preface", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", err: errVersion},
		{name: "HTTP/1.2", raw: "GET /p HTTP/1.2\r\n" + h + "\r\n", err: errVersion},
		{name: "control character in the target", raw: "GET /p\x00q HTTP/1.1\r\n" + h + "\r\n", err: errTarget},
		{name: "bad escape", raw: "GET /%zz HTTP/1.1\r\n" + h + "\r\n", err: errTarget},
		{name: "no Host", raw: "GET /p HTTP/1.1\r\n\r\n", err: errHost},
		{name: "two Hosts", raw: "GET /p HTTP/1.1\r\n" + h + h + "\r\n", err: errHost},
		{name: "bad Host", raw: "GET /p HTTP/1.1\r\nHost: a b\r\n\r\n", err: errHost},
		{name: "obsolete line folding", raw: "GET /p HTTP/1.1\r\n" + h + "X-A: 1\r\n  2\r\n\r\n", err: errFolding},
		{name: "whitespace before the first field", raw: "GET /p HTTP/1.1\r\n " + h + "\r\n", err: errField},
		{name: "space in a header name", raw: "GET /p HTTP/1.1\r\n" + h + "X A: 1\r\n\r\n", err: errField},
		{name: "space before the colon", raw: "POST /p HTTP/1.1\r\n" + h + "Content-Length : 1\r\n\r\nx", err: errField},
		{name: "NUL in a value", raw: "GET /p HTTP/1.1\r\n" + h + "X-A: a\x00b\r\n\r\n", err: errField},
		{name: "CR in a value", raw: "GET /p HTTP/1.1\r\n" + h + "X-A: a\rb\r\n\r\n", err: errField},
		{name: "signed length", raw: "POST /p HTTP/1.1\r\n" + h + "Content-Length: +7\r\n\r\n1234567", err: errLength},
		{name: "negative length", raw: "POST /p HTTP/1.1\r\n" + h + "Content-Length: -1\r\n\r\n", err: errLength},
		{name: "empty length", raw: "POST /p HTTP/1.1\r\n" + h + "Content-Length: \r\n\r\n", err: errLength},
		{name: "conflicting lengths", raw: "POST /p HTTP/1.1\r\n" + h + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nxx", err: errLength},
		{name: "lengths equal only as numbers", raw: "POST /p HTTP/1.1\r\n" + h + "Content-Length: 1\r\nContent-Length: 01\r\n\r\nx", err: errLength},
		{name: "gzip coding", raw: "POST /p HTTP/1.1\r\n" + h + "Transfer-Encoding: gzip, chunked\r\n\r\n", err: errTransferCoding},
		{name: "bad trailer", raw: "POST /p HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n", err: errTrailer},
		{name: "cut short", raw: "POST /p HTTP/1.1\r\n" + h + "Content-Length: 5\r\n\r\nab", err: io.ErrUnexpectedEOF},
		{name: "cut in headers", raw: "GET /p HTTP/1.1\r\nHost: x", err: io.ErrUnexpectedEOF},
		{name: "cut in trailers", raw: "POST /p HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n", err: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs, bodies, err := parseRuntimeRequests(tt.raw)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if tt.err != nil {
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if reqs[0] != tt.want || bodies[0] != tt.body {
				t.Errorf("got %+v body %q\nwant %+v body %q", reqs[0], bodies[0], tt.want, tt.body)
			}
		})
	}

	t.Run("keep-alive sequence", func(t *testing.T) {
		raw := "POST /a HTTP/1.1\r\nHost: rt\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nA\r\n0\r\n\r\n" +
			"POST /b HTTP/1.1\r\nHost: rt\r\nContent-Length: 1\r\n\r\nB" +
			"GET /c HTTP/1.1\r\nHost: rt\r\n\r\n"
		reqs, bodies, err := parseRuntimeRequests(raw)
		if err != nil || len(reqs) != 3 {
			t.Fatalf("%d requests, error %v", len(reqs), err)
		}
		for i, want := range []string{"/a A", "/b B", "/c "} {
			if got := reqs[i].path + " " + bodies[i]; got != want {
				t.Errorf("request %d = %q, want %q", i, got, want)
			}
		}
	})
}

// invocationRequests are the two requests a runtime makes per
// invocation, as aws-lambda-go sends them.
const invocationRequests = "POST /2018-06-01/runtime/invocation/8e2cbc5c-6a1c-4f6e-9d1c-7a0c2b7f4c11/response HTTP/1.1\r\nHost: 127.0.0.1:41234\r\nUser-Agent: aws-lambda-go/go1.26.8\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\nTrailer: Lambda-Runtime-Function-Error-Body\r\nTrailer: Lambda-Runtime-Function-Error-Type\r\nAccept-Encoding: gzip\r\n\r\n" +
	"42\r\n" + `{"pid":2457,"start":1795622900000000000,"end":1795622900010000000}` + "\r\n0\r\n\r\n" +
	"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:41234\r\nUser-Agent: aws-lambda-go/go1.26.8\r\nAccept-Encoding: gzip\r\n\r\n"

// BenchmarkRequestReader parses invocationRequests.
func BenchmarkRequestReader(b *testing.B) {
	raw := invocationRequests
	src := strings.NewReader(raw)
	lr := &limitedConnReader{remain: math.MaxInt64}
	rr := &requestReader{lr: lr, br: bufio.NewReaderSize(src, 4096)}
	buf := make([]byte, 512)
	var req runtimeRequest
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(raw)
		rr.br.Reset(src)
		for range 2 {
			if err := rr.read(&req); err != nil {
				b.Fatal(err)
			}
			for !req.body.done() {
				if _, err := req.body.Read(buf); err != nil && err != io.EOF {
					b.Fatal(err)
				}
			}
		}
	}
}

// BenchmarkRequestReader_NetHTTP parses invocationRequests with
// http.ReadRequest, what requestReader replaces.
func BenchmarkRequestReader_NetHTTP(b *testing.B) {
	src := strings.NewReader(invocationRequests)
	br := bufio.NewReaderSize(src, 4096)
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(invocationRequests)
		br.Reset(src)
		for range 2 {
			req, err := http.ReadRequest(br)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, req.Body); err != nil {
				b.Fatal(err)
			}
		}
	}
}
