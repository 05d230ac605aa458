package sandbox

import (
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// With network = "proxy", the server's network namespace has only
// loopback, and its one way out is a TCP listener on 127.0.0.1:EgressPort
// there. The init creates that listener inside the namespace and hands
// the listening descriptor to the caller over a UNIX socket pair
// (SCM_RIGHTS); the caller accepts on it from outside the sandbox and
// serves each connection with the egress proxy. A listening socket keeps
// its namespace, so connections made inside arrive, and the connections
// accepted from it are the namespace's, whichever process accepts them.
//
// This leaves nothing of the proxy inside the sandbox: no forwarder
// process the server could signal, trace or outlive, no UNIX socket
// mounted into the view that would have to be kept out of Landlock's
// way, and no code that parses the server's bytes running with the
// server's uid in its namespace. The server can only connect to the port
// (Landlock, ABI 4, allows no other TCP connect and no bind), and the
// init holds the listener only until it is sent, before the server
// starts; the descriptor is close-on-exec throughout.

// EgressPort is the port of 127.0.0.1 inside the sandbox on which the
// egress proxy listens.
const EgressPort = 3128

// egressFD is the descriptor on which the init finds its end of the
// socket pair: the second of exec.Cmd.ExtraFiles, after the Config.
const egressFD = 4

// Egress is the channel on which the init hands over the egress proxy's
// listener. Make one with [NewEgress], put it in [Config.Egress], start
// the command, and call [Egress.Listener].
type Egress struct {
	parent, child *os.File
}

// NewEgress makes the socket pair for one sandbox.
func NewEgress() (*Egress, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sandbox: egress channel: %w", err)
	}
	return &Egress{parent: os.NewFile(uintptr(fds[0]), "egress"), child: os.NewFile(uintptr(fds[1]), "egress-init")}, nil
}

// Listener waits for the init to send the listener, after the command
// has started, and returns it. It fails when the init ends without
// sending it (the sandbox could not be built; the init says why on its
// standard error).
func (e *Egress) Listener() (net.Listener, error) {
	if e.child != nil {
		// The init has its copy; with ours closed, the init's exit ends
		// the wait below.
		e.child.Close()
		e.child = nil
	}
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	var n, oobn int
	var err error
	for {
		n, oobn, _, _, err = unix.Recvmsg(int(e.parent.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: receiving the egress listener: %w", err)
	}
	if n == 0 && oobn == 0 {
		return nil, errors.New("sandbox: the sandbox ended before handing over the egress listener")
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("sandbox: egress listener: malformed message (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("sandbox: egress listener: want one descriptor (%v)", err)
	}
	f := os.NewFile(uintptr(fds[0]), "egress-listener")
	defer f.Close()
	l, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("sandbox: egress listener: %w", err)
	}
	return l, nil
}

// Close releases the channel; the listener, once received, is separate.
func (e *Egress) Close() error {
	if e.child != nil {
		e.child.Close()
	}
	return e.parent.Close()
}

// egressFiles returns the descriptor Command passes to the init for
// cfg's network, if any, or why it cannot.
func egressFiles(cfg Config) ([]*os.File, error) {
	if cfg.Network != NetworkProxy {
		return nil, nil
	}
	if cfg.Egress == nil || cfg.Egress.child == nil {
		return nil, errors.New(`sandbox: network "proxy" needs Config.Egress (see NewEgress)`)
	}
	return []*os.File{cfg.Egress.child}, nil
}

// egressConnectPorts are the TCP ports Landlock lets the server connect
// to for the network mode.
func egressConnectPorts(network string) []uint16 {
	if network == NetworkProxy {
		return []uint16{EgressPort}
	}
	return nil
}
