// Package peer tells which process is at the other end of a loopback TCP
// connection, so that an execution environment's Runtime API serves only
// that environment's own processes.
//
// The Runtime API is plain HTTP on a loopback port (runtimes take it as
// AWS_LAMBDA_RUNTIME_API=host:port and cannot be given a secret), so any
// local process could connect to it, take the next invocation with GET
// /next and post a forged answer. On Linux the kernel says who is
// connected: the peer's socket appears in /proc/net/tcp with its inode,
// and the inode among the file descriptors of the process holding it. A
// connection is accepted when that process is in the environment's
// process group.
package peer
