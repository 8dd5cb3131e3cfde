// Package cli implements the lambdafan command line: the invoke, summary,
// summary, validate, report, serve and version subcommands. cmd/lambdafan
// only wires it to the process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// Exit statuses.
const (
	// ExitOK: every invocation succeeded (or the command did its job).
	ExitOK = 0
	// ExitFailed: at least one invocation failed (invoke error, function
	// error, or bad input line).
	ExitFailed = 1
	// ExitUsage: the command line or the configuration is wrong; nothing
	// was invoked.
	ExitUsage = 2
	// ExitInterrupted: the run was interrupted before every request was
	// invoked; the output holds a result for each one that was.
	ExitInterrupted = 130
)

// Stdio are the standard streams of a command.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// usageError is a problem with the command line or configuration: it is
// reported with a hint and exits with ExitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Main runs the lambdafan command line with args (without the program name)
// and returns the process exit status. signals delivers interrupt requests:
// the first stops a run gracefully, the second aborts it.
func Main(ctx context.Context, args []string, stdio Stdio, signals <-chan os.Signal) int {
	if len(args) == 0 {
		fmt.Fprint(stdio.Err, mainUsage)
		return ExitUsage
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "invoke":
		return runInvoke(ctx, rest, stdio, signals)
	case "serve":
		err = runServe(ctx, rest, stdio, signals)
	case "summary":
		return runSummary(ctx, rest, stdio)
	case "validate":
		return runValidate(ctx, rest, stdio)
	case "report":
		return runReport(ctx, rest, stdio)
	case "collect":
		return runCollect(ctx, rest, stdio, signals)
	case "stop":
		return runStop(ctx, rest, stdio)
	case "version", "--version", "-version":
		fmt.Fprintln(stdio.Out, "lambdafan", version())
		return ExitOK
	case "help", "-h", "-help", "--help":
		return runHelp(rest, stdio)
	default:
		err = usagef("unknown command %q (commands: invoke, summary, validate, report, collect, stop, serve, version, help)", cmd)
	}
	return exitStatus(err, stdio.Err)
}

// exitStatus reports err on w and maps it to an exit status.
func exitStatus(err error, w io.Writer) int {
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errHelpShown):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(w, "lambdafan: %v\nRun 'lambdafan help' for usage.\n", err)
		return ExitUsage
	default:
		fmt.Fprintf(w, "lambdafan: %v\n", err)
		return ExitFailed
	}
}

// runHelp prints the usage of the command args names, or the overview. It
// prints the text itself rather than running the command with --help, so
// that no argument ("help help", "help --help") can make it recurse.
func runHelp(args []string, stdio Stdio) int {
	topic := ""
	if len(args) > 0 {
		topic = args[0]
	}
	switch topic {
	case "", "help", "-h", "-help", "--help":
		fmt.Fprint(stdio.Out, mainUsage)
	case "invoke":
		parseInvokeFlags([]string{"-help"}, stdio.Out, osGetenv)
	case "serve":
		parseServeFlags([]string{"-help"}, stdio.Out)
	case "summary":
		parseSummaryFlags([]string{"-help"}, stdio.Out)
	case "validate":
		parseValidateFlags([]string{"-help"}, stdio.Out)
	case "report":
		parseReportFlags([]string{"-help"}, stdio.Out)
	case "collect":
		parseExecutionFlags("collect", collectUsage, true, []string{"-help"}, stdio.Out)
	case "stop":
		parseExecutionFlags("stop", stopUsage, false, []string{"-help"}, stdio.Out)
	case "version":
		fmt.Fprintln(stdio.Out, "Usage: lambdafan version\n\nPrints the version lambdafan was built from.")
	default:
		return exitStatus(usagef("help: unknown command %q (commands: invoke, summary, validate, report, collect, stop, serve, version, help)", topic), stdio.Err)
	}
	return ExitOK
}

// version reports the module version the binary was built from.
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
