package store_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/lambdafan/lambdafan/internal/store"
)

// Static test credentials; the fake server does not check signatures.
const (
	testAccessKey = "AKIDSTORETEST"
	testSecretKey = "store-test-secret-key-do-not-print"
)

// fakeS3 is an S3-compatible server for the tests: gofakes3 with its
// in-memory backend, on a loopback httptest server, wrapped with what the
// tests need: a log of the requests it saw, counts of the body bytes it
// read and sent, UploadPartCopy and If-Match on GET (which gofakes3
// v1.2.0 lacks), and injected faults.
type fakeS3 struct {
	// Server serves the fake at http://localhost:port.
	Server *httptest.Server
	// Backend holds the buckets and objects.
	Backend *s3mem.Backend
	inner   http.Handler

	// received counts the request body bytes the server has read (PUT and
	// POST); sent, the response body bytes of GETs it has written.
	received, sent atomic.Int64

	mu       sync.Mutex
	requests []*http.Request   // clones, without bodies
	etags    map[string]string // "bucket/key" → ETag of the last PutObject or CompleteMultipartUpload
	cutAfter map[string]int64  // "bucket/key" → break the next full GET after so many bytes
	regions  map[string]string // bucket → region named by HeadBucket
	denied   map[string]string // "METHOD bucket/key" or "PART" → S3 error code answered with 403
	onCut    map[string]func() // "bucket/key" → run after the cut, before the resume
}

// newFakeS3 starts a fake server with the given buckets; it stops when
// the test ends.
func newFakeS3(t testing.TB, buckets ...string) *fakeS3 {
	t.Helper()
	f := &fakeS3{
		Backend:  s3mem.New(),
		etags:    map[string]string{},
		cutAfter: map[string]int64{},
		regions:  map[string]string{},
		denied:   map[string]string{},
		onCut:    map[string]func(){},
	}
	for _, b := range buckets {
		if err := f.Backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	f.inner = gofakes3.New(f.Backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	f.Server = httptest.NewUnstartedServer(f)
	f.Server.Start()
	// A host name rather than an IP address: the SDK addresses buckets
	// path-style by itself for an IP endpoint, so only a name shows that
	// NewS3Client asks for path style.
	f.Server.URL = strings.Replace(f.Server.URL, "127.0.0.1", "localhost", 1)
	t.Cleanup(f.Server.Close)
	return f
}

// Config returns an aws.Config for the fake: static credentials, region
// us-east-1, the fake's URL as the endpoint, and its HTTPClient.
func (f *fakeS3) Config() aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		BaseEndpoint: aws.String(f.Server.URL),
		HTTPClient:   f.HTTPClient(),
	}
}

// HTTPClient returns an SDK HTTP client that connects to the fake
// whatever host a request names, so a request that is not path-style
// (http://bucket.localhost/key) still reaches it, to be seen, rather than
// making a DNS query.
func (f *fakeS3) HTTPClient() *awshttp.BuildableClient {
	addr := f.Server.Listener.Addr().String()
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	})
}

// Store returns a Store whose S3 client reaches the fake.
func (f *fakeS3) Store() store.Store {
	return store.Store{S3: store.NewS3Client(f.Config())}
}

// Requests returns the requests seen so far.
func (f *fakeS3) Requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...)
}

// Count returns how many requests seen so far match the method and have
// the query parameter param (or any query, for param "").
func (f *fakeS3) Count(method, param string) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Method == method && (param == "" || r.URL.Query().Has(param)) {
			n++
		}
	}
	return n
}

// Object returns the content of an object, or ok false.
func (f *fakeS3) Object(bucket, key string) (data []byte, ok bool) {
	obj, err := f.Backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, false
	}
	defer obj.Contents.Close()
	data, err = io.ReadAll(obj.Contents)
	return data, err == nil
}

// Put stores an object directly in the backend.
func (f *fakeS3) Put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	res, err := f.Backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = res
	f.mu.Lock()
	delete(f.etags, bucket+"/"+key) // the backend's MD5 ETag applies
	f.mu.Unlock()
}

// Uploads returns the number of multipart uploads under way in bucket.
func (f *fakeS3) Uploads(t testing.TB, bucket string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/"+bucket+"?uploads", nil)
	rec := httptest.NewRecorder()
	f.inner.ServeHTTP(rec, req)
	var out struct {
		Uploads []struct{ UploadID string } `xml:"Upload"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("list uploads: %v: %s", err, rec.Body)
	}
	return len(out.Uploads)
}

// ServeHTTP records the request, then serves it with gofakes3 and the
// additions.
func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	object := bucket + "/" + key
	q := r.URL.Query()

	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	region := f.regions[bucket]
	denied := f.denied[r.Method+" "+object]
	if q.Has("partNumber") && f.denied["PART"] != "" {
		denied = f.denied["PART"]
	}
	f.mu.Unlock()

	if denied != "" {
		// Read the body first, as S3 does before it answers: an answer
		// sent while the client still writes can reach it as a reset.
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
		}
		writeError(w, http.StatusForbidden, denied)
		return
	}
	if key == "" && r.Method == http.MethodHead && region != "" {
		w.Header().Set("X-Amz-Bucket-Region", region)
	}
	if r.Body != nil {
		r.Body = countingBody{r.Body, &f.received}
	}
	switch {
	case r.Method == http.MethodPut && q.Has("uploadId") && r.Header.Get("X-Amz-Copy-Source") != "":
		f.uploadPartCopy(w, r, bucket, key)
		return
	case r.Method == http.MethodGet && key != "" && !q.Has("uploads"):
		if r.Header.Get("Range") != "" {
			f.runOnCut(object)
		}
		if m := r.Header.Get("If-Match"); m != "" && m != f.etag(bucket, key) {
			writeError(w, http.StatusPreconditionFailed, "PreconditionFailed")
			return
		}
		w = f.cutWriter(w, r, object)
	case r.Method == http.MethodPost && q.Has("uploadId"):
		rec := httptest.NewRecorder()
		f.inner.ServeHTTP(rec, r)
		var out struct{ ETag string }
		if xml.Unmarshal(rec.Body.Bytes(), &out) == nil && out.ETag != "" {
			f.setETag(object, out.ETag)
		}
		copyResponse(w, rec)
		return
	case r.Method == http.MethodPut && key != "" && !q.Has("uploadId"):
		rec := httptest.NewRecorder()
		f.inner.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			f.setETag(object, rec.Header().Get("ETag"))
		}
		copyResponse(w, rec)
		return
	}
	f.inner.ServeHTTP(w, r)
}

func (f *fakeS3) setETag(object, etag string) {
	f.mu.Lock()
	f.etags[object] = etag
	f.mu.Unlock()
}

// etag returns the ETag S3 would give the object: the one its last
// PutObject or CompleteMultipartUpload answered (gofakes3 then stores
// the MD5 of the whole body, which S3 does not), or else its MD5.
func (f *fakeS3) etag(bucket, key string) string {
	f.mu.Lock()
	etag, ok := f.etags[bucket+"/"+key]
	f.mu.Unlock()
	if ok {
		return etag
	}
	obj, err := f.Backend.HeadObject(bucket, key)
	if err != nil {
		return ""
	}
	return `"` + hex.EncodeToString(obj.Hash) + `"`
}

// uploadPartCopy emulates UploadPartCopy, which gofakes3 routes as an
// UploadPart and rejects for its empty body: it reads the source (range)
// from the backend, checks x-amz-copy-source-if-match, uploads the bytes
// as the part through gofakes3, and answers with a CopyPartResult that
// carries the part's ETag and CRC32, as S3 does for an upload created
// with the CRC32 algorithm.
func (f *fakeS3) uploadPartCopy(w http.ResponseWriter, r *http.Request, bucket, key string) {
	src, err := url.PathUnescape(strings.TrimPrefix(r.Header.Get("X-Amz-Copy-Source"), "/"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidArgument")
		return
	}
	srcBucket, srcKey, _ := strings.Cut(src, "/")
	if m := r.Header.Get("X-Amz-Copy-Source-If-Match"); m != "" && m != f.etag(srcBucket, srcKey) {
		writeError(w, http.StatusPreconditionFailed, "PreconditionFailed")
		return
	}
	data, ok := f.Object(srcBucket, srcKey)
	if !ok {
		writeError(w, http.StatusNotFound, "NoSuchKey")
		return
	}
	if rng := r.Header.Get("X-Amz-Copy-Source-Range"); rng != "" {
		var start, end int
		if _, err := fmt.Sscanf(rng, "bytes=%d-%d", &start, &end); err != nil || end >= len(data) || start > end {
			writeError(w, http.StatusBadRequest, "InvalidRange")
			return
		}
		data = data[start : end+1]
	}
	part, _ := http.NewRequest(http.MethodPut, r.URL.String(), bytes.NewReader(data))
	part.Header.Set("Content-Length", strconv.Itoa(len(data)))
	part.ContentLength = int64(len(data))
	rec := httptest.NewRecorder()
	f.inner.ServeHTTP(rec, part)
	if rec.Code != http.StatusOK {
		copyResponse(w, rec)
		return
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(data))
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><CopyPartResult><ETag>%s</ETag><ChecksumCRC32>%s</ChecksumCRC32><LastModified>2026-01-01T00:00:00.000Z</LastModified></CopyPartResult>`,
		rec.Header().Get("ETag"), base64.StdEncoding.EncodeToString(sum[:]))
}

// CutAfter makes the next GET of the whole object break its connection
// after n body bytes; then, if given, runs before the next request of it.
func (f *fakeS3) CutAfter(bucket, key string, n int64, then func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cutAfter[bucket+"/"+key] = n
	if then != nil {
		f.onCut[bucket+"/"+key] = then
	}
}

// Deny makes requests with the method on bucket/key fail with 403 and the
// code; method "PART" denies every UploadPart.
func (f *fakeS3) Deny(method, object, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if method == "PART" {
		f.denied["PART"] = code
		return
	}
	f.denied[method+" "+object] = code
}

// SetRegion makes HeadBucket of bucket name region in x-amz-bucket-region.
func (f *fakeS3) SetRegion(bucket, region string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.regions[bucket] = region
}

// cutWriter counts the body bytes of a GET and breaks it as CutAfter asked.
func (f *fakeS3) cutWriter(w http.ResponseWriter, r *http.Request, object string) http.ResponseWriter {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.cutAfter[object]
	if !ok || r.Header.Get("Range") != "" {
		return &countingWriter{ResponseWriter: w, sent: &f.sent, limit: -1}
	}
	delete(f.cutAfter, object)
	return &countingWriter{ResponseWriter: w, sent: &f.sent, limit: n}
}

// runOnCut runs what CutAfter asked to run before the resume of object.
func (f *fakeS3) runOnCut(object string) {
	f.mu.Lock()
	then, ok := f.onCut[object]
	delete(f.onCut, object)
	f.mu.Unlock()
	if ok {
		then()
	}
}

// countingWriter counts what a handler writes and, past limit (if not
// negative), flushes and aborts the connection.
type countingWriter struct {
	http.ResponseWriter
	sent    *atomic.Int64
	limit   int64
	written int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.limit >= 0 && c.written+int64(len(p)) > c.limit {
		n, _ := c.ResponseWriter.Write(p[:c.limit-c.written])
		c.sent.Add(int64(n))
		c.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the client sees the connection break
	}
	n, err := c.ResponseWriter.Write(p)
	c.written += int64(n)
	c.sent.Add(int64(n))
	return n, err
}

// countingBody counts the request body bytes the server reads.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func writeError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", "FAKEREQUESTID")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected %s</Message><RequestId>FAKEREQUESTID</RequestId></Error>`, code, code)
}
