// Command lambdafan invokes AWS Lambda functions en masse and serves a
// local Lambda emulator. Run `lambdafan help` for usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/lambdafan/lambdafan/internal/cli"
)

func main() {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	signal.Ignore(syscall.SIGPIPE) // a closed stdout is an error to handle, not death
	stdio := cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	os.Exit(cli.Main(context.Background(), os.Args[1:], stdio, signals))
}
