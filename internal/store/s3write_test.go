package store_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lambdafan/lambdafan/internal/store"
)

// Results are uploaded in parts as they are written, holding at most
// UploadConcurrency+1 parts: what the server has not yet received stays
// under that bound, and the object appears only at Close.
func TestObject_Write_parts(t *testing.T) {
	const (
		size        = 36 * mib
		partSize    = store.MinPartSize
		concurrency = 2
	)
	f := newFakeS3(t, "bucket")
	st := f.Store()
	st.PartSize, st.UploadConcurrency = partSize, concurrency
	obj, err := st.Create(t.Context(), mustParse(t, "s3://bucket/out.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Abort(t.Context())

	// Stream size bytes from a generator, never holding them.
	src := rand.NewChaCha8([32]byte{9})
	h := sha256.New()
	chunk := make([]byte, 64<<10)
	var written, peak int64
	for written < size {
		src.Read(chunk)
		h.Write(chunk)
		if _, err := obj.Write(chunk); err != nil {
			t.Fatal(err)
		}
		written += int64(len(chunk))
		peak = max(peak, written-f.received.Load())
	}
	if _, ok := f.Object("bucket", "out.jsonl"); ok {
		t.Fatal("the object exists before Close")
	}
	if err := obj.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := f.Object("bucket", "out.jsonl")
	if sum := sha256.Sum256(got); len(got) != size || !bytes.Equal(sum[:], h.Sum(nil)) {
		t.Fatalf("stored %d bytes with another hash, want %d", len(got), size)
	}
	if n, want := f.Count("PUT", "partNumber"), (size+partSize-1)/partSize; n != want {
		t.Errorf("%d UploadPart requests, want %d", n, want)
	}
	bound := int64((concurrency + 1) * partSize)
	t.Logf("uploading %d MiB in %d MiB parts, %d at once: at most %.1f MiB written and not yet received by the server (bound %d MiB)",
		size/mib, partSize/mib, concurrency, float64(peak)/mib, bound/mib)
	// Slack for what sits in the loopback sockets' buffers.
	if peak > bound+4*mib {
		t.Errorf("%.1f MiB were written and not received at once; want at most %d MiB + socket buffers", float64(peak)/mib, bound/mib)
	}
}

// An object smaller than a part is sent whole with PutObject at Close; an
// empty one is created empty.
func TestObject_Close_small(t *testing.T) {
	for _, data := range []string{"", "{\"id\":1}\n"} {
		t.Run(fmt.Sprintf("%d bytes", len(data)), func(t *testing.T) {
			f := newFakeS3(t, "bucket")
			writeObject(t, f.Store(), mustParse(t, "s3://bucket/out.jsonl"), []byte(data))
			got, ok := f.Object("bucket", "out.jsonl")
			if !ok || string(got) != data {
				t.Fatalf("object = %q, %v; want %q", got, ok, data)
			}
			if n := f.Count("POST", "uploads"); n != 0 {
				t.Errorf("%d multipart uploads for a small object, want PutObject", n)
			}
		})
	}
}

// Abort leaves neither an object nor a multipart upload, whether parts
// were sent or not; after Close it does nothing.
func TestObject_Abort(t *testing.T) {
	for _, size := range []int{100, 12 * mib} {
		t.Run(fmt.Sprintf("%d bytes", size), func(t *testing.T) {
			f := newFakeS3(t, "bucket")
			st := f.Store()
			st.PartSize = store.MinPartSize
			obj, err := st.Create(t.Context(), mustParse(t, "s3://bucket/out.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := obj.Write(randomBytes(size, 5)); err != nil {
				t.Fatal(err)
			}
			if err := obj.Abort(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, ok := f.Object("bucket", "out.jsonl"); ok {
				t.Error("the object exists after Abort")
			}
			if n := f.Uploads(t, "bucket"); n != 0 {
				t.Errorf("%d multipart uploads left after Abort", n)
			}
			if _, err := obj.Write([]byte("x")); !errors.Is(err, store.ErrClosed) {
				t.Errorf("Write after Abort = %v, want ErrClosed", err)
			}
		})
	}
	t.Run("after close", func(t *testing.T) {
		f := newFakeS3(t, "bucket")
		obj, err := f.Store().Create(t.Context(), mustParse(t, "s3://bucket/out.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		obj.Write([]byte("kept"))
		if err := obj.Close(); err != nil {
			t.Fatal(err)
		}
		if err := obj.Abort(t.Context()); err != nil {
			t.Fatalf("Abort after Close = %v, want nil", err)
		}
		if got, _ := f.Object("bucket", "out.jsonl"); string(got) != "kept" {
			t.Fatalf("object = %q after Close then Abort, want it kept", got)
		}
	})
}

// Checkpoint makes what was written so far readable, and writing goes
// on; large objects continue from a server-side copy, small ones are sent
// again. A later Abort keeps what was checkpointed.
func TestObject_Checkpoint(t *testing.T) {
	tests := []struct {
		name   string
		chunks []int // sizes written between checkpoints
		copies int   // UploadPartCopy requests expected
	}{
		{"small", []int{1000, 2000, 3000}, 0},
		{"crossing MinPartSize", []int{4 * mib, 2 * mib, mib}, 1},
		{"large", []int{12 * mib, 3 * mib, 7 * mib}, 2},
		{"nothing new", []int{6 * mib, 0, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeS3(t, "bucket")
			st := f.Store()
			st.PartSize = store.MinPartSize
			obj, err := st.Create(t.Context(), mustParse(t, "s3://bucket/out.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			var all []byte
			for i, n := range tt.chunks {
				chunk := randomBytes(n, uint64(i))
				all = append(all, chunk...)
				if _, err := obj.Write(chunk); err != nil {
					t.Fatal(err)
				}
				if err := obj.Checkpoint(t.Context()); err != nil {
					t.Fatal(err)
				}
				if got, _ := f.Object("bucket", "out.jsonl"); !bytes.Equal(got, all) {
					t.Fatalf("after checkpoint %d the object has %d bytes, want the %d written", i, len(got), len(all))
				}
			}
			tail := randomBytes(100, 99)
			obj.Write(tail)
			if err := obj.Abort(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got, _ := f.Object("bucket", "out.jsonl"); !bytes.Equal(got, all) {
				t.Fatalf("after Abort the object has %d bytes, want the %d checkpointed", len(got), len(all))
			}
			if n := f.Uploads(t, "bucket"); n != 0 {
				t.Errorf("%d multipart uploads left", n)
			}
			copies := 0
			for _, r := range f.Requests() {
				if src := r.Header.Get("X-Amz-Copy-Source"); src != "" {
					copies++
					if src != "bucket/out.jsonl" || r.Header.Get("X-Amz-Copy-Source-If-Match") == "" {
						t.Errorf("UploadPartCopy from %q, If-Match %q; want bucket/out.jsonl and an ETag", src, r.Header.Get("X-Amz-Copy-Source-If-Match"))
					}
				}
			}
			if copies != tt.copies {
				t.Errorf("%d UploadPartCopy requests, want %d", copies, tt.copies)
			}
		})
	}
}

// A .gz object is compressed as it is written, a whole gzip stream at
// each checkpoint, and decompressed by Open.
func TestObject_gzip(t *testing.T) {
	f := newFakeS3(t, "bucket")
	st := f.Store()
	loc := mustParse(t, "s3://bucket/out.jsonl.gz")
	obj, err := st.Create(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := range 3000 {
		line := fmt.Sprintf("{\"id\":\"%d\",\"status\":200,\"payload\":\"ok\"}\n", i)
		want.WriteString(line)
		io.WriteString(obj, line)
		if i == 1000 {
			if err := obj.Checkpoint(t.Context()); err != nil {
				t.Fatal(err)
			}
			stored, _ := f.Object("bucket", "out.jsonl.gz")
			zr, err := gzip.NewReader(bytes.NewReader(stored))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := io.ReadAll(zr); err != nil || string(got) != want.String() {
				t.Fatalf("after a checkpoint the object decompresses to %d bytes, %v; want the %d written", len(got), err, want.Len())
			}
			// A checkpoint with nothing new sends nothing.
			n := len(f.Requests())
			if err := obj.Checkpoint(t.Context()); err != nil {
				t.Fatal(err)
			}
			if m := len(f.Requests()); m != n {
				t.Errorf("an idle checkpoint sent %d requests", m-n)
			}
		}
	}
	if err := obj.Close(); err != nil {
		t.Fatal(err)
	}
	stored, _ := f.Object("bucket", "out.jsonl.gz")
	if len(stored) >= want.Len()/4 {
		t.Errorf("stored %d bytes for %d of JSONL: not compressed", len(stored), want.Len())
	}
	if got := readObject(t, st, loc); string(got) != want.String() {
		t.Fatalf("Open read %d bytes, want the %d written", len(got), want.Len())
	}
}

// A part that fails fails the writes and Close; nothing is left behind.
func TestObject_partFails(t *testing.T) {
	f := newFakeS3(t, "bucket")
	f.Deny("PART", "", "AccessDenied")
	st := f.Store()
	st.PartSize = store.MinPartSize
	obj, err := st.Create(t.Context(), mustParse(t, "s3://bucket/out.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for range 24 {
		if _, werr = obj.Write(make([]byte, mib)); werr != nil {
			break
		}
	}
	cerr := obj.Close()
	err = errors.Join(werr, cerr)
	if cerr == nil || !strings.Contains(err.Error(), "write s3://bucket/out.jsonl: part ") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("Write, Close = %v, %v; want AccessDenied for a part", werr, cerr)
	}
	if _, ok := f.Object("bucket", "out.jsonl"); ok {
		t.Error("an object was created")
	}
	if n := f.Uploads(t, "bucket"); n != 0 {
		t.Errorf("%d multipart uploads left", n)
	}
}

// A cancelled context stops the upload and Close aborts it.
func TestObject_cancel(t *testing.T) {
	f := newFakeS3(t, "bucket")
	st := f.Store()
	st.PartSize = store.MinPartSize
	ctx, cancel := context.WithCancel(t.Context())
	obj, err := st.Create(ctx, mustParse(t, "s3://bucket/out.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.Write(make([]byte, 11*mib)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := obj.Close(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close = %v, want context.Canceled", err)
	}
	if _, ok := f.Object("bucket", "out.jsonl"); ok {
		t.Error("an object was created")
	}
	if n := f.Uploads(t, "bucket"); n != 0 {
		t.Errorf("%d multipart uploads left", n)
	}
}

// Uploads declare and send a CRC32 checksum per part, as the transfer
// manager does, unless the configuration asks for checksums only when
// required (for S3-compatible servers that reject them).
func TestObject_checksums(t *testing.T) {
	modes := map[string]aws.RequestChecksumCalculation{
		"when_supported": aws.RequestChecksumCalculationWhenSupported,
		"when_required":  aws.RequestChecksumCalculationWhenRequired,
	}
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			f := newFakeS3(t, "bucket")
			cfg := f.Config()
			cfg.RequestChecksumCalculation = mode
			st := store.Store{S3: store.NewS3Client(cfg), PartSize: store.MinPartSize}
			obj, err := st.Create(t.Context(), mustParse(t, "s3://bucket/out.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			data := randomBytes(7*mib, 7)
			obj.Write(data[:6*mib])
			if err := obj.Checkpoint(t.Context()); err != nil {
				t.Fatal(err)
			}
			obj.Write(data[6*mib:])
			if err := obj.Close(); err != nil {
				t.Fatal(err)
			}
			if got, _ := f.Object("bucket", "out.jsonl"); !bytes.Equal(got, data) {
				t.Fatalf("stored %d bytes, want the %d written", len(got), len(data))
			}
			want := "CRC32"
			if mode == aws.RequestChecksumCalculationWhenRequired {
				want = ""
			}
			for _, r := range f.Requests() {
				q := r.URL.Query()
				switch {
				case r.Method == "POST" && q.Has("uploads"):
					if got := r.Header.Get("X-Amz-Checksum-Algorithm"); got != want {
						t.Errorf("CreateMultipartUpload declares checksum %q, want %q", got, want)
					}
				case r.Method == "PUT" && q.Has("partNumber") && r.Header.Get("X-Amz-Copy-Source") == "":
					if got := r.Header.Get("X-Amz-Checksum-Crc32") != ""; got != (want != "") {
						t.Errorf("UploadPart sends a CRC32: %v, want %v", got, want != "")
					}
				}
			}
		})
	}
}

// A checkpoint copies from a key that needs escaping in
// x-amz-copy-source; Close twice is an error.
func TestObject_Checkpoint_keyEscaping(t *testing.T) {
	f := newFakeS3(t, "bucket")
	st := f.Store()
	st.PartSize = store.MinPartSize
	const key = "run 1/ü+x=y&z%.jsonl"
	obj, err := st.Create(t.Context(), mustParse(t, "s3://bucket/"+key))
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(6*mib+10, 8)
	obj.Write(data[:6*mib])
	if err := obj.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	obj.Write(data[6*mib:])
	if err := obj.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Object("bucket", key); !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes, want the %d written", len(got), len(data))
	}
	for _, r := range f.Requests() {
		if src := r.Header.Get("X-Amz-Copy-Source"); src != "" && src != "bucket/run%201/%C3%BC%2Bx%3Dy%26z%25.jsonl" {
			t.Errorf("x-amz-copy-source = %q", src)
		}
	}
	if err := obj.Close(); !errors.Is(err, store.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// Create fails at once for a bucket that does not exist.
func TestStore_Create_noBucket(t *testing.T) {
	f := newFakeS3(t, "bucket")
	_, err := f.Store().Create(t.Context(), mustParse(t, "s3://nobucket/out.jsonl"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "create s3://nobucket/out.jsonl: NoSuchBucket") {
		t.Fatalf("Create error = %v, want NoSuchBucket matching fs.ErrNotExist", err)
	}
	if n := len(f.Requests()); n != 1 {
		t.Errorf("%d requests, want the HeadBucket alone", n)
	}
}
