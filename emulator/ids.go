package emulator

import "github.com/lambdafan/lambdafan/emulator/internal/wire"

// newRequestID returns a random (version 4) UUID, the form of Lambda
// request IDs.
func newRequestID() string { return wire.NewRequestID() }
