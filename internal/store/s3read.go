package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lambdafan/lambdafan/internal/ctxtime"
)

// Resuming a broken S3 read.
const (
	// DefaultReadResumes is how many times in a row a read of an S3 object
	// is resumed without getting a byte before it fails.
	DefaultReadResumes = 10
	// resumeBackoff is the wait before the second resume in a row; the
	// first is immediate (a reset connection is the common case) and each
	// later one waits twice as long, up to maxResumeBackoff.
	resumeBackoff    = 250 * time.Millisecond
	maxResumeBackoff = 10 * time.Second
)

// s3Reader streams an S3 object's body. When the connection breaks, it
// asks again for the rest (Range: bytes=off-) of the same object: the same
// version if the bucket has versions, and If-Match on the ETag, so an
// object replaced meanwhile is an error rather than a splice of two.
type s3Reader struct {
	ctx     context.Context
	client  *s3.Client
	opts    []func(*s3.Options)
	loc     Location
	etag    string
	version string
	size    int64 // -1 when the server did not say

	body     io.ReadCloser // nil between a break and the resume
	off      int64         // bytes returned so far
	failures int           // resumes in a row that got no byte
	cause    error         // why the last resume was needed
	err      error         // sticky: the read is over
}

// openS3 sends the first GetObject of a read.
func openS3(ctx context.Context, c *s3.Client, loc Location) (*s3Reader, error) {
	opts, err := bucketOptions(ctx, c, "open", loc)
	if err != nil {
		return nil, err
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.bucket), Key: aws.String(loc.key)}, opts...)
	if err != nil {
		return nil, pathError("open", loc, err)
	}
	return &s3Reader{
		ctx:     ctx,
		client:  c,
		opts:    opts,
		loc:     loc,
		etag:    aws.ToString(out.ETag),
		version: aws.ToString(out.VersionId),
		size:    aws.ToInt64(out.ContentLength),
		body:    out.Body,
	}, nil
}

// Read reads from the body, resuming it after a break.
func (r *s3Reader) Read(p []byte) (int, error) {
	for {
		if r.err != nil {
			return 0, r.err
		}
		if r.body == nil {
			if err := r.resume(); err != nil {
				r.err = err
				return 0, err
			}
			if r.body == nil { // nothing was left to read
				r.err = io.EOF
				return 0, io.EOF
			}
		}
		n, err := r.body.Read(p)
		r.off += int64(n)
		if n > 0 {
			r.failures = 0
		}
		if err == io.EOF && r.size >= 0 && r.off < r.size {
			err = io.ErrUnexpectedEOF
		}
		switch {
		case err == nil:
			return n, nil
		case err == io.EOF:
			r.err = io.EOF
			return n, io.EOF
		case r.ctx.Err() != nil:
			r.err = pathError("read", r.loc, r.ctx.Err())
			return n, r.err
		}
		// The connection broke: drop it and resume on the next loop (or
		// the next call, once these n bytes are returned).
		r.body.Close()
		r.body = nil
		r.cause = err
		if n > 0 {
			return n, nil
		}
	}
}

// resume asks for the rest of the object after a break, waiting first
// when resumes keep failing. It leaves r.body nil when nothing is left.
func (r *s3Reader) resume() error {
	for {
		if r.failures >= DefaultReadResumes {
			return pathError("read", r.loc, fmt.Errorf("connection broke at byte %d and %d resumes got nothing: %w", r.off, r.failures, r.cause))
		}
		if err := ctxtime.Sleep(r.ctx, backoff(r.failures)); err != nil {
			return pathError("read", r.loc, err)
		}
		r.failures++
		if r.size >= 0 && r.off >= r.size {
			return nil
		}
		in := &s3.GetObjectInput{
			Bucket: aws.String(r.loc.bucket),
			Key:    aws.String(r.loc.key),
			Range:  aws.String("bytes=" + strconv.FormatInt(r.off, 10) + "-"),
		}
		if r.version != "" {
			in.VersionId = aws.String(r.version)
		}
		if r.etag != "" {
			in.IfMatch = aws.String(r.etag)
		}
		out, err := r.client.GetObject(r.ctx, in, r.opts...)
		switch status := httpStatus(err); {
		case err == nil:
			if r.size >= 0 && aws.ToInt64(out.ContentLength) != r.size-r.off {
				out.Body.Close()
				return pathError("read", r.loc, fmt.Errorf("resumed at byte %d of %d but the server sent %d bytes", r.off, r.size, aws.ToInt64(out.ContentLength)))
			}
			r.body = out.Body
			return nil
		case r.ctx.Err() != nil:
			return pathError("read", r.loc, r.ctx.Err())
		case status == http.StatusPreconditionFailed:
			return pathError("read", r.loc, fmt.Errorf("the object changed while it was read (at byte %d): %w", r.off, newS3Error(err)))
		case status == http.StatusRequestedRangeNotSatisfiable && r.size < 0:
			return nil // the break came at the very end
		case status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests:
			return pathError("read", r.loc, fmt.Errorf("resume at byte %d: %w", r.off, newS3Error(err)))
		}
		r.cause = err
	}
}

// Close closes the current connection, if any.
func (r *s3Reader) Close() error {
	if r.err == nil {
		r.err = pathError("read", r.loc, errors.New("read after close"))
	}
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}

// backoff returns the wait before a resume that follows failures resumes
// that got nothing.
func backoff(failures int) time.Duration {
	if failures == 0 {
		return 0
	}
	d := resumeBackoff << (failures - 1)
	if d > maxResumeBackoff || d <= 0 {
		d = maxResumeBackoff
	}
	return d
}
