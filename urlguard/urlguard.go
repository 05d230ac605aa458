// Package urlguard decides whether a URL that a model passes as a tool
// argument may be forwarded to an MCP server, as a defence against
// server-side request forgery: a server that fetches URLs would otherwise
// fetch whatever the model names, including the cloud metadata service,
// the loopback interface and the private network around the machine.
//
// A [Checker] compiles one [Rule] (allowed schemes, host allow and deny
// globs, private ranges allowed anyway) and [Checker.Check] applies it:
// the URL is parsed strictly and its host normalised as a WHATWG parser
// (Node's fetch) will see it, refusing what other parsers could read
// otherwise ([Parse]); the scheme and host are matched against
// the rule, and the host's addresses, literal or resolved through a
// [Resolver], are classified ([Classify]); any one address that is not
// public refuses the URL. Every doubt is a refusal: a URL that parsers could
// read differently, a name that does not resolve, a resolver that times
// out.
//
// The check cannot stop DNS rebinding: a name may resolve to a public
// address for the check and to a private one when the server connects a
// moment later, and the server resolves it itself. Nor does it see the
// redirects a server follows, or URLs the server builds from other
// arguments. Only the sandbox's network controls (no network, or an
// egress proxy that checks the address it connects to with the same
// [Classify]) close those gaps. The argument guard is one layer; it stops
// the plain cases early and with a reason the model can read.
package urlguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// ResolveTimeout is how long a name may take to resolve. [Checker.Check]
// applies it when its context has no deadline; a caller that sets its own
// deadline should not allow much more, since the tool call waits for it.
const ResolveTimeout = 2 * time.Second

// The kinds of refusal, for errors.Is. Every error from [Checker.Check]
// wraps exactly one of them.
var (
	// ErrInvalid: the URL cannot be parsed unambiguously.
	ErrInvalid = errors.New("invalid URL")
	// ErrScheme: the scheme is not in the rule's list.
	ErrScheme = errors.New("scheme not allowed")
	// ErrHost: the host matches a deny glob, or no allow glob.
	ErrHost = errors.New("host not allowed")
	// ErrAddress: the host is or resolves to an address that is not
	// public, or is a name that only a local network resolves.
	ErrAddress = errors.New("address not allowed")
	// ErrResolve: the name could not be resolved, or resolved to nothing.
	ErrResolve = errors.New("host not resolved")
)

// Rule is one URL argument rule from a profile.
type Rule struct {
	// Schemes are the allowed schemes, compared case-insensitively; empty
	// means "https" and "http". Only schemes with a host ("scheme://host")
	// make sense; "file" is refused. The host of any scheme is read as an
	// http host is, IP spellings included, although a WHATWG parser keeps
	// the host of an unknown scheme opaque: the stricter reading refuses
	// more, never less.
	Schemes []string
	// AllowHosts are host globs: "api.github.com" matches that host,
	// "*.example.com" any name below example.com (not example.com
	// itself), and "*" any host. An IP literal is matched by its normal
	// form ("93.184.215.14", "[2001:db8::1]"). Globs are normalised like
	// hosts, so case, a trailing dot and international spellings do not
	// matter. Empty means any host.
	AllowHosts []string
	// DenyHosts are host globs as in AllowHosts; a match refuses the URL
	// whatever AllowHosts says.
	DenyHosts []string
	// AllowPrivate are ranges of addresses that are not public but allowed
	// anyway, such as 10.1.2.0/24 for an internal service. An IPv4 range
	// also covers the IPv4-mapped IPv6 form of its addresses; NAT64 and
	// 6to4 forms need an IPv6 range of their own. A cloud metadata address
	// is only allowed by a range that is that one address (/32 or /128),
	// so that allowing link-local or everything does not open the
	// machine's credentials by accident. When AllowPrivate is empty,
	// names under local-only suffixes (.local, .internal, .home.arpa, ...)
	// and single-label names are refused without resolving them.
	AllowPrivate []netip.Prefix
}

// Resolver resolves host names. *net.Resolver satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Checker checks URLs against a Rule. It is immutable and safe for
// concurrent use. Make one with [New]; a nil or zero Checker refuses
// every URL.
type Checker struct {
	schemes      []string
	allow, deny  []hostGlob
	allowPrivate []netip.Prefix
	res          Resolver
}

// New compiles r. A scheme that is not valid scheme syntax, a glob that
// is not a valid host or "*." followed by one, and an invalid prefix are
// errors. A nil res means net.DefaultResolver.
func New(r Rule, res Resolver) (*Checker, error) {
	c := &Checker{res: res}
	if c.res == nil {
		c.res = net.DefaultResolver
	}
	schemes := r.Schemes
	if len(schemes) == 0 {
		schemes = []string{"https", "http"}
	}
	for i, s := range schemes {
		if !validScheme(s) {
			return nil, fmt.Errorf("urlguard: schemes[%d] %s: invalid scheme", i, quote(s))
		}
		s = strings.ToLower(s)
		if s == "file" {
			return nil, fmt.Errorf("urlguard: schemes[%d] %q: file URLs name no network host to check", i, s)
		}
		c.schemes = append(c.schemes, s)
	}
	var err error
	if c.allow, err = compileGlobs("allow_hosts", r.AllowHosts); err != nil {
		return nil, err
	}
	if c.deny, err = compileGlobs("deny_hosts", r.DenyHosts); err != nil {
		return nil, err
	}
	for i, p := range r.AllowPrivate {
		if !p.IsValid() {
			return nil, fmt.Errorf("urlguard: allow_private[%d]: invalid prefix", i)
		}
		c.allowPrivate = append(c.allowPrivate, p.Masked())
	}
	return c, nil
}

// Check returns nil when the URL raw may be forwarded, and otherwise an
// error that says why, with untrusted text quoted, fit for an audit
// record and for a tool error shown to the model. It wraps one of
// [ErrInvalid], [ErrScheme], [ErrHost], [ErrAddress] and [ErrResolve],
// and for a resolver failure the resolver's error too.
//
// A name is resolved through the Checker's Resolver with ctx, bounded by
// [ResolveTimeout] when ctx has no deadline; every address it resolves to
// must be public or in AllowPrivate. "localhost" and names below it are
// loopback without asking DNS (RFC 6761), as WHATWG parsers and most
// resolvers treat them. See the package documentation for what the check
// cannot stop.
func (c *Checker) Check(ctx context.Context, raw string) error {
	if c == nil || c.res == nil {
		return fmt.Errorf("urlguard: %w: no URL rule", ErrHost)
	}
	t, err := Parse(raw)
	if err != nil {
		// A scheme that is refused anyway makes the clearer reason:
		// "file:///etc/passwd" and "javascript:..." have no host to parse.
		if t.Scheme != "" && !c.schemeAllowed(t.Scheme) {
			return fmt.Errorf("urlguard: %w", c.schemeError(t.Scheme))
		}
		return fmt.Errorf("urlguard: %w: %w", ErrInvalid, err)
	}
	if err := c.checkTarget(ctx, t); err != nil {
		return fmt.Errorf("urlguard: %w", err)
	}
	return nil
}

func (c *Checker) checkTarget(ctx context.Context, t Target) error {
	if !c.schemeAllowed(t.Scheme) {
		return c.schemeError(t.Scheme)
	}
	for _, g := range c.deny {
		if g.match(t.Host) {
			return fmt.Errorf("%w: %q matches deny_hosts %q", ErrHost, t.Host, g.text)
		}
	}
	if len(c.allow) > 0 && !slices.ContainsFunc(c.allow, func(g hostGlob) bool { return g.match(t.Host) }) {
		return fmt.Errorf("%w: %q matches no allow_hosts glob", ErrHost, t.Host)
	}
	if t.Addr.IsValid() {
		return c.checkAddr(t.Host, t.Addr, "")
	}
	if isLocalhost(t.Host) {
		for _, a := range []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()} {
			if err := c.checkAddr(t.Host, a, "is loopback by name (RFC 6761):"); err != nil {
				return err
			}
		}
		return nil
	}
	if len(c.allowPrivate) == 0 {
		if why := localName(t.Host); why != "" {
			return fmt.Errorf("%w: %q is %s, resolved only on a local network", ErrAddress, t.Host, why)
		}
	}
	addrs, err := c.resolve(ctx, t)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if err := c.checkAddr(t.Host, a, "resolves to a refused address:"); err != nil {
			return err
		}
	}
	return nil
}

func (c *Checker) schemeAllowed(s string) bool { return slices.Contains(c.schemes, s) }

func (c *Checker) schemeError(s string) error {
	return fmt.Errorf("%w: %s (allowed: %s)", ErrScheme, quote(s), strings.Join(c.schemes, ", "))
}

// maxAddrs bounds the addresses checked for one name; a DNS answer that
// fits a UDP message holds far fewer, so more means something is wrong.
const maxAddrs = 256

func (c *Checker) resolve(ctx context.Context, t Target) ([]netip.Addr, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ResolveTimeout)
		defer cancel()
	}
	name := t.Host
	if t.absolute {
		name += "."
	}
	addrs, err := c.res.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrResolve, t.Host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: %q has no addresses", ErrResolve, t.Host)
	}
	if len(addrs) > maxAddrs {
		return nil, fmt.Errorf("%w: %q has %d addresses, more than %d", ErrResolve, t.Host, len(addrs), maxAddrs)
	}
	return addrs, nil
}

// checkAddr refuses addr unless it is public or allowed. how says where
// addr came from, for the message: "" for a literal, else a phrase on
// host.
func (c *Checker) checkAddr(host string, addr netip.Addr, how string) error {
	v := classify(addr)
	if v.class == Public || c.privateAllowed(addr, v.class) {
		return nil
	}
	if how != "" {
		return fmt.Errorf("%w: %q %s %s", ErrAddress, host, how, v.why(addr))
	}
	return fmt.Errorf("%w: %s", ErrAddress, v.why(addr))
}

func (c *Checker) privateAllowed(addr netip.Addr, class Class) bool {
	if class == Invalid {
		return false
	}
	// A mapped address is the IPv4 address to a dual-stack socket, so an
	// IPv4 range covers it.
	addr = addr.WithZone("").Unmap()
	for _, p := range c.allowPrivate {
		if !p.Contains(addr) {
			continue
		}
		if class == Metadata && p.Bits() != addr.BitLen() {
			continue
		}
		return true
	}
	return false
}

// isLocalhost reports names that RFC 6761 makes loopback whatever DNS
// says; WHATWG parsers and systemd-resolved answer them locally.
func isLocalhost(name string) bool {
	return name == "localhost" || strings.HasSuffix(name, ".localhost")
}

// localName says why name is one that only the local network or host
// resolves, or "" when it is not.
func localName(name string) string {
	if strings.IndexByte(name, '.') < 0 {
		return "a single-label name (completed by the local search list)"
	}
	// Special-use and private-use suffixes: mDNS (RFC 6762), the private
	// use TLD ICANN reserved in 2024 (which also holds
	// metadata.google.internal), home networks (RFC 8375), and names
	// common in /etc/hosts and corporate DNS.
	for _, suffix := range []string{"local", "internal", "home.arpa", "localdomain", "lan", "intranet", "corp", "home", "private"} {
		if name == suffix || strings.HasSuffix(name, "."+suffix) {
			return fmt.Sprintf("under .%s", suffix)
		}
	}
	return ""
}

// hostGlob is a compiled host glob.
type hostGlob struct {
	text   string // as written, for messages
	any    bool   // "*"
	suffix string // for "*.example.com": ".example.com"
	exact  string // otherwise: the normalised host
}

func compileGlobs(key string, pats []string) ([]hostGlob, error) {
	var gs []hostGlob
	for i, p := range pats {
		g, err := compileGlob(p)
		if err != nil {
			return nil, fmt.Errorf("urlguard: %s[%d] %s: %w", key, i, quote(p), err)
		}
		gs = append(gs, g)
	}
	return gs, nil
}

func compileGlob(p string) (hostGlob, error) {
	g := hostGlob{text: p}
	if p == "*" {
		g.any = true
		return g, nil
	}
	rest, wild := strings.CutPrefix(p, "*.")
	if strings.IndexByte(rest, '*') >= 0 {
		return g, errors.New(`'*' is allowed only as "*" or a leading "*."`)
	}
	h, err := parseHost(rest, true)
	if err != nil {
		return g, err
	}
	if wild {
		if h.addr.IsValid() {
			return g, errors.New(`"*." must be followed by a domain name, not an address`)
		}
		g.suffix = "." + h.host
		return g, nil
	}
	g.exact = h.host
	return g, nil
}

func (g hostGlob) match(host string) bool {
	switch {
	case g.any:
		return true
	case g.suffix != "":
		return strings.HasSuffix(host, g.suffix)
	}
	return host == g.exact
}
