package cli

import (
	"flag"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lambdafan/lambdafan/internal/sfnrun"
	"github.com/lambdafan/lambdafan/internal/store"
)

// viaStepFunctions is the --via value that runs the fan-out on a Step
// Functions Distributed Map.
const viaStepFunctions = "stepfunctions"

// defaultStateMachine is the state machine invoke --via stepfunctions
// creates or updates when --sfn-state-machine is not given.
const defaultStateMachine = "lambdafan"

// sfnOptions are the flags of invoke --via stepfunctions.
type sfnOptions struct {
	via          string
	roleARN      string
	workDir      string
	stateMachine string
	childType    string
	detach       bool
	pollInterval time.Duration

	work store.Location // parsed --work-dir
}

// addSFNFlags adds the flags of invoke --via stepfunctions to fs.
func addSFNFlags(fs *flag.FlagSet, o *sfnOptions) {
	fs.StringVar(&o.via, "via", "", "run the invocations elsewhere: stepfunctions runs them on a Step Functions Distributed Map in your account (docs/SCALE-OUT.md)")
	fs.StringVar(&o.roleARN, "sfn-role-arn", "", "with --via stepfunctions: the IAM `ROLE` the state machine runs as")
	fs.StringVar(&o.workDir, "work-dir", "", "with --via stepfunctions: the S3 prefix (s3://bucket/prefix/) for the requests and the results, in the state machine's region")
	fs.StringVar(&o.stateMachine, "sfn-state-machine", defaultStateMachine, "with --via stepfunctions: the state machine to create or update")
	fs.StringVar(&o.childType, "sfn-child-type", "auto", "with --via stepfunctions: the children's workflow type: auto (EXPRESS when the functions' timeouts allow), standard, express")
	fs.BoolVar(&o.detach, "detach", false, "with --via stepfunctions: print the execution's ARN once started and exit; lambdafan collect finishes the run")
	fs.DurationVar(&o.pollInterval, "sfn-poll", sfnrun.DefaultPollInterval, "with --via stepfunctions: how often to poll the execution's progress")
}

// sfnOnlyFlags are the flags that mean something only with --via
// stepfunctions.
func sfnOnlyFlags() []string {
	return []string{"sfn-role-arn", "work-dir", "sfn-state-machine", "sfn-child-type", "detach", "sfn-poll"}
}

// sfnIgnoredFlag says why flag name means nothing with --via
// stepfunctions, or "" when it does.
func sfnIgnoredFlag(name string) string {
	switch name {
	case "resume":
		return "a run on Step Functions is finished with lambdafan collect EXECUTION_ARN"
	case "shard":
		return "the Map Run spreads the requests itself"
	case "local", "functions":
		return "it runs in your AWS account"
	case "endpoint-url":
		return "Step Functions calls Lambda; AWS_ENDPOINT_URL_SFN and AWS_ENDPOINT_URL_S3 point lambdafan's own calls elsewhere"
	case "allow-insecure-endpoint", "fips", "dualstack":
		return "Step Functions calls Lambda"
	case "rate":
		return "the Map Run's concurrency (-c) is its only limit"
	case "min-concurrency":
		return "the Map Run's concurrency (-c) does not adapt"
	case "retry-unsafe":
		return "the state machine retries only what cannot have run"
	case "max-time":
		return "each attempt is bounded by --timeout"
	case "ordered":
		return "results are written when the run ends, in the order of the Map Run's files"
	case "grace":
		return "an interrupt detaches from the run without stopping it (lambdafan stop stops it)"
	case "journal-dir":
		return "nothing is spooled locally"
	}
	return ""
}

// checkVia checks the flags of --via and the flags that go with it; set
// holds the flags given on the command line.
func (o *invokeOptions) checkVia(set map[string]bool) error {
	s := &o.sfn
	if s.via == "" {
		for _, name := range sfnOnlyFlags() {
			if set[name] {
				return usagef("--%s goes with --via stepfunctions", name)
			}
		}
		return nil
	}
	if s.via != viaStepFunctions {
		return usagef("--via %q: the only place lambdafan runs invocations besides here is stepfunctions", s.via)
	}
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if why := sfnIgnoredFlag(name); why != "" {
			return usagef("--%s does not go with --via stepfunctions: %s", name, why)
		}
	}
	switch {
	case s.roleARN == "":
		return usagef("--via stepfunctions needs --sfn-role-arn: the IAM role the state machine runs as (docs/SCALE-OUT.md lists its policy)")
	case !strings.HasPrefix(s.roleARN, "arn:") || !strings.Contains(s.roleARN, ":role/"):
		return usagef("--sfn-role-arn %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", s.roleARN)
	case s.workDir == "":
		return usagef("--via stepfunctions needs --work-dir s3://bucket/prefix/: where the requests are uploaded and the results written")
	case o.concurrency > sfnrun.MaxConcurrency:
		return usagef("--concurrency %d: a Map Run runs at most %d children at once", o.concurrency, sfnrun.MaxConcurrency)
	case s.pollInterval < time.Millisecond:
		return usagef("--sfn-poll must be positive, got %v", s.pollInterval)
	case o.summaryJSON != "" && o.output != "" && o.summaryJSON == o.output:
		return usagef("--summary-json and the results go to the same file %s", o.output)
	}
	switch s.childType {
	case "auto", "standard", "express":
	default:
		return usagef("--sfn-child-type %q: use auto, standard or express", s.childType)
	}
	loc, err := store.Parse(strings.TrimSuffix(s.workDir, "/") + "/")
	if err != nil || !loc.IsS3() || loc.Key() == "" {
		return usagef("--work-dir %q: give an S3 prefix, s3://bucket/prefix/ (the bucket's root is refused: runs would mix with its other objects)", s.workDir)
	}
	s.work = loc
	return nil
}
