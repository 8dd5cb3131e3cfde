package functionsfile

import "github.com/lambdafan/lambdafan/emulator"

// builtinHandler returns the handler of the built-in function called name,
// or ok=false and the names there are, in order, for the error.
//
// It looks in [emulator.BuiltinFunctions] rather than asking the emulator
// for a handler by name, so that the emulator exports one list of
// built-ins, not three ways into it.
func builtinHandler(name string) (h emulator.Handler, ok bool, names []string) {
	for _, fn := range emulator.BuiltinFunctions() {
		if fn.Name == name {
			return fn.Handler, true, nil
		}
		names = append(names, fn.Name)
	}
	return nil, false, names
}
