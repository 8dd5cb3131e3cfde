package execenv

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http/httputil"
	"net/url"
	"strconv"
)

// runtimeRequest is one request a runtime sent to the Runtime API, with
// what the API needs of its headers. Requests are parsed here rather than
// by http.ReadRequest, whose header map, URL and Request cost more than
// the rest of the work of serving them; the parse follows RFC 9112 as
// net/http's does for what a runtime sends, and rejects what it cannot
// read reliably (obsolete line folding, conflicting lengths, unknown
// transfer codings).
type runtimeRequest struct {
	method string
	path   string // decoded, without the query
	// close reports that the connection closes after the answer:
	// "Connection: close", or HTTP/1.0 without "Connection: keep-alive".
	close bool
	// expectContinue is "Expect: 100-continue".
	expectContinue bool
	// contentLength is the body's length; -1 when it is chunked.
	contentLength int64
	// errorType and extensionName are the Lambda-Runtime-Function-Error-Type
	// and Lambda-Extension-Name headers.
	errorType, extensionName string
	// body reads the body; at its end the connection can read the next
	// request.
	body requestBody
}

// requestBody reads a request's body and tells whether it was read to
// its end.
type requestBody interface {
	io.Reader
	done() bool
}

// errRequest is a request that cannot be parsed (400 Bad Request);
// errTransferCoding one whose transfer coding is not chunked (501).
var (
	errRequest        = errors.New("malformed request")
	errTransferCoding = errors.New("unsupported transfer coding")
)

// requestReader parses the requests of one connection. It reuses its
// buffers and bodies from one request to the next, so a request's body
// must be done before the next is read.
type requestReader struct {
	lr      *limitedConnReader // under br
	br      *bufio.Reader
	line    []byte // the request line, copied out of br
	long    []byte // a header line longer than br's buffer
	fixed   fixedBody
	chunked chunkedBody
	none    fixedBody // an empty body
}

// read parses the next request into req. It returns io.EOF when the
// connection ends between requests.
func (rr *requestReader) read(req *runtimeRequest) error {
	line, err := rr.readLine()
	for err == nil && len(line) == 0 {
		// RFC 9112 §2.2: ignore empty lines before a request line.
		line, err = rr.readLine()
	}
	if err != nil {
		return err
	}
	rr.line = append(rr.line[:0], line...)
	method, rest, ok1 := bytes.Cut(rr.line, []byte{' '})
	target, proto, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 || len(method) == 0 || len(target) == 0 {
		return errRequest
	}
	*req = runtimeRequest{method: internMethod(method), contentLength: 0}
	switch string(proto) {
	case "HTTP/1.1":
	case "HTTP/1.0":
		req.close = true
	default:
		return errRequest
	}
	if req.path, err = requestPath(target); err != nil {
		return err
	}

	var haveLength, chunked bool
	for {
		line, err := rr.readLine()
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok || len(name) == 0 || !isToken(name) {
			return errRequest // includes obsolete line folding
		}
		value = bytes.Trim(value, " \t")
		switch {
		case asciiEqualFold(name, "Content-Length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || (haveLength && n != req.contentLength) {
				return errRequest
			}
			req.contentLength, haveLength = n, true
		case asciiEqualFold(name, "Transfer-Encoding"):
			if !asciiEqualFold(value, "chunked") || chunked {
				return errTransferCoding
			}
			chunked = true
		case asciiEqualFold(name, "Connection"):
			for opt := range bytes.SplitSeq(value, []byte{','}) {
				switch opt = bytes.Trim(opt, " \t"); {
				case asciiEqualFold(opt, "close"):
					req.close = true
				case asciiEqualFold(opt, "keep-alive") && string(proto) == "HTTP/1.0":
					req.close = false
				}
			}
		case asciiEqualFold(name, "Expect"):
			req.expectContinue = asciiEqualFold(value, "100-continue")
		case asciiEqualFold(name, hdrErrorType):
			req.errorType = string(value)
		case asciiEqualFold(name, hdrExtensionName):
			req.extensionName = string(value)
		}
	}
	switch {
	case chunked:
		// The transfer coding wins over a Content-Length (RFC 9112 §6.3).
		req.contentLength = -1
		rr.chunked = chunkedBody{rr: rr, r: httputil.NewChunkedReader(rr.br)}
		req.body = &rr.chunked
	case req.contentLength > 0:
		rr.fixed = fixedBody{r: io.LimitedReader{R: rr.br, N: req.contentLength}}
		req.body = &rr.fixed
	default:
		req.body = &rr.none
	}
	return nil
}

// readLine returns the next line without its line ending; it is valid
// until the next read.
func (rr *requestReader) readLine() ([]byte, error) {
	line, err := rr.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		rr.long = append(rr.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = rr.br.ReadSlice('\n')
			rr.long = append(rr.long, line...)
		}
		line = rr.long
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(rr.long) > 64<<10 {
		rr.long = nil // do not keep a huge buffer
	}
	return line, nil
}

// internMethod spares allocating the methods runtimes use.
func internMethod(m []byte) string {
	switch string(m) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	}
	return string(m)
}

// requestPath is the decoded path of a request target in origin form
// ("/path?query") or absolute form ("http://host/path").
func requestPath(target []byte) (string, error) {
	if target[0] != '/' {
		_, rest, ok := bytes.Cut(target, []byte("://"))
		if !ok {
			return "", errRequest
		}
		if i := bytes.IndexByte(rest, '/'); i >= 0 {
			target = rest[i:]
		} else {
			target = []byte{'/'}
		}
	}
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	switch string(target) {
	case runtimeNextPath:
		return runtimeNextPath, nil
	case runtimeInitErrorPath:
		return runtimeInitErrorPath, nil
	case extensionNextPath:
		return extensionNextPath, nil
	}
	if bytes.IndexByte(target, '%') < 0 {
		return string(target), nil
	}
	p, err := url.PathUnescape(string(target))
	if err != nil {
		return "", errRequest
	}
	return p, nil
}

// isToken reports whether b is an RFC 9110 token, as header names are.
func isToken(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || !tokenChars[c] {
			return false
		}
	}
	return true
}

var tokenChars = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// asciiEqualFold reports whether b equals s, ignoring ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// fixedBody is a body of known length.
type fixedBody struct{ r io.LimitedReader }

func (b *fixedBody) Read(p []byte) (int, error) {
	if b.r.N <= 0 {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	if err == io.EOF && b.r.N > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *fixedBody) done() bool { return b.r.N <= 0 }

// chunkedBody is a chunked body; after the last chunk it reads the
// trailer section, whose fields the Runtime API does not use.
type chunkedBody struct {
	rr  *requestReader
	r   io.Reader
	eof bool
}

// maxTrailerBytes bounds a chunked body's trailer section.
const maxTrailerBytes = 64 << 10

func (b *chunkedBody) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.rr.lr.remain = maxTrailerBytes
		for size := 0; ; {
			line, lerr := b.rr.readLine()
			size += len(line)
			switch {
			case lerr == io.EOF:
				return n, io.ErrUnexpectedEOF
			case lerr != nil:
				return n, lerr
			case size > maxTrailerBytes:
				return n, errRequest
			}
			if len(line) == 0 {
				break
			}
		}
		b.eof = true
	}
	return n, err
}

func (b *chunkedBody) done() bool { return b.eof }
