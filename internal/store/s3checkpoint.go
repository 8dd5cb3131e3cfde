package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// baseObject is a completed object that the next upload copies as its
// first parts.
type baseObject struct {
	etag string
	size int64
}

// Checkpoint completes the upload (see [Object]); the next upload starts
// from the completed object.
func (o *s3Object) Checkpoint(ctx context.Context) error {
	if err := o.usable(); err != nil {
		return err
	}
	etag, err := o.finish(ctx)
	if err != nil {
		return o.fail(err)
	}
	o.etag, o.kept = etag, true
	if o.size < MinPartSize {
		// Too small to be copied as a first part: the bytes are all still
		// in o.buf (sent by PutObject), and will be sent again.
		o.base = nil
		return nil
	}
	o.base = &baseObject{etag: etag, size: o.size}
	if o.buf != nil {
		o.buf = o.buf[:0]
	}
	return nil
}

// copyBase copies the checkpointed object into the upload's first parts,
// server-side: one part, or ranges of at most MaxPartSize for a larger
// object. It is at least MinPartSize (smaller ones are sent again from
// memory instead), so every copied part is large enough not to be last.
func (o *s3Object) copyBase() {
	up, base := o.up, o.base
	n := (base.size + MaxPartSize - 1) / MaxPartSize
	chunk := (base.size + n - 1) / n
	for start := int64(0); start < base.size; start += chunk {
		num := up.next
		up.next++
		in := &s3.UploadPartCopyInput{
			Bucket:            aws.String(o.loc.bucket),
			Key:               aws.String(o.loc.key),
			UploadId:          aws.String(up.id),
			PartNumber:        aws.Int32(num),
			CopySource:        aws.String(copySource(o.loc)),
			CopySourceIfMatch: aws.String(base.etag),
		}
		if n > 1 {
			in.CopySourceRange = aws.String(fmt.Sprintf("bytes=%d-%d", start, min(start+chunk, base.size)-1))
		}
		up.g.Go(func() error {
			out, err := o.client.UploadPartCopy(up.ctx, in, o.opts...)
			if err != nil {
				return pathError("checkpoint", o.loc, fmt.Errorf("copy the checkpointed object into part %d: %w", num, newS3Error(err)))
			}
			r := out.CopyPartResult
			if r == nil {
				return pathError("checkpoint", o.loc, fmt.Errorf("copy into part %d: no CopyPartResult in the answer", num))
			}
			up.add(types.CompletedPart{PartNumber: aws.Int32(num), ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32})
			return nil
		})
	}
}

// copySource is the x-amz-copy-source of loc: bucket/key, each path
// segment of the key URL-encoded.
func copySource(loc Location) string {
	var b bytes.Buffer
	b.WriteString(loc.bucket)
	start := 0
	for i := 0; i <= len(loc.key); i++ {
		if i == len(loc.key) || loc.key[i] == '/' {
			b.WriteByte('/')
			b.WriteString(pathEscape(loc.key[start:i]))
			start = i + 1
		}
	}
	return b.String()
}

// pathEscape escapes a segment of a key for x-amz-copy-source, which S3
// URL-decodes: everything but unreserved characters (RFC 3986).
func pathEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
