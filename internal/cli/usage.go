package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/lambdafan/lambdafan/internal/lambdalog"
)

// errHelpShown ends a command after it printed its --help.
var errHelpShown = errors.New("help shown")

// newFlagSet returns a flag set for a subcommand whose -help prints usage
// followed by the flags' defaults, to stderr.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, turning -help into errHelpShown and other
// problems into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return &usageError{msg: err.Error()}
	}
	return nil
}

const mainUsage = `lambdafan invokes AWS Lambda functions en masse: thousands to millions of
concurrent, SigV4-signed Invoke calls, with every result streamed back.

Usage:
  lambdafan invoke [flags] [FILE|-]   invoke the requests in FILE (JSON Lines)
  lambdafan summary [flags] RESULTS... summarise results files (e.g. the shards of a run) as one run
  lambdafan validate [flags] FILE|-   check the requests in FILE offline, as invoke would
  lambdafan report RESULTS... -o FILE  write an HTML report of results files: charts, tables, cold starts, cost
  lambdafan collect [flags] ARN       follow a run on Step Functions (invoke --via stepfunctions) and write its results
  lambdafan stop ARN                  stop a run on Step Functions
  lambdafan serve  [flags]            run the local Lambda emulator
  lambdafan version                   print the version
  lambdafan help COMMAND              show a command's flags and examples

Try it without an AWS account:
  lambdafan invoke --local examples/demo.jsonl
  lambdafan invoke --local --log-type Tail --report report.html examples/demo.jsonl > results.jsonl

Exit status: 0 all invocations succeeded, 1 some failed, 2 usage or
configuration error (nothing invoked, no file touched), 130 interrupted
before every request was invoked, 141 standard output closed early.
`

const invokeUsage = `Usage: lambdafan invoke [flags] [FILE|-]

Invokes every request in FILE (or standard input when FILE is - or absent)
and writes one JSON result line per request to standard output (or -o).
FILE, -o, --resume and --summary-json may be S3 locations (s3://bucket/key),
and names ending in .gz are compressed by extension (docs/SCALE-OUT.md).

Input is JSON Lines, one request per line (a JSON array of the same objects
is accepted too):
  {"function_name": "my-fn", "payload": {"k": 1}, "invocation_type": "Event",
   "region": "eu-west-1", "qualifier": "live", "log_type": "Tail",
   "client_context": {"custom": {"a": 1}}, "id": "order-17"}
Only function_name is required. invocation_type is RequestResponse (default),
Event or DryRun. function_name may be a name, name:alias, a partial ARN
(123456789012:function:name) or a full ARN, whose region is then used.
"response_stream": true invokes through InvokeWithResponseStream, for
functions that stream their response (up to 200 MB; --response-stream makes
it the default); without --payload-dir a streamed response is held whole
until its line is written, up to 200 MB per invocation in flight. With
--function NAME, each input line is just the payload for NAME.

Each output line carries the request's input line number and id, the HTTP
status, the outcome (ok, function_error, throttled, invalid, error; not_sent:
never reached Lambda; unknown: sent, no answer, may have run), the response
payload (embedded as JSON when it is JSON), the function error, the decoded
log tail, the executed version, the AWS request id, the attempts, the
latency, and when the first attempt started and the result ended (started_at,
ended_at: UTC, to the millisecond). With --payload-dir DIR each payload goes
to a file of its own instead (DIR/line-LINE[-ID].payload, a streamed one as
it arrives), and the line gives payload_file, payload_size and
payload_sha256; a run refuses to start when DIR holds payload files of its
lines, unless it is a --resume, and never overwrites a file. A bad input
line gets an error result naming the line and field; the run goes on. A
summary goes to standard error at the end; with log tails (--log-type Tail)
it also counts cold starts and estimates the cost from each invocation's
REPORT line (--arch, --price-per-gb-s), and --report FILE writes an HTML
report of the run (see lambdafan help report).

Interrupting (Ctrl-C) stops starting invocations and lets those in flight
finish (--grace); a second Ctrl-C aborts them. With -o FILE a journal
(FILE.journal) records each request before it is sent, so that after an
interrupt or even a crash, --resume FILE invokes only what certainly never
ran and reports what may have run as unknown, never running it twice.

Examples:
  # the built-in emulator: no AWS account needed
  lambdafan invoke --local examples/demo.jsonl

  # 10,000 payloads to one function, 200 at a time, results in input order
  seq 10000 | jq -c '{n: .}' | lambdafan invoke --function my-fn -c 200 --ordered -o out.jsonl

  # asynchronous fan-out with a profile, machine-readable summary
  lambdafan invoke --profile prod --region eu-west-1 --invocation-type Event \
      --summary-json summary.json requests.jsonl > results.jsonl

  # one of 4 workers of a run in S3 (Kubernetes Indexed Job, AWS Batch array job)
  lambdafan invoke --shard auto/4 --resume s3://b/run1/part-{shard}.jsonl s3://b/run1/requests.jsonl

  # functions that stream large responses: each payload to its own file
  lambdafan invoke --response-stream --payload-dir payloads -o results.jsonl requests.jsonl

  # the fan-out inside AWS, on a Step Functions Distributed Map (docs/SCALE-OUT.md)
  lambdafan invoke --via stepfunctions --sfn-role-arn arn:aws:iam::123456789012:role/lambdafan-sfn \
      --work-dir s3://my-bucket/lambdafan/ -c 1000 -o results.jsonl requests.jsonl

  # a long run to a file; after Ctrl-C (or a crash), finish it
  lambdafan invoke -c 500 -o results.jsonl requests.jsonl
  lambdafan invoke -c 500 --resume results.jsonl requests.jsonl

Credentials come from the AWS SDK's default chain (environment, shared
profiles, SSO, web identity, IMDS/ECS); the caller needs lambda:InvokeFunction.

Flags:
`

const summaryUsage = `Usage: lambdafan summary [flags] RESULTS...

Prints the summary of one or more results files as if they came from one
run: the parts of a run split with --shard, or a run and its --resume.
RESULTS are files or quoted glob patterns ('results/part-*.jsonl'). With
--input REQUESTS it also checks that every request has exactly one result,
lists the lines without one (by shard with --shards N: the shards to
resume) and exits 1 if any is missing or repeated.

Examples:
  lambdafan summary 'part-*.jsonl'
  lambdafan summary --input requests.jsonl --shards 4 --summary-json all.json 'part-*.jsonl'

Flags:
`

const validateUsage = `Usage: lambdafan validate [flags] FILE|-

Checks the requests in FILE (or standard input for -) exactly as invoke
would read and check them before sending any, without credentials or
network (but to read an s3:// input): the same input (JSON Lines or a JSON
array, a local file, .gz or s3://), the same flags that change how lines
become requests (--function, --invocation-type, --log-type, --qualifier),
and the client's checks of each request (function name, qualifier, region,
payload size limit, client context). It prints each invalid line's error,
then the counts of requests, the valid ones by function, region and
invocation type, their payload size percentiles, and the ids found on more
than one line.

Exit status: 0 every request is valid, 1 some line is not (or the input
could not be read to its end), 2 usage error.

Examples:
  lambdafan validate requests.jsonl
  lambdafan validate --function my-fn --invocation-type Event payloads.jsonl
  lambdafan validate --region eu-west-1 s3://my-bucket/run1/requests.jsonl.gz

Flags:
`

const reportUsage = `Usage: lambdafan report [flags] RESULTS... -o FILE

Writes one self-contained HTML file about one or more results files read as
one run (RESULTS as for lambdafan summary: files, quoted glob patterns,
s3://bucket/prefix/, .gz): the summary; results per second by outcome,
latency p50/p90/p99, throttled attempts and requests in flight over time;
a latency histogram; a table per function and region; the error types with
sample lines; the slowest requests; and cold starts and an estimated cost
from the REPORT lines of the log tails (invoke with --log-type Tail).
The file has its styles and its SVG charts inside: no script, and nothing
fetched when it is opened. It is built while reading, in bounded memory:
a million results make a report of about 80 KB (docs/REPORT.md).

The time charts need the results' started_at and ended_at; results written
without them are counted in the tables only.

Cost: billed GB-seconds (Billed Duration × Memory Size, from the REPORT
lines) at AWS Lambda's us-east-1 on-demand prices checked on ` + lambdalog.PricesAsOf + `
(x86_64, or --arch arm64; --price-per-gb-s for another region), plus $0.20
per million requests; no free tier. A log tail is the last 4 KB of the log,
so a result whose REPORT fell outside it counts its request, not its
duration.

Examples:
  lambdafan report results.jsonl -o report.html
  lambdafan report 'part-*.jsonl' --arch arm64 -o report.html
  lambdafan report s3://bucket/run1/ -o s3://bucket/run1/report.html

Flags:
`

const serveUsage = `Usage: lambdafan serve [flags]

Runs a local, Lambda-compatible Invoke API endpoint (POST
/2015-03-31/functions/{name}/invocations) for any AWS SDK or the AWS CLI.
Without --functions it serves the built-in functions: echo (returns its
payload), sleep ({"ms": N}: waits N ms, then returns its payload) and fail
(answers an Unhandled function error). Requests must be SigV4-signed with the
emulator's credentials (see --access-key-id), unless --no-auth.

Examples:
  lambdafan serve
  lambdafan serve --functions examples/functions.yaml --addr 127.0.0.1:9001

  # then, from another shell:
  AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE \
  AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
  aws lambda invoke --endpoint-url http://127.0.0.1:9001 --region us-east-1 \
      --function-name echo --cli-binary-format raw-in-base64-out \
      --payload '{"hello":"world"}' out.json
  lambdafan invoke --endpoint-url http://127.0.0.1:9001 --region us-east-1 examples/demo.jsonl

Flags:
`
