package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// signalWatcher turns interrupts into a run's two stages: the first stops
// intake — no request is read and no attempt starts after it — and lets
// the invocations in flight finish, for up to the grace period; the
// second, or the end of the grace period, aborts them. An output that
// fails (standard output closed by `| head`) stops the run the same way
// as a first interrupt.
type signalWatcher struct {
	stopIntake   func()
	wasSignaled  atomic.Bool
	outputFailed chan struct{}
	failOnce     sync.Once
	done         chan struct{}
	goroutine    sync.WaitGroup
}

// watchSignals starts watching signals for the run.
func (env *invokeEnv) watchSignals(signals <-chan os.Signal, stopIntake, abort func()) *signalWatcher {
	w := &signalWatcher{stopIntake: stopIntake, outputFailed: make(chan struct{}), done: make(chan struct{})}
	w.goroutine.Go(func() { w.watch(signals, abort, env.opts.grace, env.stdio.Err) })
	return w
}

func (w *signalWatcher) watch(signals <-chan os.Signal, abort func(), grace time.Duration, stderr io.Writer) {
	select {
	case <-signals:
		w.wasSignaled.Store(true)
		w.stopIntake()
		fmt.Fprintf(stderr, "\nlambdafan: stopping: no new invocations; waiting up to %v for those in flight (interrupt again to abort them)\n", grace)
	case <-w.outputFailed:
		fmt.Fprintf(stderr, "lambdafan: cannot write results: no new invocations; waiting up to %v for those in flight\n", grace)
	case <-w.done:
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-signals:
		fmt.Fprintln(stderr, "lambdafan: aborting the invocations in flight")
		abort()
	case <-t.C:
		fmt.Fprintln(stderr, "lambdafan: grace period over: aborting the invocations still in flight")
		abort()
	case <-w.done:
	}
}

// outputError stops intake at once (no attempt starts after the output
// failed) and starts the grace period for the invocations in flight.
func (w *signalWatcher) outputError(error) {
	w.stopIntake()
	w.failOnce.Do(func() { close(w.outputFailed) })
}

// interrupted reports whether a signal has stopped the run.
func (w *signalWatcher) interrupted() bool { return w.wasSignaled.Load() }

// stop ends the watch once the run is over and reports whether it was
// interrupted.
func (w *signalWatcher) stop() bool {
	close(w.done)
	w.goroutine.Wait()
	return w.interrupted()
}
