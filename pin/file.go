package pin

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/mcpwarden/mcpwarden/statedir"
)

// MaxFileBytes bounds a pin file. A larger file is refused when read, and a
// change that would make the file larger is refused rather than written, so
// that a server cannot make mcpwarden read or write without limit by
// announcing ever more tools.
const MaxFileBytes = 16 << 20

// DefaultDir returns the directory of pin files:
// $XDG_STATE_HOME/mcpwarden/pins, or $HOME/.local/state/mcpwarden/pins when
// XDG_STATE_HOME is unset or not absolute (as the XDG Base Directory
// specification requires). It is the directory beside the audit logs; both
// take it from [statedir.Dir].
func DefaultDir() (string, error) {
	dir, err := statedir.Dir()
	if err != nil {
		return "", fmt.Errorf("pin: default directory: %w", err)
	}
	return filepath.Join(dir, "pins"), nil
}

// fileBase turns a server name into the base of its file names with
// [statedir.FileBase], the rule the audit log uses too, so that the name can
// neither leave the directory nor hide the file nor collide with the
// temporary files. Two names that map to the same base share a file; the
// server name stored inside tells them apart and [Open] refuses the second.
func fileBase(server string) (string, error) {
	base, err := statedir.FileBase(server)
	if err != nil {
		return "", fmt.Errorf("pin: %w", err)
	}
	return base, nil
}

// openDir opens the pin directory, creating it with mode 0700 when missing,
// and checks that nobody but the current user can change what is in it.
// Every later access goes through the returned root, so the checked
// directory is the one used even if its path is swapped afterwards.
func openDir(dir string) (*os.Root, error) {
	if dir == "" {
		return nil, errors.New("pin: empty directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pin: create directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("pin: open directory: %w", err)
	}
	fi, err := root.Stat(".")
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("pin: check directory: %w", err)
	}
	if err := checkOwner(fi, dir, "directory"); err != nil {
		root.Close()
		return nil, err
	}
	return root, nil
}

// checkOwner refuses a file or directory that belongs to another user or
// that group or others may write to: whoever can write a pin file can
// accept any tool definition in the user's name.
func checkOwner(fi fs.FileInfo, path, what string) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("pin: refusing %s %s: owned by uid %d, not by the current user (uid %d)",
			what, path, st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("pin: refusing %s %s: mode %04o lets group or others write to it; run chmod go-w on it after checking its contents",
			what, path, perm)
	}
	return nil
}

// notLink refuses an opened file whose name is a symbolic link. Root
// follows links that stay inside the directory whatever the open flags, so
// the check comes after the open, on the name; a link there is a sign that
// something other than this package wrote in the directory.
func notLink(root *os.Root, name string, opened fs.FileInfo, path, what string) error {
	li, err := root.Lstat(name)
	if err != nil || li.Mode()&fs.ModeSymlink != 0 || !os.SameFile(opened, li) {
		return fmt.Errorf("pin: refusing %s %s: it is a symbolic link or was replaced while being opened", what, path)
	}
	return nil
}

// lockFile takes an flock(2) lock on the lock file beside a pin file,
// exclusive for changes and shared for reads. The lock belongs to the open
// file description, so it serialises goroutines of one process as well as
// separate processes. Closing the returned file releases it.
func lockFile(root *os.Root, dir, name string, exclusive bool) (*os.File, error) {
	f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pin: open lock file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pin: check lock file: %w", err)
	}
	path := filepath.Join(dir, name)
	if err := notLink(root, name, fi, path, "lock file"); err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("pin: refusing lock file %s: not a regular file (%s)", path, fi.Mode().Type())
	}
	if err := checkOwner(fi, path, "lock file"); err != nil {
		f.Close()
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pin: lock %s: %w", path, err)
	}
	return f, nil
}

// readFile returns the contents of a pin file, or nil and no error when it
// does not exist. The file must be a regular file of the current user that
// group and others cannot write, and at most [MaxFileBytes] long.
func readFile(root *os.Root, dir, name string) ([]byte, error) {
	path := filepath.Join(dir, name)
	// O_NONBLOCK keeps a FIFO in the file's place from blocking the open.
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pin: open pin file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("pin: check pin file: %w", err)
	}
	if err := notLink(root, name, fi, path, "pin file"); err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("pin: refusing pin file %s: not a regular file (%s)", path, fi.Mode().Type())
	}
	if err := checkOwner(fi, path, "pin file"); err != nil {
		return nil, err
	}
	if fi.Size() > MaxFileBytes {
		return nil, fmt.Errorf("pin: refusing pin file %s: %d bytes, more than the limit of %d", path, fi.Size(), MaxFileBytes)
	}
	// The size can change between the stat and the read; the limit holds
	// for what is read, whatever the stat said.
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("pin: read pin file: %w", err)
	}
	if len(b) > MaxFileBytes {
		return nil, fmt.Errorf("pin: refusing pin file %s: more than the limit of %d bytes", path, MaxFileBytes)
	}
	return b, nil
}

// writeFile replaces a pin file atomically: the data goes to a new
// temporary file in the same directory, reaches stable storage, and is then
// renamed over the old file, whose directory entry is synced in turn. A
// reader sees the old file or the new one, never a mixture, and a crash
// leaves one of the two.
func writeFile(root *os.Root, dir, name string, data []byte) error {
	if len(data) > MaxFileBytes {
		return fmt.Errorf("pin: refusing to write pin file %s: %d bytes, more than the limit of %d",
			filepath.Join(dir, name), len(data), MaxFileBytes)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("pin: temporary file name: %w", err)
	}
	tmp := "." + name + "." + hex.EncodeToString(rnd[:]) + ".tmp"
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("pin: create temporary pin file: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			root.Remove(tmp)
		}
	}()
	// The umask may have narrowed the mode further; 0600 is what the file
	// must have, no more and no less.
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("pin: set pin file mode: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("pin: write pin file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("pin: sync pin file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("pin: close pin file: %w", err)
	}
	if err := root.Rename(tmp, name); err != nil {
		return fmt.Errorf("pin: replace pin file: %w", err)
	}
	committed = true
	return syncDir(root)
}

// syncDir makes a rename or removal in the directory durable.
func syncDir(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return fmt.Errorf("pin: sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("pin: sync directory: %w", err)
	}
	return nil
}
