package store

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/lambdafan/lambdafan/internal/redact"
)

// ErrPrefix is the error for opening, creating or inspecting an S3
// prefix (a key that is empty or ends in "/"), which names no object.
var ErrPrefix = errors.New("is a prefix, not an object")

// ErrClosed is the error for writing to an [Object] after Close or Abort.
var ErrClosed = errors.New("object already closed")

// s3Error is an S3 failure said the way people read it: the service's
// error code and message (NoSuchKey, AccessDenied), the HTTP status and
// the request ID, instead of the SDK's chain of operation, attempt and
// host ID. It wraps the SDK's error, so [errors.As] still finds
// smithy.APIError and the typed S3 errors, and it is [fs.ErrNotExist]
// when the bucket or key does not exist.
type s3Error struct {
	err      error
	msg      string
	notFound bool
}

func (e *s3Error) Error() string { return e.msg }

func (e *s3Error) Unwrap() error { return e.err }

// Is makes a missing bucket or key match fs.ErrNotExist, as a missing
// local file does.
func (e *s3Error) Is(target error) bool { return target == fs.ErrNotExist && e.notFound }

// pathError wraps err, from operation op on loc, as os does: "op loc: why".
// Errors of the SDK are condensed by newS3Error; context errors and errors
// already wrapped pass through.
func pathError(op string, loc Location, err error) error {
	var se *s3Error
	if !errors.As(err, &se) && loc.s3 {
		err = newS3Error(err)
	}
	return &fs.PathError{Op: op, Path: loc.String(), Err: err}
}

// newS3Error condenses an error of the SDK. A HEAD request's 404 carries no
// body, so its code is the SDK's generic "NotFound"; noSuch names what is
// missing then ("NoSuchKey", "NoSuchBucket").
func newS3Error(err error, noSuch ...string) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return &s3Error{err: err, msg: redact.Text(transportMessage(err))}
	}
	code, msg := api.ErrorCode(), api.ErrorMessage()
	status, requestID := 0, ""
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status, requestID = re.HTTPStatusCode(), re.ServiceRequestID()
	}
	notFound := status == http.StatusNotFound || code == "NoSuchKey" || code == "NoSuchBucket" || code == "NotFound"
	if notFound && (code == "NotFound" || code == "") && len(noSuch) > 0 {
		code, msg = noSuch[0], ""
	}
	if msg == "" {
		msg = http.StatusText(status)
		switch code {
		case "NoSuchKey":
			msg = "the key does not exist"
		case "NoSuchBucket":
			msg = "the bucket does not exist"
		case "AccessDenied", "Forbidden":
			msg = "access denied"
		}
	}
	text := code + ": " + msg
	if code == "" {
		text = msg
	}
	if status != 0 {
		text += fmt.Sprintf(" (HTTP %d", status)
		if requestID != "" {
			text += ", request ID " + requestID
		}
		text += ")"
	}
	return &s3Error{err: err, msg: redact.Text(text), notFound: notFound}
}

// transportMessage says why a request got no answer: the operation and the
// network error ("HeadBucket: dial tcp 127.0.0.1:9: connection refused"),
// without the SDK's empty status, request ID and host ID.
func transportMessage(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err.Error()
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return oe.Operation() + ": " + ue.Err.Error()
	}
	return ue.Err.Error()
}

// httpStatus returns the HTTP status of an SDK error, or 0 when the
// request got no response.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// errNotPrefix is the error for listing an S3 location that is not a
// prefix.
var errNotPrefix = errors.New("not a prefix: end it with / to list the objects under it")

// isCode reports whether err is an S3 error with the given code.
func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}
