package cli

// Sent marks make a resumed run precise after a crash of the process (a
// SIGKILL, an out-of-memory kill, a panic) while the machine stays up,
// which is by far the most common crash.
//
// The journal records a request when it is read, ahead of sending it, so
// that the fsync is off the request's path; after a crash it cannot tell
// the requests that were sent from those that were only read. Just before
// a request's first attempt, its bit is set in a memory-mapped file beside
// the journal: a store to shared memory, no system call. The kernel keeps
// that page when the process dies, so a resumed run on the same boot knows
// exactly which journaled requests were sent. After a reboot (power loss,
// a kernel crash) the page may not have reached the disk: the journal's
// header names the boot it was written in, and a resumed run on another
// boot ignores the marks and treats every journaled request as possibly
// sent.

// sentMarksPath returns where the sent marks of a run writing output live.
func sentMarksPath(output string) string { return output + ".journal.sent" }

// sentMarksLines is how many input lines the marks cover: one bit each in
// a sparse file of 128 MiB, of which only the pages touched take space.
// A request on a later line is treated as possibly sent if it was
// journaled.
const sentMarksLines = 1 << 30
