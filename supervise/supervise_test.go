package supervise

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func nonblocking(t *testing.T, fd int) bool {
	t.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fl&unix.O_NONBLOCK != 0
}

// A pipe or socket from the client goes to the poller; a regular file
// (or a terminal, which a shell shares) is left blocking.
func TestPollable(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	r := os.NewFile(uintptr(p[0]), "r")
	defer r.Close()
	defer syscall.Close(p[1])
	if nonblocking(t, p[0]) {
		t.Fatal("the pipe starts non-blocking")
	}
	got := Pollable(r, p[0])
	if !nonblocking(t, p[0]) || got == r {
		t.Errorf("a pipe was not made pollable")
	}
	if _, err := syscall.Write(p[1], []byte("x\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := got.Read(buf); err != nil || string(buf[:n]) != "x\n" {
		t.Errorf("read through the pollable file: %q, %v", buf[:n], err)
	}

	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := Pollable(f, int(f.Fd())); got != f || nonblocking(t, int(f.Fd())) {
		t.Error("a regular file was changed")
	}
}
