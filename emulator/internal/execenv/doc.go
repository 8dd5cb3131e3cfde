// Package execenv runs execution environments: processes speaking the
// Lambda Runtime API, started from a function's command, initialised
// within an init phase of their own, kept warm and reused, frozen between
// invocations, restarted after a crash, killed at a timeout, and stopped
// the way Lambda stops them, when the pool closes or when they stay idle.
//
// A [Pool] holds one function's environments. Each is one process with
// its own Runtime API endpoint (AWS_LAMBDA_RUNTIME_API, served on a
// loopback port by a small HTTP/1.1 server of this package), whose
// output becomes the log of the invocations it runs. The emulator's
// Invoke API hands a Pool one [Invocation] at a time per caller, under its
// own concurrency limits; the Pool starts the invocation's clock when its
// environment is ready for it (Invocation.Begin), enforces its deadline
// and reports the [Output].
//
// Only an environment's own processes may use its Runtime API
// (runtimepeer.go), whose connections have deadlines (runtimelimits.go);
// a runtime may stream its response, which reaches the caller as it
// arrives (runtimestream.go).
package execenv
