package peer

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Supported reports whether InGroup can tell who is connected on this
// system.
const Supported = true

// InGroup reports whether the process at the other end of c, a TCP
// connection accepted on a loopback IPv4 address, is in process group
// pgid. It asks the kernel for the peer socket's inode (sock_diag, or
// /proc/net/tcp without it) and looks for it among the file descriptors
// of the group's processes in /proc.
func InGroup(c net.Conn, pgid int) (bool, error) {
	local, ok1 := c.LocalAddr().(*net.TCPAddr)
	remote, ok2 := c.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 || local.IP.To4() == nil || remote.IP.To4() == nil {
		return false, fmt.Errorf("peer: %v is not an IPv4 TCP connection", c.RemoteAddr())
	}
	// The peer's socket is the one whose local end is our remote end.
	inode, err := diagInode(remote, local)
	if err != nil {
		// No sock_diag (an old or restricted kernel): the table lists
		// every TCP socket of the network namespace.
		if inode, err = socketInode("/proc/net/tcp", remote, local); err != nil {
			return false, err
		}
	}
	if inode == "" {
		return false, nil // gone, or not a socket of this network namespace
	}
	return groupHolds(pgid, "socket:["+inode+"]")
}

// socketInode finds, in a /proc/net/tcp table, the inode of the socket
// whose local address is local and remote address remote.
func socketInode(table string, local, remote *net.TCPAddr) (string, error) {
	f, err := os.Open(table)
	if err != nil {
		return "", fmt.Errorf("peer: %w", err)
	}
	defer f.Close()
	wantLocal, wantRemote := procAddr(local), procAddr(remote)
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 10 {
			continue
		}
		if string(fields[1]) == wantLocal && string(fields[2]) == wantRemote {
			return string(fields[9]), nil
		}
	}
	return "", sc.Err()
}

// procAddr formats an IPv4 address and port as /proc/net/tcp does: the
// address as a 32-bit number in host (little-endian) byte order, then
// the port, both in upper-case hexadecimal.
func procAddr(a *net.TCPAddr) string {
	ip := a.IP.To4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], a.Port)
}

// groupHolds reports whether a process of group pgid has a file
// descriptor that links to target ("socket:[inode]"). It looks at the
// group's leader and its descendants (from /proc/PID/task/TID/children),
// the leader first: the runtime that connects to its Runtime API is
// almost always the process the emulator started, which leads the group.
// A process that left the tree (a daemon) is not found.
func groupHolds(pgid int, target string) (bool, error) {
	queue := []int{pgid}
	seen := map[int]bool{}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if seen[pid] || !inGroup(pid, pgid) {
			continue
		}
		seen[pid] = true
		if holds(pid, target) {
			return true, nil
		}
		queue = append(queue, children(pid)...)
	}
	return false, nil
}

// holds reports whether process pid has a file descriptor linking to
// target.
func holds(pid int, target string) bool {
	fdDir := "/proc/" + strconv.Itoa(pid) + "/fd"
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return false // exited meanwhile
	}
	for _, fd := range fds {
		if link, err := os.Readlink(fdDir + "/" + fd.Name()); err == nil && link == target {
			return true
		}
	}
	return false
}

// children lists the child processes of pid's threads.
func children(pid int) []int {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		return nil
	}
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", t.Name(), "children"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// inGroup reports whether process pid is in process group pgid, from
// /proc/PID/stat: "pid (comm) state ppid pgrp …", where comm may hold
// spaces and parentheses, so the fields are counted after the last ')'.
func inGroup(pid, pgid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return false
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 3 {
		return false
	}
	g, err := strconv.Atoi(fields[2])
	return err == nil && g == pgid
}
