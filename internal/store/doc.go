// Package store reads and writes the files lambdafan takes requests from
// and puts results in, wherever they are: a local file, the standard
// streams ("-"), or an S3 object (s3://bucket/key). A name ending in ".gz"
// is decompressed as it is read and compressed as it is written.
//
// Everything streams. [Store.Open] hands out an S3 object's body as it
// arrives and resumes a broken connection with a ranged request from the
// byte it had reached; [Store.Create] sends results to S3 in a multipart
// upload as they are written, holding at most [Store.UploadConcurrency]+1
// parts of [Store.PartSize] bytes in memory. An S3 object appears only
// when [Object.Close] completes it, whole; [Object.Abort] discards it;
// [Object.Checkpoint] completes what has been written so far and goes on
// appending, so a long run's results become durable without waiting for
// its end.
//
// S3 requests go through an SDK client made by [NewS3Client] from the same
// aws.Config the Lambda calls use, so credentials, profile, region and
// endpoint settings (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, a profile's
// endpoint_url) are shared. Each operation first asks the bucket for its
// region (HeadBucket's x-amz-bucket-region) and signs for that region.
package store
