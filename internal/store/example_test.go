package store_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/lambdafan/lambdafan/internal/store"
)

// Write results to a location as they come, checkpointing now and then,
// and read them back. With an s3:// location the same code streams a
// multipart upload; with a .gz name it compresses.
func ExampleStore_Create() {
	dir, _ := os.MkdirTemp("", "store-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	st := store.Store{} // add S3: store.NewS3Client(awsCfg) for s3:// locations
	loc, err := store.Parse(filepath.Join(dir, "results.jsonl.gz"))
	if err != nil {
		log.Fatal(err)
	}
	out, err := st.Create(ctx, loc)
	if err != nil {
		log.Fatal(err)
	}
	defer out.Abort(ctx) // discards the object unless Close succeeded
	for i := range 3 {
		fmt.Fprintf(out, "{\"id\":\"%d\",\"status\":200}\n", i)
		if i == 1 {
			if err := out.Checkpoint(ctx); err != nil { // durable so far
				log.Fatal(err)
			}
		}
	}
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}

	in, err := st.Open(ctx, loc)
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()
	io.Copy(os.Stdout, in)
	// Output:
	// {"id":"0","status":200}
	// {"id":"1","status":200}
	// {"id":"2","status":200}
}

// Reach S3 with the configuration the Lambda calls use. Here that is a
// local S3-compatible server on 127.0.0.1, so the example runs offline;
// against AWS, take the configuration from config.LoadDefaultConfig and
// leave BaseEndpoint unset.
func ExampleNewS3Client() {
	ctx := context.Background()
	backend := s3mem.New()
	if err := backend.CreateBucket("my-bucket"); err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	defer srv.Close()
	awsCfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "example-secret", ""),
		BaseEndpoint: aws.String(srv.URL),
	}

	st := store.Store{S3: store.NewS3Client(awsCfg)}
	results, _ := store.Parse("s3://my-bucket/run1/results.jsonl")
	out, err := st.Create(ctx, results)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(out, `{"id":"0","status":200}`)
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}

	run, _ := store.Parse("s3://my-bucket/run1/")
	infos, err := st.List(ctx, run)
	if err != nil {
		log.Fatal(err)
	}
	for _, info := range infos {
		fmt.Println(info.Location, info.Size)
	}
	// Output: s3://my-bucket/run1/results.jsonl 24
}
