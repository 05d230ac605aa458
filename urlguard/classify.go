package urlguard

import (
	"fmt"
	"net/netip"
	"slices"
)

// Class is what kind of destination an IP address is, as far as reaching
// it from a sandboxed server is concerned.
type Class uint8

// The classes. Every class but Public is refused unless a rule's
// AllowPrivate covers the address.
const (
	// Public is a globally routable unicast address.
	Public Class = iota
	// Unspecified is 0.0.0.0 or ::, which Linux connects to the local host.
	Unspecified
	// Loopback is 127.0.0.0/8 or ::1.
	Loopback
	// Private is RFC 1918 space or an IPv6 unique local address (fc00::/7).
	Private
	// LinkLocal is 169.254.0.0/16 or fe80::/10.
	LinkLocal
	// Metadata is a cloud instance metadata or host platform endpoint
	// (169.254.169.254, fd00:ec2::254, fe80::a9fe:a9fe, 100.100.100.200,
	// 168.63.129.16, ...),
	// where credentials of the machine are handed out.
	Metadata
	// Shared is the carrier-grade NAT range 100.64.0.0/10 (RFC 6598).
	Shared
	// Multicast is 224.0.0.0/4 or ff00::/8.
	Multicast
	// Broadcast is 255.255.255.255.
	Broadcast
	// Documentation is a range set aside for examples (RFC 5737, RFC 3849,
	// RFC 9637).
	Documentation
	// Benchmarking is 198.18.0.0/15 (RFC 2544).
	Benchmarking
	// Reserved is any other range that is not globally routable unicast:
	// "this network", IETF protocol assignments, 240.0.0.0/4, IPv6 outside
	// 2000::/3, deprecated tunnelling forms and the like.
	Reserved
	// Invalid is the zero netip.Addr.
	Invalid
)

// String names the class in lower case, for messages.
func (c Class) String() string {
	switch c {
	case Public:
		return "public"
	case Unspecified:
		return "unspecified"
	case Loopback:
		return "loopback"
	case Private:
		return "private"
	case LinkLocal:
		return "link-local"
	case Metadata:
		return "cloud metadata"
	case Shared:
		return "shared (carrier-grade NAT)"
	case Multicast:
		return "multicast"
	case Broadcast:
		return "broadcast"
	case Documentation:
		return "documentation"
	case Benchmarking:
		return "benchmarking"
	case Reserved:
		return "reserved"
	case Invalid:
		return "invalid"
	}
	return fmt.Sprintf("Class(%d)", uint8(c))
}

// Classify says what kind of destination addr is. A zone is ignored. An
// IPv6 address that embeds an IPv4 address the network will deliver to
// (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) takes
// the class of the embedded address when that one is not public, since
// connecting to it reaches the embedded address; the deprecated
// IPv4-compatible form ::/96 is never public.
func Classify(addr netip.Addr) Class {
	return classify(addr).class
}

// IsPublic reports whether addr is a public destination and, when it is
// not, why, in words fit for a log record, such as
// "127.0.0.1 is loopback (127.0.0.0/8)" or
// "::ffff:a9fe:a9fe embeds 169.254.169.254 (IPv4-mapped), which is cloud metadata (169.254.169.254/32)".
func IsPublic(addr netip.Addr) (ok bool, why string) {
	v := classify(addr)
	if v.class == Public {
		return true, ""
	}
	return false, v.why(addr)
}

// verdict is a classification with the evidence for it.
type verdict struct {
	class  Class
	prefix netip.Prefix // the range that decided; invalid for Invalid
	note   string       // said instead of prefix when the range is not one prefix
	inner  netip.Addr   // the embedded IPv4 address that decided, if any
	via    string       // how inner is embedded: "IPv4-mapped", "NAT64", ...
}

func (v verdict) rangeText() string {
	if v.note != "" {
		return v.note
	}
	return v.prefix.String()
}

func (v verdict) why(addr netip.Addr) string {
	if !addr.IsValid() {
		return "invalid address"
	}
	if v.inner.IsValid() {
		return fmt.Sprintf("%s embeds %s (%s), which is %s (%s)", addr, v.inner, v.via, v.class, v.rangeText())
	}
	return fmt.Sprintf("%s is %s (%s)", addr, v.class, v.rangeText())
}

func classify(addr netip.Addr) verdict {
	if !addr.IsValid() {
		return verdict{class: Invalid}
	}
	addr = addr.WithZone("")
	if addr.Is4() {
		return classify4(addr.As4())
	}
	return classify6(addr.As16())
}

// p4 builds an IPv4 prefix without parsing, so classification costs no
// allocation and needs no package-level table.
func p4(a, b, c, d byte, bits int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{a, b, c, d}), bits)
}

// classify4 follows the IANA IPv4 Special-Purpose Address Registry, with
// the metadata endpoints of the large clouds picked out of the ranges
// they live in, since they are the usual target of a forged request.
func classify4(b [4]byte) verdict {
	v := func(c Class, p netip.Prefix) verdict { return verdict{class: c, prefix: p} }
	switch {
	case b == [4]byte{0, 0, 0, 0}:
		return v(Unspecified, p4(0, 0, 0, 0, 32))
	case b[0] == 0:
		return v(Reserved, p4(0, 0, 0, 0, 8)) // "this network"
	case b[0] == 10:
		return v(Private, p4(10, 0, 0, 0, 8))
	case b == [4]byte{100, 100, 100, 200}: // Alibaba Cloud
		return v(Metadata, p4(100, 100, 100, 200, 32))
	case b[0] == 100 && b[1]&0xc0 == 64:
		return v(Shared, p4(100, 64, 0, 0, 10))
	case b[0] == 127:
		return v(Loopback, p4(127, 0, 0, 0, 8))
	case b == [4]byte{168, 63, 129, 16}: // Azure host platform (WireServer)
		return v(Metadata, p4(168, 63, 129, 16, 32))
	case b == [4]byte{169, 254, 169, 254}: // AWS, GCP, Azure, OCI, DigitalOcean, OpenStack
		return v(Metadata, p4(169, 254, 169, 254, 32))
	case b == [4]byte{169, 254, 170, 2}, b == [4]byte{169, 254, 170, 23}: // AWS ECS task, EKS pod identity
		return v(Metadata, p4(b[0], b[1], b[2], b[3], 32))
	case b[0] == 169 && b[1] == 254:
		return v(LinkLocal, p4(169, 254, 0, 0, 16))
	case b[0] == 172 && b[1]&0xf0 == 16:
		return v(Private, p4(172, 16, 0, 0, 12))
	case b[0] == 192 && b[1] == 0 && b[2] == 0:
		return v(Reserved, p4(192, 0, 0, 0, 24)) // IETF protocol assignments
	case b[0] == 192 && b[1] == 0 && b[2] == 2:
		return v(Documentation, p4(192, 0, 2, 0, 24))
	case b[0] == 192 && b[1] == 88 && b[2] == 99:
		return v(Reserved, p4(192, 88, 99, 0, 24)) // 6to4 relay anycast, deprecated by RFC 7526
	case b[0] == 192 && b[1] == 168:
		return v(Private, p4(192, 168, 0, 0, 16))
	case b[0] == 198 && b[1]&0xfe == 18:
		return v(Benchmarking, p4(198, 18, 0, 0, 15))
	case b[0] == 198 && b[1] == 51 && b[2] == 100:
		return v(Documentation, p4(198, 51, 100, 0, 24))
	case b[0] == 203 && b[1] == 0 && b[2] == 113:
		return v(Documentation, p4(203, 0, 113, 0, 24))
	case b[0]&0xf0 == 224:
		return v(Multicast, p4(224, 0, 0, 0, 4))
	case b == [4]byte{255, 255, 255, 255}:
		return v(Broadcast, p4(255, 255, 255, 255, 32))
	case b[0]&0xf0 == 240:
		return v(Reserved, p4(240, 0, 0, 0, 4))
	}
	return verdict{class: Public}
}

// metadata6 are the IPv6 metadata endpoints. They sit in private and
// link-local space, so without their own class a rule that allows
// fc00::/7 or fe80::/10 would open them.
var metadata6 = [...][16]byte{
	netip.MustParseAddr("fd00:ec2::254").As16(),   // AWS instance metadata
	netip.MustParseAddr("fd00:ec2::23").As16(),    // AWS EKS pod identity
	netip.MustParseAddr("fe80::a9fe:a9fe").As16(), // OpenStack
}

// p6 builds an IPv6 prefix from its leading 16-bit groups.
func p6(bits int, groups ...uint16) netip.Prefix {
	var a [16]byte
	for i, g := range groups {
		a[2*i], a[2*i+1] = byte(g>>8), byte(g)
	}
	return netip.PrefixFrom(netip.AddrFrom16(a), bits)
}

// classify6 refuses everything outside 2000::/3, the only range IANA
// allocates for global unicast, and the special ranges inside it. The
// forms that embed an IPv4 address are judged by that address first, so
// that a reason names the address that is really reached.
func classify6(a [16]byte) verdict {
	v := func(c Class, p netip.Prefix) verdict { return verdict{class: c, prefix: p} }
	group := func(i int) uint16 { return uint16(a[2*i])<<8 | uint16(a[2*i+1]) }
	zeroUntil := func(n int) bool { // bytes a[0:n] are all zero
		for _, x := range a[:n] {
			if x != 0 {
				return false
			}
		}
		return true
	}
	embedded := func(via string, inner [4]byte, p netip.Prefix) (verdict, bool) {
		iv := classify4(inner)
		if iv.class == Public {
			return verdict{class: Public, prefix: p}, false
		}
		iv.inner, iv.via = netip.AddrFrom4(inner), via
		return iv, true
	}
	last4 := [4]byte{a[12], a[13], a[14], a[15]}
	switch {
	case zeroUntil(15) && a[15] == 0:
		return v(Unspecified, p6(128))
	case zeroUntil(15) && a[15] == 1:
		return v(Loopback, p6(128, 0, 0, 0, 0, 0, 0, 0, 1))
	case zeroUntil(10) && a[10] == 0xff && a[11] == 0xff:
		// A dual-stack socket connects to the IPv4 address itself.
		iv := classify4(last4)
		if iv.class != Public {
			iv.inner, iv.via = netip.AddrFrom4(last4), "IPv4-mapped"
		}
		return iv
	case zeroUntil(12):
		if iv, bad := embedded("IPv4-compatible", last4, p6(96)); bad {
			return iv
		}
		return v(Reserved, p6(96)) // IPv4-compatible, deprecated by RFC 4291
	case group(0) == 0x64 && group(1) == 0xff9b && group(2) == 0 && group(3) == 0 && group(4) == 0 && group(5) == 0:
		// The well-known NAT64 prefix: a translator forwards to the IPv4
		// address, so a public one is as fine as any public address.
		iv, _ := embedded("NAT64", last4, p6(96, 0x64, 0xff9b))
		return iv
	case group(0) == 0x64 && group(1) == 0xff9b && group(2) == 1:
		return v(Reserved, p6(48, 0x64, 0xff9b, 1)) // local-use NAT64, RFC 8215
	case group(0) == 0x2002:
		// 6to4 (RFC 3056) relays to the IPv4 address in bits 16 to 47.
		iv, _ := embedded("6to4", [4]byte{a[2], a[3], a[4], a[5]}, p6(16, 0x2002))
		return iv
	case group(0) == 0x2001 && group(1) == 0x0db8:
		return v(Documentation, p6(32, 0x2001, 0xdb8))
	case group(0) == 0x2001 && group(1) < 0x200:
		// IETF protocol assignments, among them Teredo (2001::/32), whose
		// embedded addresses are obfuscated and not worth trusting.
		return v(Reserved, p6(23, 0x2001))
	case group(0) == 0x3fff && group(1) < 0x1000:
		return v(Documentation, p6(20, 0x3fff))
	case slices.Contains(metadata6[:], a):
		return v(Metadata, netip.PrefixFrom(netip.AddrFrom16(a), 128))
	case a[0]&0xfe == 0xfc:
		return v(Private, p6(7, 0xfc00))
	case a[0] == 0xfe && a[1]&0xc0 == 0x80:
		return v(LinkLocal, p6(10, 0xfe80))
	case a[0] == 0xfe && a[1]&0xc0 == 0xc0:
		return v(Reserved, p6(10, 0xfec0)) // site-local, deprecated by RFC 3879
	case a[0] == 0xff:
		return v(Multicast, p6(8, 0xff00))
	case a[0]&0xe0 != 0x20:
		return verdict{class: Reserved, note: "outside global unicast 2000::/3"}
	}
	return verdict{class: Public}
}
