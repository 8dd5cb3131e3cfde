//go:build !unix

package execenv

import (
	"errors"
	"os"
	"os/exec"
)

// startInOwnGroup does nothing where process groups do not exist.
func startInOwnGroup(cmd *exec.Cmd) {}

// terminateGroup stops p; without SIGTERM this is a kill.
func terminateGroup(p *os.Process) error { return killGroup(p) }

// killGroup kills p (its own children are not reached on this system).
func killGroup(p *os.Process) error {
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// canFreeze reports that processes cannot be stopped here.
const canFreeze = false

// stopGroup is never called where canFreeze is false.
func stopGroup(p *os.Process) error { return errors.ErrUnsupported }

// continueGroup is never called where canFreeze is false.
func continueGroup(p *os.Process) error { return errors.ErrUnsupported }

// readNonblocking is not available here; output is read by blocking reads.
func readNonblocking(fd uintptr, p []byte) (int, bool, error) {
	return 0, false, errors.ErrUnsupported
}
