package cli

import (
	"flag"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
)

// decodeFlags are the flags that change how input lines become requests.
// invoke and validate share them, so that validate reads an input exactly
// as invoke would.
type decodeFlags struct {
	function       string
	invocationType string
	logType        string
	qualifier      string
	responseStream bool
}

// add registers the flags on fs; verb says what the command does with
// the requests ("invoke", "validate").
func (d *decodeFlags) add(fs *flag.FlagSet, verb string) {
	fs.StringVar(&d.function, "function", "", verb+" `NAME` with each input line as its payload")
	fs.StringVar(&d.invocationType, "invocation-type", "", "default invocation type: RequestResponse, Event or DryRun")
	fs.StringVar(&d.logType, "log-type", "", "default log type: None or Tail (return the last 4 KB of the log)")
	fs.StringVar(&d.qualifier, "qualifier", "", "default version or alias")
	fs.BoolVar(&d.responseStream, "response-stream", false, "invoke with InvokeWithResponseStream unless a request says \"response_stream\": false (functions that stream, up to 200 MB)")
}

// validate checks the flags' values.
func (d *decodeFlags) validate() error {
	switch {
	case !lambdafan.InvocationType(d.invocationType).Valid():
		return usagef("--invocation-type %q: use RequestResponse, Event or DryRun", d.invocationType)
	case !lambdafan.LogType(d.logType).Valid():
		return usagef("--log-type %q: use None or Tail", d.logType)
	case d.responseStream && d.invocationType == string(lambdafan.Event):
		return usagef("--response-stream and --invocation-type Event are exclusive: an Event invocation answers nothing to stream")
	}
	if d.function != "" {
		if _, err := lambdaapi.Parse(d.function); err != nil {
			return usagef("--function %q: %v", d.function, err)
		}
	}
	return nil
}

// decodeOptions returns the decoder's options the flags set.
func (d *decodeFlags) decodeOptions() jsonl.Options {
	return jsonl.Options{
		Function:       d.function,
		InvocationType: lambdafan.InvocationType(d.invocationType),
		LogType:        lambdafan.LogType(d.logType),
		Qualifier:      d.qualifier,
		ResponseStream: d.responseStream,
	}
}
