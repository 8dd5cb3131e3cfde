package lambdafan

import (
	"context"
	"iter"
	"slices"
	"sync"
)

// Stream invokes the requests of seq concurrently, at most
// Config.Concurrency at a time, and yields one Result per request as each
// completes (completion order; Result.Index is the request's position in
// seq). Requests are pulled from seq lazily, only when a worker is free, and
// a consumer that stops reading holds the workers back, so memory is bounded
// by the concurrency, not by the number of requests.
//
// Breaking out of the loop cancels the invocations in flight and returns
// once they have stopped. When ctx is done, Stream stops pulling requests,
// yields a result (with the context's error, unless the attempt had already
// finished) for each request it had pulled, and ends; requests seq had not
// yet produced get no result. Likewise, when Lambda refuses the credentials
// (expired or unknown, after one refresh) or they cannot be obtained,
// Stream stops pulling: the requests it had pulled get results wrapping
// [ErrCredentials], and the rest none, so a caller can refresh the
// credentials and go on where it stopped.
func (c *Client) Stream(ctx context.Context, seq iter.Seq[Request]) iter.Seq[Result] {
	return func(yield func(Result) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()

		type job struct {
			index int
			req   Request
		}
		jobs := make(chan job)
		results := make(chan Result, c.concurrency)
		rn := &run{}

		var workers sync.WaitGroup
		for range c.concurrency {
			workers.Go(func() {
				for j := range jobs {
					results <- c.invoke(ctx, rn, j.index, &j.req)
				}
			})
		}
		var feeder sync.WaitGroup
		feeder.Go(func() {
			defer close(jobs)
			i := 0
			for req := range seq {
				// A request pulled from seq always reaches a worker, which
				// answers at once when the run is over, so that it gets
				// its result; then no more are pulled.
				jobs <- job{i, req}
				i++
				if ctx.Err() != nil || rn.stopped() != nil {
					return
				}
			}
		})
		go func() {
			workers.Wait()
			close(results)
		}()

		defer func() {
			cancel()
			for range results { // let blocked workers finish
			}
			feeder.Wait()
		}()
		for r := range results {
			if !yield(r) {
				return
			}
		}
	}
}

// InvokeAll invokes every request concurrently, at most Config.Concurrency
// at a time, and returns exactly one Result per request, in input order
// (results[i] belongs to reqs[i]). If ctx is done before every request was
// sent, the unsent ones get a Result whose Err is the context's error.
func (c *Client) InvokeAll(ctx context.Context, reqs []Request) []Result {
	results := make([]Result, len(reqs))
	done := make([]bool, len(reqs))
	for r := range c.Stream(ctx, slices.Values(reqs)) {
		results[r.Index] = r
		done[r.Index] = true
	}
	for i, ok := range done {
		if !ok {
			req := &reqs[i]
			results[i] = Result{
				Index:          i,
				ID:             req.ID,
				FunctionName:   req.FunctionName,
				InvocationType: req.InvocationType.orDefault(),
				Err:            context.Cause(ctx),
			}
		}
	}
	return results
}
