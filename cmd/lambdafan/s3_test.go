package main

import (
	"compress/gzip"
	"context"
	"io"
	"net/http/httptest"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lambdafan/lambdafan/internal/store"
)

// fakeS3Bucket is the bucket every script's S3-compatible server has.
const fakeS3Bucket = "bucket"

// startFakeS3 starts an S3-compatible server on loopback for one script
// (gofakes3, in memory) with the bucket "bucket", and points the AWS SDK
// at it: AWS_ENDPOINT_URL_S3, which lambdafan honours with path-style
// addressing. Its credentials are any (it does not check signatures).
func startFakeS3(env *testscript.Env) error {
	backend := s3mem.New()
	if err := backend.CreateBucket(fakeS3Bucket); err != nil {
		return err
	}
	srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	env.Defer(srv.Close)
	env.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
	env.Values["s3url"] = srv.URL
	return nil
}

// scriptStore returns a store that reaches the script's S3 server.
func scriptStore(ts *testscript.TestScript) store.Store {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(ts.Getenv("AWS_ENDPOINT_URL_S3")),
	}
	return store.Store{S3: store.NewS3Client(cfg)}
}

// s3Commands are the scripts' commands for S3 and compressed files:
// s3put FILE URL uploads a file of the script's work directory (compressed
// when URL ends in .gz); s3cat URL
// prints an object (decompressed when its name ends in .gz); gzip FILE
// writes FILE.gz.
var s3Commands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"gzip": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: gzip FILE")
		}
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		ts.Check(err)
		f, err := os.Create(ts.MkAbs(args[0] + ".gz"))
		ts.Check(err)
		zw := gzip.NewWriter(f)
		_, err = zw.Write(b)
		ts.Check(err)
		ts.Check(zw.Close())
		ts.Check(f.Close())
	},
	"s3put": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 2 {
			ts.Fatalf("usage: s3put FILE s3://bucket/key")
		}
		loc, err := store.Parse(args[1])
		ts.Check(err)
		ctx := context.Background()
		obj, err := scriptStore(ts).Create(ctx, loc)
		ts.Check(err)
		f, err := os.Open(ts.MkAbs(args[0]))
		ts.Check(err)
		defer f.Close()
		_, err = io.Copy(obj, f)
		ts.Check(err)
		ts.Check(obj.Close())
	},
	"s3cat": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 1 {
			ts.Fatalf("usage: s3cat s3://bucket/key")
		}
		loc, err := store.Parse(args[0])
		ts.Check(err)
		r, err := scriptStore(ts).Open(context.Background(), loc)
		if neg {
			if err == nil {
				r.Close()
				ts.Fatalf("%s exists", args[0])
			}
			return
		}
		ts.Check(err)
		defer r.Close()
		b, err := io.ReadAll(r)
		ts.Check(err)
		ts.Stdout().Write(b)
	},
}
