package store

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// DefaultRegion is the region NewS3Client signs with when the aws.Config
// has none. Each operation then signs for the bucket's own region, which
// it learns from the bucket (see NewS3Client).
const DefaultRegion = "us-east-1"

// NewS3Client returns an S3 client built from cfg, the aws.Config the
// Lambda calls use: the same credentials, region, HTTP client and retry
// settings, and the S3 endpoint that the SDK resolved from
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's services section or
// endpoint_url, or cfg.BaseEndpoint (s3.NewFromConfig does that
// resolution, honouring ignore_configured_endpoint_urls).
//
// When the endpoint is overridden, the client uses path-style addressing
// (http://endpoint/bucket/key), which S3-compatible servers (MinIO,
// emulators) expect, instead of virtual-hosted buckets
// (http://bucket.endpoint/key), which need wildcard DNS.
//
// S3 signs each request for the bucket's region. The client does not
// follow S3's region redirects (aws-sdk-go-v2 has no cross-region
// support), so every Store operation first sends HeadBucket and reads the
// x-amz-bucket-region header that S3 returns even on a 301 or 403, the
// way the SDK's manager.GetBucketRegion does, and signs the operation's
// requests for that region.
func NewS3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
		if o.Region == "" {
			o.Region = DefaultRegion
		}
	})
}

// bucketRegionHeader is where S3 tells a bucket's region, on HeadBucket
// responses including 301 redirects and 403 denials.
const bucketRegionHeader = "X-Amz-Bucket-Region"

// bucketOptions returns the per-request options that sign for loc's
// bucket's region, learnt with HeadBucket. A missing bucket is an error
// (matching fs.ErrNotExist); a denied HeadBucket is not, since the
// operation itself may be allowed; a server that names no region (an
// S3-compatible one) leaves the client's region.
func bucketOptions(ctx context.Context, c *s3.Client, op string, loc Location) ([]func(*s3.Options), error) {
	out, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(loc.bucket)})
	region := ""
	switch {
	case err == nil:
		region = aws.ToString(out.BucketRegion)
	case httpStatus(err) == http.StatusNotFound:
		return nil, pathError(op, loc, newS3Error(err, "NoSuchBucket"))
	case httpStatus(err) == 0:
		// No answer at all: the operation would fail the same way.
		if ctx.Err() != nil {
			return nil, pathError(op, loc, ctx.Err())
		}
		return nil, pathError(op, loc, err)
	default:
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.Response != nil {
			region = re.Response.Header.Get(bucketRegionHeader)
		}
	}
	if region == "" || region == c.Options().Region {
		return nil, nil
	}
	return []func(*s3.Options){func(o *s3.Options) { o.Region = region }}, nil
}

// checksumAlgorithm returns the checksum an upload declares and sends with
// each part, as the SDK's transfer manager chooses it: CRC32, unless the
// configuration asks for checksums only where S3 requires them
// (request_checksum_calculation = when_required, for S3-compatible servers
// that reject them), in which case none.
func checksumAlgorithm(c *s3.Client) types.ChecksumAlgorithm {
	if c.Options().RequestChecksumCalculation == aws.RequestChecksumCalculationWhenRequired {
		return ""
	}
	return types.ChecksumAlgorithmCrc32
}
