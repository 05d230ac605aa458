package profile

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// The check functions return "" for a valid entry, else the problem and
// what to do about it, to follow the quoted entry in a message.

// validName reports whether s is a valid profile name: [a-z0-9][a-z0-9._-]*.
// Names double as file names of built-in profiles, so they exclude '/'.
func validName(s string) bool {
	if s == "" || !isLowerAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLowerAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func checkGlob(s string) string {
	switch {
	case s == "":
		return `is empty (write "*" to mean everything)`
	case strings.ContainsRune(s, 0):
		return "contains a NUL character (remove it)"
	}
	return ""
}

func checkPath(s string) string {
	switch {
	case s == "":
		return `is empty (use an absolute path, "~/...", or "{arg_dirs}")`
	case strings.ContainsRune(s, 0):
		return "contains a NUL character (remove it)"
	case s == ArgDirs, s == "~", strings.HasPrefix(s, "~/"), strings.HasPrefix(s, "/"):
		return ""
	case strings.HasPrefix(s, "{"):
		return `is not a known placeholder (the only one is "{arg_dirs}", as a whole entry)`
	case strings.HasPrefix(s, "~"):
		return `names another user's home directory (use an absolute path or "~/...")`
	}
	return `is a relative path (use an absolute path, "~/...", or "{arg_dirs}")`
}

// checkEnvName accepts names matching [A-Za-z_][A-Za-z0-9_]*.
// checkSyscallName accepts what can be a system call's name; whether this
// kernel has it is checked when the sandbox starts.
func checkSyscallName(s string) string {
	if s == "" {
		return "is not a system call name (remove the empty entry)"
	}
	for i := range len(s) {
		c := s[i]
		if c != '_' && (c < 'a' || c > 'z') && (i == 0 || c < '0' || c > '9') {
			return "is not a system call name (use the lower-case name, as in seccomp_deny = [\"uname\"])"
		}
	}
	return ""
}

func checkEnvName(s string) string {
	// "NAME=value" sets a fixed value instead of passing the user's own.
	if name, value, ok := strings.Cut(s, "="); ok {
		if strings.IndexByte(value, 0) >= 0 {
			return "has a NUL byte in its value"
		}
		s = name
	}
	for i := range len(s) {
		c := s[i]
		if c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return "is not an environment variable name (use letters, digits and '_', not starting with a digit)"
	}
	if s == "" {
		return "is not an environment variable name (remove the empty entry)"
	}
	return ""
}

// checkHostPort accepts "host:port" where host is a DNS name, optionally
// starting with "*." to mean any subdomain, or an IP address ("[::1]:443"
// for IPv6), and port is 1-65535.
func checkHostPort(s string) string {
	const what = ` (write "host:port", for example "api.github.com:443", "*.example.com:443", or "*:443" for any public host)`
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "is not host:port" + what
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] < '0' || port[0] > '9' {
		return "has an invalid port, not 1-65535" + what
	}
	if host == "*" {
		return "" // any host whose addresses are public; the egress proxy checks each
	}
	name, wildcard := strings.CutPrefix(host, "*.")
	if _, err := netip.ParseAddr(name); err == nil {
		if wildcard {
			return `puts "*." before an IP address` + what
		}
		return ""
	}
	if strings.Contains(name, "*") {
		return `has a '*' other than a leading "*."` + what
	}
	if !validHostname(name) {
		return "has an invalid host name" + what
	}
	return ""
}

// validHostname checks DNS syntax: dot-separated labels of 1-63 letters,
// digits and hyphens, not starting or ending with a hyphen.
func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := range len(label) {
			c := label[i]
			if c != '-' && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
				return false
			}
		}
	}
	return true
}

func checkCIDR(s string) string {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return `is not a CIDR prefix (for example "10.0.0.0/8" or "fd00::/8")`
	}
	if m := p.Masked(); m != p {
		return "has bits set past the prefix length (write " + strconv.Quote(m.String()) + ")"
	}
	return ""
}
