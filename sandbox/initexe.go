package sandbox

import (
	"bytes"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// InitName is the file name of the init stage's own small executable,
// installed beside mcpwarden (cmd/mcpwarden-init).
//
// The init could always be the running binary started again, but that
// binary links every guard mcpwarden has, and the Go runtime runs all of
// their package initialisers before main: paid once more by every server
// start for code the init never calls. The small executable links only
// this package.
const InitName = "mcpwarden-init"

// buildIDWindow is how much of an executable's head is searched for its Go
// build ID: the linker writes the note that holds it right after the ELF
// headers.
const buildIDWindow = 8192

// openInit opens the init executable installed beside the running binary
// when its Go build ID is buildID, the one the running binary was built
// with, and returns nil otherwise: missing, not a regular file, writable by
// others than its owner, not owned by the owner of the running binary, or
// from another build. An init from another build would speak another
// configuration format or lack a protection of this one, so it is never
// used; the running binary then starts itself.
func openInit(buildID string) *os.File {
	// A Go build ID is four hashes, 80 characters and more: a short
	// string could be found in any executable.
	if len(buildID) < 40 {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	var selfSt unix.Stat_t
	if unix.Stat(self, &selfSt) != nil {
		return nil
	}
	fd, err := unix.Open(filepath.Join(filepath.Dir(self), InitName), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), InitName)
	if !trustedInit(fd, selfSt.Uid, buildID) {
		f.Close()
		return nil
	}
	return f
}

// trustedInit checks the opened init executable: see openInit.
func trustedInit(fd int, owner uint32, buildID string) bool {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG ||
		st.Mode&0o022 != 0 || st.Mode&0o111 == 0 || st.Uid != owner {
		return false
	}
	head := make([]byte, buildIDWindow)
	n, err := unix.Pread(fd, head, 0)
	if err != nil {
		return false
	}
	return bytes.Contains(head[:n], []byte(buildID))
}
