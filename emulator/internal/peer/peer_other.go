//go:build !linux

package peer

import (
	"errors"
	"net"
)

// Supported reports whether InGroup can tell who is connected on this
// system.
const Supported = false

// InGroup cannot tell who is connected on this system.
func InGroup(net.Conn, int) (bool, error) {
	return false, errors.ErrUnsupported
}
