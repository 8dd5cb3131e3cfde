package execenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httputil"
	"net/url"
)

// runtimeRequest is one request a runtime sent to the Runtime API, with
// what the API needs of its headers. Requests are parsed here rather than
// by http.ReadRequest, whose header map, URL and Request cost more than
// the rest of the work of serving them. The parse follows RFC 9112 and
// accepts and rejects what http.ReadRequest does, field for field, but
// for the deliberate differences FuzzRequestReader lists (all of them
// stricter, as RFC 9112 allows or requires); the fuzz test holds the two
// to that.
type runtimeRequest struct {
	method string
	path   string // decoded, without the query
	// close reports that the connection closes after the answer:
	// "Connection: close", HTTP/1.0 without "Connection: keep-alive", or
	// framing RFC 9112 makes a server close after (both Transfer-Encoding
	// and Content-Length; Transfer-Encoding in HTTP/1.0).
	close bool
	// expectContinue is "Expect: 100-continue".
	expectContinue bool
	// contentLength is the body's length; -1 when it is chunked.
	contentLength int64
	// errorType, extensionName and responseMode are the first
	// Lambda-Runtime-Function-Error-Type, Lambda-Extension-Name and
	// Lambda-Runtime-Function-Response-Mode headers.
	errorType, extensionName, responseMode string
	// trailerErrorType and trailerErrorBody are the first
	// Lambda-Runtime-Function-Error-Type and Lambda-Runtime-Function-Error-Body
	// trailer fields of a chunked body, set once the body has been read
	// to its end.
	trailerErrorType, trailerErrorBody string
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
// errTransferCoding one whose transfer coding is not chunked (501). The
// reasons wrap errRequest, for tests.
var (
	errRequest        = errors.New("malformed request")
	errTransferCoding = errors.New("unsupported transfer coding")

	errRequestLine = fmt.Errorf("%w: request line", errRequest)
	errVersion     = fmt.Errorf("%w: HTTP version other than 1.0 and 1.1", errRequest)
	errTarget      = fmt.Errorf("%w: request target", errRequest)
	errField       = fmt.Errorf("%w: header field", errRequest)
	errFolding     = fmt.Errorf("%w: obsolete line folding", errRequest)
	errLength      = fmt.Errorf("%w: Content-Length", errRequest)
	errHost        = fmt.Errorf("%w: Host", errRequest)
	errTrailer     = fmt.Errorf("%w: trailer section", errRequest)
)

// requestReader parses the requests of one connection. It reuses its
// buffers and bodies from one request to the next, so a request's body
// must be done before the next is read.
type requestReader struct {
	lr      *limitedConnReader // under br
	br      *bufio.Reader
	line    []byte // the request line, copied out of br
	long    []byte // a header line longer than br's buffer
	length  []byte // the first Content-Length value, copied out of br
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
	if !ok1 || !ok2 || !isToken(method) {
		return errRequestLine
	}
	*req = runtimeRequest{method: internMethod(method)}
	http10 := false
	switch string(proto) {
	case "HTTP/1.1":
	case "HTTP/1.0":
		http10 = true
	default:
		// http.ReadRequest takes any HTTP/x.y; RFC 9112 §2.3 lets a
		// server refuse a major version it does not speak, and no runtime
		// speaks another minor one.
		return errVersion
	}
	if req.path, err = requestPath(req.method, target); err != nil {
		return err
	}

	var (
		lengths, hosts                int
		chunked, hasClose, keepAlive  bool
		haveExpect, haveType, haveExt bool
		haveMode                      bool
	)
	for first := true; ; first = false {
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
		if line[0] == ' ' || line[0] == '\t' {
			if first {
				// RFC 9112 §2.2: whitespace before the first field.
				return errField
			}
			// RFC 9112 §5.2 lets a server reject obs-fold;
			// http.ReadRequest joins the lines.
			return errFolding
		}
		name, value, ok := parseField(line)
		if !ok {
			return errField
		}
		switch {
		case asciiEqualFold(name, "Content-Length"):
			// Values must agree as text, as net/http requires.
			if lengths++; lengths == 1 {
				rr.length = append(rr.length[:0], value...)
				if req.contentLength, ok = parseLength(value); !ok {
					return errLength
				}
			} else if !bytes.Equal(value, rr.length) {
				return errLength
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			switch {
			case http10:
				// RFC 9112 §6.1: faulty framing in HTTP/1.0; like
				// net/http, ignore it (and go by Content-Length), and
				// close after the request.
				req.close = true
			case !asciiEqualFold(value, "chunked") || chunked:
				return errTransferCoding
			default:
				chunked = true
			}
		case asciiEqualFold(name, "Host"):
			if hosts++; hosts > 1 || !validHost(value) {
				return errHost
			}
		case asciiEqualFold(name, "Connection"):
			for opt := range bytes.SplitSeq(value, []byte{','}) {
				switch opt = bytes.Trim(opt, " \t"); {
				case asciiEqualFold(opt, "close"):
					hasClose = true
				case asciiEqualFold(opt, "keep-alive"):
					keepAlive = true
				}
			}
		case asciiEqualFold(name, "Expect"):
			if !haveExpect {
				haveExpect = true
				req.expectContinue = asciiEqualFold(value, "100-continue")
			}
		case asciiEqualFold(name, hdrErrorType):
			firstString(&haveType, &req.errorType, value)
		case asciiEqualFold(name, hdrExtensionName):
			firstString(&haveExt, &req.extensionName, value)
		case asciiEqualFold(name, hdrResponseMode):
			firstString(&haveMode, &req.responseMode, value)
		}
	}
	// RFC 9112 §3.2: an HTTP/1.1 request without Host is answered 400 (as
	// net/http's server does; http.ReadRequest does not check).
	if hosts == 0 && !http10 {
		return errHost
	}
	req.close = req.close || hasClose || (http10 && !keepAlive) ||
		// RFC 9112 §6.3: with both, the transfer coding wins, and the
		// server closes the connection after answering.
		(chunked && lengths > 0)
	switch {
	case chunked:
		req.contentLength = -1
		rr.chunked = chunkedBody{rr: rr, req: req, r: httputil.NewChunkedReader(rr.br)}
		req.body = &rr.chunked
	case req.contentLength > 0:
		rr.fixed = fixedBody{r: io.LimitedReader{R: rr.br, N: req.contentLength}}
		req.body = &rr.fixed
	default:
		req.body = &rr.none
	}
	return nil
}

// firstString keeps the first value of a header field in *dst, as
// http.Header.Get does.
func firstString(have *bool, dst *string, value []byte) {
	if !*have {
		*have = true
		*dst = string(value)
	}
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

// requestPath is the decoded path of a request target, as
// url.ParseRequestURI reads it: origin form ("/path?query", parsed here,
// since it is what runtimes send), or absolute, authority (CONNECT) or
// asterisk form (by url.ParseRequestURI itself).
func requestPath(method string, target []byte) (string, error) {
	if len(target) == 0 || target[0] != '/' {
		raw := string(target)
		if method == "CONNECT" {
			raw = "http://" + raw // as http.ReadRequest reads an authority
		}
		u, err := url.ParseRequestURI(raw)
		if err != nil {
			return "", errTarget
		}
		if u.Path == "" {
			return "/", nil
		}
		return u.Path, nil
	}
	for _, c := range target {
		if c < ' ' || c == 0x7f {
			return "", errTarget
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
		return "", errTarget
	}
	return p, nil
}
