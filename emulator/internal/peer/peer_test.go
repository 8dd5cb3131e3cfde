package peer

import (
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// connectEnv makes the test binary, re-executed, a process that connects
// to the address in it and holds the connection until its standard input
// closes.
const connectEnv = "PEER_TEST_CONNECT"

func TestMain(m *testing.M) {
	if addr := os.Getenv(connectEnv); addr != "" {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			os.Exit(3)
		}
		io.Copy(io.Discard, os.Stdin)
		c.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// connectedChild starts the test binary as a process in its own group that
// connects to ln, and returns the accepted connection and the group.
func connectedChild(tb testing.TB, ln net.Listener) (net.Conn, int) {
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), connectEnv+"="+ln.Addr().String())
	child.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := child.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := child.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stdin.Close(); child.Wait() })
	c, err := ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c, child.Process.Pid
}

func listen(tb testing.TB) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}

func TestInGroup(t *testing.T) {
	if !Supported {
		t.Skip("peer identity is not supported on this system")
	}
	ln := listen(t)
	fromChild, pgid := connectedChild(t, ln) // like an execution environment's runtime

	// Another local process: this one.
	mine, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	fromMe, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer fromMe.Close()

	tests := []struct {
		name string
		c    net.Conn
		pgid int
		want bool
	}{
		{"the group's own process", fromChild, pgid, true},
		{"a process of another group", fromMe, pgid, false},
		{"the child, asked about another group", fromChild, syscall.Getpgrp(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InGroup(tt.c, tt.pgid)
			if err != nil || got != tt.want {
				t.Errorf("InGroup = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestProcAddr(t *testing.T) {
	got := procAddr(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 0x1F90})
	if want := "0100007F:1F90"; got != want {
		t.Errorf("procAddr = %q, want %q", got, want)
	}
}

func BenchmarkInGroup(b *testing.B) {
	c, pgid := connectedChild(b, listen(b))
	for b.Loop() {
		if ok, err := InGroup(c, pgid); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func TestInodeLookupsAgree(t *testing.T) {
	if !Supported {
		t.Skip("peer identity is not supported on this system")
	}
	ln := listen(t)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	local, remote := s.LocalAddr().(*net.TCPAddr), s.RemoteAddr().(*net.TCPAddr)
	fromDiag, err := diagInode(remote, local)
	if err != nil {
		t.Fatal(err)
	}
	fromTable, err := socketInode("/proc/net/tcp", remote, local)
	if err != nil {
		t.Fatal(err)
	}
	if fromDiag == "" || fromDiag == "0" || fromDiag != fromTable {
		t.Errorf("sock_diag says inode %q, /proc/net/tcp %q", fromDiag, fromTable)
	}
	// No such connection: no inode, no error.
	if inode, err := diagInode(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, local); inode != "" || err != nil {
		t.Errorf("a connection that does not exist: inode %q, err %v", inode, err)
	}
}
