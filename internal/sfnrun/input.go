package sfnrun

import (
	"encoding/json"
	"fmt"
	"strings"
)

// RunInput is the input of an execution: which items to read, and what
// `lambdafan collect` needs to turn the execution's results into a
// results file later, on any machine.
type RunInput struct {
	// ItemsKey is the key, in the work directory's bucket, of the items
	// (JSON Lines, one Item per line).
	ItemsKey string `json:"ItemsKey"`
	// Run describes the run.
	Run RunInfo `json:"lambdafan"`
}

// RunInfoVersion is the version of the RunInfo layout this lambdafan
// writes and reads.
const RunInfoVersion = 1

// RunInfo describes a run, for collecting its results.
type RunInfo struct {
	// Version is RunInfoVersion.
	Version int `json:"version"`
	// Input names the requests file as it was given to lambdafan.
	Input string `json:"input"`
	// Region is the region of the state machine, which every request was
	// invoked in.
	Region string `json:"region"`
	// Bucket is the work directory's bucket, which holds the items, the
	// local results and the Map Run's results; ResultsPrefix is the
	// ResultWriter's prefix (Spec.ResultsPrefix).
	Bucket        string `json:"bucket"`
	ResultsPrefix string `json:"results_prefix"`
	// Lines is the number of requests read, valid or not; Items the
	// number uploaded as items.
	Lines int `json:"lines"`
	Items int `json:"items"`
	// LocalResultsKey is the key, in the work directory's bucket, of the
	// results of the requests that were not uploaded (refused before
	// anything was invoked), as lambdafan result lines. Empty when every
	// request was uploaded.
	LocalResultsKey string `json:"local_results_key,omitempty"`
	// MaxAttempts is Spec.MaxAttempts as run: an item whose retried error
	// reached the Catch was attempted this many times.
	MaxAttempts int `json:"max_attempts"`
}

// ParseRunInput reads an execution's input. An input that lambdafan did
// not write is an error.
func ParseRunInput(s string) (*RunInput, error) {
	var in RunInput
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("execution input: %w", err)
	}
	if in.ItemsKey == "" || in.Run.Version == 0 || in.Run.Bucket == "" {
		return nil, fmt.Errorf("execution input was not written by lambdafan invoke --via stepfunctions")
	}
	if in.Run.Version > RunInfoVersion {
		return nil, fmt.Errorf("execution input has layout version %d; this lambdafan reads up to %d: collect with a newer lambdafan", in.Run.Version, RunInfoVersion)
	}
	return &in, nil
}

// ManifestKey returns the key of the manifest.json of the Map Run
// mapRunARN, in the work directory's bucket: the ResultWriter writes a Map
// Run's files under the prefix, in a folder named by the last field of
// the Map Run's ARN (its id).
func (ri *RunInfo) ManifestKey(mapRunARN string) string {
	id := mapRunARN[strings.LastIndexByte(mapRunARN, ':')+1:]
	return strings.TrimSuffix(ri.ResultsPrefix, "/") + "/" + id + "/manifest.json"
}

// ResultWriterDetails is where a succeeded execution's output says its
// Map Run's manifest is.
type ResultWriterDetails struct {
	Bucket string `json:"Bucket"`
	Key    string `json:"Key"`
}

// ParseOutput reads the output of an execution whose Map state exported
// its results: {"MapRunArn": …, "ResultWriterDetails": {"Bucket", "Key"}}.
func ParseOutput(s string) (mapRunARN string, d ResultWriterDetails, err error) {
	var out struct {
		MapRunArn           string              `json:"MapRunArn"`
		ResultWriterDetails ResultWriterDetails `json:"ResultWriterDetails"`
	}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return "", d, fmt.Errorf("execution output: %w", err)
	}
	if out.ResultWriterDetails.Key == "" {
		return "", d, fmt.Errorf("execution output names no manifest")
	}
	return out.MapRunArn, out.ResultWriterDetails, nil
}
