package supervise

import (
	"os"
	"path/filepath"
	"strings"
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

// TestWidenPipe: a pipe gets PipeBuffer bytes of kernel buffer (as an
// unprivileged user too: it is at most /proc/sys/fs/pipe-max-size), while
// a regular file and a value that is no file are left alone.
func TestWidenPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := WidenPipe(w); err != nil {
		t.Fatal(err)
	}
	if size, err := unix.FcntlInt(r.Fd(), unix.F_GETPIPE_SZ, 0); err != nil || size != PipeBuffer {
		t.Fatalf("pipe buffer = %d, %v; want %d", size, err, PipeBuffer)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "file"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := WidenPipe(f); err != nil {
		t.Errorf("regular file: %v", err)
	}
	if err := WidenPipe(strings.NewReader("")); err != nil {
		t.Errorf("not a file: %v", err)
	}
}
