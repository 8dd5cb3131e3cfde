package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/lambdafan/lambdafan/emulator"
)

// localEmulator is the in-process emulator of --local: a real HTTP server
// on a loopback port, so requests take the same signed HTTP path as
// against AWS.
type localEmulator struct {
	emu      *emulator.Server
	srv      *http.Server
	serveErr chan error
	url      string
	cleanup  func() error // removes what loading the functions built

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
	srv, capped := newHTTPServer(emu, ln, defaultServerLimits())
	l := &localEmulator{
		emu:      emu,
		cleanup:  cleanup,
		srv:      srv,
		serveErr: make(chan error, 1),
		url:      "http://" + ln.Addr().String(),
	}
	l.accessKeyID, l.secretAccessKey = emu.Credentials()
	go func() { l.serveErr <- l.srv.Serve(capped) }()
	return l, nil
}

func (l *localEmulator) functionList() string {
	return strings.Join(l.emu.Functions(), ", ")
}

// close gives queued Event invocations a short grace period, stops the
// emulator, then closes the HTTP server. The run is over by then, so no
// request is in flight; closing (rather than a graceful shutdown) also
// drops connections the client opened but never used, which a graceful
// shutdown would wait seconds for.
func (l *localEmulator) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), localShutdownGrace)
	defer cancel()
	var err error
	if shutdownErr := l.emu.Shutdown(ctx); shutdownErr != nil && !errors.Is(shutdownErr, context.DeadlineExceeded) {
		err = shutdownErr
	}
	err = errors.Join(err, l.srv.Close())
	if serveErr := <-l.serveErr; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return errors.Join(err, l.emu.Close(), l.cleanup())
}
