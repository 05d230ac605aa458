// Package pathguard decides whether a path argument of a tool call stays
// inside the directories a server may read or write.
//
// The kernel sandbox (Landlock) already confines what a server can open;
// the guard answers the same question earlier, at the proxy, so that a
// call that would escape never reaches the server, the model gets an error
// that says why, and the audit record names the file the call would really
// have touched. It exists because file servers have got this wrong:
// CVE-2025-53109 (a symbolic link inside an allowed directory pointing out
// of it) and CVE-2025-53110 (allowed "/tmp/allowed" accepted
// "/tmp/allowed_evil" because the check compared string prefixes).
//
// A [Guard] checks what the server would open, not what the argument
// says. It first turns the argument into an absolute path the way the
// filesystem MCP server (@modelcontextprotocol/server-filesystem) does:
// "~" and "~/…" are taken from the home directory, a relative path is
// resolved against the server's allowed directories in the server's
// order, and "." and ".." are removed lexically, before any symbolic link
// is looked at, exactly as Node's path.resolve does. It then walks the
// path from "/" one component at a time, following every symbolic link
// as the kernel would (at most 40, the kernel's ELOOP bound), including a
// dangling link in last position, whose target is what a write creates.
// Where a component does not exist, the rest is appended unresolved, so a
// new file under a linked directory is judged by where it will be
// created. The result must equal a root or lie beneath it by whole
// components.
//
// Paths the kernel would refuse or shorten, and characters that would
// make an audit record or an error message misleading, are refused before
// any of that: empty paths, NUL and other control characters, invisible
// format characters and other characters that can hide text, invalid
// UTF-8, paths of PATH_MAX (4096) bytes or more, and components longer
// than NAME_MAX (255) bytes.
//
// The guard reads the file system at the moment of the check; a link that
// is created between the check and the server's open is not seen. The
// kernel sandbox is what holds then.
package pathguard

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mcpwarden/mcpwarden/runecut"
)

// Limits of Linux path resolution. PathMax counts the terminating NUL, as
// the kernel does, so the longest path it accepts is PathMax-1 bytes.
const (
	PathMax  = 4096
	NameMax  = 255
	MaxLinks = 40
)

// Access is what a tool call does with a path.
type Access int

// The kinds of access. Write implies Read: a root allowed for writing may
// also be read.
const (
	Read Access = iota + 1
	Write
)

// String returns "read" or "write", the verb used in error messages.
func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// Roots are the inputs of a [Guard]. Every path in it must be absolute;
// Read and Write are expected to be expanded already (as
// profile.ExpandPaths does), and New resolves their symbolic links.
type Roots struct {
	// Read and Write are the files and directories the server may read,
	// and read and write. Write implies read.
	Read, Write []string

	// Base are the directories a relative path is tried against, in
	// order: the first under which the joined path stays lexically
	// inside one of Base wins, else the first of Base. This mirrors the
	// filesystem MCP server, which resolves relative paths against its
	// allowed directories; [FilesystemBases] computes that list from the
	// server's arguments.
	Base []string

	// Dir is the working directory relative paths are taken from when
	// Base is empty. When both are empty, relative paths are refused.
	Dir string

	// Home is the home directory that "~" and "~/…" stand for. When it
	// is empty, such paths are refused.
	Home string
}

// Guard checks path arguments against a fixed set of roots. It is
// immutable and safe for concurrent use.
type Guard struct {
	read, write []string // symlink-resolved, cleaned, without duplicates
	base        []string // cleaned, as given: the server compares them lexically
	dir, home   string
}

// New resolves the symbolic links of the roots and returns a Guard for
// them. A root that does not exist, or lies under a path that does not,
// is dropped: it can grant nothing, since every checked path is resolved
// to existing directories first, and a directory created there later is
// not granted either (the guard fails closed). [Guard.Roots] reports what
// remains, for the caller to log. Any other failure to resolve a root,
// or a path that is not absolute or holds a refused character, is an
// error.
func New(r Roots) (*Guard, error) {
	g := &Guard{}
	var err error
	if g.read, err = resolveRoots("read", r.Read); err != nil {
		return nil, err
	}
	if g.write, err = resolveRoots("write", r.Write); err != nil {
		return nil, err
	}
	for _, b := range r.Base {
		if err := checkConfigPath("base", b); err != nil {
			return nil, err
		}
		g.base = append(g.base, path.Clean(b))
	}
	if r.Dir != "" {
		if err := checkConfigPath("working directory", r.Dir); err != nil {
			return nil, err
		}
		g.dir = path.Clean(r.Dir)
	}
	if r.Home != "" {
		if err := checkConfigPath("home directory", r.Home); err != nil {
			return nil, err
		}
		g.home = path.Clean(r.Home)
	}
	return g, nil
}

// checkConfigPath refuses a configured path that is not absolute or that
// Check would refuse as an argument.
func checkConfigPath(what, p string) error {
	if reason := badPath(p); reason != "" {
		return fmt.Errorf("pathguard: %s %q: %s", what, shorten(p), reason)
	}
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("pathguard: %s %q is not an absolute path", what, shorten(p))
	}
	return nil
}

func resolveRoots(kind string, roots []string) ([]string, error) {
	var out []string
	for _, r := range roots {
		if err := checkConfigPath(kind+" root", r); err != nil {
			return nil, err
		}
		res, err := filepath.EvalSymlinks(path.Clean(r))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("pathguard: resolving %s root %q: %w", kind, r, err)
		}
		if !slices.Contains(out, res) {
			out = append(out, res)
		}
	}
	return out, nil
}

// Roots returns the symlink-resolved roots the guard grants, without the
// ones New dropped because they do not exist.
func (g *Guard) Roots() (read, write []string) {
	return slices.Clone(g.read), slices.Clone(g.write)
}

// Error is a refused path. Its message is meant both for the audit record
// and for the tool error the model reads.
type Error struct {
	Path     string // the argument as given
	Access   Access
	Resolved string // where resolution led, when it got that far
	Followed bool   // whether a symbolic link was followed to get there
	Reason   string // why, as a clause: "is outside the directories allowed for writing"
	Err      error  // the underlying file system error, if any
}

// Error says what was refused and why, naming the resolved path when a
// symbolic link was followed or the resolved path differs from the
// argument.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "refused to %s %q: ", e.Access, shorten(e.Path))
	switch {
	case e.Resolved != "" && e.Followed:
		fmt.Fprintf(&b, "it resolves through a symbolic link to %q, which %s", shorten(e.Resolved), e.Reason)
	case e.Resolved != "" && e.Resolved != e.Path:
		fmt.Fprintf(&b, "it resolves to %q, which %s", shorten(e.Resolved), e.Reason)
	case e.Resolved != "":
		fmt.Fprintf(&b, "it %s", e.Reason)
	default:
		b.WriteString(e.Reason)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap returns the underlying file system error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Check decides whether the path argument p may be used for access a. It
// returns the path the server would open, with every symbolic link
// resolved, or an *Error saying why not.
func (g *Guard) Check(p string, a Access) (string, error) {
	if a != Read && a != Write {
		return "", fmt.Errorf("pathguard: unknown access %d", int(a))
	}
	refuse := func(reason string) (string, error) {
		return "", &Error{Path: p, Access: a, Reason: reason}
	}
	if reason := badPath(p); reason != "" {
		return refuse(reason)
	}
	abs, reason := g.absolute(p)
	if reason != "" {
		return refuse(reason)
	}
	res, err := resolve(abs)
	if err != nil {
		err.Path, err.Access = p, a
		return "", err
	}
	fail := func(reason string) (string, error) {
		return "", &Error{Path: p, Access: a, Resolved: res.path, Followed: res.links > 0, Reason: reason}
	}
	if len(res.path) >= PathMax {
		return fail(fmt.Sprintf("is %d bytes long, more than the kernel accepts (%d)", len(res.path), PathMax-1))
	}
	if reason := badChars(res.path); reason != "" {
		return fail(reason)
	}
	if slices.ContainsFunc(g.write, func(r string) bool { return within(res.path, r) }) {
		return res.path, nil
	}
	if a == Read {
		if slices.ContainsFunc(g.read, func(r string) bool { return within(res.path, r) }) {
			return res.path, nil
		}
		return fail("is outside the directories allowed for reading")
	}
	return fail("is outside the directories allowed for writing")
}

// within reports whether p is root or lies beneath it. Both are clean and
// absolute, so adding the separator makes the prefix test compare whole
// components: "/tmp/allowed_evil" is not within "/tmp/allowed".
func within(p, root string) bool {
	return p == root || root == "/" || strings.HasPrefix(p, root+"/")
}

// badPath returns why p cannot be a path argument, or "" if it can be.
func badPath(p string) string {
	if p == "" {
		return "the path is empty"
	}
	if len(p) >= PathMax {
		return fmt.Sprintf("the path is %d bytes long, more than the kernel accepts (%d)", len(p), PathMax-1)
	}
	if reason := badChars(p); reason != "" {
		return reason
	}
	for c := range strings.SplitSeq(p, "/") {
		if len(c) > NameMax {
			return fmt.Sprintf("a path component is %d bytes long, more than the kernel accepts (%d)", len(c), NameMax)
		}
	}
	return ""
}

// badChars refuses what the kernel would cut a path at (NUL), what would
// let a path forge lines or hide text in an audit record or an error
// message (control, format and line-separator characters), and invalid
// UTF-8, which JSON cannot have carried faithfully.
func badChars(p string) string {
	for i, r := range p {
		switch {
		case r == 0:
			return fmt.Sprintf("the path contains a NUL byte at offset %d", i)
		case r == utf8.RuneError && !strings.HasPrefix(p[i:], "\uFFFD"):
			return fmt.Sprintf("the path is not valid UTF-8 at offset %d", i)
		case unicode.IsControl(r):
			return fmt.Sprintf("the path contains the control character %U at offset %d", r, i)
		case unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp) || hidesText(r):
			return fmt.Sprintf("the path contains the invisible character %U at offset %d", r, i)
		}
	}
	return ""
}

// hidesText reports the default-ignorable characters that carry no
// glyph and can spell hidden text: the supplementary variation selectors
// (one per byte, after any character: the "emoji smuggling" encoding),
// the combining grapheme joiner, the Hangul fillers and the like. The 16
// basic variation selectors stay allowed: U+FE0F is part of how emoji
// are written, and emoji are in real file names.
func hidesText(r rune) bool {
	return (unicode.Is(unicode.Variation_Selector, r) && !(r >= 0xFE00 && r <= 0xFE0F)) ||
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// shorten keeps error messages readable when an argument is huge.
func shorten(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", runecut.Prefix(s, max), len(s))
}
