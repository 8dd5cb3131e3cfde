package peer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// Constants of the kernel's sock_diag netlink interface
// (linux/sock_diag.h, linux/inet_diag.h).
const (
	netlinkInetDiag    = 4  // NETLINK_INET_DIAG (= NETLINK_SOCK_DIAG)
	sockDiagByFamily   = 20 // SOCK_DIAG_BY_FAMILY
	inetDiagReqV2Size  = 56 // struct inet_diag_req_v2
	inetDiagMsgSize    = 72 // struct inet_diag_msg
	inetDiagNoCookie   = 0xFFFFFFFF
	inetDiagInodeStart = 68 // offset of idiag_inode in inet_diag_msg
)

// diagInode asks the kernel, through sock_diag, for the inode of the TCP
// socket whose local end is local and remote end remote: one exact lookup,
// where reading /proc/net/tcp costs a line per socket on the machine.
func diagInode(local, remote *net.TCPAddr) (string, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, netlinkInetDiag)
	if err != nil {
		return "", fmt.Errorf("sock_diag socket: %w", err)
	}
	defer syscall.Close(fd)

	req := make([]byte, syscall.NLMSG_HDRLEN+inetDiagReqV2Size)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))      // nlmsg_len
	ne.PutUint16(req[4:], sockDiagByFamily)      // nlmsg_type
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST) // nlmsg_flags: one socket, no dump
	body := req[syscall.NLMSG_HDRLEN:]
	body[0] = syscall.AF_INET          // sdiag_family
	body[1] = syscall.IPPROTO_TCP      // sdiag_protocol
	ne.PutUint32(body[4:], 0xFFFFFFFF) // idiag_states: any
	id := body[8:]                     // struct inet_diag_sockid
	binary.BigEndian.PutUint16(id[0:], uint16(local.Port))
	binary.BigEndian.PutUint16(id[2:], uint16(remote.Port))
	copy(id[4:8], local.IP.To4())
	copy(id[20:24], remote.IP.To4())
	ne.PutUint32(id[40:], inetDiagNoCookie)
	ne.PutUint32(id[44:], inetDiagNoCookie)
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return "", fmt.Errorf("sock_diag request: %w", err)
	}

	buf := make([]byte, 4096)
	n, _, err := syscall.Recvfrom(fd, buf, 0)
	if err != nil {
		return "", fmt.Errorf("sock_diag answer: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return "", fmt.Errorf("sock_diag answer: %w", err)
	}
	for _, m := range msgs {
		switch m.Header.Type {
		case syscall.NLMSG_ERROR:
			if len(m.Data) >= 4 {
				if errno := int32(ne.Uint32(m.Data)); errno != 0 {
					if syscall.Errno(-errno) == syscall.ENOENT {
						return "", nil // no such socket
					}
					return "", fmt.Errorf("sock_diag: %w", syscall.Errno(-errno))
				}
			}
		case sockDiagByFamily:
			if len(m.Data) < inetDiagMsgSize {
				return "", errors.New("sock_diag: short answer")
			}
			return strconv.FormatUint(uint64(ne.Uint32(m.Data[inetDiagInodeStart:])), 10), nil
		}
	}
	return "", nil
}
