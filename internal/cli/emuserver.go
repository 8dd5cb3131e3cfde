package cli

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/lambdafan/lambdafan/emulator"
)

// emulatorServer is an emulator served over HTTP on a listener, behind the
// limits of defaultServerLimits: what `lambdafan serve` and --local share.
// Its owner stops it with shutdown or close, which wait for the serving
// goroutine, unless stopped reported that it stopped on its own.
type emulatorServer struct {
	emu    *emulator.Server
	srv    *http.Server
	url    string     // "http://" and the listener's address
	served chan error // Serve's error, once Serve returns
}

// serveEmulator serves emu on ln in a new goroutine. The caller still owns
// emu: serveEmulator neither shuts it down nor closes it, except as
// shutdown and close say.
func serveEmulator(emu *emulator.Server, ln net.Listener) *emulatorServer {
	srv, capped := newHTTPServer(emu, ln, defaultServerLimits())
	s := &emulatorServer{
		emu:    emu,
		srv:    srv,
		url:    "http://" + ln.Addr().String(),
		served: make(chan error, 1),
	}
	go func() { s.served <- srv.Serve(capped) }()
	return s
}

// stopped delivers the error of an HTTP server that stopped serving on its
// own (a failing listener). Once a value was received from it, shutdown
// and close must not be called.
func (s *emulatorServer) stopped() <-chan error { return s.served }

// shutdown stops taking connections, then lets requests in flight, running
// invocations and queued events finish until ctx is done (the emulator
// then cancels what still runs), and waits for the serving goroutine.
func (s *emulatorServer) shutdown(ctx context.Context) error {
	err := errors.Join(s.srv.Shutdown(ctx), s.emu.Shutdown(ctx))
	<-s.served
	return err
}

// close gives queued Event invocations up to grace, stops the emulator,
// then closes the HTTP server and waits for the serving goroutine. It is
// for a server whose clients are done: closing (rather than a graceful
// shutdown) drops connections that clients opened but never used, which a
// graceful shutdown would wait seconds for. Running out of grace is not an
// error: the events left are dropped.
func (s *emulatorServer) close(grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var err error
	if shutdownErr := s.emu.Shutdown(ctx); shutdownErr != nil && !errors.Is(shutdownErr, context.DeadlineExceeded) {
		err = shutdownErr
	}
	err = errors.Join(err, s.srv.Close())
	if serveErr := <-s.served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}
