// Package sfnrun runs a lambdafan fan-out inside AWS, on a Step Functions
// Distributed Map, for `lambdafan invoke --via stepfunctions`.
//
// The pieces, one file each:
//
//   - [Spec] generates the state machine: a DISTRIBUTED Map that reads
//     the requests from a JSON Lines object in S3 (ItemReader), invokes
//     each with the optimized lambda:invoke integration, retries only the
//     errors after which the function cannot have run (the list of
//     [lambdafan.NotExecutedErrorTypes]), catches every other error in the
//     child so that it becomes that item's output, and writes the
//     children's outputs back to S3 (ResultWriter).
//   - [NewItem] turns a checked request into a Map item.
//   - [Runner] creates or updates the state machine, starts, watches and
//     stops executions.
//   - [Collector] reads the ResultWriter output (manifest.json and the
//     SUCCEEDED_n, FAILED_n and PENDING_n files), converts every record
//     into a lambdafan result and gives each uploaded item exactly one.
//   - [Estimate] prices a run.
//
// Nothing here reads flags or prints; internal/cli does that.
package sfnrun
