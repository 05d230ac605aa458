package pathguard

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// resolved is where a walk ended and how many links it followed.
type resolved struct {
	path  string
	links int
}

// resolve follows abs, which is absolute and clean, from "/" one
// component at a time, the way the kernel would open it. Its own ".." are
// gone already (the server removes them lexically); ".." that arrive in a
// link's target are applied to the resolved prefix, which, containing no
// links, is the physical parent. A component that does not exist ends the
// walk, and the rest is appended as it is: it names what a write would
// create. The returned *Error lacks Path and Access, which the caller
// fills in.
func resolve(abs string) (resolved, *Error) {
	cur := "/"
	pending := splitPath(abs)
	links := 0
	// known is the deepest directory the walk has examined; it and every
	// directory above it were found to be directories, not links. A
	// link's target that leads back through them (an absolute one starts
	// again at "/") is walked on without examining them again.
	known := "/"
	fail := func(at, reason string, err error) (resolved, *Error) {
		return resolved{}, &Error{Resolved: at, Followed: links > 0, Reason: reason, Err: err}
	}
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		if len(c) > NameMax {
			return fail(path.Join(cur, c), fmt.Sprintf("has a component of %d bytes, more than the kernel accepts (%d)", len(c), NameMax), nil)
		}
		next := path.Join(cur, c)
		if within(known, next) {
			cur = next
			continue
		}
		fi, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			alt, reason, aerr := equivalentEntry(cur, c)
			if reason != "" {
				return fail(next, reason, aerr)
			}
			if alt == "" {
				return finishMissing(next, pending, links)
			}
			// The server opens an existing entry whose name is the same
			// text in another Unicode normal form, so the guard follows
			// that entry instead.
			next = path.Join(cur, alt)
			fi, err = os.Lstat(next)
		}
		if err != nil {
			return fail(next, "cannot be examined", err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			links++
			if links > MaxLinks {
				return fail(next, fmt.Sprintf("involves more than %d symbolic links (a loop?)", MaxLinks), nil)
			}
			target, err := os.Readlink(next)
			if err != nil {
				return fail(next, "is a symbolic link that cannot be read", err)
			}
			if target == "" {
				return fail(next, "is a symbolic link with an empty target", nil)
			}
			if strings.HasPrefix(target, "/") {
				cur = "/"
			}
			pending = append(splitPath(target), pending...)
			continue
		}
		cur = next
		if fi.IsDir() {
			known = cur
		} else if hasNames(pending) {
			return fail(cur, "is not a directory, so nothing can lie beneath it", nil)
		}
	}
	return resolved{path: cur, links: links}, nil
}

// finishMissing appends the components after the first missing one. A
// ".." among them (only a link's target can put one there) would need
// the missing directory to exist, so the kernel would fail; the guard
// refuses instead of guessing.
func finishMissing(missing string, rest []string, links int) (resolved, *Error) {
	p := missing
	for _, c := range rest {
		switch c {
		case "", ".":
			continue
		case "..":
			return resolved{}, &Error{Resolved: missing, Followed: links > 0,
				Reason: `does not exist, and the path goes on with ".." beneath it`}
		}
		if len(c) > NameMax {
			return resolved{}, &Error{Resolved: path.Join(p, c), Followed: links > 0,
				Reason: fmt.Sprintf("has a component of %d bytes, more than the kernel accepts (%d)", len(c), NameMax)}
		}
		p = path.Join(p, c)
	}
	return resolved{path: p, links: links}, nil
}

// equivalentEntry returns the entry of dir whose name equals name in
// Unicode normal form C, as the filesystem server looks one up when the
// exact name is missing, or "" when there is none. Two such entries are
// refused, as the server refuses them, since either could be meant.
func equivalentEntry(dir, name string) (string, string, error) {
	want := norm.NFC.String(name)
	f, err := os.Open(dir)
	if err != nil {
		return "", "cannot be examined", err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return "", "cannot be examined", err
	}
	found := ""
	for _, n := range names {
		if n == name || norm.NFC.String(n) != want {
			continue
		}
		if found != "" {
			return "", fmt.Sprintf("is ambiguous: %q and %q are the same name in another Unicode form", found, n), nil
		}
		found = n
	}
	return found, "", nil
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// hasNames reports whether any component remains: beneath a file even
// "." and ".." fail with ENOTDIR.
func hasNames(cs []string) bool {
	for _, c := range cs {
		if c != "" {
			return true
		}
	}
	return false
}
