package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpwarden/mcpwarden/urlguard"
)

// Policy decides which destinations the proxy connects to, and to which
// addresses. It is immutable and safe for concurrent use.
type Policy struct {
	// checkers holds, for each port named in allow_hosts, the URL rule
	// of the hosts allowed on it, compiled once; its resolver records
	// each answer in the recorder of the check's context.
	checkers map[uint16]*urlguard.Checker
}

// ErrRefused wraps every refusal by the policy, for errors.Is; the
// urlguard error that says why is wrapped too.
var ErrRefused = errors.New("refused")

// NewPolicy compiles allow_hosts ("host:port", the host possibly "*."
// followed by a domain, or "*" for any host on that port) and
// allow_private (CIDR prefixes) from a profile. "*" still reaches only
// public addresses (and allow_private): it is what a server whose purpose
// is fetching any URL needs, and far less than network = "host", which
// reaches the host's loopback and the whole internal network. res resolves names; nil means net.DefaultResolver. Hosts are
// normalised as [urlguard.NormalizeHost] does, so case, a trailing dot,
// international spellings and IP spellings do not matter.
func NewPolicy(allowHosts, allowPrivate []string, res urlguard.Resolver) (*Policy, error) {
	if res == nil {
		res = net.DefaultResolver
	}
	ports := map[uint16][]string{}
	for i, hp := range allowHosts {
		host, portText, err := net.SplitHostPort(hp)
		if err != nil {
			return nil, fmt.Errorf("egress: allow_hosts[%d] %q: %w", i, hp, err)
		}
		port, err := strconv.ParseUint(portText, 10, 16)
		if err != nil || port == 0 {
			return nil, fmt.Errorf("egress: allow_hosts[%d] %q: invalid port", i, hp)
		}
		ports[uint16(port)] = append(ports[uint16(port)], host)
	}
	var private []netip.Prefix
	for i, c := range allowPrivate {
		pfx, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("egress: allow_private[%d] %q: %w", i, c, err)
		}
		private = append(private, pfx)
	}
	// Every port's rule is compiled now, once, so that a bad glob is an
	// error at start-up rather than a refusal of every connection.
	p := &Policy{checkers: make(map[uint16]*urlguard.Checker, len(ports))}
	for port, hosts := range ports {
		c, err := urlguard.New(urlguard.Rule{Schemes: []string{"http"}, AllowHosts: hosts, AllowPrivate: private}, recording{res})
		if err != nil {
			return nil, fmt.Errorf("egress: %w", err)
		}
		p.checkers[port] = c
	}
	return p, nil
}

// Target is a destination the policy allowed: the host in normal form,
// the port, and the addresses that were checked, which are the only ones
// the proxy may connect to.
type Target struct {
	Host  string
	Port  uint16
	Addrs []netip.Addr
}

// Authority formats host and port as host:port, bracketing an IPv6
// address.
func (t Target) Authority() string { return authority(t.Host, t.Port) }

func authority(host string, port uint16) string {
	return host + ":" + strconv.Itoa(int(port))
}

// Check decides on host and port as a client named them: host is a name
// or an IP literal in any spelling (an IPv6 one with or without
// brackets), port is not 0. A name is resolved once, here; every address
// it resolves to must be public or in allow_private, and the proxy
// connects to one of exactly those addresses, so a resolver that answers
// differently the next time (DNS rebinding) gains nothing. The returned
// Target's Host is the normal form even on a refusal, when it could be
// read, for the audit record.
func (p *Policy) Check(ctx context.Context, host string, port uint16) (Target, error) {
	t := Target{Host: host, Port: port}
	if port == 0 {
		return t, fmt.Errorf("%w: port 0", ErrRefused)
	}
	// The host is checked as the host of an http URL built from its
	// normal form; NormalizeHost refuses the characters that would end
	// that URL's authority elsewhere than the client meant, or make
	// userinfo of part of it.
	norm, err := urlguard.NormalizeHost(host)
	if err != nil {
		return t, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if a, ok := urlguard.ParseHost(norm); ok && a.Is4In6() {
		// An IPv4-mapped address is the IPv4 address to the dual-stack
		// socket that connects to it: one destination, one spelling.
		norm = a.Unmap().String()
	}
	t.Host = norm
	c, ok := p.checkers[port]
	if !ok {
		return t, fmt.Errorf("%w: %s is not in allow_hosts (no entry for port %d)", ErrRefused, t.Authority(), port)
	}
	rec := &recorder{}
	if err := c.Check(context.WithValue(ctx, recorderKey{}, rec), "http://"+t.Authority()+"/"); err != nil {
		return t, fmt.Errorf("%w: %s: %w", ErrRefused, t.Authority(), err)
	}
	t.Addrs = rec.checked(norm)
	if len(t.Addrs) == 0 {
		// urlguard allowed "localhost" by name without resolving it (the
		// profile allows loopback); its addresses are fixed.
		return t, fmt.Errorf("%w: %s: no address was checked", ErrRefused, t.Authority())
	}
	return t, nil
}

// recorderKey is the context key under which a check carries its
// recorder to the resolver.
type recorderKey struct{}

// recording resolves through res and keeps the answer in the recorder
// of the context, so that the proxy dials the addresses urlguard checked
// and never resolves again.
type recording struct{ res urlguard.Resolver }

// LookupNetIP implements urlguard.Resolver.
func (r recording) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	addrs, err := r.res.LookupNetIP(ctx, network, host)
	if rec, ok := ctx.Value(recorderKey{}).(*recorder); ok {
		rec.asked = true
		rec.addrs = slices.Clone(addrs)
	}
	return addrs, err
}

// recorder is the resolver's answer in one check, which urlguard makes
// on the checking goroutine.
type recorder struct {
	addrs []netip.Addr
	asked bool
}

// checked returns the addresses the check was about: the resolver's
// answer, or the literal itself when host is an IP literal.
func (r *recorder) checked(host string) []netip.Addr {
	if r.asked {
		out := make([]netip.Addr, 0, len(r.addrs))
		for _, a := range r.addrs {
			// Go's resolver gives IPv4 answers from /etc/hosts in the
			// IPv4-mapped form; both reach the same address, and the
			// record is clearer in the IPv4 one.
			out = append(out, a.WithZone("").Unmap())
		}
		return out
	}
	if a, ok := urlguard.ParseHost(host); ok {
		return []netip.Addr{a.WithZone("")}
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}
	}
	return nil
}
