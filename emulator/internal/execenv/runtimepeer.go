package execenv

import (
	"net"

	"github.com/lambdafan/lambdafan/emulator/internal/peer"
)

// Only an environment's own runtime may use its Runtime API. The API is
// plain HTTP on a loopback port that any local process can connect to, and
// a process that fetched an invocation with GET /next could answer it: the
// caller would get the forged answer. Where the system tells who is at the
// other end of a connection (Linux: package peer), a connection is served
// only when that process is in the environment's process group — the
// process the pool started, or one it started.
//
// Elsewhere any local process is served. The only defence left there is
// partial: an environment that runs one invocation at a time refuses a
// second /next while one waits (singleNext), since its runtime never
// polls twice at once; a process that polls first, before the runtime has,
// still takes the invocation.

// admitFunc reports whether the process at the other end of a Runtime API
// connection may use it.
type admitFunc func(c net.Conn) bool

// admitGroup admits the processes of process group pgid, where peer
// identity is supported, and every process elsewhere.
func admitGroup(pgid int) admitFunc {
	if !peer.Supported {
		return admitAny
	}
	return func(c net.Conn) bool {
		ok, err := peer.InGroup(c, pgid)
		return ok && err == nil
	}
}

// admitAny admits every process.
func admitAny(net.Conn) bool { return true }

// admits reports whether rc's peer may use the Runtime API. An
// environment without a policy admits nobody.
func (e *environment) admits(rc *runtimeConn) bool {
	if e.admit != nil && e.admit(rc.c) {
		return true
	}
	e.pool.log.Warn("refused a Runtime API connection from a process outside the execution environment",
		"function", e.pool.name, "remote", rc.c.RemoteAddr().String())
	return false
}
