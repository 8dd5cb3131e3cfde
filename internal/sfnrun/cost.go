package sfnrun

import (
	"fmt"
	"time"

	"github.com/lambdafan/lambdafan/internal/lambdalog"
)

// Published prices (US East (N. Virginia), on-demand, looked up on
// PricesDate); docs/SCALE-OUT.md cites where each comes from. Other
// regions differ by a few percent.
const (
	// PricesDate is when the prices below were looked up.
	PricesDate = "2026-11-30"
	// StandardTransitionUSD is the price of one Standard state
	// transition: $0.025 per 1,000 (retries are transitions too).
	StandardTransitionUSD = 0.025 / 1000
	// ExpressRequestUSD is the price of one Express execution: $1.00 per
	// million requests.
	ExpressRequestUSD = 1.00 / 1e6
	// ExpressGBSecondUSD is the price of Express duration, per GB-second
	// (first tier), billed in 100 ms steps and 64 MB chunks of memory.
	ExpressGBSecondUSD = 0.00001667
	// LambdaRequestUSD is the price of one Lambda request, the one the
	// cost estimates of every run use (lambdalog): $0.20 per million.
	// Lambda's duration charges come on top, as for any run.
	LambdaRequestUSD = lambdalog.DefaultUSDPerMillionRequests / 1e6
)

// expressChunkGB is the smallest memory an Express execution is billed
// for, 64 MB: a child that invokes one function stays within it.
const expressChunkGB = 64.0 / 1024

// Estimate is what a run of Items items costs, before Lambda's duration
// charges.
type Estimate struct {
	// Items is the number of items (invocations).
	Items int
	// ChildType is the children's workflow type.
	ChildType ChildType
	// Transitions is, for Standard children, the state transitions of
	// the run when no item is retried or fails: the Map state, and each
	// child's states. Every retry and every caught error adds one.
	Transitions int64
	// ExpressDuration is, for Express children, the longest an Express
	// child is billed for: its longest possible run, in 100 ms steps.
	ExpressDuration time.Duration
	// StepFunctionsUSD is the Step Functions charge: Standard's
	// transitions, or Express's requests plus at most ExpressDuration of
	// each child.
	StepFunctionsUSD float64
	// LambdaRequestsUSD is the charge for the Lambda requests.
	LambdaRequestsUSD float64
}

// EstimateCost prices a run of items items with spec, whose children run
// at most longest each (for Express children; see ChooseChildType).
func EstimateCost(items int, spec Spec, longest time.Duration) Estimate {
	s, err := spec.withDefaults()
	if err != nil {
		s = spec
	}
	e := Estimate{Items: items, ChildType: s.ChildType, LambdaRequestsUSD: float64(items) * LambdaRequestUSD}
	switch s.ChildType {
	case Express:
		d := min(ExpressMaxDuration, longest+s.RetryBudget())
		d = (d + 100*time.Millisecond - 1).Truncate(100 * time.Millisecond)
		e.ExpressDuration = d
		e.StepFunctionsUSD = float64(items) * (ExpressRequestUSD + d.Seconds()*expressChunkGB*ExpressGBSecondUSD)
	default:
		perItem := int64(1) // the Task
		if s.ClientContext == SomeClientContext {
			perItem++ // the Choice before it
		}
		e.Transitions = 1 + int64(items)*perItem // the Map state, then the children
		e.StepFunctionsUSD = float64(e.Transitions) * StandardTransitionUSD
	}
	return e
}

// String describes the estimate in a line or two, with the prices used.
func (e Estimate) String() string {
	lambda := fmt.Sprintf("Lambda requests: %s (%d at $%.2f per million; durations extra, as for any run)",
		usd(e.LambdaRequestsUSD), e.Items, lambdalog.DefaultUSDPerMillionRequests)
	if e.ChildType == Express {
		return fmt.Sprintf("Step Functions: at most %s (%d Express children at $1.00 per million, and at most %v each at $%.8f per GB-second for 64 MB)\n%s\nprices: us-east-1, published, looked up %s (docs/SCALE-OUT.md)",
			usd(e.StepFunctionsUSD), e.Items, e.ExpressDuration, ExpressGBSecondUSD, lambda, PricesDate)
	}
	return fmt.Sprintf("Step Functions: about %s (%d state transitions at $0.025 per 1,000; each retry and caught error adds one)\n%s\nprices: us-east-1, published, looked up %s (docs/SCALE-OUT.md)",
		usd(e.StepFunctionsUSD), e.Transitions, lambda, PricesDate)
}

// usd formats a dollar amount with the cents that matter.
func usd(v float64) string {
	if v < 0.01 {
		return fmt.Sprintf("$%.4f", v)
	}
	return fmt.Sprintf("$%.2f", v)
}
