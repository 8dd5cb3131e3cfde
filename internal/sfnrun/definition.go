package sfnrun

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/lambdafan/lambdafan"
)

// ChildType is the workflow type of the Map's child executions.
type ChildType string

// The child workflow types.
const (
	// Standard children are billed per state transition and may run for
	// up to a year: any Lambda timeout fits.
	Standard ChildType = "STANDARD"
	// Express children are billed per request and duration, and are cut
	// off after ExpressMaxDuration: only for functions that surely end
	// well before that.
	Express ChildType = "EXPRESS"
)

// Limits of Step Functions that shape the definition (Step Functions
// service quotas, docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
const (
	// MaxConcurrency is the hard quota of parallel child executions of
	// one Map Run.
	MaxConcurrency = 10000
	// ExpressMaxDuration is the longest an Express execution runs before
	// it fails with States.Timeout.
	ExpressMaxDuration = 5 * time.Minute
	// MaxPayloadBytes is the largest input or output of a task, state or
	// execution: 256 KiB as a UTF-8 string. An item, and the output of
	// its child execution, must fit.
	MaxPayloadBytes = 256 * 1024
)

// Names of the states of the generated definition. A child's error output
// and Step Functions' consoles show them.
const (
	MapStateName           = "Fanout"
	RouteStateName         = "HasClientContext"
	InvokeStateName        = "Invoke"
	InvokeContextStateName = "InvokeWithClientContext"
	CaughtStateName        = "Caught"
)

// ClientContextUse says which items carry a client context, which decides
// whether the children need a Choice state (one more state transition per
// item) to pass it only where there is one.
type ClientContextUse int

// The client context uses.
const (
	// NoClientContext: no item has one; one Task invokes every item.
	NoClientContext ClientContextUse = iota
	// SomeClientContext: some items have one; a Choice sends each item to
	// a Task that passes it or one that does not.
	SomeClientContext
	// AllClientContext: every item has one; one Task passes it.
	AllClientContext
)

// DefaultTaskTimeout bounds one lambda:invoke attempt when Spec.TaskTimeout
// is 0: Lambda's 15-minute maximum function timeout plus a margin, as
// lambdafan.DefaultAttemptTimeout.
const DefaultTaskTimeout = lambdafan.DefaultAttemptTimeout

// Spec describes the state machine to generate. The zero value of each
// field but Bucket and ResultsPrefix selects the documented default.
type Spec struct {
	// Bucket is the work directory's S3 bucket: the Map reads its items
	// from it (the key comes with each execution's input, see RunInput)
	// and writes its results to it. Required.
	Bucket string
	// ResultsPrefix is the key prefix under which the ResultWriter writes
	// each Map Run's results, in a folder named after the Map Run.
	// Required.
	ResultsPrefix string
	// MaxConcurrency is the most child executions running at once, 1 to
	// MaxConcurrency. 0 means lambdafan.DefaultConcurrency.
	MaxConcurrency int
	// ChildType is the children's workflow type. "" means Standard.
	ChildType ChildType
	// TaskTimeout bounds one lambda:invoke attempt (the Task's
	// TimeoutSeconds, rounded up to a second). 0 means DefaultTaskTimeout.
	// Step Functions stops waiting after it; the function may still run,
	// so it must exceed the functions' own timeouts.
	TaskTimeout time.Duration
	// MaxAttempts is the number of attempts per item, the first included;
	// 1 means no retries. 0 means lambdafan.DefaultMaxAttempts.
	MaxAttempts int
	// MaxBackoff caps one wait before a retry (MaxDelaySeconds, rounded up
	// to a second). 0 means lambdafan.DefaultMaxBackoff.
	MaxBackoff time.Duration
	// ClientContext says which items carry a client context.
	ClientContext ClientContextUse
}

// The Retry fields that lambdafan's own policy cannot be copied into:
// Step Functions waits whole seconds. lambdafan waits up to 100 ms, then
// doubles; here the first retry waits up to a second, then doubles, with
// full jitter as lambdafan draws its waits.
const (
	retryIntervalSeconds = 1
	retryBackoffRate     = 2.0
	retryJitter          = "FULL"
)

// RetryErrors returns the errors the generated Task retries: each of
// [lambdafan.NotExecutedErrorTypes] as Step Functions names an error of
// the Lambda API ("Lambda.TooManyRequestsException"). Nothing else is
// retried: not Lambda.ServiceException, Lambda.SdkClientException nor
// States.Timeout, after which the function may have run, and not function
// errors, after which it did.
func RetryErrors() []string {
	types := lambdafan.NotExecutedErrorTypes()
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = "Lambda." + t
	}
	return names
}

// withDefaults returns s with its zero fields set to their defaults, or
// an error when a field is out of range.
func (s Spec) withDefaults() (Spec, error) {
	if s.Bucket == "" || s.ResultsPrefix == "" {
		return s, errors.New("spec: the work directory's bucket and results prefix are required")
	}
	if s.MaxConcurrency == 0 {
		s.MaxConcurrency = lambdafan.DefaultConcurrency
	}
	if s.ChildType == "" {
		s.ChildType = Standard
	}
	if s.TaskTimeout == 0 {
		s.TaskTimeout = DefaultTaskTimeout
	}
	if s.MaxAttempts == 0 {
		s.MaxAttempts = lambdafan.DefaultMaxAttempts
	}
	if s.MaxBackoff == 0 {
		s.MaxBackoff = lambdafan.DefaultMaxBackoff
	}
	switch {
	case s.MaxConcurrency < 1 || s.MaxConcurrency > MaxConcurrency:
		return s, fmt.Errorf("spec: max concurrency %d is outside 1 to %d (Step Functions' limit of parallel child executions)", s.MaxConcurrency, MaxConcurrency)
	case s.ChildType != Standard && s.ChildType != Express:
		return s, fmt.Errorf("spec: child type %q is neither %s nor %s", s.ChildType, Standard, Express)
	case s.TaskTimeout < 0 || s.MaxAttempts < 1 || s.MaxBackoff < 0:
		return s, errors.New("spec: negative task timeout, attempts or backoff")
	case s.ClientContext < NoClientContext || s.ClientContext > AllClientContext:
		return s, fmt.Errorf("spec: unknown client context use %d", s.ClientContext)
	}
	return s, nil
}

// ceilSeconds rounds d up to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int64 {
	return max(1, int64((d+time.Second-1)/time.Second))
}

// Definition returns the state machine's definition in the Amazon States
// Language, indented. The same Spec always gives the same bytes.
//
// The Map reads the items from the JSON Lines object named by the
// execution input's ItemsKey (see RunInput) in Spec.Bucket; each child
// gets one item, Item's JSON, as its input. Its output is the item's key
// with either "result" (the lambda:invoke response under "Response", and
// the retries made under "Retries") or "error" ({"Error", "Cause"} of the
// error caught): see ChildOutput. A child therefore fails only when Step
// Functions itself fails it (a timeout of the whole child, an output
// over MaxPayloadBytes); ToleratedFailurePercentage 100 keeps even those
// from failing the Map Run, so that every other item still runs and
// every item is reported in the ResultWriter's files.
func (s Spec) Definition() ([]byte, error) {
	s, err := s.withDefaults()
	if err != nil {
		return nil, err
	}
	states := map[string]any{CaughtStateName: passState{Type: "Pass", OutputPath: "$.key", End: true}}
	startAt := InvokeStateName
	switch s.ClientContext {
	case NoClientContext:
		states[InvokeStateName] = s.invokeState(false)
	case AllClientContext:
		startAt = InvokeContextStateName
		states[InvokeContextStateName] = s.invokeState(true)
	case SomeClientContext:
		startAt = RouteStateName
		states[RouteStateName] = choiceState{
			Type:    "Choice",
			Choices: []choiceRule{{Variable: "$.invoke.ClientContext", IsPresent: true, Next: InvokeContextStateName}},
			Default: InvokeStateName,
		}
		states[InvokeStateName] = s.invokeState(false)
		states[InvokeContextStateName] = s.invokeState(true)
	}
	def := definition{
		Comment: "lambdafan invoke --via stepfunctions: one Lambda invocation per item. Generated by lambdafan; changes are overwritten.",
		StartAt: MapStateName,
		States: map[string]any{MapStateName: mapState{
			Type: "Map",
			ItemReader: itemReader{
				Resource:     "arn:aws:states:::s3:getObject",
				ReaderConfig: readerConfig{InputType: "JSONL"},
				Parameters:   map[string]string{"Bucket": s.Bucket, "Key.$": "$.ItemsKey"},
			},
			ItemProcessor: itemProcessor{
				ProcessorConfig: processorConfig{Mode: "DISTRIBUTED", ExecutionType: string(s.ChildType)},
				StartAt:         startAt,
				States:          states,
			},
			MaxConcurrency:             s.MaxConcurrency,
			ToleratedFailurePercentage: 100,
			ResultWriter: resultWriter{
				Resource:   "arn:aws:states:::s3:putObject",
				Parameters: map[string]string{"Bucket": s.Bucket, "Prefix": s.ResultsPrefix},
			},
			End: true,
		}},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(def); err != nil {
		return nil, fmt.Errorf("encode definition: %w", err)
	}
	return buf.Bytes(), nil
}

// invokeState is the Task that invokes an item's request, passing its
// client context when withContext.
func (s Spec) invokeState(withContext bool) taskState {
	params := map[string]string{
		"FunctionName.$":   "$.invoke.FunctionName",
		"Payload.$":        "$.invoke.Payload",
		"InvocationType.$": "$.invoke.InvocationType",
		"LogType.$":        "$.invoke.LogType",
	}
	if withContext {
		params["ClientContext.$"] = "$.invoke.ClientContext"
	}
	timeout := ceilSeconds(s.TaskTimeout)
	if s.ChildType == Express {
		// An Express child ends at five minutes whatever its tasks say.
		timeout = min(timeout, int64(ExpressMaxDuration/time.Second))
	}
	t := taskState{
		Type:           "Task",
		Resource:       "arn:aws:states:::lambda:invoke",
		Parameters:     params,
		TimeoutSeconds: timeout,
		// The whole response, and how many retries it took ($$.State is
		// the context object of this state).
		ResultSelector: map[string]string{"Response.$": "$", "Retries.$": "$$.State.RetryCount"},
		ResultPath:     "$.key.result",
		OutputPath:     "$.key",
		Catch:          []catcher{{ErrorEquals: []string{"States.ALL"}, ResultPath: "$.key.error", Next: CaughtStateName}},
		End:            true,
	}
	if s.MaxAttempts > 1 {
		t.Retry = []retrier{{
			ErrorEquals:     RetryErrors(),
			IntervalSeconds: retryIntervalSeconds,
			MaxAttempts:     s.MaxAttempts - 1,
			BackoffRate:     retryBackoffRate,
			MaxDelaySeconds: ceilSeconds(s.MaxBackoff),
			JitterStrategy:  retryJitter,
		}}
	}
	return t
}

// The shapes of the definition, with their fields in the order the
// Amazon States Language specification lists them.

type definition struct {
	Comment string         `json:"Comment"`
	StartAt string         `json:"StartAt"`
	States  map[string]any `json:"States"`
}

type mapState struct {
	Type                       string        `json:"Type"`
	ItemReader                 itemReader    `json:"ItemReader"`
	ItemProcessor              itemProcessor `json:"ItemProcessor"`
	MaxConcurrency             int           `json:"MaxConcurrency"`
	ToleratedFailurePercentage percent       `json:"ToleratedFailurePercentage"`
	ResultWriter               resultWriter  `json:"ResultWriter"`
	End                        bool          `json:"End"`
}

// percent is a percentage written with one decimal ("100.0"): the same
// JSON number as 100, in the form that every ASL parser takes (moto's
// grammar accepts only a decimal for ToleratedFailurePercentage).
type percent float64

func (p percent) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(p), 'f', 1, 64), nil
}

type itemReader struct {
	Resource     string            `json:"Resource"`
	ReaderConfig readerConfig      `json:"ReaderConfig"`
	Parameters   map[string]string `json:"Parameters"`
}

type readerConfig struct {
	InputType string `json:"InputType"`
}

type itemProcessor struct {
	ProcessorConfig processorConfig `json:"ProcessorConfig"`
	StartAt         string          `json:"StartAt"`
	States          map[string]any  `json:"States"`
}

type processorConfig struct {
	Mode          string `json:"Mode"`
	ExecutionType string `json:"ExecutionType"`
}

type resultWriter struct {
	Resource   string            `json:"Resource"`
	Parameters map[string]string `json:"Parameters"`
}

type taskState struct {
	Type           string            `json:"Type"`
	Resource       string            `json:"Resource"`
	Parameters     map[string]string `json:"Parameters"`
	TimeoutSeconds int64             `json:"TimeoutSeconds"`
	ResultSelector map[string]string `json:"ResultSelector"`
	ResultPath     string            `json:"ResultPath"`
	OutputPath     string            `json:"OutputPath"`
	Retry          []retrier         `json:"Retry,omitempty"`
	Catch          []catcher         `json:"Catch"`
	End            bool              `json:"End"`
}

type retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int      `json:"IntervalSeconds"`
	MaxAttempts     int      `json:"MaxAttempts"`
	BackoffRate     float64  `json:"BackoffRate"`
	MaxDelaySeconds int64    `json:"MaxDelaySeconds"`
	JitterStrategy  string   `json:"JitterStrategy"`
}

type catcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
	ResultPath  string   `json:"ResultPath"`
	Next        string   `json:"Next"`
}

type choiceState struct {
	Type    string       `json:"Type"`
	Choices []choiceRule `json:"Choices"`
	Default string       `json:"Default"`
}

type choiceRule struct {
	Variable  string `json:"Variable"`
	IsPresent bool   `json:"IsPresent"`
	Next      string `json:"Next"`
}

type passState struct {
	Type       string `json:"Type"`
	OutputPath string `json:"OutputPath"`
	End        bool   `json:"End"`
}
