package filter

import (
	"errors"
	"slices"
	"strings"

	"github.com/mcpwarden/mcpwarden/urlguard"
)

var (
	errNoScheme    = errors.New("no URI scheme")
	errAboveRoot   = errors.New(`".." segment climbs above the root`)
	errEncodedCtrl = errors.New("percent-encoded control character")
)

// uriForms are the spellings of one resource URI that policy checks
// besides the URI as given.
type uriForms struct {
	// norm is the URI in normal form: scheme and host lower-cased,
	// percent-encoded unreserved characters and '/' decoded, "." and ".."
	// segments resolved and runs of slashes collapsed. For the schemes
	// that WHATWG URL parsers treat as special, a backslash separates
	// path segments as '/' does. A file URI names a local path, so its
	// host "localhost", query and fragment are dropped, as file URL to
	// path conversions do.
	norm string
	// variants are further spellings that only deny globs are matched
	// against, each naming what a lenient server might open:
	//   - "decoded": norm with every remaining escape in the path
	//     decoded, so that a glob written with literal characters
	//     ("My Docs") still matches when the URI encodes them;
	//   - "host": for a web URL, the same with its host as a WHATWG
	//     parser connects to it (see webHost), so that INTERNAL.example.,
	//     a fullwidth spelling, user@, :443 or 0x7f.1 do not slip past a
	//     deny glob written for the plain host;
	//   - "local": for a file URI with a host, the same without it, for
	//     servers that take the path and ignore the host;
	//   - "directory": each of those with a trailing slash, the same
	//     directory, so that a glob "D/*" covers D itself.
	variants []form
}

// uriParts is a URI split into its RFC 3986 components.
type uriParts struct {
	scheme, authority, path, query, fragment string
	hasAuthority, hasQuery, hasFragment      bool
}

func (u uriParts) String() string {
	var b strings.Builder
	b.WriteString(u.scheme)
	b.WriteByte(':')
	if u.hasAuthority {
		b.WriteString("//")
		b.WriteString(u.authority)
	}
	b.WriteString(u.path)
	if u.hasQuery {
		b.WriteByte('?')
		b.WriteString(u.query)
	}
	if u.hasFragment {
		b.WriteByte('#')
		b.WriteString(u.fragment)
	}
	return b.String()
}

// normalizeURI returns the forms of raw that policy matches besides raw
// itself. They are for matching only and are never forwarded.
func normalizeURI(raw string) (uriForms, error) {
	u, err := parseURI(raw)
	if err != nil {
		return uriForms{}, err
	}
	forms := uriForms{norm: u.String()}
	add := func(label string, u uriParts) {
		forms.add(label, u.String())
		if !strings.HasSuffix(u.path, "/") && !u.hasQuery && !u.hasFragment {
			u.path += "/"
			forms.add("directory", u.String())
		}
	}
	u.path = decodeAll(u.path)
	add("decoded", u)
	if h, ok := webHost(u.scheme, u.authority); ok {
		u.authority = h
		add("host", u)
	}
	if u.scheme == "file" && u.authority != "" {
		u.authority = ""
		add("local", u)
	}
	return forms, nil
}

// add appends a variant unless it spells a form already present.
func (f *uriForms) add(label, text string) {
	if text == f.norm || slices.ContainsFunc(f.variants, func(v form) bool { return v.text == text }) {
		return
	}
	f.variants = append(f.variants, form{label, text})
}

// parseURI splits raw and brings every part to normal form.
func parseURI(raw string) (uriParts, error) {
	var u uriParts
	scheme, rest, ok := splitScheme(raw)
	if !ok {
		return u, errNoScheme
	}
	u.scheme = strings.ToLower(scheme)
	rest, u.fragment, u.hasFragment = strings.Cut(rest, "#")
	rest, u.query, u.hasQuery = strings.Cut(rest, "?")
	special := specialScheme(u.scheme)
	if special {
		rest = strings.ReplaceAll(rest, `\`, "/")
	}
	var authority, path string
	authority, path, u.hasAuthority = splitAuthority(rest)
	// In custom schemes ("demo://secret/key") the authority is part of
	// the name, so its escapes are decoded as the path's are.
	authority, err := decodeAuthority(authority)
	if err != nil {
		return u, err
	}
	u.authority = lowerHost(authority)
	path, err = decodePath(path, u.scheme == "file")
	if err != nil {
		return u, err
	}
	if special {
		path = strings.ReplaceAll(path, `\`, "/")
	}
	if u.scheme == "file" {
		u = fileParts(u, path)
		path = u.path
	}
	u.path, err = cleanPath(path)
	return u, err
}

// fileParts reduces a file URI to "file://" + host + absolute path:
// "file:/p", "file:p" and "file://localhost/p" all name the local path /p,
// and query and fragment never reach the file system.
func fileParts(u uriParts, path string) uriParts {
	if u.authority == "localhost" {
		u.authority = ""
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u.hasAuthority = true
	u.path = path
	u.query, u.hasQuery = "", false
	u.fragment, u.hasFragment = "", false
	return u
}

// splitScheme splits "scheme:rest" where scheme follows RFC 3986:
// a letter, then letters, digits, '+', '-' or '.'.
func splitScheme(s string) (scheme, rest string, ok bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return s[:i], s[i+1:], true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// specialScheme reports the schemes for which WHATWG URL parsing, used by
// Node.js and browsers, reads '\' as '/'.
func specialScheme(scheme string) bool {
	switch scheme {
	case "file", "http", "https", "ws", "wss", "ftp":
		return true
	}
	return false
}

// splitAuthority splits "//authority/path"; without the leading "//"
// everything is path.
func splitAuthority(s string) (authority, path string, ok bool) {
	after, ok := strings.CutPrefix(s, "//")
	if !ok {
		return "", s, false
	}
	if i := strings.IndexByte(after, '/'); i >= 0 {
		return after[:i], after[i:], true
	}
	return after, "", true
}

// webHost returns the authority of a web URL as a WHATWG parser (Node,
// browsers) connects to it: without user information, international and
// fullwidth spellings mapped, a trailing dot dropped, IPv4 in any
// spelling written as four decimals, and without the scheme's default
// port. It reports false for other schemes, and for a host that does
// not normalise, which is matched as written.
func webHost(scheme, authority string) (string, bool) {
	def, web := defaultPorts[scheme]
	if !web {
		return "", false
	}
	hostport := authority[strings.LastIndexByte(authority, '@')+1:]
	host, port := hostport, ""
	if j := strings.LastIndexByte(hostport, ':'); j >= 0 && !strings.Contains(hostport[j:], "]") {
		host, port = hostport[:j], hostport[j:]
	}
	h, err := urlguard.NormalizeHost(host)
	if err != nil {
		return "", false
	}
	if port == ":"+def || port == ":" {
		port = ""
	}
	return h + port, true
}

var defaultPorts = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21"}

// lowerHost lower-cases the host and port of an authority, leaving any
// user information as it is.
func lowerHost(authority string) string {
	i := strings.LastIndexByte(authority, '@') + 1
	return authority[:i] + strings.ToLower(authority[i:])
}

// decodePath decodes the percent-escapes that cannot change which
// resource a path names when decoded: unreserved characters and '/', and
// '\' in file URIs (where the server may read it as a separator). Other
// escapes are kept with upper-case hex digits. An encoded control
// character is an error: no legitimate resource name needs one, and a
// server that decodes it may truncate at a NUL.
func decodePath(p string, file bool) (string, error) {
	if !strings.Contains(p, "%") {
		return p, nil
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		hi, lo, ok := escapeAt(p, i)
		if !ok {
			b.WriteString("%25")
			continue
		}
		d := hi<<4 | lo
		switch {
		case d < 0x20 || d == 0x7F:
			return "", errEncodedCtrl
		case unreserved(d) || d == '/' || file && d == '\\':
			b.WriteByte(d)
		default:
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[hi])
			b.WriteByte("0123456789ABCDEF"[lo])
		}
		i += 2
	}
	return b.String(), nil
}

// decodeAuthority decodes escaped unreserved characters in an authority;
// other escapes stay, since decoding them could change where it ends.
func decodeAuthority(a string) (string, error) {
	if !strings.Contains(a, "%") {
		return a, nil
	}
	var b strings.Builder
	for i := 0; i < len(a); i++ {
		if a[i] != '%' {
			b.WriteByte(a[i])
			continue
		}
		hi, lo, ok := escapeAt(a, i)
		switch d := hi<<4 | lo; {
		case !ok:
			b.WriteString("%25")
		case d < 0x20 || d == 0x7F:
			return "", errEncodedCtrl
		case unreserved(d):
			b.WriteByte(d)
			i += 2
		default:
			b.WriteString(a[i : i+3])
			i += 2
		}
	}
	return b.String(), nil
}

// escapeAt reads the percent-escape at s[i], which is '%'. A '%' that
// starts no escape is not one: the normal forms spell it "%25", so that
// decoding a later escape cannot join it with the digits that follow
// into a new escape ("%%61" would otherwise become "%a", and normalising
// twice would not give the same text).
func escapeAt(s string, i int) (hi, lo byte, ok bool) {
	if i+2 >= len(s) {
		return 0, 0, false
	}
	hi, ok1 := unhex(s[i+1])
	lo, ok2 := unhex(s[i+2])
	return hi, lo, ok1 && ok2
}

// decodeAll decodes every well-formed percent-escape in p.
func decodeAll(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) {
			hi, ok1 := unhex(p[i+1])
			lo, ok2 := unhex(p[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, p[i])
	}
	return string(b)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unreserved reports the RFC 3986 unreserved characters.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// cleanPath resolves "." and ".." segments and collapses runs of slashes.
// A trailing slash, or a trailing "." or ".." segment, leaves a trailing
// slash, as RFC 3986 dot-segment removal does. A ".." with nothing left
// to remove is an error rather than being dropped: it means the path
// tries to leave the tree it was written for.
func cleanPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	var out []string
	segs := strings.Split(p, "/")
	for _, s := range segs {
		switch s {
		case "", ".":
		case "..":
			if len(out) == 0 {
				return "", errAboveRoot
			}
			out = out[:len(out)-1]
		default:
			out = append(out, s)
		}
	}
	last := segs[len(segs)-1]
	res := strings.Join(out, "/")
	if strings.HasPrefix(p, "/") {
		res = "/" + res
	}
	if len(out) > 0 && (last == "" || last == "." || last == "..") {
		res += "/"
	}
	return res, nil
}
