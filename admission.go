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
	regions  sync.Map // region → *limit.Limiter
	funcs    sync.Map // region + "\x00" + function → *limit.Limiter
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

func (a *admission) limiter(m *sync.Map, key string) *limit.Limiter {
	if l, ok := m.Load(key); ok {
		return l.(*limit.Limiter)
	}
	l, _ := m.LoadOrStore(key, limit.New(a.min, a.max))
	return l.(*limit.Limiter)
}

// admit waits until p may be attempted and returns the function to call
// with the attempt's error once it is over.
func (a *admission) admit(ctx context.Context, p *prepared) (done func(error), err error) {
	if a.rate != nil {
		if err := a.rate.Wait(ctx); err != nil {
			return nil, err
		}
	}
	region := a.limiter(&a.regions, p.region)
	if err := region.Acquire(ctx); err != nil {
		return nil, err
	}
	fn := a.limiter(&a.funcs, p.region+"\x00"+p.function)
	if err := fn.Acquire(ctx); err != nil {
		region.Release(false, false)
		return nil, err
	}
	return func(err error) {
		regionThrottled, fnThrottled := throttleScope(err)
		region.Release(regionThrottled, err == nil)
		fn.Release(fnThrottled, err == nil)
	}, nil
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
	add := func(m *sync.Map, isFunc bool) {
		m.Range(func(k, v any) bool {
			key := k.(string)
			st := v.(*limit.Limiter).Status()
			ls := LimitStatus{Region: key, Limit: st.Limit, InFlight: st.InFlight, Throttles: st.Throttles}
			if isFunc {
				for i := range len(key) {
					if key[i] == 0 {
						ls.Region, ls.Function = key[:i], key[i+1:]
						break
					}
				}
			}
			out = append(out, ls)
			return true
		})
	}
	add(&c.admission.regions, false)
	add(&c.admission.funcs, true)
	slices.SortFunc(out, func(a, b LimitStatus) int {
		if a.Function == "" && b.Function != "" {
			return -1
		}
		if a.Function != "" && b.Function == "" {
			return 1
		}
		return cmp.Or(cmp.Compare(a.Region, b.Region), cmp.Compare(a.Function, b.Function))
	})
	return out
}
