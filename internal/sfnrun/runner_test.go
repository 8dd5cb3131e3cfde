package sfnrun_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lambdafan/lambdafan/internal/sfnrun"
)

// fakeSFN is a Step Functions API that keeps state machines in memory
// and answers as the service documents: CreateStateMachine is idempotent
// for the same definition (whatever the role), and refuses another one
// with StateMachineAlreadyExists.
type fakeSFN struct {
	sfnrun.API // methods a test does not use panic
	machines   map[string]*types.StateMachineListItem
	defs       map[string][2]string // ARN → definition, role
	versions   int
	updates    int
	// executions returns the status of each DescribeExecution in turn.
	statuses      []types.ExecutionStatus
	describes     int
	listMapRuns   int
	describeMapRn int
}

func newFakeSFN() *fakeSFN {
	return &fakeSFN{machines: map[string]*types.StateMachineListItem{}, defs: map[string][2]string{}}
}

func (f *fakeSFN) CreateStateMachine(_ context.Context, in *sfn.CreateStateMachineInput, _ ...func(*sfn.Options)) (*sfn.CreateStateMachineOutput, error) {
	name := aws.ToString(in.Name)
	arn := "arn:aws:states:us-east-1:123456789012:stateMachine:" + name
	if _, ok := f.machines[name]; ok {
		if f.defs[arn][0] != aws.ToString(in.Definition) {
			return nil, &types.StateMachineAlreadyExists{Message: aws.String("State Machine Already Exists: '" + arn + "'")}
		}
		return &sfn.CreateStateMachineOutput{StateMachineArn: aws.String(arn)}, nil
	}
	f.machines[name] = &types.StateMachineListItem{Name: in.Name, StateMachineArn: aws.String(arn)}
	f.defs[arn] = [2]string{aws.ToString(in.Definition), aws.ToString(in.RoleArn)}
	return &sfn.CreateStateMachineOutput{StateMachineArn: aws.String(arn)}, nil
}

func (f *fakeSFN) ListStateMachines(context.Context, *sfn.ListStateMachinesInput, ...func(*sfn.Options)) (*sfn.ListStateMachinesOutput, error) {
	out := &sfn.ListStateMachinesOutput{StateMachines: []types.StateMachineListItem{{Name: aws.String("other"), StateMachineArn: aws.String("arn:other")}}}
	for _, m := range f.machines {
		out.StateMachines = append(out.StateMachines, *m)
	}
	return out, nil
}

func (f *fakeSFN) DescribeStateMachine(_ context.Context, in *sfn.DescribeStateMachineInput, _ ...func(*sfn.Options)) (*sfn.DescribeStateMachineOutput, error) {
	d := f.defs[aws.ToString(in.StateMachineArn)]
	return &sfn.DescribeStateMachineOutput{Definition: aws.String(d[0]), RoleArn: aws.String(d[1])}, nil
}

func (f *fakeSFN) UpdateStateMachine(_ context.Context, in *sfn.UpdateStateMachineInput, _ ...func(*sfn.Options)) (*sfn.UpdateStateMachineOutput, error) {
	arn := aws.ToString(in.StateMachineArn)
	f.defs[arn] = [2]string{aws.ToString(in.Definition), aws.ToString(in.RoleArn)}
	f.updates++
	out := &sfn.UpdateStateMachineOutput{}
	if in.Publish {
		f.versions++
		out.StateMachineVersionArn = aws.String(arn + ":" + string(rune('0'+f.versions)))
	}
	return out, nil
}

func (f *fakeSFN) DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	s := f.statuses[min(f.describes, len(f.statuses)-1)]
	f.describes++
	return &sfn.DescribeExecutionOutput{Status: s, Input: aws.String(`{"ItemsKey":"k"}`)}, nil
}

func (f *fakeSFN) ListMapRuns(context.Context, *sfn.ListMapRunsInput, ...func(*sfn.Options)) (*sfn.ListMapRunsOutput, error) {
	f.listMapRuns++
	if f.describes < 2 {
		return &sfn.ListMapRunsOutput{}, nil // the Map Run has not started
	}
	return &sfn.ListMapRunsOutput{MapRuns: []types.MapRunListItem{{MapRunArn: aws.String("arn:maprun")}}}, nil
}

func (f *fakeSFN) DescribeMapRun(context.Context, *sfn.DescribeMapRunInput, ...func(*sfn.Options)) (*sfn.DescribeMapRunOutput, error) {
	f.describeMapRn++
	return &sfn.DescribeMapRunOutput{Status: types.MapRunStatusRunning, ItemCounts: &types.MapRunItemCounts{Total: 10, Succeeded: int64(f.describeMapRn)}}, nil
}

func TestRunner_EnsureStateMachine(t *testing.T) {
	ctx := t.Context()
	api := newFakeSFN()
	r := sfnrun.Runner{API: api}
	const role = "arn:aws:iam::123456789012:role/sfn"
	def1 := []byte(`{"StartAt": "A", "States": {}}`)

	arn, what, err := r.EnsureStateMachine(ctx, "lambdafan", role, def1)
	if err != nil || what != sfnrun.Ready || arn != "arn:aws:states:us-east-1:123456789012:stateMachine:lambdafan" {
		t.Fatalf("new: %s %s %v", arn, what, err)
	}
	// The same definition, spelt differently: nothing to do.
	arn, what, err = r.EnsureStateMachine(ctx, "lambdafan", role, []byte(`{"States":{},"StartAt":"A"}`))
	if err != nil || what != sfnrun.Ready || api.updates != 0 {
		t.Fatalf("same: %s %s %v, %d updates", arn, what, err, api.updates)
	}
	// Another definition: updated, and the execution pinned to the new version.
	arn, what, err = r.EnsureStateMachine(ctx, "lambdafan", role, []byte(`{"StartAt":"B","States":{}}`))
	if err != nil || what != sfnrun.Updated || arn != "arn:aws:states:us-east-1:123456789012:stateMachine:lambdafan:1" {
		t.Fatalf("changed: %s %s %v", arn, what, err)
	}
	// Another role only: CreateStateMachine ignores it; the update does not.
	arn, what, err = r.EnsureStateMachine(ctx, "lambdafan", role+"2", []byte(`{"StartAt":"B","States":{}}`))
	if err != nil || what != sfnrun.Updated || api.defs["arn:aws:states:us-east-1:123456789012:stateMachine:lambdafan"][1] != role+"2" {
		t.Fatalf("role: %s %s %v", arn, what, err)
	}
}

func TestRunner_Watch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeSFN()
		api.statuses = []types.ExecutionStatus{"RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"}
		r := sfnrun.Runner{API: api, PollInterval: 3 * time.Second}
		start := time.Now()
		var reports []sfnrun.Progress
		p, err := r.Watch(t.Context(), "arn:exec", func(p sfnrun.Progress) { reports = append(reports, p) })
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != "SUCCEEDED" || !p.Done() || len(reports) != 4 || p.MapRunARN != "arn:maprun" {
			t.Errorf("last %+v after %d reports", p, len(reports))
		}
		if got := time.Since(start); got != 9*time.Second {
			t.Errorf("watched for %v, want 3 intervals of 3 s", got)
		}
		// The Map Run is looked up until found, then only described.
		if api.listMapRuns != 2 || reports[0].MapRunARN != "" || reports[1].MapRunARN != "arn:maprun" || reports[3].Items.Succeeded != 3 {
			t.Errorf("%d ListMapRuns; reports %+v", api.listMapRuns, reports)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			api := newFakeSFN()
			api.statuses = []types.ExecutionStatus{"RUNNING"}
			r := sfnrun.Runner{API: api}
			ctx, cancel := context.WithTimeout(t.Context(), 12*time.Second)
			defer cancel()
			_, err := r.Watch(ctx, "arn:exec", nil)
			if err != context.DeadlineExceeded || api.describes != 3 {
				t.Errorf("Watch = %v after %d polls, want the deadline after 3 (every %v)", err, api.describes, sfnrun.DefaultPollInterval)
			}
		})
	})
}
