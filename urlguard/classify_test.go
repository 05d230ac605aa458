package urlguard

import (
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want Class
	}{
		{"0.0.0.0", Unspecified},
		{"0.255.255.255", Reserved},
		{"1.0.0.0", Public},
		{"9.255.255.255", Public},
		{"10.0.0.0", Private},
		{"10.255.255.255", Private},
		{"11.0.0.0", Public},
		{"100.63.255.255", Public},
		{"100.64.0.0", Shared},
		{"100.127.255.255", Shared},
		{"100.128.0.0", Public},
		{"100.100.100.200", Metadata},
		{"126.255.255.255", Public},
		{"127.0.0.0", Loopback},
		{"127.255.255.255", Loopback},
		{"128.0.0.0", Public},
		{"168.63.129.16", Metadata},
		{"168.63.129.17", Public},
		{"169.253.255.255", Public},
		{"169.254.0.0", LinkLocal},
		{"169.254.169.254", Metadata},
		{"169.254.169.253", LinkLocal},
		{"169.254.170.2", Metadata},
		{"169.254.255.255", LinkLocal},
		{"169.255.0.0", Public},
		{"172.15.255.255", Public},
		{"172.16.0.0", Private},
		{"172.31.255.255", Private},
		{"172.32.0.0", Public},
		{"192.0.0.0", Reserved},
		{"192.0.0.255", Reserved},
		{"192.0.1.0", Public},
		{"192.0.2.0", Documentation},
		{"192.0.3.0", Public},
		{"192.88.99.1", Reserved},
		{"192.167.255.255", Public},
		{"192.168.0.0", Private},
		{"192.168.255.255", Private},
		{"192.169.0.0", Public},
		{"198.17.255.255", Public},
		{"198.18.0.0", Benchmarking},
		{"198.19.255.255", Benchmarking},
		{"198.20.0.0", Public},
		{"198.51.100.0", Documentation},
		{"203.0.113.255", Documentation},
		{"203.0.114.0", Public},
		{"223.255.255.255", Public},
		{"224.0.0.0", Multicast},
		{"239.255.255.255", Multicast},
		{"240.0.0.0", Reserved},
		{"255.255.255.254", Reserved},
		{"255.255.255.255", Broadcast},
		{"93.184.215.14", Public},

		{"::", Unspecified},
		{"::1", Loopback},
		{"::2", Reserved},
		{"::ffff:127.0.0.1", Loopback},
		{"::ffff:10.1.2.3", Private},
		{"::ffff:169.254.169.254", Metadata},
		{"::ffff:93.184.215.14", Public},
		{"::ffff:0.0.0.0", Unspecified},
		{"::127.0.0.1", Loopback},
		{"::93.184.215.14", Reserved},
		{"::ffff:0:7f00:1", Reserved}, // IPv4-translated (RFC 2765), outside 2000::/3
		{"64:ff9b::7f00:1", Loopback},
		{"64:ff9b::a9fe:a9fe", Metadata},
		{"64:ff9b::5db8:d70e", Public},
		{"64:ff9b:0:0:0:1::", Reserved}, // not the /96, so outside 2000::/3
		{"64:ff9b:1::1", Reserved},
		{"100::1", Reserved},
		{"1fff:ffff::", Reserved},
		{"2000::", Public},
		{"2001::1", Reserved},
		{"2001:1ff::", Reserved},
		{"2001:200::", Public},
		{"2001:db8::1", Documentation},
		{"2001:db9::1", Public},
		{"2002:7f00:1::", Loopback},
		{"2002:c0a8:101::", Private},
		{"2002:5db8:d70e::1", Public},
		{"2606:4700::1111", Public},
		{"3fff::", Documentation},
		{"3fff:fff::", Documentation},
		{"3fff:1000::", Public},
		{"3fff:ffff::", Public},
		{"4000::", Reserved},
		{"5f00::1", Reserved},
		{"fc00::", Private},
		{"fdff:ffff::", Private},
		{"fd00:ec2::254", Metadata},
		{"fd00:ec2::253", Private},
		{"fd00:ec2::23", Metadata},
		{"fd00:ec2::22", Private},
		{"fe80::a9fe:a9fe", Metadata},
		{"fe80::a9fe:a9fe%eth0", Metadata},
		{"fe80::a9fe:a9ff", LinkLocal},
		{"fe80::1", LinkLocal},
		{"fe80::1%eth0", LinkLocal},
		{"febf::1", LinkLocal},
		{"fec0::1", Reserved},
		{"ff02::1", Multicast},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Multicast},
	}
	for _, tt := range tests {
		a := netip.MustParseAddr(tt.addr)
		if got := Classify(a); got != tt.want {
			t.Errorf("Classify(%s) = %v, want %v", tt.addr, got, tt.want)
		}
		ok, why := IsPublic(a)
		if ok != (tt.want == Public) {
			t.Errorf("IsPublic(%s) = %v", tt.addr, ok)
		}
		if !ok && !strings.Contains(why, tt.want.String()) {
			t.Errorf("IsPublic(%s) says %q, want it to name %v", tt.addr, why, tt.want)
		}
		if ok && why != "" {
			t.Errorf("IsPublic(%s) = true with reason %q", tt.addr, why)
		}
	}
	if got := Classify(netip.Addr{}); got != Invalid {
		t.Errorf("Classify(zero) = %v", got)
	}
	if ok, why := IsPublic(netip.Addr{}); ok || why == "" {
		t.Errorf("IsPublic(zero) = %v, %q", ok, why)
	}
}

// TestClassifyMapped checks that every IPv4 address gets the same class
// through its mapped form, sampling the space at a stride that lands in
// every range above.
func TestClassifyMapped(t *testing.T) {
	for v := uint64(0); v <= 0xffffffff; v += 0x10001 {
		b := [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		a4 := netip.AddrFrom4(b)
		a6 := netip.AddrFrom16(a4.As16())
		if c4, c6 := Classify(a4), Classify(a6); c4 != c6 {
			t.Fatalf("Classify(%s) = %v but Classify(%s) = %v", a4, c4, a6, c6)
		}
	}
}

func TestIsPublicReasons(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1":              "127.0.0.1 is loopback (127.0.0.0/8)",
		"::ffff:169.254.169.254": "::ffff:169.254.169.254 embeds 169.254.169.254 (IPv4-mapped), which is cloud metadata (169.254.169.254/32)",
		"2002:a00:1::":           "2002:a00:1:: embeds 10.0.0.1 (6to4), which is private (10.0.0.0/8)",
		"4000::1":                "4000::1 is reserved (outside global unicast 2000::/3)",
		"fd00:ec2::254":          "fd00:ec2::254 is cloud metadata (fd00:ec2::254/128)",
	} {
		if _, why := IsPublic(netip.MustParseAddr(addr)); why != want {
			t.Errorf("IsPublic(%s) says %q, want %q", addr, why, want)
		}
	}
}

func TestClassString(t *testing.T) {
	for c := Public; c <= Invalid; c++ {
		if s := c.String(); s == "" || strings.HasPrefix(s, "Class(") {
			t.Errorf("Class %d has no name", c)
		}
	}
	if s := Class(200).String(); s != "Class(200)" {
		t.Errorf("unknown class: %q", s)
	}
}

func BenchmarkClassify(b *testing.B) {
	addrs := []netip.Addr{netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("2606:4700::1111"), netip.MustParseAddr("::ffff:10.0.0.1")}
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range addrs {
			Classify(a)
		}
	}
}

// FuzzClassify holds every verdict to its evidence: the range a reason
// names contains the address it judged (the embedded IPv4 address for
// the forms that embed one), so a range test and the range it reports
// cannot drift apart; an IPv4-mapped address is judged as its IPv4
// address; and IsPublic agrees with Classify.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"0.0.0.0", "100.64.0.1", "169.254.169.254", "198.19.1.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a9fe:a9fe::", "2001:1ff::", "3fff:fff::", "fd00:ec2::254", "fe80::a9fe:a9fe", "2606:4700::1111"} {
		b := netip.MustParseAddr(s).As16()
		f.Add(b[:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var addr netip.Addr
		switch len(b) {
		case 4:
			addr = netip.AddrFrom4([4]byte(b))
		case 16:
			addr = netip.AddrFrom16([16]byte(b))
		default:
			return
		}
		v := classify(addr)
		judged := addr
		if v.inner.IsValid() {
			judged = v.inner
		}
		if v.class != Public && v.note == "" && !v.prefix.Contains(judged.Unmap()) && !v.prefix.Contains(judged) {
			t.Fatalf("classify(%s) = %v by %s, which does not contain %s", addr, v.class, v.prefix, judged)
		}
		if addr.Is4In6() && Classify(addr) != Classify(addr.Unmap()) {
			t.Fatalf("Classify(%s) = %v but Classify(%s) = %v", addr, Classify(addr), addr.Unmap(), Classify(addr.Unmap()))
		}
		if ok, why := IsPublic(addr); ok != (v.class == Public) || ok != (why == "") {
			t.Fatalf("IsPublic(%s) = %v, %q; class %v", addr, ok, why, v.class)
		}
	})
}
