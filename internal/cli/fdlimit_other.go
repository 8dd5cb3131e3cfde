//go:build !unix

package cli

// openFileLimit is the process's limit of open files, 0 when unknown: on
// this platform it is not known, and connections are not capped.
func openFileLimit() uint64 { return 0 }
