package sfnrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// API is the part of the Step Functions client that a Runner uses;
// *sfn.Client implements it.
type API interface {
	CreateStateMachine(context.Context, *sfn.CreateStateMachineInput, ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error)
	DescribeStateMachine(context.Context, *sfn.DescribeStateMachineInput, ...func(*sfn.Options)) (*sfn.DescribeStateMachineOutput, error)
	ListStateMachines(context.Context, *sfn.ListStateMachinesInput, ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error)
	UpdateStateMachine(context.Context, *sfn.UpdateStateMachineInput, ...func(*sfn.Options)) (*sfn.UpdateStateMachineOutput, error)
	StartExecution(context.Context, *sfn.StartExecutionInput, ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	StopExecution(context.Context, *sfn.StopExecutionInput, ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	ListMapRuns(context.Context, *sfn.ListMapRunsInput, ...func(*sfn.Options)) (*sfn.ListMapRunsOutput, error)
	DescribeMapRun(context.Context, *sfn.DescribeMapRunInput, ...func(*sfn.Options)) (*sfn.DescribeMapRunOutput, error)
}

// DefaultPollInterval is how often Watch asks for an execution's progress
// when Runner.PollInterval is 0. DescribeMapRun's token bucket refills at
// one call a second per account and region; polling every five seconds
// leaves room for other runs and consoles.
const DefaultPollInterval = 5 * time.Second

// Runner creates state machines and starts, watches and stops their
// executions. Its methods are safe for concurrent use if API is.
type Runner struct {
	// API is the Step Functions client.
	API API
	// PollInterval is the time between two polls of Watch. 0 means
	// DefaultPollInterval.
	PollInterval time.Duration
}

// Ensured says what EnsureStateMachine did.
type Ensured string

// What EnsureStateMachine can have done.
const (
	// Ready: the state machine held the definition and role already, or
	// was created with them.
	Ready Ensured = "ready"
	// Updated: the state machine was updated and a version published.
	Updated Ensured = "updated"
)

// EnsureStateMachine makes the STANDARD state machine name hold
// definition and run with roleARN: it creates it, or updates it when its
// definition or role differ, and returns the ARN to start executions on.
// That is the state machine's own ARN, except after an update: then it is
// the version the update published, because an execution started on the
// state machine's ARN just after an update may still run the previous
// definition (UpdateStateMachine's documentation).
func (r *Runner) EnsureStateMachine(ctx context.Context, name, roleARN string, definition []byte) (string, Ensured, error) {
	out, err := r.API.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(name),
		Definition: aws.String(string(definition)),
		RoleArn:    aws.String(roleARN),
		Type:       types.StateMachineTypeStandard,
	})
	var exists *types.StateMachineAlreadyExists
	var arn string
	switch {
	case err == nil:
		arn = aws.ToString(out.StateMachineArn)
	case errors.As(err, &exists):
		if arn, err = r.findStateMachine(ctx, name); err != nil {
			return "", "", err
		}
	default:
		return "", "", fmt.Errorf("create state machine %s: %w", name, err)
	}
	// CreateStateMachine answers with the existing state machine when only
	// its role differs (it ignores the role then), so compare both.
	desc, err := r.API.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		return "", "", fmt.Errorf("describe state machine %s: %w", arn, err)
	}
	if sameJSON(aws.ToString(desc.Definition), definition) && aws.ToString(desc.RoleArn) == roleARN {
		return arn, Ready, nil
	}
	up, err := r.API.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
		StateMachineArn:    aws.String(arn),
		Definition:         aws.String(string(definition)),
		RoleArn:            aws.String(roleARN),
		Publish:            true,
		VersionDescription: aws.String("lambdafan invoke --via stepfunctions"),
	})
	if err != nil {
		return "", "", fmt.Errorf("update state machine %s: %w", arn, err)
	}
	if v := aws.ToString(up.StateMachineVersionArn); v != "" {
		return v, Updated, nil
	}
	return arn, Updated, nil
}

// findStateMachine returns the ARN of the state machine called name.
func (r *Runner) findStateMachine(ctx context.Context, name string) (string, error) {
	p := sfn.NewListStateMachinesPaginator(r.API, &sfn.ListStateMachinesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list state machines: %w", err)
		}
		for _, sm := range page.StateMachines {
			if aws.ToString(sm.Name) == name {
				return aws.ToString(sm.StateMachineArn), nil
			}
		}
	}
	return "", fmt.Errorf("state machine %s exists (CreateStateMachine said so) but is not listed", name)
}

// sameJSON reports whether the JSON texts a and b hold the same value.
func sameJSON(a string, b []byte) bool {
	var va, vb any
	return json.Unmarshal([]byte(a), &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}

// Start starts an execution called name of the state machine (or
// version) target with input, and returns its ARN.
func (r *Runner) Start(ctx context.Context, target, name string, input []byte) (string, error) {
	out, err := r.API.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(target),
		Name:            aws.String(name),
		Input:           aws.String(string(input)),
	})
	if err != nil {
		return "", fmt.Errorf("start execution: %w", err)
	}
	return aws.ToString(out.ExecutionArn), nil
}

// Stop stops the execution; its running children are aborted.
func (r *Runner) Stop(ctx context.Context, executionARN, cause string) error {
	_, err := r.API.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(executionARN), Cause: aws.String(cause)})
	if err != nil {
		return fmt.Errorf("stop execution: %w", err)
	}
	return nil
}

// Execution statuses (DescribeExecution's).
const (
	ExecutionRunning        = "RUNNING"
	ExecutionSucceeded      = "SUCCEEDED"
	ExecutionFailed         = "FAILED"
	ExecutionTimedOut       = "TIMED_OUT"
	ExecutionAborted        = "ABORTED"
	ExecutionPendingRedrive = "PENDING_REDRIVE"
)

// Progress is a snapshot of an execution and of its Map Run.
type Progress struct {
	// Status is the execution's status, one of the Execution constants.
	Status string
	// Input and Output are the execution's input and output (the output
	// once it succeeded); Error and Cause say why it failed.
	Input, Output, Error, Cause string
	// Start and Stop are when the execution started and stopped (zero
	// while it runs).
	Start, Stop time.Time
	// MapRunARN is the ARN of the execution's Map Run, once it started.
	MapRunARN string
	// MapRunStatus is the Map Run's status (RUNNING, SUCCEEDED, FAILED,
	// ABORTED).
	MapRunStatus string
	// Items counts the Map Run's items by the state of their children.
	Items types.MapRunItemCounts
}

// Done reports whether the execution has ended, for now: a
// PENDING_REDRIVE execution runs again once redriven.
func (p *Progress) Done() bool {
	return p.Status != ExecutionRunning && p.Status != ExecutionPendingRedrive
}

// Poll returns a snapshot of the execution: DescribeExecution, and, when
// it has a Map Run, DescribeMapRun. mapRunARN, when known from an earlier
// poll, saves a ListMapRuns.
func (r *Runner) Poll(ctx context.Context, executionARN, mapRunARN string) (Progress, error) {
	ex, err := r.API.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionARN)})
	if err != nil {
		return Progress{}, fmt.Errorf("describe execution: %w", err)
	}
	p := Progress{
		Status: string(ex.Status),
		Input:  aws.ToString(ex.Input),
		Output: aws.ToString(ex.Output),
		Error:  aws.ToString(ex.Error),
		Cause:  aws.ToString(ex.Cause),
		Start:  aws.ToTime(ex.StartDate),
		Stop:   aws.ToTime(ex.StopDate),
	}
	if mapRunARN == "" {
		runs, err := r.API.ListMapRuns(ctx, &sfn.ListMapRunsInput{ExecutionArn: aws.String(executionARN)})
		if err != nil {
			return p, fmt.Errorf("list map runs: %w", err)
		}
		if len(runs.MapRuns) == 0 {
			return p, nil // not started yet, or the execution failed before
		}
		mapRunARN = aws.ToString(runs.MapRuns[0].MapRunArn)
	}
	p.MapRunARN = mapRunARN
	mr, err := r.API.DescribeMapRun(ctx, &sfn.DescribeMapRunInput{MapRunArn: aws.String(mapRunARN)})
	if err != nil {
		return p, fmt.Errorf("describe map run: %w", err)
	}
	p.MapRunStatus = string(mr.Status)
	if mr.ItemCounts != nil {
		p.Items = *mr.ItemCounts
	}
	return p, nil
}

// Watch polls the execution every PollInterval, calling report with each
// snapshot, until it is done or ctx is. It returns the last snapshot, and
// ctx's error when ctx ended the watch.
func (r *Runner) Watch(ctx context.Context, executionARN string, report func(Progress)) (Progress, error) {
	interval := r.PollInterval
	if interval == 0 {
		interval = DefaultPollInterval
	}
	t := time.NewTimer(0)
	defer t.Stop()
	var last Progress
	for {
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-t.C:
		}
		p, err := r.Poll(ctx, executionARN, last.MapRunARN)
		if err != nil {
			if ctx.Err() != nil {
				return last, ctx.Err()
			}
			return last, err
		}
		last = p
		if report != nil {
			report(p)
		}
		if p.Done() {
			return p, nil
		}
		t.Reset(interval)
	}
}
