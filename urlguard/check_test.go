package urlguard

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

func newChecker(t testing.TB, r Rule) *Checker {
	t.Helper()
	c, err := New(r, startDNS(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// TestCheckAttacks is the SSRF table: every URL here must be refused by
// the default rule (http and https, any host, nothing private), with an
// error of the given kind whose text contains the given words.
func TestCheckAttacks(t *testing.T) {
	c := newChecker(t, Rule{})
	tests := []struct {
		url  string
		kind error
		want string
	}{
		// IPv4 loopback in every spelling a WHATWG parser or inet_aton accepts.
		{"http://127.0.0.1/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://2130706433/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://0177.0.0.1/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://017700000001/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://0x7f000001/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://0x7f.1/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://0X7F.0.0.1/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://127.1/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://127.0.1/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://0x7f.0.0x0.01/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://0177.0x0.1/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://127.0.0.1./", ErrAddress, "127.0.0.1 is loopback"},
		{"http://127.0.0.1:8080/admin", ErrAddress, "127.0.0.1 is loopback"},
		{"http://127.255.255.254/", ErrAddress, "loopback"},
		{"http://１２７.０.０.１/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://127。0。0。1/", ErrAddress, "127.0.0.1 is loopback"},
		// Unspecified, which Linux connects to the local host.
		{"http://0.0.0.0/", ErrAddress, "unspecified"},
		{"http://0/", ErrAddress, "unspecified"},
		{"http://0x/", ErrAddress, "unspecified"},
		{"http://[::]/", ErrAddress, "unspecified"},
		{"http://0.1.2.3/", ErrAddress, "reserved"},
		// IPv6 loopback and the forms that embed IPv4 loopback.
		{"http://[::1]/", ErrAddress, "::1 is loopback"},
		{"http://[0:0:0:0:0:0:0:1]/", ErrAddress, "::1 is loopback"},
		{"http://[::ffff:127.0.0.1]/", ErrAddress, "embeds 127.0.0.1 (IPv4-mapped)"},
		{"http://[::ffff:7f00:1]/", ErrAddress, "embeds 127.0.0.1 (IPv4-mapped)"},
		{"http://[::FFFF:7F00:0001]:80/", ErrAddress, "embeds 127.0.0.1 (IPv4-mapped)"},
		{"http://[::127.0.0.1]/", ErrAddress, "embeds 127.0.0.1 (IPv4-compatible)"},
		{"http://[64:ff9b::127.0.0.1]/", ErrAddress, "embeds 127.0.0.1 (NAT64)"},
		{"http://[64:ff9b::a00:1]/", ErrAddress, "embeds 10.0.0.1 (NAT64), which is private"},
		{"http://[2002:a9fe:a9fe::1]/", ErrAddress, "embeds 169.254.169.254 (6to4), which is cloud metadata"},
		{"http://[2002:7f00:1::]/", ErrAddress, "embeds 127.0.0.1 (6to4)"},
		{"http://[::ffff:a9fe:a9fe]/", ErrAddress, "embeds 169.254.169.254 (IPv4-mapped), which is cloud metadata"},
		// Cloud metadata.
		{"http://169.254.169.254/latest/meta-data/", ErrAddress, "cloud metadata (169.254.169.254/32)"},
		{"http://2852039166/", ErrAddress, "169.254.169.254 is cloud metadata"},
		{"http://0xa9.0xfe.0xa9.0xfe/", ErrAddress, "169.254.169.254 is cloud metadata"},
		{"http://0251.0376.0251.0376/", ErrAddress, "169.254.169.254 is cloud metadata"},
		{"http://169.254.43518/", ErrAddress, "169.254.169.254 is cloud metadata"},
		{"http://[fd00:ec2::254]/latest/meta-data/", ErrAddress, "fd00:ec2::254 is cloud metadata"},
		{"http://[fd00:ec2::23]/v1/credentials", ErrAddress, "fd00:ec2::23 is cloud metadata"},
		{"http://[fe80::a9fe:a9fe%25eth0]/openstack/", ErrAddress, "fe80::a9fe:a9fe%eth0 is cloud metadata"},
		{"http://100.100.100.200/latest/meta-data/", ErrAddress, "100.100.100.200 is cloud metadata"},
		{"http://169.254.170.2/v2/credentials", ErrAddress, "cloud metadata"},
		{"http://168.63.129.16/machine", ErrAddress, "cloud metadata"},
		{"http://metadata.google.internal/computeMetadata/v1/", ErrAddress, "under .internal"},
		{"http://metadata/computeMetadata/v1/", ErrAddress, "single-label name"},
		// Private, link-local, shared and the other ranges.
		{"http://10.0.0.1/", ErrAddress, "private (10.0.0.0/8)"},
		{"http://172.16.0.1/", ErrAddress, "private (172.16.0.0/12)"},
		{"http://172.31.255.255/", ErrAddress, "private (172.16.0.0/12)"},
		{"http://192.168.0.1/", ErrAddress, "private (192.168.0.0/16)"},
		{"http://3232235521/", ErrAddress, "192.168.0.1 is private"},
		{"http://[fc00::1]/", ErrAddress, "private (fc00::/7)"},
		{"http://[fd00::1]/", ErrAddress, "private (fc00::/7)"},
		{"http://169.254.1.1/", ErrAddress, "link-local (169.254.0.0/16)"},
		{"http://[fe80::1]/", ErrAddress, "link-local (fe80::/10)"},
		{"http://[fe80::1%25eth0]/", ErrAddress, "link-local (fe80::/10)"},
		{"http://100.64.0.1/", ErrAddress, "carrier-grade NAT"},
		{"http://100.127.255.255/", ErrAddress, "carrier-grade NAT"},
		{"http://224.0.0.1/", ErrAddress, "multicast"},
		{"http://[ff02::1]/", ErrAddress, "multicast"},
		{"http://255.255.255.255/", ErrAddress, "broadcast"},
		{"http://240.0.0.1/", ErrAddress, "reserved (240.0.0.0/4)"},
		{"http://198.18.0.1/", ErrAddress, "benchmarking"},
		{"http://198.19.255.255/", ErrAddress, "benchmarking"},
		{"http://192.0.2.1/", ErrAddress, "documentation"},
		{"http://198.51.100.1/", ErrAddress, "documentation"},
		{"http://203.0.113.1/", ErrAddress, "documentation"},
		{"http://[2001:db8::1]/", ErrAddress, "documentation"},
		{"http://[3fff::1]/", ErrAddress, "documentation"},
		{"http://192.0.0.8/", ErrAddress, "reserved"},
		{"http://[2001::1]/", ErrAddress, "reserved (2001::/23)"},
		{"http://[64:ff9b:1::1]/", ErrAddress, "reserved"},
		{"http://[fec0::1]/", ErrAddress, "reserved"},
		{"http://[100::1]/", ErrAddress, "outside global unicast"},
		// Names that are local by definition or resolve to local addresses.
		{"http://localhost/", ErrAddress, `"localhost" is loopback by name`},
		{"http://LOCALHOST:3000/", ErrAddress, `"localhost" is loopback by name`},
		{"http://localhost./", ErrAddress, `"localhost" is loopback by name`},
		{"http://foo.localhost/", ErrAddress, `"foo.localhost" is loopback by name`},
		{"http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", ErrAddress, `"localhost" is loopback by name`},
		{"http://ｌｏｃａｌｈｏｓｔ/", ErrAddress, `"localhost" is loopback by name`},
		{"http://printer.local/", ErrAddress, "under .local"},
		{"http://router.home.arpa/", ErrAddress, "under .home.arpa"},
		{"http://intranet/", ErrAddress, "single-label"},
		{"http://internal.test/", ErrAddress, `"internal.test" resolves to a refused address: 10.0.0.5 is private`},
		{"http://INTERNAL.test./", ErrAddress, `10.0.0.5 is private`},
		{"http://rebind.test/", ErrAddress, "127.0.0.1 is loopback"},
		{"http://mapped.test/", ErrAddress, "embeds 169.254.169.254 (IPv4-mapped), which is cloud metadata"},
		{"http://metadata.test/", ErrAddress, "cloud metadata"},
		{"http://cgnat.test/", ErrAddress, "carrier-grade NAT"},
		{"http://ula.test/", ErrAddress, "private (fc00::/7)"},
		{"http://nat64.test/", ErrAddress, "embeds 10.0.0.5 (NAT64)"},
		{"http://mixed.test/", ErrAddress, "192.168.1.1 is private"},
		{"http://mixed6.test/", ErrAddress, "::1 is loopback"},
		{"https://xn--pple-43d.com/", ErrAddress, "10.9.9.9 is private"},
		{"https://аpple.com/", ErrAddress, `"xn--pple-43d.com" resolves to a refused address`},
		// Resolution failures are refusals.
		{"http://nx.test/", ErrResolve, "nx.test"},
		{"http://servfail.test/", ErrResolve, "servfail.test"},
		{"http://empty.test/", ErrResolve, "empty.test"},
		// Ambiguous syntax.
		{"http://allowed.com@evil.com/", ErrInvalid, "userinfo"},
		{"http://user:pass@93.184.215.14/", ErrInvalid, "userinfo"},
		{"http://evil.com#@allowed.com", ErrInvalid, "fragment"},
		{"http://evil.com/#x@allowed.com", ErrInvalid, "fragment"},
		// Code that ends the authority only at '/' finds host 127.0.0.1.
		{"http://public.test?@127.0.0.1/", ErrInvalid, "'@' in the query"},
		{"http://public.test?x=y@127.0.0.1", ErrInvalid, "'@' in the query"},
		{"http://public.test:443?@169.254.169.254/latest", ErrInvalid, "'@' in the query"},
		{"http://evil.com\\@allowed.com/", ErrInvalid, "backslash"},
		{"http:\\\\127.0.0.1\\", ErrInvalid, "backslash"},
		{"http://127.0.0.1\t/", ErrInvalid, "control"},
		{"http://loc\nalhost/", ErrInvalid, "control"},
		{" http://127.0.0.1/", ErrInvalid, "space"},
		{"http://127.0.0.1 /", ErrInvalid, "space"},
		{"http://127.0.0.1\x00.public.test/", ErrInvalid, "control"},
		{"http://127.0.0.1\u00a0/", ErrInvalid, "space"},
		{"http://a\u200b.test/", ErrInvalid, "format character"},
		{"http://\xff/", ErrInvalid, "UTF-8"},
		{"http:127.0.0.1/", ErrInvalid, `no "//"`},
		{"http:/127.0.0.1/", ErrInvalid, `no "//"`},
		{"http:///127.0.0.1/", ErrInvalid, "empty host"},
		{"http://", ErrInvalid, "empty host"},
		{"http://:80/", ErrInvalid, "empty host"},
		{"http://%6c%6f%63%61%6c%68%6f%73%74/", ErrInvalid, "percent-encoding"},
		{"http://127.0.0.%31/", ErrInvalid, "percent-encoding"},
		{"http://exa%zzmple.com/", ErrInvalid, "percent-encoding"},
		{"http://public.test:0/", ErrInvalid, "port 0"},
		{"http://public.test:65536/", ErrInvalid, "out of range"},
		{"http://public.test:99999999999999999999/", ErrInvalid, "out of range"},
		{"http://public.test:/", ErrInvalid, "empty port"},
		{"http://public.test:8o/", ErrInvalid, "invalid port"},
		{"http://public.test:80:80/", ErrInvalid, "more than one ':'"},
		{"http://::1/", ErrInvalid, "more than one ':'"},
		{"http://[127.0.0.1]/", ErrInvalid, "not an IPv6 address"},
		{"http://[::1/", ErrInvalid, "without ']'"},
		{"http://[::1]x/", ErrInvalid, "after ']'"},
		{"http://[fe80::1%eth0]/", ErrInvalid, "zone"},
		{"http://1.2.3.4.5/", ErrInvalid, "5 parts"},
		{"http://256.0.0.1/", ErrInvalid, "above 255"},
		{"http://1.2.3.256/", ErrInvalid, "too large"},
		{"http://4294967296/", ErrInvalid, "too large"},
		{"http://08.0.0.1/", ErrInvalid, "base 8"},
		{"http://0xg/", ErrAddress, "single-label"}, // not a number, so a name
		{"http://evil.1/", ErrInvalid, `IPv4 part "evil"`},
		{"http://a..b.test/", ErrInvalid, "empty label"},
		{"http://.public.test/", ErrInvalid, "empty label"},
		{"http://public.test../", ErrInvalid, "empty label"},
		{"http://pub!ic.test/", ErrInvalid, "not allowed in a host name"},
		{"http://evil.com：80/", ErrInvalid, "not allowed in a host name"},
		{"http://evil.com／.public.test/", ErrInvalid, "not allowed in a host name"},
		{"http://xn--zz.test/", ErrInvalid, "international"},
		{"http://" + strings.Repeat("a", 64) + ".test/", ErrInvalid, "longer than 63"},
		{"http://public.test/" + strings.Repeat("a", MaxURLLength), ErrInvalid, "more than the 8192 allowed"},
		// Schemes.
		{"file:///etc/passwd", ErrScheme, `"file"`},
		{"file://localhost/etc/passwd", ErrScheme, `"file"`},
		{"gopher://127.0.0.1:6379/_FLUSHALL", ErrScheme, `"gopher"`},
		{"gopher://public.test/", ErrScheme, `"gopher"`},
		{"dict://public.test:11211/stat", ErrScheme, `"dict"`},
		{"ftp://public.test/", ErrScheme, `"ftp"`},
		{"ws://public.test/", ErrScheme, `"ws"`},
		{"javascript:alert(1)", ErrScheme, `"javascript"`},
		{"javascript://public.test/%0aalert(1)", ErrScheme, `"javascript"`},
		{"data:text/html,hi", ErrScheme, `"data"`},
		{"//public.test/", ErrInvalid, "scheme"},
		{"public.test/", ErrInvalid, "no scheme"},
		{"1http://public.test/", ErrInvalid, "invalid scheme"},
	}
	for _, tt := range tests {
		err := c.Check(t.Context(), tt.url)
		if err == nil {
			t.Errorf("Check(%q) = nil, want refusal", tt.url)
			continue
		}
		if !errors.Is(err, tt.kind) {
			t.Errorf("Check(%q) = %v, want kind %v", tt.url, err, tt.kind)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Check(%q) = %v, want it to say %q", tt.url, err, tt.want)
		}
		if strings.ContainsAny(err.Error(), "\n\t\x00") {
			t.Errorf("Check(%q): error %q has control characters", tt.url, err)
		}
	}
}

// TestCheckAllowed is the other half: ordinary URLs pass the default rule.
func TestCheckAllowed(t *testing.T) {
	c := newChecker(t, Rule{})
	for _, u := range []string{
		"https://public.test/",
		"http://public.test",
		"HTTPS://PUBLIC.TEST/Path?Q=1",
		"https://public.test./",
		"https://public.test:8443/a/b?c=d&e=f@g.test#frag",
		"https://public.test/@user",
		"https://public.test/?email=a@b.test",
		"https://public.test/%2e%2e/x",
		"https://public.test/caf\u00e9",
		"http://93.184.215.14/",
		"http://1572394766/", // 93.184.215.14 in decimal: a public address in any spelling is public
		"http://0x5d.0xb8.0xd7.0x0e/",
		"http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]:443/",
		"http://[64:ff9b::93.184.215.14]/", // NAT64 of a public address
		"http://[2002:5db8:d70e::1]/",      // 6to4 of a public address
		"http://172.32.0.1/",               // just past 172.16.0.0/12
		"http://100.128.0.1/",              // just past 100.64.0.0/10
		"http://[2001:200::1]/",            // just past 2001::/23
		"http://a.allowed.test/",
	} {
		if err := c.Check(t.Context(), u); err != nil {
			t.Errorf("Check(%q) = %v, want nil", u, err)
		}
	}
}

func TestHostGlobs(t *testing.T) {
	c := newChecker(t, Rule{
		AllowHosts: []string{"public.test", "*.allowed.test", "APPLE.com", "93.184.215.14", "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]"},
		DenyHosts:  []string{"secret.allowed.test"},
	})
	allowed := []string{
		"https://public.test/",
		"https://PUBLIC.Test./",
		"https://a.allowed.test/",
		"http://93.184.215.14/",
		"http://1572394766/",
		"http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
	}
	for _, u := range allowed {
		if err := c.Check(t.Context(), u); err != nil {
			t.Errorf("Check(%q) = %v, want nil", u, err)
		}
	}
	refused := []struct{ url, want string }{
		{"https://allowed.test/", "matches no allow_hosts"}, // "*." is below, not the name itself
		{"https://secret.allowed.test/", `matches deny_hosts "secret.allowed.test"`},
		{"https://SECRET.allowed.test./", "matches deny_hosts"},
		{"https://evilpublic.test/", "matches no allow_hosts"},
		{"https://public.test.evil.test/", "matches no allow_hosts"},
		{"https://evil.test/public.test", "matches no allow_hosts"},
		{"https://evil.test/?public.test", "matches no allow_hosts"},
		{"https://аpple.com/", `"xn--pple-43d.com" matches no allow_hosts`}, // Cyrillic а
		{"https://applе.com/", "matches no allow_hosts"},                    // Cyrillic е
		{"https://xn--pple-43d.com/", "matches no allow_hosts"},
		{"https://a.allowed.test.evil.test/", "matches no allow_hosts"},
		{"https://93.184.215.15/", "matches no allow_hosts"},
	}
	for _, tt := range refused {
		err := c.Check(t.Context(), tt.url)
		if !errors.Is(err, ErrHost) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Check(%q) = %v, want ErrHost saying %q", tt.url, err, tt.want)
		}
	}
	// An allowed host is still refused when it resolves to a private address.
	c = newChecker(t, Rule{AllowHosts: []string{"*.test"}})
	if err := c.Check(t.Context(), "http://internal.test/"); !errors.Is(err, ErrAddress) {
		t.Errorf("allowed host resolving to 10.0.0.5: got %v, want ErrAddress", err)
	}
	// An international glob is compared in punycode.
	c = newChecker(t, Rule{AllowHosts: []string{"bücher.test"}, DenyHosts: []string{"*"}})
	if err := c.Check(t.Context(), "http://BÜCHER.test/"); !errors.Is(err, ErrHost) || !strings.Contains(err.Error(), `"xn--bcher-kva.test" matches deny_hosts "*"`) {
		t.Errorf("deny * with IDN host: got %v", err)
	}
}

func TestSchemes(t *testing.T) {
	c := newChecker(t, Rule{Schemes: []string{"HTTPS"}})
	if err := c.Check(t.Context(), "HtTpS://public.test/"); err != nil {
		t.Errorf("https: %v", err)
	}
	if err := c.Check(t.Context(), "http://public.test/"); !errors.Is(err, ErrScheme) || !strings.Contains(err.Error(), "allowed: https") {
		t.Errorf("http with https only: got %v", err)
	}
	c = newChecker(t, Rule{Schemes: []string{"wss", "git+ssh"}})
	if err := c.Check(t.Context(), "git+ssh://public.test/repo"); err != nil {
		t.Errorf("git+ssh: %v", err)
	}
	if err := c.Check(t.Context(), "wss://127.1/"); !errors.Is(err, ErrAddress) {
		t.Errorf("wss to loopback: got %v, want ErrAddress", err)
	}
}

func TestAllowPrivate(t *testing.T) {
	c := newChecker(t, Rule{AllowPrivate: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/24"),
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("169.254.0.0/16"),
		netip.MustParsePrefix("192.168.1.20/32"),
	}})
	for _, u := range []string{
		"http://internal.test/", // 10.0.0.5
		"http://10.0.0.255/",
		"http://127.0.0.1:8080/",
		"http://2130706433/",
		"http://[::ffff:127.0.0.1]/", // an IPv4 range covers the mapped form
		"http://[::1]/",
		"http://localhost:3000/",
		"http://rebind.test/",
		"http://169.254.1.1/",
		"http://printer.local/", // local names resolve once private ranges are allowed
		"http://public.test/",
	} {
		if err := c.Check(t.Context(), u); err != nil {
			t.Errorf("Check(%q) = %v, want nil", u, err)
		}
	}
	for _, tt := range []struct{ url, want string }{
		{"http://10.0.1.1/", "private"},
		{"http://169.254.169.254/", "cloud metadata"}, // link-local allowed, metadata not
		{"http://mapped.test/", "cloud metadata"},
		{"http://[64:ff9b::a00:5]/", "NAT64"}, // NAT64 needs its own IPv6 range
		{"http://mixed.test/", "192.168.1.1 is private"},
		{"http://[fe80::1]/", "link-local"},
	} {
		err := c.Check(t.Context(), tt.url)
		if !errors.Is(err, ErrAddress) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Check(%q) = %v, want ErrAddress saying %q", tt.url, err, tt.want)
		}
	}
	// Allowing everything still leaves metadata closed, unless named exactly.
	c = newChecker(t, Rule{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}})
	if err := c.Check(t.Context(), "http://10.1.1.1/"); err != nil {
		t.Errorf("0.0.0.0/0: %v", err)
	}
	for _, u := range []string{"http://169.254.169.254/", "http://[fd00:ec2::254]/", "http://100.100.100.200/", "http://[fd00:ec2::23]/", "http://[fe80::a9fe:a9fe%25eth0]/"} {
		if err := c.Check(t.Context(), u); !errors.Is(err, ErrAddress) {
			t.Errorf("Check(%q) with everything allowed = %v, want metadata refused", u, err)
		}
	}
	c = newChecker(t, Rule{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("169.254.169.254/32")}})
	if err := c.Check(t.Context(), "http://169.254.169.254/"); err != nil {
		t.Errorf("metadata named exactly: %v", err)
	}
	// Localhost is both loopback addresses; allowing one is not enough.
	c = newChecker(t, Rule{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if err := c.Check(t.Context(), "http://localhost/"); !errors.Is(err, ErrAddress) || !strings.Contains(err.Error(), "::1") {
		t.Errorf("localhost with only 127/8 allowed: got %v", err)
	}
}

func TestZeroChecker(t *testing.T) {
	var nilChecker *Checker
	for _, c := range []*Checker{nilChecker, {}} {
		if err := c.Check(t.Context(), "https://93.184.215.14/"); !errors.Is(err, ErrHost) {
			t.Errorf("%#v: got %v, want a refusal", c, err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, tt := range []struct {
		r    Rule
		want string
	}{
		{Rule{Schemes: []string{"ht tp"}}, "schemes[0]"},
		{Rule{Schemes: []string{""}}, "schemes[0]"},
		{Rule{Schemes: []string{"https", "file"}}, "schemes[1] \"file\""},
		{Rule{AllowHosts: []string{"*.*.example.com"}}, "allow_hosts[0]"},
		{Rule{AllowHosts: []string{"api.*.com"}}, "allow_hosts[0]"},
		{Rule{AllowHosts: []string{""}}, "allow_hosts[0]"},
		{Rule{AllowHosts: []string{"ok.test", "a b"}}, "allow_hosts[1]"},
		{Rule{DenyHosts: []string{"*.10.0.0.1"}}, "deny_hosts[0]"},
		{Rule{DenyHosts: []string{"*.[::1]"}}, "deny_hosts[0]"},
		{Rule{DenyHosts: []string{"evil.test:80"}}, "deny_hosts[0]"},
		{Rule{AllowPrivate: []netip.Prefix{{}}}, "allow_private[0]"},
	} {
		_, err := New(tt.r, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want error naming %s", tt.r, err, tt.want)
		}
	}
}

// TestResolveTimeout shows that a resolver that never answers refuses
// the URL once the context ends, and that Check bounds a context without
// a deadline by itself.
func TestResolveTimeout(t *testing.T) {
	c := newChecker(t, Rule{})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Check(ctx, "http://silent.test/")
	if !errors.Is(err, ErrResolve) {
		t.Errorf("silent name: got %v, want ErrResolve", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("silent name took %v with a 200ms deadline", d)
	}
	if testing.Short() {
		return
	}
	start = time.Now()
	err = c.Check(context.Background(), "http://silent.test/")
	if !errors.Is(err, ErrResolve) {
		t.Errorf("silent name without deadline: got %v, want ErrResolve", err)
	}
	if d := time.Since(start); d > ResolveTimeout+time.Second {
		t.Errorf("silent name without deadline took %v, want about %v", d, ResolveTimeout)
	}
}

// TestResolverError shows a failing resolver's error is kept for errors.Is.
func TestResolverError(t *testing.T) {
	boom := errors.New("resolver down")
	c, err := New(Rule{}, resolverFunc(func(context.Context, string, string) ([]netip.Addr, error) { return nil, boom }))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Check(t.Context(), "https://public.test/")
	if !errors.Is(err, ErrResolve) || !errors.Is(err, boom) {
		t.Errorf("got %v, want ErrResolve wrapping the resolver's error", err)
	}
	// Literals never reach the resolver.
	if err := c.Check(t.Context(), "https://93.184.215.14/"); err != nil {
		t.Errorf("literal with a failing resolver: %v", err)
	}
}

// TestResolveName shows what name reaches the resolver: the normal form,
// with the trailing dot kept, so that an absolute name is not completed
// from the local search list, and without one otherwise.
func TestResolveName(t *testing.T) {
	var asked []string
	c, err := New(Rule{}, resolverFunc(func(_ context.Context, network, host string) ([]netip.Addr, error) {
		if network != "ip" {
			t.Errorf("network %q, want ip", network)
		}
		asked = append(asked, host)
		return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"http://Public.TEST./", "http://public.test/", "http://ＰＵＢＬＩＣ．test/", "http://bücher.test./"} {
		if err := c.Check(t.Context(), u); err != nil {
			t.Errorf("Check(%q) = %v", u, err)
		}
	}
	want := []string{"public.test.", "public.test", "public.test", "xn--bcher-kva.test."}
	if !slices.Equal(asked, want) {
		t.Errorf("resolver asked for %q, want %q", asked, want)
	}
}

// TestResolveTooMany shows that an answer with more addresses than any
// DNS message over UDP holds is refused rather than checked at length.
func TestResolveTooMany(t *testing.T) {
	for _, n := range []int{maxAddrs, maxAddrs + 1} {
		addrs := make([]netip.Addr, n)
		for i := range addrs {
			addrs[i] = netip.AddrFrom4([4]byte{93, 184, byte(i >> 8), byte(i)})
		}
		c, err := New(Rule{}, resolverFunc(func(context.Context, string, string) ([]netip.Addr, error) { return addrs, nil }))
		if err != nil {
			t.Fatal(err)
		}
		err = c.Check(t.Context(), "https://public.test/")
		if n <= maxAddrs && err != nil {
			t.Errorf("%d public addresses: %v", n, err)
		}
		if n > maxAddrs && (!errors.Is(err, ErrResolve) || !strings.Contains(err.Error(), "more than")) {
			t.Errorf("%d addresses: got %v, want ErrResolve", n, err)
		}
	}
}

// resolverFunc adapts a function to Resolver, for failures that a DNS
// server cannot easily produce.
type resolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

func (f resolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

func TestConcurrentCheck(t *testing.T) {
	c := newChecker(t, Rule{AllowHosts: []string{"*.test"}})
	done := make(chan error)
	for i := range 8 {
		go func() {
			u := "http://public.test/"
			if i%2 == 1 {
				u = "http://internal.test/"
			}
			err := c.Check(t.Context(), u)
			if (err == nil) != (i%2 == 0) {
				done <- errors.New(u + ": " + errString(err))
				return
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "allowed"
	}
	return err.Error()
}

func BenchmarkCheckIPLiteral(b *testing.B) {
	c, err := New(Rule{AllowHosts: []string{"*.example.com", "93.184.215.14"}, DenyHosts: []string{"*.evil.test"}}, resolverFunc(func(context.Context, string, string) ([]netip.Addr, error) {
		return nil, errors.New("not used")
	}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, u := range []string{"https://93.184.215.14:8443/some/path?q=1", "http://0x5d.0xb8.0xd7.0x0e/"} {
		b.Run(u, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.Check(ctx, u); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
