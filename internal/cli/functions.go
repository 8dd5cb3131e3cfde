package cli

import (
	"github.com/lambdafan/lambdafan/emulator"
	"github.com/lambdafan/lambdafan/emulator/functionsfile"
)

// emulatorFunctions returns the functions an emulator serves: those defined
// in path, or the built-ins when path is empty, with the account concurrency
// the file sets (0 when it sets none) and a cleanup that removes what
// loading built.
func emulatorFunctions(path string) (fns []emulator.Function, accountConcurrency int, cleanup func() error, err error) {
	if path == "" {
		return emulator.BuiltinFunctions(), 0, func() error { return nil }, nil
	}
	file, err := functionsfile.Load(path)
	if err != nil {
		return nil, 0, nil, usagef("--functions: %v", err)
	}
	return file.Functions, file.AccountConcurrency, file.Close, nil
}
