package clientconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/pmezard/go-difflib/difflib"
)

// BackupSuffix is added to a file's name for the copy of it taken before
// wrap first changes it.
const BackupSuffix = ".mcpwarden-backup"

// maxFileSize bounds what is read of a configuration file (Claude Code's
// ~/.claude.json holds history and grows to megabytes).
const maxFileSize = 64 << 20

// FileResult is what wrap or unwrap did, or would do, to one file.
type FileResult struct {
	// Path is the file as named; Target is the file read and written, Path
	// with symbolic links resolved (a link is written through, and stays).
	Path, Target string
	Reports      []Report
	// Changed reports whether the contents differ; Written whether they
	// were written (never in a dry run).
	Changed, Written bool
	// Diff is a unified diff from the old contents to the new.
	Diff string
	// Backup is the path of the backup when there is one; BackupCreated
	// says that this wrap took it, BackupRemoved that this unwrap removed
	// it after restoring it.
	Backup                       string
	BackupCreated, BackupRemoved bool
	// Restored says that unwrap put back the backup byte for byte, since
	// the file was as wrap had left it.
	Restored bool
}

// WrapFile wraps the stdio servers in the file at path, of client c. The
// file is backed up next to itself before its first change (an existing
// backup is never replaced: it holds the file from before any wrap) and
// replaced atomically, keeping its mode and owner. With dryRun nothing
// is written.
func WrapFile(path string, c Client, opts Options, dryRun bool) (FileResult, error) {
	fr, data, info, err := readConfig(path)
	if err != nil {
		return fr, err
	}
	res, err := Wrap(data, c, opts)
	if err != nil {
		return fr, fmt.Errorf("%s: %w", path, err)
	}
	fr.Reports = res.Reports
	if !res.Changed(data) {
		return fr, nil
	}
	fr.Changed, fr.Diff = true, unifiedDiff(path, data, res.Output)
	if dryRun {
		return fr, nil
	}
	fr.Backup = fr.Target + BackupSuffix
	switch _, err := os.Lstat(fr.Backup); {
	case errors.Is(err, fs.ErrNotExist):
		if err := writeNew(fr.Backup, data, info); err != nil {
			return fr, fmt.Errorf("backing up %s: %w", path, err)
		}
		fr.BackupCreated = true
	case err != nil:
		return fr, fmt.Errorf("backing up %s: %w", path, err)
	}
	if err := replace(fr.Target, data, res.Output, info); err != nil {
		return fr, err
	}
	fr.Written = true
	return fr, nil
}

// UnwrapFile undoes WrapFile. When the file is exactly as wrap left it,
// the backup is put back byte for byte and removed; otherwise each wrapped
// entry is unwrapped in place, keeping later edits, and the backup stays.
func UnwrapFile(path string, c Client, opts Options, dryRun bool) (FileResult, error) {
	fr, data, info, err := readConfig(path)
	if err != nil {
		return fr, err
	}
	res, err := Unwrap(data, c, opts)
	if err != nil {
		return fr, fmt.Errorf("%s: %w", path, err)
	}
	fr.Reports = res.Reports
	if !res.Changed(data) {
		return fr, nil
	}
	out := res.Output
	backup := fr.Target + BackupSuffix
	if orig, ok := untouchedSince(backup, data, c, res.wardens); ok {
		out, fr.Restored = orig, true
	}
	if _, err := os.Lstat(backup); err == nil {
		fr.Backup = backup
	}
	fr.Changed, fr.Diff = true, unifiedDiff(path, data, out)
	if dryRun {
		return fr, nil
	}
	if err := replace(fr.Target, data, out, info); err != nil {
		return fr, err
	}
	fr.Written = true
	if fr.Restored {
		if err := os.Remove(backup); err != nil {
			return fr, fmt.Errorf("%s was restored, but its backup could not be removed: %w", path, err)
		}
		fr.BackupRemoved = true
	}
	return fr, nil
}

// untouchedSince returns the backup's contents when wrapping them again,
// as one of the wrap options found in the file, gives exactly the file's
// current contents.
func untouchedSince(backup string, current []byte, c Client, wardens []Options) ([]byte, bool) {
	info, err := os.Lstat(backup)
	if err != nil || !info.Mode().IsRegular() || info.Size() > maxFileSize {
		return nil, false
	}
	orig, err := os.ReadFile(backup)
	if err != nil {
		return nil, false
	}
	for _, o := range wardens {
		if res, err := Wrap(orig, c, o); err == nil && bytes.Equal(res.Output, current) {
			return orig, true
		}
	}
	return nil, false
}

// readConfig reads the regular file that path names, through symbolic
// links.
func readConfig(path string) (FileResult, []byte, fs.FileInfo, error) {
	fr := FileResult{Path: path}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fr, nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	fr.Target = target
	// Non-blocking, so that a FIFO in place of the file cannot hang the
	// open; it is refused below as not a regular file.
	f, err := os.OpenFile(target, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fr, nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fr, nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return fr, nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return fr, nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return fr, nil, nil, fmt.Errorf("%s is larger than %d MiB, too large for a client configuration", path, maxFileSize>>20)
	}
	return fr, data, info, nil
}

// writeNew creates path, which must not exist, with data and the mode and
// owner of info.
func writeNew(path string, data []byte, info fs.FileInfo) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	err = errors.Join(keepAttrs(f, info), write(f, data))
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}

// replace writes data to a new file beside target and renames it over
// target, so that a reader sees the old file or the new one, never a part.
// It refuses when target no longer holds old: a client rewrote it
// meanwhile, and that change must not be lost.
func replace(target string, old, data []byte, info fs.FileInfo) (err error) {
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".mcpwarden-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", target, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := errors.Join(keepAttrs(f, info), write(f, data)); err != nil {
		return fmt.Errorf("writing %s: %w", target, err)
	}
	now, err := os.ReadFile(target)
	if err != nil {
		return fmt.Errorf("reading %s again: %w", target, err)
	}
	if !bytes.Equal(now, old) {
		return fmt.Errorf("%s changed while it was being rewritten (is the client running?); nothing was written, run the command again", target)
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("writing %s: %w", target, err)
	}
	if d, err := os.Open(filepath.Dir(target)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// keepAttrs gives f the permission bits and owner of info.
func keepAttrs(f *os.File, info fs.FileInfo) error {
	if err := f.Chmod(info.Mode().Perm()); err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	mine, err := f.Stat()
	if err != nil {
		return err
	}
	if now, ok := mine.Sys().(*syscall.Stat_t); ok && (now.Uid != st.Uid || now.Gid != st.Gid) {
		if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("keeping the owner %d:%d: %w", st.Uid, st.Gid, err)
		}
	}
	return nil
}

func write(f *os.File, data []byte) error {
	_, err := f.Write(data)
	return errors.Join(err, f.Sync(), f.Close())
}

// unifiedDiff returns a unified diff from old to new contents of path.
func unifiedDiff(path string, old, new []byte) string {
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(old)), B: difflib.SplitLines(string(new)),
		FromFile: path, ToFile: path, Context: 3,
	})
	if err != nil {
		return fmt.Sprintf("(no diff: %v)\n", err)
	}
	return d
}

// runOptions reconstructs the wrap options that produce the wrapped
// arguments args of an entry whose command is warden: the run flags other
// than the profile, before the "--".
func runOptions(warden string, args []string, cmdIndex int) Options {
	flags := slices.Clone(args[1:cmdIndex])
	if n := len(flags); n > 0 && flags[n-1] == "--" {
		flags = flags[:n-1]
	}
	var rest []string
	for i := 0; i < len(flags); i++ {
		switch a := flags[i]; {
		case a == "--profile" || a == "-profile":
			i++
		case strings.HasPrefix(a, "--profile=") || strings.HasPrefix(a, "-profile="):
		default:
			rest = append(rest, a)
		}
	}
	return Options{Warden: warden, RunFlags: rest}
}
