//go:build unix

package execenv

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// startInOwnGroup makes cmd's process lead a new process group, so that
// signalling the environment reaches whatever the runtime started too.
func startInOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminateGroup asks the process group led by p to stop (SIGTERM).
func terminateGroup(p *os.Process) error { return signalGroup(p, syscall.SIGTERM) }

// killGroup kills the process group led by p (SIGKILL).
func killGroup(p *os.Process) error { return signalGroup(p, syscall.SIGKILL) }

// canFreeze reports that process groups can be stopped and continued.
const canFreeze = true

// stopGroup freezes the process group led by p (SIGSTOP).
func stopGroup(p *os.Process) error { return signalGroup(p, syscall.SIGSTOP) }

// continueGroup thaws the process group led by p (SIGCONT).
func continueGroup(p *os.Process) error { return signalGroup(p, syscall.SIGCONT) }

func signalGroup(p *os.Process, sig syscall.Signal) error {
	err := syscall.Kill(-p.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // the group is gone already
	}
	return err
}

// readNonblocking reads from a non-blocking file descriptor. It reports
// wouldBlock instead of an error when nothing is available yet.
func readNonblocking(fd uintptr, p []byte) (n int, wouldBlock bool, err error) {
	for {
		n, err = syscall.Read(int(fd), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, true, nil
		case n < 0:
			n = 0
		}
		return n, false, err
	}
}
