package execenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
)

// FuzzRequestReader is the differential test of requestReader against
// net/http's parser: a connection's bytes are read as a sequence of
// requests (each body read to its end) by both, and for every request
// both must accept or both reject it, and agree on what the Runtime API
// uses of it — method, decoded path, Connection semantics, Expect, body
// framing and bytes, the Lambda headers and trailers — until the first
// rejection or the first request after which the connection closes.
//
// The deliberate differences, where requestReader is stricter, as RFC 9112
// allows or requires, or tolerant where net/http's parser is not:
//
//   - HTTP versions other than 1.0 and 1.1 are refused (§2.3);
//     http.ReadRequest takes any HTTP/x.y.
//   - Obsolete line folding is refused (§5.2 lets a server reject it);
//     net/textproto joins the lines.
//   - A field name followed by whitespace before its colon is refused
//     (§5.1: MUST reject); net/textproto keeps such names uncanonicalised
//     (go.dev/issue/34540), so "Content-Length : 5" frames no body there.
//   - An HTTP/1.1 request without a Host field, or with an invalid one, is
//     refused (§3.2: MUST answer 400), as net/http's server does after
//     http.ReadRequest.
//   - Empty lines before a request line are skipped (§2.2: SHOULD);
//     http.ReadRequest fails on them, so the harness skips them for it.
//   - Trailer sections may use bare LF line endings and take up to 64 KB;
//     net/http's body reader bounds them by its read buffer, looks for
//     CRLF CRLF ahead ("suspiciously long trailer"), and peeks two bytes
//     for the CRLF of an empty section, which a bare LF at the end of the
//     input fails ("unexpected EOF reading trailer").
//   - The connection closes after a request framed by both
//     Transfer-Encoding and Content-Length, and after an HTTP/1.0 request
//     with a Transfer-Encoding (§6.1, §6.3: MUST close); http.ReadRequest
//     leaves that to its server.
func FuzzRequestReader(f *testing.F) {
	for _, seed := range requestSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours := readOurs(data)
		theirs := readNetHTTP(data)
		for i := 0; ; i++ {
			if i >= len(ours) || i >= len(theirs) {
				t.Fatalf("request %d: one parser read more requests than the other\nours:   %v\ntheirs: %v", i, ours, theirs)
			}
			o, n := ours[i], theirs[i]
			if o.end && n.end {
				return
			}
			if o.err != nil || n.err != nil {
				if o.err != nil && n.err != nil {
					return
				}
				if !deliberate(o, n) {
					t.Fatalf("request %d: ours %v, net/http %v\ninput %q\nours:   %+v\ntheirs: %+v", i, o.err, n.err, data, o.req, n.req)
				}
				return
			}
			want := n.req
			if o.req.close && !want.close && n.framingClose {
				want.close = true
			}
			if o.req != want {
				t.Fatalf("request %d differs\ninput  %q\nours:   %+v\ntheirs: %+v", i, data, o.req, n.req)
			}
			if o.req.close {
				return
			}
		}
	})
}

// parsedRequest is what the Runtime API uses of a request.
type parsedRequest struct {
	method, path                           string
	close, expectContinue                  bool
	contentLength                          int64
	errorType, extensionName, responseMode string
	trailerErrorType, trailerBody          string
	body                                   string
}

// outcome is how a parser read one request: the request, the end of the
// input between requests, or an error (which ends the sequence).
type outcome struct {
	req parsedRequest
	end bool
	err error
	// For net/http's parser, what the deliberate differences depend on:
	// the request's header fields as net/http read them, its version,
	// its Host fields as sent (net/http moves Host out of the header) and
	// whether its framing makes RFC 9112 close the connection.
	header       http.Header
	http11       bool
	hosts        []string
	framingClose bool
}

func (o outcome) String() string {
	switch {
	case o.end:
		return "end"
	case o.err != nil:
		return "error " + o.err.Error()
	}
	return fmt.Sprintf("%+v", o.req)
}

// maxFuzzRequests bounds the requests read from one input.
const maxFuzzRequests = 8

func readOurs(data []byte) []outcome {
	lr := &limitedConnReader{remain: math.MaxInt64}
	// A small buffer, to exercise lines longer than it.
	rr := &requestReader{lr: lr, br: bufio.NewReaderSize(bytes.NewReader(data), 64)}
	var out []outcome
	for range maxFuzzRequests {
		var req runtimeRequest
		if err := rr.read(&req); err != nil {
			if err == io.EOF {
				return append(out, outcome{end: true})
			}
			return append(out, outcome{err: err})
		}
		body, err := io.ReadAll(req.body)
		if err == nil && !req.body.done() {
			err = errors.New("body not done after EOF")
		}
		if err != nil {
			return append(out, outcome{err: err})
		}
		out = append(out, outcome{req: parsedRequest{
			method: req.method, path: req.path, close: req.close, expectContinue: req.expectContinue,
			contentLength: req.contentLength, errorType: req.errorType, extensionName: req.extensionName,
			responseMode:     req.responseMode,
			trailerErrorType: req.trailerErrorType, trailerBody: req.trailerErrorBody, body: string(body),
		}})
	}
	return append(out, outcome{end: true})
}

func readNetHTTP(data []byte) []outcome {
	// A buffer that holds the whole input: net/http bounds trailers by
	// its buffer, and the harness peeks at each request's header block.
	br := bufio.NewReaderSize(bytes.NewReader(data), len(data)+16)
	var out []outcome
	for range maxFuzzRequests {
		skipEmptyLines(br)
		raw := rawFields(br)
		framingClose := len(raw["transfer-encoding"]) > 0
		req, err := http.ReadRequest(br)
		if err != nil {
			if err == io.EOF {
				return append(out, outcome{end: true})
			}
			return append(out, outcome{err: err})
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return append(out, outcome{err: err})
		}
		path := req.URL.Path
		if path == "" {
			path = "/"
		}
		out = append(out, outcome{header: req.Header, http11: req.ProtoAtLeast(1, 1), hosts: raw["host"], framingClose: framingClose,
			req: parsedRequest{
				method: req.Method, path: path, close: req.Close,
				expectContinue: strings.EqualFold(req.Header.Get("Expect"), "100-continue"),
				contentLength:  req.ContentLength, errorType: req.Header.Get(hdrErrorType),
				extensionName: req.Header.Get(hdrExtensionName), responseMode: req.Header.Get(hdrResponseMode),
				trailerErrorType: req.Trailer.Get(hdrErrorType),
				trailerBody:      req.Trailer.Get(hdrErrorBody), body: string(body),
			}})
	}
	return append(out, outcome{end: true})
}

// skipEmptyLines drops the empty lines before a request line, which
// requestReader ignores (RFC 9112 §2.2).
func skipEmptyLines(br *bufio.Reader) {
	for {
		b, _ := br.Peek(2)
		switch {
		case len(b) >= 1 && b[0] == '\n':
			_, _ = br.Discard(1)
		case len(b) == 2 && b[0] == '\r' && b[1] == '\n':
			_, _ = br.Discard(2)
		default:
			return
		}
	}
}

// rawFields returns the fields of the header block of the request br
// holds next as sent, by lower-case name, with their values trimmed.
func rawFields(br *bufio.Reader) map[string][]string {
	rest, _ := br.Peek(br.Buffered())
	if i := bytes.Index(rest, []byte("\n\r\n")); i >= 0 {
		rest = rest[:i]
	}
	if i := bytes.Index(rest, []byte("\n\n")); i >= 0 {
		rest = rest[:i]
	}
	fields := map[string][]string{}
	for line := range bytes.Lines(rest) {
		name, value, ok := bytes.Cut(line, []byte{':'})
		if ok {
			k := strings.ToLower(string(name))
			fields[k] = append(fields[k], string(bytes.Trim(value, " \t\r\n")))
		}
	}
	return fields
}

// deliberate reports whether requestReader and net/http's parser
// disagree on accepting a request for one of the reasons
// FuzzRequestReader lists.
func deliberate(ours, theirs outcome) bool {
	if theirs.err != nil {
		// Only net/http's trailer reading rejects more: its bound, and
		// its two-byte look for the CRLF that ends an empty trailer
		// section, which a bare LF at the end of the input fails.
		msg := theirs.err.Error()
		return strings.Contains(msg, "suspiciously long trailer") || strings.Contains(msg, "unexpected EOF reading trailer")
	}
	switch {
	case errors.Is(ours.err, errVersion), errors.Is(ours.err, errFolding):
		return true
	case errors.Is(ours.err, errField):
		for name := range theirs.header {
			if strings.ContainsAny(name, " \t") {
				return true
			}
		}
	case errors.Is(ours.err, errHost):
		hosts := theirs.hosts
		return (theirs.http11 && len(hosts) == 0) || (len(hosts) == 1 && !validHost([]byte(hosts[0])))
	}
	return false
}

// requestSeeds are requests as runtimes send them, and the edges
// TestRequestReader covers; testdata/fuzz/FuzzRequestReader holds more.
var requestSeeds = []string{
	"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUser-Agent: aws-lambda-go/go1.26.8\r\nAccept-Encoding: gzip\r\n\r\n",
	"POST /2018-06-01/runtime/invocation/8e2cbc5c/response HTTP/1.1\r\nHost: 127.0.0.1:41234\r\nUser-Agent: aws-lambda-go/go1.26.8\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\nTrailer: Lambda-Runtime-Function-Error-Body\r\nTrailer: Lambda-Runtime-Function-Error-Type\r\nAccept-Encoding: gzip\r\n\r\n" +
		"4\r\n\"ok\"\r\n0\r\n\r\nGET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:41234\r\n\r\n",
	"POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\nLambda-Runtime-Function-Response-Mode: streaming\r\nTrailer: Lambda-Runtime-Function-Error-Type,Lambda-Runtime-Function-Error-Body\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nHost: 127.0.0.1:9001\r\nConnection: keep-alive\r\n\r\n" +
		"5\r\nhello\r\n0\r\nLambda-Runtime-Function-Error-Type: Error\r\nLambda-Runtime-Function-Error-Body: eyJlcnJvclR5cGUiOiJFcnJvciJ9\r\n\r\n",
	"POST /2018-06-01/runtime/invocation/abc/error HTTP/1.1\r\nHost: x\r\nLambda-Runtime-Function-Error-Type: Function.Boom\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nboom",
	"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
	"POST /2020-01-01/extension/register HTTP/1.1\r\nHost: x\r\nLambda-Extension-Name: GoLangEnableSIGTERM\r\nContent-Length: 13\r\n\r\n{\"events\":[]}",
	"GET /2018-06-01/runtime/invocation/next HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /p HTTP/1.0\r\n\r\n",
	"\r\nPUT http://127.0.0.1:9001/2018-06-01/runtime/invocation/a%2Fb?x=1 HTTP/1.1\nHost: x\nContent-Length: 0\n\n",
	"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: +7\r\n\r\n1234567",
	"GET /p HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
	"GET /p HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  2\r\n\r\n",
	"CONNECT 127.0.0.1:9001 HTTP/1.1\r\nHost: x\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
}
