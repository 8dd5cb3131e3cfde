package sfnrun

import (
	"errors"
	"fmt"
)

// ExecutionError is an error that Step Functions, rather than Lambda,
// reported for an item: an error of the Task that is not an answer of the
// Invoke API (States.Timeout, States.Permissions, …), or the failure of
// the item's child execution as a whole.
//
// Results carry it on its own when the function did not run for the
// item, and inside a *lambdafan.TransportError with Sent set when it may
// have run (see Converter), so that their outcome is "unknown".
type ExecutionError struct {
	// Status is the child execution's status when the child itself
	// failed (FAILED, TIMED_OUT, ABORTED); empty for an error caught
	// inside the child.
	Status string
	// Name is the error's name, e.g. "States.Timeout"; Cause its cause.
	Name, Cause string
}

// Error names the error, the child's status when it failed, and the
// cause.
func (e *ExecutionError) Error() string {
	msg := "step functions: " + e.Name
	if e.Status != "" {
		msg = fmt.Sprintf("step functions: child execution %s", e.Status)
		if e.Name != "" {
			msg += ": " + e.Name
		}
	}
	if e.Cause != "" {
		msg += ": " + e.Cause
	}
	return msg
}

// ErrNoResult is the cause of the result of an item that the Map Run's
// results do not mention: the execution ended (failed or was stopped)
// before its ResultWriter wrote them, or wrote them without the item. The
// function may or may not have run for it; results carry it inside a
// *lambdafan.TransportError with Sent set (outcome "unknown").
var ErrNoResult = errors.New("no result for this item in the map run's results")

// ErrNotStarted is the cause of the result of an item in a PENDING_n
// file: the Map Run ended before it started the item's child execution,
// so the function did not run for it. Results carry it wrapped with
// lambdafan.ErrStopped (outcome "not_sent").
var ErrNotStarted = errors.New("the map run ended before it started this item's child execution")
