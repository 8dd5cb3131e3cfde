package emulator

import "github.com/lambdafan/lambdafan/internal/lambdaapi"

// newRequestID returns a random (version 4) UUID, the form of Lambda
// request IDs.
func newRequestID() string { return lambdaapi.NewRequestID() }
