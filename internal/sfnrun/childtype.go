package sfnrun

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// expressMargin is left between a child's longest possible run and the
// five minutes after which an Express child is cut off: the time Step
// Functions takes around the Task itself.
const expressMargin = 30 * time.Second

// QuickCall bounds an Event or DryRun invocation, which returns once
// Lambda queued or checked the request: it does not wait for the
// function.
const QuickCall = 10 * time.Second

// RetryBudget returns the longest the Task's retries of spec can wait in
// all: each wait is drawn from zero up to min(MaxDelaySeconds,
// IntervalSeconds·BackoffRate^k) seconds, and the attempts that fail and
// are retried end quickly (they are refused before the function runs),
// a second each at most.
func (s Spec) RetryBudget() time.Duration {
	s, err := s.withDefaults()
	if err != nil {
		return 0
	}
	maxDelay := time.Duration(ceilSeconds(s.MaxBackoff)) * time.Second
	var total time.Duration
	wait := time.Duration(retryIntervalSeconds) * time.Second
	for k := 0; k < s.MaxAttempts-1; k++ {
		total += min(wait, maxDelay) + time.Second
		wait = time.Duration(float64(wait) * retryBackoffRate)
	}
	return total
}

// ChooseChildType returns the child type for items whose longest
// synchronous (RequestResponse) function timeout is longest (0 when
// every item is an Event or DryRun invocation), with spec's retries: Express
// when a child surely ends within ExpressMaxDuration — the function's
// timeout, the retries' waits and a margin — and Standard otherwise. The
// reason says which and why.
func ChooseChildType(longest time.Duration, spec Spec) (ChildType, string) {
	call := longest
	if call == 0 {
		call = QuickCall
	}
	worst := call + spec.RetryBudget() + expressMargin
	if worst <= ExpressMaxDuration {
		return Express, fmt.Sprintf("EXPRESS children: an invocation ends within %v (function timeout %v, retries up to %v), under Express's %v", worst, call, spec.RetryBudget(), ExpressMaxDuration)
	}
	return Standard, fmt.Sprintf("STANDARD children: an invocation may take %v (function timeout %v, retries up to %v), more than Express's %v", worst, call, spec.RetryBudget(), ExpressMaxDuration)
}

// LambdaAPI is the part of the Lambda client that FunctionTimeout uses;
// *lambda.Client implements it.
type LambdaAPI interface {
	GetFunctionConfiguration(context.Context, *lambda.GetFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
}

// FunctionTimeout returns the timeout configured for the function (with
// its qualifier, "" for none), with GetFunctionConfiguration.
func FunctionTimeout(ctx context.Context, api LambdaAPI, function, qualifier string) (time.Duration, error) {
	in := &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)}
	if qualifier != "" {
		in.Qualifier = aws.String(qualifier)
	}
	out, err := api.GetFunctionConfiguration(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("get the configuration of %s: %w", function, err)
	}
	if out.Timeout == nil {
		return 0, fmt.Errorf("the configuration of %s has no timeout", function)
	}
	return time.Duration(*out.Timeout) * time.Second, nil
}
