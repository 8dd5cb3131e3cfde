package cli

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/lambdafan/lambdafan/emulator"
)

// localEmulator is the in-process emulator of --local: a real HTTP server
// on a loopback port, so requests take the same signed HTTP path as
// against AWS.
type localEmulator struct {
	// server is named rather than embedded: its shutdown and close
	// would stop the emulator without the cleanup.
	server  *emulatorServer
	url     string
	cleanup func() error // removes what loading the functions built

	accessKeyID, secretAccessKey string
}

// localShutdownGrace bounds how long --local waits, after the run, for
// queued Event invocations before dropping them.
const localShutdownGrace = 2 * time.Second

// startLocal starts the emulator with the built-in functions, or with the
// functions defined in functionsFile when it is not empty.
func startLocal(functionsFile string) (*localEmulator, error) {
	fns, accountConcurrency, cleanup, err := emulatorFunctions(functionsFile)
	if err != nil {
		return nil, err
	}
	cfg := emulator.Config{
		Functions:          fns,
		AccountConcurrency: accountConcurrency,
		// A run ends when its last answer arrives; failed Event
		// invocations are retried as in Lambda, but within the run's
		// shutdown grace instead of one and two minutes later.
		EventRetryDelays: []time.Duration{10 * time.Millisecond, 20 * time.Millisecond},
	}
	emu, err := emulator.New(cfg)
	if err != nil {
		cleanup()
		return nil, usagef("local emulator: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		emu.Close()
		cleanup()
		return nil, fmt.Errorf("local emulator: %w", err)
	}
	server := serveEmulator(emu, ln)
	l := &localEmulator{server: server, url: server.url, cleanup: cleanup}
	l.accessKeyID, l.secretAccessKey = emu.Credentials()
	return l, nil
}

func (l *localEmulator) functionList() string {
	return strings.Join(l.server.emu.Functions(), ", ")
}

// close gives queued Event invocations a short grace period and stops the
// emulator and its HTTP server (see emulatorServer.close: the run is over
// by then, so no request is in flight), then removes what loading the
// functions built.
func (l *localEmulator) close() error {
	err := l.server.close(localShutdownGrace)
	return errors.Join(err, l.server.emu.Close(), l.cleanup())
}
