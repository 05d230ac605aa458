package urlguard

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mcpwarden/mcpwarden/runecut"
	"golang.org/x/net/idna"
)

// MaxURLLength is the longest URL, in bytes, that is parsed at all. Real
// URLs given to tools are far shorter; the cap bounds the work done on
// what a model sends.
const MaxURLLength = 8 << 10

// Target is what a URL points at, in the normalised form that was checked.
type Target struct {
	// Scheme is the scheme in lower case.
	Scheme string
	// Host is the host in normal form: an ASCII domain name in lower case
	// without a trailing dot (international names in punycode), an IPv4
	// address in dotted-decimal form, or an IPv6 address in brackets in
	// RFC 5952 form without its zone.
	Host string
	// Addr is the address when the host is an IP literal, with its zone if
	// one was given, and the zero Addr when the host is a name.
	Addr netip.Addr
	// Port is the port given in the URL, or 0 when there is none.
	Port uint16

	// absolute records a trailing dot on a name, so that the name is
	// looked up the way the server will look it up: without the local
	// search list.
	absolute bool
}

// Parse splits raw into scheme, host and port, and normalises the host
// the way a WHATWG URL parser (the one behind fetch in Node.js and
// browsers) does: international names are mapped to punycode (UTS #46,
// nontransitional), and a host whose last label is a number is an IPv4
// address in any of the spellings inet_aton(3) also accepts, such as
// "2130706433", "0177.0.0.1", "0x7f.1" and "127.1".
//
// Parse is stricter than any URL parser, so that whichever one the server
// uses finds the same host: it refuses what parsers disagree on rather
// than guess. Refused are: control characters, whitespace and backslashes
// anywhere; invalid UTF-8; a URL without "//" and an authority; userinfo
// ("user@host"), an '@' in the fragment ("http://a.com#@b.com") and
// one in a query that no '/' precedes ("http://a.com?@b.com");
// percent-encoding in the host, which WHATWG parsers decode and others do
// not; an empty host or label, an unbracketed ':' in the host, and
// characters in a host other than letters, digits, '-', '_' and '.'; a
// number-like host that is no valid IPv4 address ("1.2.3.4.5", "08");
// IPv4 in brackets; and a port that is empty, 0 or above 65535. On an
// error, the Target holds the scheme if it could be read, so that a
// caller can prefer to refuse by scheme.
func Parse(raw string) (Target, error) {
	var t Target
	if len(raw) > MaxURLLength {
		return t, fmt.Errorf("URL is %d bytes long, more than the %d allowed", len(raw), MaxURLLength)
	}
	if err := checkChars("URL", raw); err != nil {
		return t, err
	}
	colon := strings.IndexByte(raw, ':')
	if colon < 0 {
		return t, errors.New("no scheme")
	}
	scheme := raw[:colon]
	if !validScheme(scheme) {
		return t, fmt.Errorf("invalid scheme %s", quote(scheme))
	}
	t.Scheme = strings.ToLower(scheme)
	rest := raw[colon+1:]
	if !strings.HasPrefix(rest, "//") {
		// A WHATWG parser would take "http:evil.com" and "http:/evil.com"
		// as host evil.com; others as a path.
		return t, errors.New(`no "//" and host after the scheme`)
	}
	rest = rest[2:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if strings.HasPrefix(tail, "/") && authority == "" {
		// "http:///evil.com": WHATWG parsers skip the slashes and find a
		// host, others find none.
		return t, errors.New("empty host")
	}
	if strings.IndexByte(authority, '@') >= 0 {
		return t, errors.New("userinfo (user@host) is not allowed: parsers disagree on which part is the host")
	}
	if i := strings.IndexByte(tail, '#'); i >= 0 && strings.IndexByte(tail[i:], '@') >= 0 {
		return t, errors.New("'@' in the fragment: some parsers would take what follows it for the host")
	}
	// Code that cuts the authority out at the first '/' alone
	// (url.split("/")[2]) reads "http://a.com?@b.com/" as userinfo
	// "a.com?" and host b.com.
	beforeSlash, _, _ := strings.Cut(tail, "/")
	if strings.IndexByte(beforeSlash, '@') >= 0 {
		return t, errors.New("'@' in the query before any '/': parsers that end the host only at '/' would take what follows it for the host")
	}
	host, port, err := splitHostPort(authority)
	if err != nil {
		return t, err
	}
	t.Port = port
	h, err := parseHost(host, false)
	if err != nil {
		return t, err
	}
	t.Host, t.Addr, t.absolute = h.host, h.addr, h.absolute
	return t, nil
}

// checkChars refuses what parsers strip, skip or split on differently:
// a WHATWG parser drops tabs and newlines anywhere and trims spaces and
// controls at both ends, and treats '\' as '/'.
func checkChars(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", what)
	}
	for i, r := range s {
		switch {
		case r == '\\':
			return fmt.Errorf("backslash at byte %d", i)
		case r <= ' ' || r == 0x7f:
			return fmt.Errorf("control character or space %U at byte %d", r, i)
		case r >= utf8.RuneSelf && (unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)):
			return fmt.Errorf("control, space or format character %U at byte %d", r, i)
		}
	}
	return nil
}

// validScheme checks RFC 3986 scheme syntax: a letter, then letters,
// digits, '+', '-' and '.'.
func validScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// splitHostPort splits an authority without userinfo.
func splitHostPort(authority string) (host string, port uint16, err error) {
	portText, hasPort := "", false
	if strings.HasPrefix(authority, "[") {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", 0, errors.New("'[' without ']' in the host")
		}
		host, after := authority[:end+1], authority[end+1:]
		if after != "" {
			if after[0] != ':' {
				return "", 0, fmt.Errorf("%s after ']' in the host", quote(after))
			}
			portText, hasPort = after[1:], true
		}
		authority = host
	} else if i := strings.IndexByte(authority, ':'); i >= 0 {
		if strings.IndexByte(authority[i+1:], ':') >= 0 {
			return "", 0, errors.New("more than one ':' in an unbracketed host")
		}
		authority, portText, hasPort = authority[:i], authority[i+1:], true
	}
	if hasPort {
		if port, err = parsePort(portText); err != nil {
			return "", 0, err
		}
	}
	return authority, port, nil
}

func parsePort(s string) (uint16, error) {
	if s == "" {
		return 0, errors.New("empty port")
	}
	// ParseUint takes no sign and, in base 10, no '_', as a URL port
	// has neither.
	n, err := strconv.ParseUint(s, 10, 16)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("port %s out of range", quote(s))
	case err != nil:
		return 0, fmt.Errorf("invalid port %s", quote(s))
	case n == 0:
		return 0, errors.New("port 0")
	}
	return uint16(n), nil
}

// ParseHost reports whether host is an IP literal and, if so, which
// address it spells, following the same rules as [Parse]: "2130706433",
// "0177.0.0.1", "0x7f.1", "127.1", "１２７.０.０.１" (fullwidth digits, as
// UTS #46 maps them), "[::ffff:127.0.0.1]" and "[fe80::1%25eth0]" are all
// literals. An IPv6 address may also come without brackets (as in a
// host taken from host:port), and then with a bare "%zone". It returns
// false for a domain name and for anything invalid; [NormalizeHost] tells
// the two apart.
func ParseHost(host string) (netip.Addr, bool) {
	h, err := parseHost(host, true)
	if err != nil || !h.addr.IsValid() {
		return netip.Addr{}, false
	}
	return h.addr, true
}

// NormalizeHost returns host in the normal form of [Target.Host], or
// why it is not a valid host. It accepts the hosts [ParseHost] does.
func NormalizeHost(host string) (string, error) {
	h, err := parseHost(host, true)
	if err != nil {
		return "", err
	}
	return h.host, nil
}

// parsedHost is a host in normal form.
type parsedHost struct {
	host     string
	addr     netip.Addr
	absolute bool
}

// maxHostLength bounds a host name before mapping, generously: punycode
// makes names longer, and the mapped name must fit 253 bytes anyway.
const maxHostLength = 1024

// parseHost normalises a host. bare allows an IPv6 address without
// brackets, which no URL has but a host taken from host:port does.
func parseHost(s string, bare bool) (parsedHost, error) {
	var h parsedHost
	if s == "" {
		return h, errors.New("empty host")
	}
	if len(s) > maxHostLength {
		return h, fmt.Errorf("host is %d bytes long", len(s))
	}
	// Parse has checked a URL's characters already, but a host may also
	// come on its own, and UTS #46 would turn invalid UTF-8 into U+FFFD.
	if err := checkChars("host", s); err != nil {
		return h, err
	}
	if s[0] == '[' {
		if s[len(s)-1] != ']' {
			return h, fmt.Errorf("host %s: '[' without ']'", quote(s))
		}
		a, err := parseIPv6(s[1:len(s)-1], "%25")
		if err != nil {
			return h, fmt.Errorf("host %s: %w", quote(s), err)
		}
		return v6Host(a), nil
	}
	if strings.IndexByte(s, ':') >= 0 {
		if !bare {
			return h, fmt.Errorf("host %s: ':' outside brackets", quote(s))
		}
		a, err := parseIPv6(s, "%")
		if err != nil {
			return h, fmt.Errorf("host %s: %w", quote(s), err)
		}
		return v6Host(a), nil
	}
	if strings.IndexByte(s, '%') >= 0 {
		return h, fmt.Errorf("host %s: percent-encoding in a host is not allowed: parsers disagree on whether to decode it", quote(s))
	}
	name, err := mapName(s)
	if err != nil {
		return h, fmt.Errorf("host %s: %w", quote(s), err)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isLower(c) && !isDigit(c) && c != '-' && c != '_' && c != '.' {
			return h, fmt.Errorf("host %s: character %q is not allowed in a host name", quote(s), c)
		}
	}
	if strings.HasSuffix(name, ".") {
		name, h.absolute = name[:len(name)-1], true
	}
	if name == "" {
		return h, fmt.Errorf("host %s: no labels", quote(s))
	}
	if len(name) > 253 {
		return h, fmt.Errorf("host %s: name longer than 253 bytes", quote(s))
	}
	lastDot := strings.LastIndexByte(name, '.')
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return h, fmt.Errorf("host %s: empty label", quote(s))
		}
		if len(label) > 63 {
			return h, fmt.Errorf("host %s: label longer than 63 bytes", quote(s))
		}
	}
	if isNumberLabel(name[lastDot+1:]) {
		// A WHATWG parser takes a host whose last label is a number for
		// an IPv4 address, and fails the URL when it is not a valid one.
		a, err := parseIPv4(name)
		if err != nil {
			return h, fmt.Errorf("host %s: %w", quote(s), err)
		}
		return parsedHost{host: a.String(), addr: a}, nil
	}
	h.host = name
	return h, nil
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

func v6Host(a netip.Addr) parsedHost {
	return parsedHost{host: "[" + a.WithZone("").String() + "]", addr: a}
}

// parseIPv6 parses the inside of brackets. zoneSep is how the zone is
// introduced: "%25" in a URL (RFC 6874), "%" elsewhere.
func parseIPv6(s, zoneSep string) (netip.Addr, error) {
	addrText, zone, hasZone := strings.Cut(s, zoneSep)
	if strings.IndexByte(addrText, '%') >= 0 || strings.IndexByte(zone, '%') >= 0 {
		return netip.Addr{}, fmt.Errorf("zone must follow %q", zoneSep)
	}
	if hasZone {
		if zone == "" {
			return netip.Addr{}, errors.New("empty zone")
		}
		for i := 0; i < len(zone); i++ {
			c := zone[i]
			if !isAlpha(c) && !isDigit(c) && c != '-' && c != '.' && c != '_' && c != '~' {
				return netip.Addr{}, fmt.Errorf("character %q in zone", c)
			}
		}
	}
	if strings.IndexByte(addrText, ':') < 0 {
		return netip.Addr{}, errors.New("not an IPv6 address")
	}
	a, err := netip.ParseAddr(addrText)
	if err != nil || !a.Is6() {
		return netip.Addr{}, errors.New("invalid IPv6 address")
	}
	if hasZone {
		a = a.WithZone(zone)
	}
	return a, nil
}

// idnaProfile maps a host as the WHATWG "domain to ASCII" does: UTS #46
// nontransitional processing with the Bidi and joiner checks, without
// the hyphen check (names like "r3---sn-x.example" exist) and without
// STD3 rules, since the characters are checked after mapping. A Profile
// is immutable, so one serves every call.
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.CheckJoiners(true),
	idna.CheckHyphens(false),
	idna.StrictDomainName(false),
)

// mapName lower-cases an ASCII name and maps any other through UTS #46,
// so that "ⓛⓞⓒⓐⓛⓗⓞⓢⓣ", "ＬＯＣＡＬＨＯＳＴ" and "localhost" are one
// name, and a homograph such as Cyrillic "аpple.com" becomes
// "xn--pple-43d.com", which no glob for "apple.com" matches. A label
// already in punycode is decoded and validated too.
func mapName(s string) (string, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		lower := strings.ToLower(s)
		if !strings.HasPrefix(lower, "xn--") && !strings.Contains(lower, ".xn--") {
			return lower, nil
		}
	}
	out, err := idnaProfile.ToASCII(s)
	if err != nil {
		return "", fmt.Errorf("invalid international name: %w", err)
	}
	return out, nil
}

// isNumberLabel is the WHATWG "ends in a number" test on the last label:
// all decimal digits, or "0x" followed by hex digits (or none).
func isNumberLabel(label string) bool {
	if label == "" {
		return false
	}
	if strings.HasPrefix(label, "0x") {
		for i := 2; i < len(label); i++ {
			if !isHex(label[i]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(label); i++ {
		if !isDigit(label[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' }

// parseIPv4 is the WHATWG IPv4 parser on a lower-case name without a
// trailing dot: one to four parts, each decimal, octal with a leading 0
// or hex with 0x; every part but the last is one byte, and the last fills
// the bytes that remain.
func parseIPv4(s string) (netip.Addr, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, fmt.Errorf("IPv4 address with %d parts", len(parts))
	}
	var n [4]uint64
	for i, p := range parts {
		v, err := parseIPv4Number(p)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("IPv4 part %s: %w", quote(p), err)
		}
		n[i] = v
	}
	last := len(parts) - 1
	for i := range last {
		if n[i] > 255 {
			return netip.Addr{}, fmt.Errorf("IPv4 part %s above 255", quote(parts[i]))
		}
	}
	if n[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, fmt.Errorf("IPv4 part %s too large", quote(parts[last]))
	}
	v := n[last]
	for i := range last {
		v |= n[i] << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), nil
}

// parseIPv4Number parses one part. Values that do not fit 32 bits are
// errors whatever the part's position, so accumulation stops there.
func parseIPv4Number(s string) (uint64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	base := uint64(10)
	switch {
	case strings.HasPrefix(s, "0x"):
		base, s = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case isDigit(c):
			d = uint64(c - '0')
		case 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			return 0, errors.New("not a number")
		}
		if d >= base {
			return 0, fmt.Errorf("digit %q in base %d", c, base)
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, errors.New("too large")
		}
	}
	return v, nil
}

// quote quotes untrusted text for a message, escaped and cut short so
// that an error stays one readable line.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q...", runecut.Prefix(s, max))
	}
	return fmt.Sprintf("%q", s)
}
