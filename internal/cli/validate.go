package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/lambdafan/lambdafan"
	"github.com/lambdafan/lambdafan/internal/jsonl"
	"github.com/lambdafan/lambdafan/internal/lambdaapi"
	"github.com/lambdafan/lambdafan/internal/store"
)

// validateOptions are the flags of `lambdafan validate`.
type validateOptions struct {
	input string
	decodeFlags
	region  string
	profile string
}

func parseValidateFlags(args []string, stderr io.Writer) (*validateOptions, error) {
	o := &validateOptions{}
	fs := newFlagSet("validate", validateUsage, stderr)
	o.decodeFlags.add(fs, "check")
	fs.StringVar(&o.region, "region", "", "default `REGION` for requests that name none (default: AWS_REGION or the profile's)")
	fs.StringVar(&o.profile, "profile", "", "shared config `PROFILE` for the default region and for reading from S3 (default: AWS_PROFILE or default)")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		return nil, usagef("validate takes one input file (or - for standard input), got %d arguments: %q (flags go before the file)", fs.NArg(), fs.Args())
	}
	o.input = fs.Arg(0)
	if err := o.decodeFlags.validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// runValidate implements `lambdafan validate`: it reads the requests as
// invoke would, checks each as the client would before sending it, and
// reports what it found, without credentials or network (but to read an
// input in S3).
func runValidate(ctx context.Context, args []string, stdio Stdio) int {
	o, err := parseValidateFlags(args, stdio.Err)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	region, err := o.defaultRegion(ctx)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	input, err := o.openInput(ctx, stdio)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	defer input.Close()

	tally := newRequestTally()
	items, readErr := jsonl.Decode(input, o.decodeOptions())
	for it := range items {
		tally.ids.add(it.Request.ID, it.NumericID, it.Line)
		err := it.Err
		if err == nil {
			err = lambdafan.Validate(it.Request, region)
		}
		if err != nil {
			tally.invalid(it.Line, err, stdio.Out)
			continue
		}
		tally.valid(&it.Request, region)
	}
	name := o.input
	if name == "-" {
		name = "standard input"
	}
	tally.write(stdio.Out, name)
	if err := readErr(); err != nil {
		fmt.Fprintf(stdio.Err, "lambdafan: input: %v (the lines after that point were not read)\n", err)
		return ExitFailed
	}
	if tally.requests > tally.validCount {
		return ExitFailed
	}
	return ExitOK
}

// defaultRegion returns the region of the requests that name none, as
// invoke would use it: --region, or the AWS configuration's (AWS_REGION,
// the profile's), or "" when there is none. Loading the configuration
// reads the environment and the shared files only.
func (o *validateOptions) defaultRegion(ctx context.Context) (string, error) {
	region := o.region
	if region == "" {
		var loadOpts []func(*config.LoadOptions) error
		if o.profile != "" {
			loadOpts = append(loadOpts, config.WithSharedConfigProfile(o.profile))
		}
		cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
		if err != nil {
			return "", usagef("cannot load the AWS configuration: %v", err)
		}
		region = cfg.Region
	}
	if region == "" {
		return "", nil
	}
	if err := lambdaapi.CheckRegion(region); err != nil {
		return "", usagef("default region: %v", err)
	}
	return region, nil
}

// openInput opens the requests through the store invoke reads them with:
// standard input, a local file, or a stream from S3 or a .gz file.
func (o *validateOptions) openInput(ctx context.Context, stdio Stdio) (io.ReadCloser, error) {
	loc, err := store.Parse(o.input)
	if err != nil {
		return nil, usagef("input: %v", err)
	}
	if !loc.IsS3() && !loc.IsStdio() {
		if _, err := checkInputFile(o.input); err != nil {
			return nil, err
		}
	}
	r, err := newStore(ctx, o.profile, stdio).Open(ctx, loc)
	if err != nil {
		return nil, usagef("cannot read input: %v", pathErr(err))
	}
	return r, nil
}
