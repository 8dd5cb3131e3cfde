package execenv

import (
	"io"
)

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

// chunkedBody is a chunked body (RFC 9112 §7.1). After the last chunk it
// reads the trailer section and keeps the fields the Runtime API uses in
// its request: a runtime that fails while it streams its response says
// so there (Lambda-Runtime-Function-Error-Type and -Body).
type chunkedBody struct {
	rr  *requestReader
	req *runtimeRequest
	r   io.Reader
	eof bool
}

// maxTrailerBytes bounds a chunked body's trailer section. A streaming
// runtime's error body trailer is base64 of a JSON error with its stack
// trace (the Node.js client's), a few KB; net/http bounds trailers by its
// read buffer, 4 KB.
const maxTrailerBytes = 64 << 10

func (b *chunkedBody) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		if err := b.readTrailer(); err != nil {
			return n, err
		}
		b.eof = true
	}
	return n, err
}

// readTrailer reads the trailer section after the last chunk: fields as
// in a header section, up to an empty line.
func (b *chunkedBody) readTrailer() error {
	b.rr.lr.remain = maxTrailerBytes
	var haveType, haveBody bool
	for size := 0; ; {
		line, err := b.rr.readLine()
		switch {
		case err == io.EOF:
			return io.ErrUnexpectedEOF
		case err != nil:
			return err
		}
		if size += len(line); size > maxTrailerBytes {
			return errTrailer
		}
		if len(line) == 0 {
			return nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			return errTrailer // whitespace before a field, or obs-fold
		}
		name, value, ok := parseField(line)
		switch {
		case !ok:
			return errTrailer
		case asciiEqualFold(name, hdrErrorType):
			firstString(&haveType, &b.req.trailerErrorType, value)
		case asciiEqualFold(name, hdrErrorBody):
			firstString(&haveBody, &b.req.trailerErrorBody, value)
		}
	}
}

func (b *chunkedBody) done() bool { return b.eof }
