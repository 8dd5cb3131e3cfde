package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Limits and defaults of S3 uploads.
const (
	// MinPartSize is the smallest part S3 accepts in a multipart upload,
	// except for the last part: 5 MiB.
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part S3 accepts: 5 GiB.
	MaxPartSize = 5 << 30
	// MaxParts is the most parts a multipart upload can have.
	MaxParts = 10000
	// DefaultPartSize is the size of the parts an upload sends when
	// Store.PartSize is 0: 8 MiB, the SDK transfer manager's default. An
	// object can then grow to MaxParts × 8 MiB ≈ 78 GiB (between two
	// checkpoints; a checkpoint starts again from one copied part).
	DefaultPartSize = 8 << 20
	// DefaultUploadConcurrency is the number of parts an upload sends at
	// once when Store.UploadConcurrency is 0. With DefaultPartSize, an
	// upload holds at most (3+1) × 8 MiB = 32 MiB.
	DefaultUploadConcurrency = 3
)

// Store opens, creates, inspects and lists locations. The zero Store
// handles local files and the standard streams of the process; set S3 to
// reach S3. A Store is a value to configure and copy; its methods are safe
// for concurrent use, each returning its own stream.
type Store struct {
	// S3 is the client for s3:// locations, normally made by NewS3Client.
	// Nil means S3 locations are refused.
	S3 *s3.Client

	// Stdin is what Open reads for "-". Nil means os.Stdin.
	Stdin io.Reader
	// Stdout is what Create writes for "-". Nil means os.Stdout. Closing
	// the Object does not close it.
	Stdout io.Writer

	// PartSize is the size of each part of an S3 upload, in bytes: at
	// least MinPartSize, at most MaxPartSize. 0 means DefaultPartSize.
	PartSize int64
	// UploadConcurrency is the number of parts an S3 upload sends at
	// once. An upload holds at most UploadConcurrency+1 parts in memory:
	// the ones being sent and the one being filled. 0 means
	// DefaultUploadConcurrency.
	UploadConcurrency int
}

// Object is a file or S3 object being written, returned by
// [Store.Create]. Its methods are not safe for concurrent use (like
// bufio.Writer's); an S3 Object sends parts on its own goroutines, all of
// which have ended when Close, Abort or a failed Checkpoint returns.
type Object interface {
	// Write adds p to the object. For S3 it returns as soon as p is
	// buffered; it blocks while UploadConcurrency parts are being sent,
	// and returns the error of a part that failed.
	io.Writer

	// Checkpoint makes everything written so far durable. A local file is
	// flushed and synced to disk (fsync). An S3 upload is completed, so
	// the object now holds everything written so far, and a new upload of
	// the same key starts from it (copied server-side, or sent again when
	// it is under MinPartSize), to which later writes are appended. A .gz
	// object ends a gzip member at each checkpoint, so what is stored is
	// always a whole gzip stream. Nothing happens on standard output.
	Checkpoint(ctx context.Context) error

	// Close finishes the object: it flushes a local file (and closes it);
	// it completes an S3 upload, and only then does the object appear (or
	// change), whole. If completing fails, the upload is aborted and the
	// object keeps its content as of the last checkpoint, if any. Close
	// uses the context given to Create: to finish after that context is
	// cancelled (an interrupt), give Create one that outlives it, such as
	// context.WithoutCancel.
	Close() error

	// Abort discards what was written since the last checkpoint (since
	// Create, if none): it aborts the S3 upload (AbortMultipartUpload), or
	// closes and removes a local file. An S3 object that was never
	// checkpointed is left as it was before Create (absent, or its old
	// content). Abort after Close does nothing and returns nil, so it can
	// be deferred.
	Abort(ctx context.Context) error
}

// Info describes an existing file or S3 object.
type Info struct {
	// Location is where it is.
	Location Location
	// Size is its length in bytes (compressed, for a .gz name).
	Size int64
	// ModTime is when it was last written.
	ModTime time.Time
}

// Open returns a stream of loc's content: standard input for "-", the
// file, or the body of the S3 object, decompressed on the fly for a name
// ending in ".gz". The caller closes it. For S3, ctx governs every request
// until Close, and a connection that breaks is resumed where it broke (a
// ranged GET of the same object version, at most DefaultReadResumes times
// in a row without progress).
func (s Store) Open(ctx context.Context, loc Location) (io.ReadCloser, error) {
	var r io.ReadCloser
	var err error
	switch {
	case loc.IsStdio():
		return io.NopCloser(s.stdin()), nil
	case loc.s3:
		var c *s3.Client
		if c, err = s.s3Client("open", loc); err != nil {
			return nil, err
		}
		r, err = openS3(ctx, c, loc)
	default:
		r, err = os.Open(loc.path)
	}
	if err != nil {
		return nil, err
	}
	if loc.Gzip() {
		return newGzipReader(r, loc)
	}
	return r, nil
}

// Create starts writing loc: standard output for "-", a local file
// (created or truncated, as os.Create does), or an S3 upload, compressed
// on the fly for a name ending in ".gz". The caller must Close or Abort
// the Object. For S3, ctx governs the upload's requests until Close; the
// bucket must exist.
func (s Store) Create(ctx context.Context, loc Location) (Object, error) {
	var obj Object
	switch {
	case loc.IsStdio():
		return stdoutObject{s.stdout()}, nil
	case loc.s3:
		c, err := s.s3Client("create", loc)
		if err != nil {
			return nil, err
		}
		partSize, concurrency, err := s.uploadSizes()
		if err != nil {
			return nil, pathError("create", loc, err)
		}
		if obj, err = createS3(ctx, c, loc, partSize, concurrency); err != nil {
			return nil, err
		}
	default:
		f, err := os.Create(loc.path)
		if err != nil {
			return nil, err
		}
		obj = &fileObject{f: f}
	}
	if loc.Gzip() {
		return newGzipObject(obj), nil
	}
	return obj, nil
}

// Stat returns the size and modification time of the file or S3 object
// at loc. A missing one is an error that matches [fs.ErrNotExist].
func (s Store) Stat(ctx context.Context, loc Location) (Info, error) {
	switch {
	case loc.IsStdio():
		return Info{}, pathError("stat", loc, fmt.Errorf("the standard streams have no size"))
	case loc.s3:
		c, err := s.s3Client("stat", loc)
		if err != nil {
			return Info{}, err
		}
		return statS3(ctx, c, loc)
	}
	fi, err := os.Stat(loc.path)
	if err != nil {
		return Info{}, err
	}
	return Info{Location: loc, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Remove deletes the file or S3 object at loc. A missing one is not an
// error.
func (s Store) Remove(ctx context.Context, loc Location) error {
	switch {
	case loc.IsStdio():
		return pathError("remove", loc, fmt.Errorf("the standard streams cannot be removed"))
	case loc.s3:
		c, err := s.s3Client("remove", loc)
		if err != nil {
			return err
		}
		return removeS3(ctx, c, loc)
	}
	if err := os.Remove(loc.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// List returns the objects under an S3 prefix (s3://bucket/prefix/, at
// any depth, in key order, without the zero-byte "folder" markers whose
// keys end in "/"), or the regular files under a local directory (at any
// depth, in lexical order).
func (s Store) List(ctx context.Context, prefix Location) ([]Info, error) {
	switch {
	case prefix.IsStdio():
		return nil, pathError("list", prefix, fmt.Errorf("the standard streams cannot be listed"))
	case prefix.s3:
		c, err := s.s3Client("list", prefix)
		if err != nil {
			return nil, err
		}
		return listS3(ctx, c, prefix)
	}
	return listLocal(ctx, prefix)
}

func (s Store) stdin() io.Reader {
	if s.Stdin == nil {
		return os.Stdin
	}
	return s.Stdin
}

func (s Store) stdout() io.Writer {
	if s.Stdout == nil {
		return os.Stdout
	}
	return s.Stdout
}

// s3Client returns the client for loc, or an error when there is none or
// loc is a prefix (other than for list).
func (s Store) s3Client(op string, loc Location) (*s3.Client, error) {
	if s.S3 == nil {
		return nil, pathError(op, loc, fmt.Errorf("no S3 client configured"))
	}
	if op != "list" && loc.IsPrefix() {
		return nil, pathError(op, loc, ErrPrefix)
	}
	return s.S3, nil
}

// uploadSizes returns the part size and concurrency of an upload.
func (s Store) uploadSizes() (partSize, concurrency int, err error) {
	size := s.PartSize
	if size == 0 {
		size = DefaultPartSize
	}
	if size < MinPartSize || size > MaxPartSize {
		return 0, 0, fmt.Errorf("part size %d bytes is outside S3's limits (%d to %d)", size, MinPartSize, int64(MaxPartSize))
	}
	concurrency = s.UploadConcurrency
	if concurrency == 0 {
		concurrency = DefaultUploadConcurrency
	}
	if concurrency < 0 {
		return 0, 0, fmt.Errorf("upload concurrency %d is negative", concurrency)
	}
	return int(size), concurrency, nil
}
