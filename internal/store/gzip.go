package store

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"io"
)

// gzipReader decompresses a stream and closes it with itself.
type gzipReader struct {
	*gzip.Reader
	src io.Closer
}

// newGzipReader reads the gzip header of r; the stream may hold several
// gzip members (a checkpointed .gz object does), read as one.
func newGzipReader(r io.ReadCloser, loc Location) (io.ReadCloser, error) {
	var src io.Reader = r
	if !loc.s3 {
		// gzip.NewReader wraps a reader without ReadByte in a 4 KiB
		// bufio.Reader; a larger one saves system calls on a local file.
		src = bufio.NewReaderSize(r, 64<<10)
	}
	zr, err := gzip.NewReader(src)
	if err != nil {
		r.Close()
		return nil, pathError("open", loc, err)
	}
	return &gzipReader{Reader: zr, src: r}, nil
}

func (g *gzipReader) Close() error { return errors.Join(g.Reader.Close(), g.src.Close()) }

// gzipObject compresses what is written to an Object. Each checkpoint
// ends a gzip member, so the stored bytes are always a whole gzip stream;
// readers (gzip.Reader, gunzip, zcat) read the members as one.
type gzipObject struct {
	zw    *gzip.Writer
	dst   Object
	buf   *bufio.Writer // between zw and dst: flate writes small pieces
	dirty bool          // written to since the last member ended
	ended bool          // a member has ended
}

func newGzipObject(dst Object) *gzipObject {
	buf := bufio.NewWriterSize(dst, 64<<10)
	return &gzipObject{zw: gzip.NewWriter(buf), dst: dst, buf: buf}
}

func (g *gzipObject) Write(p []byte) (int, error) {
	g.dirty = g.dirty || len(p) > 0
	return g.zw.Write(p)
}

// endMember ends the current gzip member and pushes it to dst, unless
// nothing was written since the last one: an idle checkpoint then costs
// nothing (no empty member, no new S3 upload). The first member is
// written even empty, so an empty output is still a gzip file.
func (g *gzipObject) endMember() error {
	if !g.dirty && g.ended {
		return nil
	}
	if err := g.zw.Close(); err != nil {
		return err
	}
	g.dirty, g.ended = false, true
	return g.buf.Flush()
}

func (g *gzipObject) Checkpoint(ctx context.Context) error {
	if err := g.endMember(); err != nil {
		return err
	}
	if err := g.dst.Checkpoint(ctx); err != nil {
		return err
	}
	g.zw.Reset(g.buf) // a new member (its header is written with its first byte)
	return nil
}

func (g *gzipObject) Close() error {
	if err := g.endMember(); err != nil {
		// dst failed a write: its Close releases it (an S3 upload is
		// aborted) and reports the same failure.
		g.dst.Close()
		return err
	}
	return g.dst.Close()
}

func (g *gzipObject) Abort(ctx context.Context) error { return g.dst.Abort(ctx) }
