package sandbox

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The init's part of the egress channel (see egress.go): standard library
// and x/sys/unix only, as the rest of the init.

// handOverEgress runs in the init, inside the new network namespace with
// loopback up: it listens on 127.0.0.1:EgressPort and sends the
// listening descriptor to the caller, keeping no copy.
func handOverEgress() error {
	ch := os.NewFile(egressFD, "egress")
	defer ch.Close()
	lfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("egress listener: %w", err)
	}
	defer unix.Close(lfd)
	if err := unix.Bind(lfd, &unix.SockaddrInet4{Port: EgressPort, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return fmt.Errorf("egress listener on 127.0.0.1:%d: %w", EgressPort, err)
	}
	if err := unix.Listen(lfd, 128); err != nil {
		return fmt.Errorf("egress listener: %w", err)
	}
	if err := unix.Sendmsg(int(ch.Fd()), []byte{0}, unix.UnixRights(lfd), nil, 0); err != nil {
		return fmt.Errorf("handing over the egress listener: %w", err)
	}
	return nil
}
