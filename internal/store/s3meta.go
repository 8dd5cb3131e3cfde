package store

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// statS3 sends HeadObject.
func statS3(ctx context.Context, c *s3.Client, loc Location) (Info, error) {
	opts, err := bucketOptions(ctx, c, "stat", loc)
	if err != nil {
		return Info{}, err
	}
	out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(loc.bucket), Key: aws.String(loc.key)}, opts...)
	if err != nil {
		return Info{}, pathError("stat", loc, newS3Error(err, "NoSuchKey"))
	}
	return Info{Location: loc, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// listS3 lists the objects under a prefix with ListObjectsV2, page by page.
func listS3(ctx context.Context, c *s3.Client, prefix Location) ([]Info, error) {
	if !prefix.IsPrefix() {
		return nil, pathError("list", prefix, errNotPrefix)
	}
	opts, err := bucketOptions(ctx, c, "list", prefix)
	if err != nil {
		return nil, err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(prefix.bucket)}
	if prefix.key != "" {
		in.Prefix = aws.String(prefix.key)
	}
	var infos []Info
	pages := s3.NewListObjectsV2Paginator(c, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx, opts...)
		if err != nil {
			return nil, pathError("list", prefix, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if strings.HasSuffix(key, "/") {
				continue // a "folder" marker
			}
			infos = append(infos, Info{Location: prefix.s3Child(key), Size: aws.ToInt64(obj.Size), ModTime: aws.ToTime(obj.LastModified)})
		}
	}
	return infos, nil
}

// removeS3 sends DeleteObject (which succeeds for a missing key).
func removeS3(ctx context.Context, c *s3.Client, loc Location) error {
	opts, err := bucketOptions(ctx, c, "remove", loc)
	if err != nil {
		return err
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(loc.bucket), Key: aws.String(loc.key)}, opts...); err != nil {
		return pathError("remove", loc, newS3Error(err))
	}
	return nil
}
