package pathguard

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// This file mirrors how the filesystem MCP server
// (@modelcontextprotocol/server-filesystem, validatePath in lib.js and
// normalizePath and expandHome in path-utils.js) turns an argument into
// the absolute path it opens, so that the guard checks the same file.
// Only the POSIX branches matter on Linux: there a backslash is an
// ordinary file name character, and the server treats it as one, so the
// guard does too.

// windowsDrive is what the server refuses on a POSIX host rather than
// creating a file literally named "C:\…" inside an allowed directory.
var windowsDrive = regexp.MustCompile(`^[A-Za-z]:(?:[\\/]|$)`)

// absolute returns the absolute, lexically cleaned path the server would
// resolve for argument p, or why there is none.
func (g *Guard) absolute(p string) (string, string) {
	p, ok := expandHome(p, g.home)
	if !ok {
		return "", `the path starts with "~" and no home directory is known`
	}
	if windowsDrive.MatchString(p) {
		return "", "the path is a Windows drive path, which means nothing on this host"
	}
	if strings.HasPrefix(p, "/") {
		return path.Clean(p), ""
	}
	// Anything else is relative, including "~user/x", "file:///x" and
	// quoted paths: the server does not interpret those, so neither does
	// the guard.
	switch {
	case len(g.base) > 0:
		return resolveRelative(g.base, p), ""
	case g.dir != "":
		return path.Join(g.dir, p), ""
	}
	return "", "the path is relative and there is no directory to resolve it against"
}

// expandHome is the server's expandHome: "~" and "~/…" stand for home.
// It reports false for such a path when home is unknown.
func expandHome(p, home string) (string, bool) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, true
	}
	if home == "" {
		return "", false
	}
	// path.join in Node cleans the result, as path.Join does.
	return path.Join(home, p[1:]), true
}

// resolveRelative picks the base the server would use for the relative
// path rel: the first under which the joined path stays inside one of the
// bases, as the server's lexical check sees it, else the first base.
func resolveRelative(bases []string, rel string) string {
	for _, b := range bases {
		cand := path.Join(b, rel)
		if serverWithin(serverNormalize(cand), bases) {
			return cand
		}
	}
	return path.Join(bases[0], rel)
}

// serverWithin is the server's isPathWithinAllowedDirectories for
// absolute POSIX paths. The server cleans both sides; dirs are the
// Guard's bases, which New has cleaned and refused when empty.
func serverWithin(p string, dirs []string) bool {
	p = path.Clean(p)
	return slices.ContainsFunc(dirs, func(d string) bool { return within(p, d) })
}

// serverNormalize is the server's normalizePath for a path that starts
// with "/" on a POSIX host: surrounding white space and one quote at
// either end are dropped, runs of "/" are collapsed and a trailing "/"
// is removed. The server uses this form only to compare against its
// allowed directories, never to open a file, which is why the guard uses
// it only where that comparison decides which file is opened.
func serverNormalize(p string) string {
	p = strings.TrimFunc(p, jsSpace)
	if strings.HasPrefix(p, `"`) || strings.HasPrefix(p, `'`) {
		p = p[1:]
	}
	if strings.HasSuffix(p, `"`) || strings.HasSuffix(p, `'`) {
		p = p[:len(p)-1]
	}
	if !strings.HasPrefix(p, "/") {
		return p
	}
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}

// jsSpace reports whether String.prototype.trim removes r: ECMAScript
// WhiteSpace and LineTerminator, which differ from unicode.IsSpace in
// U+FEFF (trimmed) and U+0085 (kept).
func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// FilesystemBases returns the allowed directories of the filesystem MCP
// server started with the directory arguments args in working directory
// cwd and home directory home, in the server's order: each argument with
// "~" expanded, made absolute and normalised, followed by its
// symlink-resolved form when that differs, keeping only those that are
// directories now. This is the list it resolves relative paths against,
// to be passed as [Roots.Base]. Arguments it cannot have meant (with
// "~" and no home, or relative with no cwd) are left out.
//
// The client can replace that list at run time through the MCP roots
// capability; a caller that lets roots through must build a new Guard.
func FilesystemBases(args []string, cwd, home string) []string {
	var out []string
	for _, a := range args {
		if strings.ContainsRune(a, 0) {
			continue
		}
		a, ok := expandHome(a, home)
		if !ok {
			continue
		}
		if !strings.HasPrefix(a, "/") {
			if cwd == "" {
				continue
			}
			a = path.Join(cwd, a)
		}
		abs := path.Clean(a)
		cands := []string{serverNormalize(abs)}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			if n := serverNormalize(real); n != cands[0] {
				cands = append(cands, n)
			}
		}
		for _, c := range cands {
			if fi, err := os.Stat(c); err == nil && fi.IsDir() {
				out = append(out, c)
			}
		}
	}
	return out
}
