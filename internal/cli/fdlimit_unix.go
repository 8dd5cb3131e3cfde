//go:build unix

package cli

import "syscall"

// openFileLimit is the process's limit of open files (RLIMIT_NOFILE), 0
// when unknown.
func openFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return uint64(lim.Cur)
}
