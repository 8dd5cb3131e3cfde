package lambdafan

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"sync"

	"golang.org/x/time/rate"

	"github.com/lambdafan/lambdafan/internal/limit"
)

// admission decides when an attempt may start: an optional request-rate cap
// for the whole client, then adaptive concurrency limits per region and per
// function, which shrink when Lambda throttles and grow back as requests
// succeed. Lambda throttles at both levels — the account's concurrency in
// a region, and each function's reserved concurrency or scaling rate — and
// says which in the 429's Reason. It is safe for concurrent use.
type admission struct {
	rate     *rate.Limiter // nil: no rate cap
	min, max int
	regions  sync.Map // region → *regionLimits
}

// regionLimits are the adaptive limits of one region: the region's own and
// each function's.
type regionLimits struct {
	all   *limit.Limiter
	funcs sync.Map // function name → *limit.Limiter
}

func newAdmission(minConcurrency, maxConcurrency int, perSecond float64) *admission {
	a := &admission{min: cmp.Or(minConcurrency, 1), max: maxConcurrency}
	if perSecond > 0 {
		// A burst of about 10 ms worth keeps the rate smooth at high rates
		// without a timer per request.
		burst := max(1, int(math.Ceil(perSecond/100)))
		a.rate = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	return a
}

// limits returns the limiters of region and of function in it, creating
// them on first use.
func (a *admission) limits(region, function string) (*limit.Limiter, *limit.Limiter) {
	v, ok := a.regions.Load(region)
	if !ok {
		v, _ = a.regions.LoadOrStore(region, &regionLimits{all: limit.New(a.min, a.max)})
	}
	rl := v.(*regionLimits)
	f, ok := rl.funcs.Load(function)
	if !ok {
		f, _ = rl.funcs.LoadOrStore(function, limit.New(a.min, a.max))
	}
	return rl.all, f.(*limit.Limiter)
}

// admitted is an attempt holding its slots; release gives them back.
type admitted struct {
	region, function *limit.Limiter
}

// admit waits until p may be attempted. The caller must release the
// returned slots with the attempt's error once it is over.
func (a *admission) admit(ctx context.Context, p *prepared) (admitted, error) {
	if a.rate != nil {
		if err := a.rate.Wait(ctx); err != nil {
			return admitted{}, err
		}
	}
	region, function := a.limits(p.region, p.function)
	if err := region.Acquire(ctx); err != nil {
		return admitted{}, err
	}
	if err := function.Acquire(ctx); err != nil {
		region.Release(false, false)
		return admitted{}, err
	}
	return admitted{region, function}, nil
}

// release frees the slots and tells each limit what the attempt says
// about it.
func (ad admitted) release(err error) {
	regionThrottled, functionThrottled := throttleScope(err)
	ad.region.Release(regionThrottled, err == nil)
	ad.function.Release(functionThrottled, err == nil)
}

// throttleScope says which limit a failed attempt speaks about: the
// account's concurrency in the region, or the function's own.
func throttleScope(err error) (region, function bool) {
	var ie *InvokeError
	if !errors.As(err, &ie) || !ie.Throttled() {
		return false, false
	}
	switch ie.Reason {
	case "ConcurrentInvocationLimitExceeded", "CallerRateLimitExceeded":
		return true, false
	default: // the function's reserved concurrency or invocation rate, or unsaid
		return false, true
	}
}

// LimitStatus is the state of one adaptive concurrency limit.
type LimitStatus struct {
	// Region is the region the limit applies to.
	Region string
	// Function is the function the limit applies to, or "" for the limit
	// of the whole region.
	Function string
	// Limit is the current limit; InFlight the attempts holding it.
	Limit, InFlight int
	// Throttles counts throttled attempts under this limit.
	Throttles int64
}

// Limits returns the current adaptive concurrency limits, regions first,
// sorted by region then function.
func (c *Client) Limits() []LimitStatus {
	var out []LimitStatus
	status := func(region, function string, l *limit.Limiter) LimitStatus {
		st := l.Status()
		return LimitStatus{Region: region, Function: function, Limit: st.Limit, InFlight: st.InFlight, Throttles: st.Throttles}
	}
	c.admission.regions.Range(func(k, v any) bool {
		region, rl := k.(string), v.(*regionLimits)
		out = append(out, status(region, "", rl.all))
		rl.funcs.Range(func(k, v any) bool {
			out = append(out, status(region, k.(string), v.(*limit.Limiter)))
			return true
		})
		return true
	})
	slices.SortFunc(out, func(a, b LimitStatus) int {
		if (a.Function == "") != (b.Function == "") {
			if a.Function == "" {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Function, b.Function))
	})
	return out
}
