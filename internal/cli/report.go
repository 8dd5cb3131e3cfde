package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/lambdafan/lambdafan/internal/lambdalog"
	"github.com/lambdafan/lambdafan/internal/runreport"
	"github.com/lambdafan/lambdafan/internal/store"
)

// reportOptions are the flags of `lambdafan report`.
type reportOptions struct {
	results []string // the arguments, globs expanded
	output  string
	title   string
	cost    costFlags
	prices  lambdalog.Prices
}

func parseReportFlags(args []string, stderr io.Writer) (*reportOptions, error) {
	o := &reportOptions{}
	fs := newFlagSet("report", reportUsage, stderr)
	fs.StringVar(&o.output, "o", "", "write the report to `FILE` (an S3 location too; - for standard output)")
	fs.StringVar(&o.output, "output", "", "same as -o")
	fs.StringVar(&o.title, "title", "", "the report's `TITLE` (default: lambdafan report and the results' names)")
	o.cost.register(fs)
	args, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case len(args) == 0:
		return nil, usagef("report takes one or more results files (or glob patterns such as 'part-*.jsonl') and -o FILE")
	case o.output == "":
		return nil, usagef("report needs -o FILE, the HTML file to write")
	}
	for _, arg := range args {
		if arg == o.output {
			return nil, usagef("-o %s is also a results file", arg)
		}
		paths, err := expandResults(arg)
		if err != nil {
			return nil, err
		}
		o.results = append(o.results, paths...)
	}
	if o.prices, err = o.cost.prices(); err != nil {
		return nil, err
	}
	if o.title == "" {
		o.title = "lambdafan report " + joinArgs(args)
	}
	return o, nil
}

// parseInterspersed parses fs's flags wherever they are among args, as in
// "report out.jsonl -o report.html", and returns the other arguments. An
// argument "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		consumed := len(args) - fs.NArg()
		if consumed > 0 && args[consumed-1] == "--" {
			return append(rest, fs.Args()...), nil
		}
		if fs.NArg() == 0 {
			return rest, nil
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func joinArgs(args []string) string {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a)
	}
	return b.String()
}

// runReport implements `lambdafan report`: the HTML report of one or more
// results files, read as one run.
func runReport(ctx context.Context, args []string, stdio Stdio) int {
	o, err := parseReportFlags(args, stdio.Err)
	if err != nil {
		return exitStatus(err, stdio.Err)
	}
	st := newStore(ctx, "", stdio)
	a := runreport.New()
	var sources []string
	for _, arg := range o.results {
		locs, err := resultLocations(ctx, st, arg)
		if err != nil {
			return exitStatus(err, stdio.Err)
		}
		for _, loc := range locs {
			if err := addResults(ctx, st, loc, a); err != nil {
				return exitStatus(err, stdio.Err)
			}
			sources = append(sources, loc.String())
		}
	}
	r := a.Report(runreport.Options{Title: o.title, Sources: sources, Prices: o.prices})
	var n countingWriter
	write := func(w io.Writer) error {
		n.w = w
		return r.WriteHTML(&n)
	}
	if o.output == "-" {
		err = write(stdio.Out)
	} else {
		err = writeDocument(ctx, func() store.Store { return st }, o.output, write)
	}
	if err != nil {
		fmt.Fprintf(stdio.Err, "lambdafan: cannot write the report: %v\n", err)
		return ExitFailed
	}
	if o.output != "-" {
		fmt.Fprintf(stdio.Err, "%s: the report of %d results (%d KB)\n", o.output, r.Summary.Requests, (n.n+1023)/1024)
	}
	return ExitOK
}

// addResults adds every result at loc to a.
func addResults(ctx context.Context, st store.Store, loc store.Location, a *runreport.Aggregator) error {
	path := loc.String()
	f, err := st.Open(ctx, loc)
	if err != nil {
		return usagef("cannot read results: %v", err)
	}
	defer f.Close()
	lines, readErr := nonBlankLines(f)
	for n, line := range lines {
		rec, err := runreport.ParseRecord(line)
		if err != nil {
			return usagef("%s line %d is not a lambdafan result", path, n)
		}
		a.Add(&rec)
	}
	if err := readErr(); err != nil {
		return usagef("read %s: %v", path, err)
	}
	return nil
}

// countingWriter counts what it passes on.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
