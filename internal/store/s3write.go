package store

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// abortTimeout bounds the AbortMultipartUpload that Close sends after a
// failure, which may be its context's cancellation.
const abortTimeout = time.Minute

// s3Object streams what is written to an S3 object. It fills a part
// buffer and, when it is full, sends it with UploadPart on a goroutine of
// the upload's errgroup while the next one fills; a pool of
// concurrency+1 buffers bounds both memory and the parts in flight.
//
// Why not the SDK's transfer manager (feature/s3/transfermanager v0.5.7,
// or the deprecated feature/s3/manager): its UploadObject does stream a
// non-seekable reader in bounded memory, but a checkpoint must complete
// the upload and start the next one from a server-side copy of the
// result (UploadPartCopy), and the manager neither exposes its upload ID
// and parts nor accepts a copied first part. It also logs through the
// global log package when completing fails. Its choices are kept: 8 MiB
// parts, a CRC32 checksum declared and sent per part unless the
// configuration says when_required.
type s3Object struct {
	ctx      context.Context // the upload's requests; cancelled when done
	cancel   context.CancelFunc
	client   *s3.Client
	opts     []func(*s3.Options) // the bucket's region
	loc      Location
	checksum types.ChecksumAlgorithm
	partSize int
	pool     *bufferPool

	buf  []byte      // written and not yet sent; nil when a send took it
	up   *upload     // the multipart upload, from its first part to Complete
	base *baseObject // the checkpointed object the next upload starts from
	size int64       // bytes in the object, checkpointed ones included
	etag string      // the object's ETag after the last checkpoint
	kept bool        // S3 holds everything written (nothing since the checkpoint)
	err  error       // sticky: once an upload fails, so does the object
	done bool        // closed or aborted
}

// upload is one multipart upload under way.
type upload struct {
	id   string
	ctx  context.Context // cancelled when a part fails, with its error as cause
	g    *errgroup.Group
	next int32 // the next part number

	mu    sync.Mutex
	parts []types.CompletedPart
}

func (up *upload) add(p types.CompletedPart) {
	up.mu.Lock()
	up.parts = append(up.parts, p)
	up.mu.Unlock()
}

// createS3 prepares an upload; nothing is sent to S3 but HeadBucket until
// the first part fills, or Close.
func createS3(ctx context.Context, c *s3.Client, loc Location, partSize, concurrency int) (*s3Object, error) {
	opts, err := bucketOptions(ctx, c, "create", loc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	return &s3Object{
		ctx:      ctx,
		cancel:   cancel,
		client:   c,
		opts:     opts,
		loc:      loc,
		checksum: checksumAlgorithm(c),
		partSize: partSize,
		pool:     newBufferPool(partSize, concurrency+1),
	}, nil
}

// usable returns why the object cannot take more, if it cannot.
func (o *s3Object) usable() error {
	switch {
	case o.done:
		return pathError("write", o.loc, ErrClosed)
	case o.err != nil:
		return o.err
	case o.up != nil && o.up.ctx.Err() != nil:
		// A part failed (the cause), or the context was cancelled.
		o.err = pathError("write", o.loc, context.Cause(o.up.ctx))
		return o.err
	}
	return nil
}

func (o *s3Object) fail(err error) error {
	o.err = err
	return err
}

func (o *s3Object) Write(p []byte) (int, error) {
	if err := o.usable(); err != nil {
		return 0, err
	}
	written := 0
	for len(p) > 0 {
		if o.buf == nil {
			b, err := o.pool.get(o.ctx)
			if err != nil {
				return written, o.fail(pathError("write", o.loc, err))
			}
			o.buf = b
		}
		if len(o.buf) == cap(o.buf) {
			o.buf = o.pool.grow(o.buf)
		}
		n := copy(o.buf[len(o.buf):cap(o.buf)], p)
		o.buf = o.buf[:len(o.buf)+n]
		p = p[n:]
		written += n
		o.size += int64(n)
		o.kept = false
		if len(o.buf) == o.partSize {
			if err := o.sendPart(); err != nil {
				return written, o.fail(err)
			}
		}
	}
	return written, nil
}

// sendPart hands the buffer to a goroutine that uploads it as the next
// part, starting the multipart upload if needed.
func (o *s3Object) sendPart() error {
	if o.up == nil {
		if err := o.startUpload(); err != nil {
			return err
		}
	}
	up := o.up
	if up.next > MaxParts {
		return pathError("write", o.loc, fmt.Errorf("the upload reached S3's limit of %d parts of %d bytes: checkpoint sooner or use larger parts", MaxParts, o.partSize))
	}
	num := up.next
	up.next++
	body := o.buf
	o.buf = nil
	up.g.Go(func() error {
		defer o.pool.put(body)
		out, err := o.client.UploadPart(up.ctx, &s3.UploadPartInput{
			Bucket:            aws.String(o.loc.bucket),
			Key:               aws.String(o.loc.key),
			UploadId:          aws.String(up.id),
			PartNumber:        aws.Int32(num),
			Body:              bytes.NewReader(body),
			ContentLength:     aws.Int64(int64(len(body))),
			ChecksumAlgorithm: o.checksum,
		}, o.opts...)
		if err != nil {
			return pathError("write", o.loc, fmt.Errorf("part %d: %w", num, newS3Error(err)))
		}
		up.add(types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
		return nil
	})
	return nil
}

// startUpload sends CreateMultipartUpload and, after a checkpoint, starts
// copying the checkpointed object into the first parts.
func (o *s3Object) startUpload() error {
	out, err := o.client.CreateMultipartUpload(o.ctx, &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(o.loc.bucket),
		Key:               aws.String(o.loc.key),
		ChecksumAlgorithm: o.checksum,
	}, o.opts...)
	if err != nil {
		return pathError("write", o.loc, newS3Error(err))
	}
	g, gctx := errgroup.WithContext(o.ctx)
	o.up = &upload{id: aws.ToString(out.UploadId), ctx: gctx, g: g, next: 1}
	if o.base != nil {
		o.copyBase()
	}
	return nil
}

// finish makes the object hold everything written: it sends what is
// buffered and completes the upload, or puts a small object whole. It
// returns the object's ETag.
func (o *s3Object) finish(ctx context.Context) (string, error) {
	if o.kept {
		return o.etag, nil // nothing new since the checkpoint
	}
	if o.up == nil {
		if o.base == nil {
			return o.putObject(ctx)
		}
		if err := o.startUpload(); err != nil {
			return "", err
		}
	}
	if len(o.buf) > 0 {
		if err := o.sendPart(); err != nil {
			return "", err
		}
	}
	up := o.up
	if err := up.g.Wait(); err != nil {
		return "", err
	}
	parts := slices.Clone(up.parts)
	slices.SortFunc(parts, func(a, b types.CompletedPart) int {
		return cmp.Compare(aws.ToInt32(a.PartNumber), aws.ToInt32(b.PartNumber))
	})
	out, err := o.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(o.loc.bucket),
		Key:             aws.String(o.loc.key),
		UploadId:        aws.String(up.id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}, o.opts...)
	if err != nil {
		return "", pathError("complete", o.loc, newS3Error(err))
	}
	o.up = nil
	return aws.ToString(out.ETag), nil
}

// putObject stores the buffer as the whole object, for objects smaller
// than a part. The buffer is kept: after a checkpoint of an object under
// MinPartSize, it is the start of the next one.
func (o *s3Object) putObject(ctx context.Context) (string, error) {
	out, err := o.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(o.loc.bucket),
		Key:               aws.String(o.loc.key),
		Body:              bytes.NewReader(o.buf),
		ContentLength:     aws.Int64(int64(len(o.buf))),
		ChecksumAlgorithm: o.checksum,
	}, o.opts...)
	if err != nil {
		return "", pathError("write", o.loc, newS3Error(err))
	}
	return aws.ToString(out.ETag), nil
}

func (o *s3Object) Close() error {
	if o.done {
		return pathError("close", o.loc, ErrClosed)
	}
	err := o.usable()
	if err == nil {
		_, err = o.finish(o.ctx)
	}
	o.done = true
	if err != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(o.ctx), abortTimeout)
		defer cancel()
		o.abortUpload(ctx)
		return err
	}
	o.cancel()
	o.buf = nil
	return nil
}

func (o *s3Object) Abort(ctx context.Context) error {
	if o.done {
		return nil
	}
	o.done = true
	return o.abortUpload(ctx)
}

// abortUpload stops the parts in flight, waits for their goroutines and
// aborts the multipart upload, if one was started.
func (o *s3Object) abortUpload(ctx context.Context) error {
	o.cancel()
	o.buf = nil
	up := o.up
	if up == nil {
		return nil
	}
	o.up = nil
	up.g.Wait() // the error is the one that led here, or cancellation
	_, err := o.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(o.loc.bucket),
		Key:      aws.String(o.loc.key),
		UploadId: aws.String(up.id),
	}, o.opts...)
	if err != nil && !isCode(err, "NoSuchUpload") {
		return pathError("abort", o.loc, newS3Error(err))
	}
	return nil
}
