// Package functionsfile loads functions files: the YAML definitions of the
// functions `lambdafan serve --functions` and `lambdafan invoke --local
// --functions` serve, turned into the [emulator.Function] values of an
// [emulator.Config]. docs/FUNCTIONS.md describes the format.
package functionsfile
