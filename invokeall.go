package lambdafan

import (
	"cmp"
	"context"
	"errors"
	"slices"
)

// InvokeAll invokes every request concurrently, at most Config.Concurrency
// at a time, and returns exactly one Result per request, in input order
// (results[i] belongs to reqs[i]). If ctx is done before every request was
// sent, the unsent ones get a Result whose Err is the context's error; if
// the run stopped early because the credentials were refused or could not
// be obtained, they get that error (wrapping [ErrCredentials]). Either
// way, those requests were not sent.
func (c *Client) InvokeAll(ctx context.Context, reqs []Request) []Result {
	results := make([]Result, len(reqs))
	done := make([]bool, len(reqs))
	var stopErr error
	for r := range c.Stream(ctx, slices.Values(reqs)) {
		results[r.Index] = r
		done[r.Index] = true
		if stopErr == nil && errors.Is(r.Err, ErrCredentials) {
			stopErr = r.Err
		}
	}
	for i, ok := range done {
		if !ok {
			req := &reqs[i]
			err := context.Cause(ctx)
			if err == nil {
				err = cmp.Or(stopErr, ErrStopped)
			}
			results[i] = Result{
				Index:          i,
				ID:             req.ID,
				FunctionName:   req.FunctionName,
				InvocationType: req.InvocationType.orDefault(),
				Err:            err,
			}
		}
	}
	return results
}
