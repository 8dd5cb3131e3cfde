package sfnrun_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/sfnrun"
)

// asl is the generated definition, decoded loosely: the tests read it as
// Step Functions would, not through the generator's own types.
type asl struct {
	StartAt string                     `json:"StartAt"`
	States  map[string]json.RawMessage `json:"States"`
}

type aslState struct {
	Type                       string            `json:"Type"`
	Resource                   string            `json:"Resource"`
	Parameters                 map[string]any    `json:"Parameters"`
	TimeoutSeconds             int64             `json:"TimeoutSeconds"`
	ResultSelector             map[string]string `json:"ResultSelector"`
	ResultPath                 string            `json:"ResultPath"`
	OutputPath                 string            `json:"OutputPath"`
	Next                       string            `json:"Next"`
	End                        bool              `json:"End"`
	Default                    string            `json:"Default"`
	Choices                    []map[string]any  `json:"Choices"`
	MaxConcurrency             int               `json:"MaxConcurrency"`
	ToleratedFailurePercentage *float64          `json:"ToleratedFailurePercentage"`
	ItemReader                 struct {
		Resource     string            `json:"Resource"`
		ReaderConfig map[string]string `json:"ReaderConfig"`
		Parameters   map[string]string `json:"Parameters"`
	} `json:"ItemReader"`
	ResultWriter struct {
		Resource   string            `json:"Resource"`
		Parameters map[string]string `json:"Parameters"`
	} `json:"ResultWriter"`
	ItemProcessor struct {
		ProcessorConfig map[string]string `json:"ProcessorConfig"`
		asl
	} `json:"ItemProcessor"`
	Retry []struct {
		ErrorEquals     []string `json:"ErrorEquals"`
		IntervalSeconds int      `json:"IntervalSeconds"`
		MaxAttempts     *int     `json:"MaxAttempts"`
		BackoffRate     float64  `json:"BackoffRate"`
		MaxDelaySeconds int64    `json:"MaxDelaySeconds"`
		JitterStrategy  string   `json:"JitterStrategy"`
	} `json:"Retry"`
	Catch []struct {
		ErrorEquals []string `json:"ErrorEquals"`
		ResultPath  string   `json:"ResultPath"`
		Next        string   `json:"Next"`
	} `json:"Catch"`
}

func state(t *testing.T, m asl, name string) aslState {
	t.Helper()
	raw, ok := m.States[name]
	if !ok {
		t.Fatalf("no state %q", name)
	}
	var s aslState
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// generate returns the definition of spec and its Map state.
func generate(t *testing.T, spec sfnrun.Spec) (aslState, []byte) {
	t.Helper()
	def, err := spec.Definition()
	if err != nil {
		t.Fatal(err)
	}
	var m asl
	if err := json.Unmarshal(def, &m); err != nil {
		t.Fatalf("definition is not JSON: %v\n%s", err, def)
	}
	if len(m.States) != 1 {
		t.Fatalf("top-level states %v, want the Map alone", m.States)
	}
	mp := state(t, m, m.StartAt)
	if mp.Type != "Map" || !mp.End {
		t.Fatalf("start state %s is a %s (end %v), want the Map", m.StartAt, mp.Type, mp.End)
	}
	return mp, def
}

var baseSpec = sfnrun.Spec{Bucket: "work-bucket", ResultsPrefix: "runs/results"}

func TestSpec_DistributedMapOverS3(t *testing.T) {
	spec := baseSpec
	spec.MaxConcurrency = 500
	mp, _ := generate(t, spec)
	if mp.ItemProcessor.ProcessorConfig["Mode"] != "DISTRIBUTED" {
		t.Errorf("processor config %v, want DISTRIBUTED", mp.ItemProcessor.ProcessorConfig)
	}
	if mp.MaxConcurrency != 500 {
		t.Errorf("MaxConcurrency = %d, want -c's 500", mp.MaxConcurrency)
	}
	r := mp.ItemReader
	if r.Resource != "arn:aws:states:::s3:getObject" || r.ReaderConfig["InputType"] != "JSONL" ||
		r.Parameters["Bucket"] != "work-bucket" || r.Parameters["Key.$"] != "$.ItemsKey" {
		t.Errorf("ItemReader = %+v, want JSONL from the work bucket at the execution input's ItemsKey", r)
	}
	w := mp.ResultWriter
	if w.Resource != "arn:aws:states:::s3:putObject" || w.Parameters["Bucket"] != "work-bucket" || w.Parameters["Prefix"] != "runs/results" {
		t.Errorf("ResultWriter = %+v, want the work bucket's results prefix", w)
	}
}

func TestSpec_FailuresAreResults(t *testing.T) {
	for _, use := range []sfnrun.ClientContextUse{sfnrun.NoClientContext, sfnrun.SomeClientContext, sfnrun.AllClientContext} {
		spec := baseSpec
		spec.ClientContext = use
		mp, _ := generate(t, spec)
		// Nothing a child does fails the Map Run.
		if mp.ToleratedFailurePercentage == nil || *mp.ToleratedFailurePercentage != 100 {
			t.Errorf("ToleratedFailurePercentage = %v, want 100", mp.ToleratedFailurePercentage)
		}
		child := mp.ItemProcessor.asl
		tasks := 0
		for name := range child.States {
			s := state(t, child, name)
			switch s.Type {
			case "Task":
				tasks++
				// Every error of the invocation becomes the child's output.
				if len(s.Catch) != 1 || !slices.Equal(s.Catch[0].ErrorEquals, []string{"States.ALL"}) {
					t.Errorf("%s catches %+v, want States.ALL", name, s.Catch)
					continue
				}
				caught := state(t, child, s.Catch[0].Next)
				if caught.Type != "Pass" || !caught.End || caught.OutputPath != "$.key" || s.Catch[0].ResultPath != "$.key.error" {
					t.Errorf("%s's errors go to %+v with result path %s, want a Pass ending with the key and the error", name, caught, s.Catch[0].ResultPath)
				}
				if !s.End || s.OutputPath != "$.key" || s.ResultPath != "$.key.result" {
					t.Errorf("%s: end %v, output %s, result %s; want the key and the result as the child's output", name, s.End, s.OutputPath, s.ResultPath)
				}
			case "Fail", "Succeed", "Parallel", "Map", "Wait":
				t.Errorf("child state %s is a %s", name, s.Type)
			}
		}
		want := 1
		if use == sfnrun.SomeClientContext {
			want = 2
		}
		if tasks != want {
			t.Errorf("client context use %d: %d tasks, want %d", use, tasks, want)
		}
	}
}

func TestSpec_RetriesOnlyWhatCannotHaveRun(t *testing.T) {
	spec := baseSpec
	spec.MaxAttempts = 7
	spec.MaxBackoff = 1500 * time.Millisecond
	spec.ClientContext = sfnrun.SomeClientContext
	mp, _ := generate(t, spec)
	var allowed []string
	for _, typ := range lambdafan.NotExecutedErrorTypes() {
		allowed = append(allowed, "Lambda."+typ)
	}
	mayHaveRun := []string{"States.ALL", "States.TaskFailed", "States.Timeout", "States.Runtime", "Lambda.ServiceException",
		"Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.ClientExecutionTimeoutException", "Lambda.Unknown"}
	child := mp.ItemProcessor.asl
	for name := range child.States {
		s := state(t, child, name)
		if s.Type != "Task" {
			continue
		}
		if len(s.Retry) != 1 {
			t.Fatalf("%s has %d retriers, want 1", name, len(s.Retry))
		}
		r := s.Retry[0]
		for _, e := range r.ErrorEquals {
			if !slices.Contains(allowed, e) {
				t.Errorf("%s retries %s, which lambdafan does not retry", name, e)
			}
			if slices.Contains(mayHaveRun, e) {
				t.Errorf("%s retries %s, after which the function may have run", name, e)
			}
		}
		// The whole list: one source, nothing dropped.
		if !slices.Equal(r.ErrorEquals, allowed) {
			t.Errorf("%s retries %v, want exactly lambdafan's list %v", name, r.ErrorEquals, allowed)
		}
		if r.MaxAttempts == nil || *r.MaxAttempts != 6 {
			t.Errorf("%s retries %v times, want 6 (7 attempts)", name, r.MaxAttempts)
		}
		if r.IntervalSeconds < 1 || r.BackoffRate <= 1 || r.MaxDelaySeconds != 2 || r.JitterStrategy != "FULL" {
			t.Errorf("%s backoff %+v, want exponential with full jitter capped at 2 s", name, r)
		}
	}
	t.Run("one attempt", func(t *testing.T) {
		spec.MaxAttempts = 1
		mp, _ := generate(t, spec)
		if s := state(t, mp.ItemProcessor.asl, sfnrun.InvokeStateName); len(s.Retry) != 0 {
			t.Errorf("--max-attempts 1 still retries: %+v", s.Retry)
		}
	})
}

func TestSpec_InvokePassesTheRequest(t *testing.T) {
	spec := baseSpec
	spec.ClientContext = sfnrun.SomeClientContext
	spec.TaskTimeout = 901*time.Second + time.Millisecond
	mp, _ := generate(t, spec)
	child := mp.ItemProcessor.asl
	route := state(t, child, child.StartAt)
	if route.Type != "Choice" || route.Default != sfnrun.InvokeStateName || len(route.Choices) != 1 ||
		route.Choices[0]["Variable"] != "$.invoke.ClientContext" || route.Choices[0]["IsPresent"] != true || route.Choices[0]["Next"] != sfnrun.InvokeContextStateName {
		t.Errorf("start state %+v, want a Choice on the item's client context", route)
	}
	for name, withContext := range map[string]bool{sfnrun.InvokeStateName: false, sfnrun.InvokeContextStateName: true} {
		s := state(t, child, name)
		want := map[string]any{
			"FunctionName.$":   "$.invoke.FunctionName",
			"Payload.$":        "$.invoke.Payload",
			"InvocationType.$": "$.invoke.InvocationType",
			"LogType.$":        "$.invoke.LogType",
		}
		if withContext {
			want["ClientContext.$"] = "$.invoke.ClientContext"
		}
		if s.Resource != "arn:aws:states:::lambda:invoke" || len(s.Parameters) != len(want) {
			t.Errorf("%s: resource %s, parameters %v; want lambda:invoke with %v", name, s.Resource, s.Parameters, want)
		}
		for k, v := range want {
			if s.Parameters[k] != v {
				t.Errorf("%s: parameter %s = %v, want %v", name, k, s.Parameters[k], v)
			}
		}
		if s.TimeoutSeconds != 902 {
			t.Errorf("%s: TimeoutSeconds %d, want 902 (the task timeout rounded up)", name, s.TimeoutSeconds)
		}
		if s.ResultSelector["Response.$"] != "$" || s.ResultSelector["Retries.$"] != "$$.State.RetryCount" {
			t.Errorf("%s: ResultSelector %v", name, s.ResultSelector)
		}
	}
}

func TestSpec_ChildType(t *testing.T) {
	for _, tt := range []struct {
		child   sfnrun.ChildType
		want    string
		timeout int64
	}{{"", "STANDARD", 930}, {sfnrun.Standard, "STANDARD", 930}, {sfnrun.Express, "EXPRESS", 300}} {
		spec := baseSpec
		spec.ChildType = tt.child
		mp, _ := generate(t, spec)
		if got := mp.ItemProcessor.ProcessorConfig["ExecutionType"]; got != tt.want {
			t.Errorf("child type %q: ExecutionType %s, want %s", tt.child, got, tt.want)
		}
		if s := state(t, mp.ItemProcessor.asl, sfnrun.InvokeStateName); s.TimeoutSeconds != tt.timeout {
			t.Errorf("child type %q: TimeoutSeconds %d, want %d", tt.child, s.TimeoutSeconds, tt.timeout)
		}
	}
}

func TestSpec_Invalid(t *testing.T) {
	for name, spec := range map[string]sfnrun.Spec{
		"no bucket":            {ResultsPrefix: "p"},
		"no prefix":            {Bucket: "b"},
		"concurrency too high": {Bucket: "b", ResultsPrefix: "p", MaxConcurrency: sfnrun.MaxConcurrency + 1},
		"bad child type":       {Bucket: "b", ResultsPrefix: "p", ChildType: "LOCAL"},
		"negative attempts":    {Bucket: "b", ResultsPrefix: "p", MaxAttempts: -1},
	} {
		if _, err := spec.Definition(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSpec_Deterministic(t *testing.T) {
	a, _ := baseSpec.Definition()
	b, _ := baseSpec.Definition()
	if string(a) != string(b) {
		t.Error("the same spec gave two definitions")
	}
	if !strings.Contains(string(a), `"ToleratedFailurePercentage": 100.0`) {
		t.Errorf("ToleratedFailurePercentage not written as 100.0:\n%s", a)
	}
}
