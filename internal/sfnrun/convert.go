package sfnrun

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// ChildOutput is the output of a child execution of the generated
// definition: the item's key and either the lambda:invoke Task's result
// or the error the child caught.
type ChildOutput struct {
	ItemKey
	Result *TaskResult  `json:"result,omitempty"`
	Error  *CaughtError `json:"error,omitempty"`
}

// TaskResult is what the Task's ResultSelector keeps: the lambda:invoke
// response and the number of retries before it.
type TaskResult struct {
	Response InvokeResponse `json:"Response"`
	Retries  int            `json:"Retries"`
}

// InvokeResponse is the result of the optimized lambda:invoke integration:
// the Invoke API's response fields, the payload as JSON, and the SDK's
// metadata (with the request id).
type InvokeResponse struct {
	StatusCode      int             `json:"StatusCode"`
	Payload         json.RawMessage `json:"Payload"`
	ExecutedVersion string          `json:"ExecutedVersion"`
	LogResult       string          `json:"LogResult"`
	FunctionError   string          `json:"FunctionError"`
	SdkHTTPMetadata struct {
		HTTPStatusCode int               `json:"HttpStatusCode"`
		HTTPHeaders    map[string]string `json:"HttpHeaders"`
	} `json:"SdkHttpMetadata"`
	SdkResponseMetadata struct {
		RequestID string `json:"RequestId"`
	} `json:"SdkResponseMetadata"`
}

// CaughtError is an error caught in a child: Step Functions' error name
// and its cause.
type CaughtError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// Converter turns result-file records into lambdafan results.
type Converter struct {
	// Region is the region the items were invoked in.
	Region string
	// MaxAttempts is the attempts per item the definition allowed
	// (Spec.MaxAttempts): an item whose retried error was caught was
	// attempted this many times.
	MaxAttempts int
}

// errUnidentified reports a record whose item cannot be told: neither its
// output nor its input is included.
var errUnidentified = errors.New("record names no item: neither its output nor its input is included")

// Convert returns the key of rec's item and its result, for a record read
// from a file of the given status (StatusSucceeded, StatusFailed or
// StatusPending; the record's own Status is preferred when set). The
// result's Err follows lambdafan's conventions, so that the result's
// outcome is what lambdafan would report for the same answer:
//
//   - a response: no error (ok), or a *lambdafan.FunctionError;
//   - an error of the Lambda API ("Lambda.ResourceNotFoundException"): a
//     *lambdafan.InvokeError with the HTTP status and request id from
//     the cause; Lambda.TooManyRequestsException is a throttle (429);
//   - an error the function raised (any other name but States.* and
//     Lambda.Unknown, which is one with no type): a
//     *lambdafan.FunctionError, the cause as its payload;
//   - States.Timeout, Lambda.SdkClientException and the like, after which
//     the function may have run, a child that failed, timed out or was
//     aborted, and a succeeded child whose output is not included: a
//     *lambdafan.TransportError with Sent set (unknown);
//   - another States.* error: an *ExecutionError (error);
//   - a child never started (PENDING): lambdafan.ErrStopped (not_sent).
func (c Converter) Convert(rec *Record, fileStatus string) (ItemKey, lambdafan.Result, error) {
	var out ChildOutput
	haveOutput := rec.Output != "" && json.Unmarshal([]byte(rec.Output), &out) == nil && out.Line > 0
	key := out.ItemKey
	if !haveOutput {
		var it Item
		if rec.Input == "" || json.Unmarshal([]byte(rec.Input), &it) != nil || it.Key.Line <= 0 {
			return ItemKey{}, lambdafan.Result{}, errUnidentified
		}
		key = it.Key
	}
	r := lambdafan.Result{
		Index:          -1,
		ID:             idString(key.ID),
		FunctionName:   key.FunctionName,
		Region:         c.Region,
		InvocationType: lambdafan.InvocationType(key.InvocationType),
		Latency:        latency(rec.StartDate, rec.StopDate),
	}
	status := cmp.Or(rec.Status, fileStatus)
	switch {
	case status == StatusPending:
		r.Err = fmt.Errorf("%w: %w", lambdafan.ErrStopped, ErrNotStarted)
	case status != StatusSucceeded:
		r.Attempts = 1
		r.Err = &lambdafan.TransportError{Sent: true, Err: &ExecutionError{Status: status, Name: rec.Error, Cause: rec.Cause}}
	case out.Result != nil:
		c.fromResponse(&r, out.Result)
	case out.Error != nil:
		c.fromError(&r, out.Error.Error, out.Error.Cause)
	default:
		r.Attempts = 1
		r.Err = &lambdafan.TransportError{Sent: true, Err: errors.New("the child execution succeeded, but its output is not in the map run's results")}
	}
	return key, r, nil
}

// fromResponse fills r from a lambda:invoke response.
func (c Converter) fromResponse(r *lambdafan.Result, tr *TaskResult) {
	resp := &tr.Response
	r.Attempts = tr.Retries + 1
	r.StatusCode = cmp.Or(resp.StatusCode, resp.SdkHTTPMetadata.HTTPStatusCode)
	r.ExecutedVersion = resp.ExecutedVersion
	r.RequestID = cmp.Or(resp.SdkResponseMetadata.RequestID, header(resp.SdkHTTPMetadata.HTTPHeaders, lambdaapi.HeaderRequestID))
	if p := bytes.TrimSpace(resp.Payload); len(p) > 0 && string(p) != "null" && string(p) != `""` {
		r.Payload = p
	}
	if resp.LogResult != "" {
		if tail, err := base64.StdEncoding.DecodeString(resp.LogResult); err == nil {
			r.LogTail = string(tail)
		}
	}
	if resp.FunctionError != "" {
		// The optimized integration raises function errors instead, but a
		// response that says so is one.
		r.FunctionError = resp.FunctionError
		r.Err = functionError(resp.FunctionError, "", r.Payload)
	}
}

// lambdaCause matches the details Step Functions appends to the cause of
// an error of the Lambda API: "… (Service: AWSLambda; Status Code: 404;
// Error Code: ResourceNotFoundException; Request ID: …; Proxy: null)".
var lambdaCause = regexp.MustCompile(`^(?s)(.*?)\s*\(Service: [^;]*; Status Code: (\d+); Error Code: ([^;]*); Request ID: ([^;)]*)[^)]*\)\s*$`)

// mayHaveRun reports the errors after which the function may have run
// although no answer says so: the Lambda.* errors of the SDK inside Step
// Functions rather than of the Invoke API (the request may or may not
// have reached Lambda), and the States.* errors of Step Functions
// stopping to wait for the function or refusing its answer as too large.
func mayHaveRun(name string) bool {
	switch name {
	case "Lambda.SdkClientException", "Lambda.ClientExecutionTimeoutException",
		"States.Timeout", "States.HeartbeatTimeout", "States.DataLimitExceeded":
		return true
	}
	return false
}

// fromError fills r from an error caught in the child.
func (c Converter) fromError(r *lambdafan.Result, name, cause string) {
	r.Attempts = 1
	if slices.Contains(RetryErrors(), name) {
		r.Attempts = max(1, c.MaxAttempts) // retried until attempts ran out
	}
	switch {
	case mayHaveRun(name):
		r.Err = &lambdafan.TransportError{Sent: true, Err: &ExecutionError{Name: name, Cause: cause}}
	case strings.HasPrefix(name, "States."):
		r.Err = &ExecutionError{Name: name, Cause: cause}
	case name == "Lambda.Unknown":
		// A function error without an error type: "The cause could not be
		// determined because Lambda did not return an error type.
		// Returned payload: {…}".
		payload := cause
		if _, after, ok := strings.Cut(cause, "Returned payload: "); ok {
			payload = after
		}
		c.functionFailed(r, "", payload)
	case strings.HasPrefix(name, "Lambda."):
		r.Err = invokeError(strings.TrimPrefix(name, "Lambda."), cause)
		var ie *lambdafan.InvokeError
		if errors.As(r.Err, &ie) {
			r.StatusCode, r.RequestID = ie.StatusCode, ie.RequestID
		}
	default:
		c.functionFailed(r, name, cause)
	}
}

// functionFailed fills r for a function that ran and raised an error of
// the given type, with the error document doc.
func (c Converter) functionFailed(r *lambdafan.Result, errType, doc string) {
	// Step Functions does not pass X-Amz-Function-Error on; Lambda has
	// answered Unhandled for every runtime's errors since Node.js's
	// callback errors ("Handled") went.
	r.StatusCode = 200
	r.FunctionError = lambdaapi.FunctionErrorUnhandled
	if p := []byte(strings.TrimSpace(doc)); json.Valid(p) {
		r.Payload = p
	} else if doc != "" {
		r.Payload = []byte(doc)
	}
	r.Err = functionError(r.FunctionError, errType, r.Payload)
}

// functionError builds the FunctionError of a function that failed with
// the given kind, error type and error document.
func functionError(kind, errType string, doc []byte) *lambdafan.FunctionError {
	var d lambdaapi.FunctionErrorDocument
	json.Unmarshal(doc, &d) // a document that is not one leaves them empty
	return &lambdafan.FunctionError{Kind: kind, ErrorType: cmp.Or(errType, d.ErrorType), ErrorMessage: d.ErrorMessage}
}

// invokeError builds the InvokeError of an answer of the Invoke API of
// type typ, from the cause Step Functions gave.
func invokeError(typ, cause string) *lambdafan.InvokeError {
	ie := &lambdafan.InvokeError{Type: typ, Message: cause}
	if m := lambdaCause.FindStringSubmatch(cause); m != nil {
		ie.Message = m[1]
		ie.StatusCode, _ = strconv.Atoi(m[2])
		ie.Type = cmp.Or(strings.TrimSpace(m[3]), typ)
		ie.RequestID = strings.TrimSpace(m[4])
	}
	if ie.StatusCode == 0 && ie.Type == "TooManyRequestsException" {
		ie.StatusCode = 429 // the only status Lambda throttles with
	}
	return ie
}

// idString returns the id of a key as lambdafan.Result.ID holds it: a
// string's content, or a number as written.
func idString(id json.RawMessage) string {
	if len(id) == 0 || string(id) == "null" {
		return ""
	}
	var s string
	if id[0] == '"' && json.Unmarshal(id, &s) == nil {
		return s
	}
	return string(id)
}

// NumericID reports whether the key's id was a JSON number.
func (k ItemKey) NumericID() bool { return len(k.ID) > 0 && k.ID[0] != '"' && string(k.ID) != "null" }

// latency returns the time between a child execution's start and stop
// dates, or 0 when either is missing.
func latency(start, stop string) time.Duration {
	t0, err0 := time.Parse(time.RFC3339Nano, start)
	t1, err1 := time.Parse(time.RFC3339Nano, stop)
	if err0 != nil || err1 != nil || t1.Before(t0) {
		return 0
	}
	return t1.Sub(t0)
}

// header returns the value of the HTTP header name in h, whatever the
// case of its key.
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
