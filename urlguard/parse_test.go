package urlguard

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		raw, scheme, host string
		addr              string // "" for a name
		port              uint16
	}{
		{"https://Example.COM/path", "https", "example.com", "", 0},
		{"HTTP://example.com.:8080", "http", "example.com", "", 8080},
		{"http://example.com:080/", "http", "example.com", "", 80},
		{"http://example.com?q", "http", "example.com", "", 0},
		{"http://example.com#f", "http", "example.com", "", 0},
		{"http://r3---sn-abc.example/", "http", "r3---sn-abc.example", "", 0},
		{"http://_dmarc.example/", "http", "_dmarc.example", "", 0},
		{"http://bücher.example/", "http", "xn--bcher-kva.example", "", 0},
		{"http://XN--BCHER-KVA.example/", "http", "xn--bcher-kva.example", "", 0},
		{"http://faß.example/", "http", "xn--fa-hia.example", "", 0}, // nontransitional: ß stays
		{"http://ＥＸＡＭＰＬＥ．com/", "http", "example.com", "", 0},
		{"http://аpple.com/", "http", "xn--pple-43d.com", "", 0},
		{"http://2130706433/", "http", "127.0.0.1", "127.0.0.1", 0},
		{"http://0x7F.1:1/", "http", "127.0.0.1", "127.0.0.1", 1},
		{"http://0177.0.0.1/", "http", "127.0.0.1", "127.0.0.1", 0},
		{"http://00177.0.0.1/", "http", "127.0.0.1", "127.0.0.1", 0},
		{"http://127.1/", "http", "127.0.0.1", "127.0.0.1", 0},
		{"http://1.2.3/", "http", "1.2.0.3", "1.2.0.3", 0},
		{"http://1.0x10203/", "http", "1.1.2.3", "1.1.2.3", 0},
		{"http://0xffffffff/", "http", "255.255.255.255", "255.255.255.255", 0},
		{"http://4294967295/", "http", "255.255.255.255", "255.255.255.255", 0},
		{"http://037777777777/", "http", "255.255.255.255", "255.255.255.255", 0},
		{"http://0x/", "http", "0.0.0.0", "0.0.0.0", 0},
		{"http://00/", "http", "0.0.0.0", "0.0.0.0", 0},
		{"http://1.2.3.4./", "http", "1.2.3.4", "1.2.3.4", 0},
		{"http://１.２.３.４/", "http", "1.2.3.4", "1.2.3.4", 0},
		{"http://0x.example/", "http", "0x.example", "", 0},
		{"http://1.2.3.example/", "http", "1.2.3.example", "", 0},
		{"http://[::1]:65535/", "http", "[::1]", "::1", 65535},
		{"http://[0:0::1]/", "http", "[::1]", "::1", 0},
		{"http://[::ffff:7f00:1]/", "http", "[::ffff:127.0.0.1]", "::ffff:127.0.0.1", 0},
		{"http://[2001:DB8::1]/", "http", "[2001:db8::1]", "2001:db8::1", 0},
		{"http://[fe80::1%25en0]/", "http", "[fe80::1]", "fe80::1%en0", 0},
	}
	for _, tt := range tests {
		got, err := Parse(tt.raw)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.raw, err)
			continue
		}
		var want netip.Addr
		if tt.addr != "" {
			want = netip.MustParseAddr(tt.addr)
		}
		if got.Scheme != tt.scheme || got.Host != tt.host || got.Addr != want || got.Port != tt.port {
			t.Errorf("Parse(%q) = %+v, want %s %s %v %d", tt.raw, got, tt.scheme, tt.host, want, tt.port)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, raw := range []string{
		"",
		"http",
		"http:",
		"http:/",
		"http://a.test:65536",
		"http://a.test:-1",
		"http://a.test:+80",
		"http://a.test: 80",
		"http://[::1]:",
		"http://[]/",
		"http://[::1%25]/",
		"http://[::1%25a%25b]/",
		"http://[::1%25a/b]/",
		"http://[v1.x]/",
		"http://[::1]]/",
		"http://a.test%2f@b.test/",
		"http://0x100000000/",
		"http://1.2.3.4.5/",
		"http://09/",
		"http://0x1g.1/",
		"http://1..2/",
		"http://a_b%/",
		"http://a;b.test/",
		"http://a=b.test/",
		"http://a'b.test/",
		"http://a\"b.test/",
		"http://a<b.test/",
		"http://a^b.test/",
		"http://a|b.test/",
		"http://a`b.test/",
		"http://a{b.test/",
		"http://a~b.test/",
		"http://a*b.test/",
		"http://a$b.test/",
		"http://a&b.test/",
		"http://a(b.test/",
		"http://a,b.test/",
		"http://a+b.test/",
		"http://\u202eevil.test/",
		"http://evil.test\u3000/",
		"http://a\u0085b/",
		"http://xn--/",
		"http://xn--a-.test/",
		"http://" + strings.Repeat("a.", 127) + "aa/",
		"http://" + strings.Repeat("a", maxHostLength+1) + "/",
	} {
		if got, err := Parse(raw); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", raw, got)
		}
	}
}

func TestParseHost(t *testing.T) {
	tests := []struct{ host, want string }{
		{"127.0.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"127.1.", "127.0.0.1"},
		{"１２７.０.０.１", "127.0.0.1"},
		{"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
		{"::ffff:127.0.0.1", "::ffff:127.0.0.1"},
		{"[fe80::1%25eth0]", "fe80::1%eth0"},
		{"fe80::1%eth0", "fe80::1%eth0"},
		{"[::1]", "::1"},
		{"example.com", ""},
		{"localhost", ""},
		{"1.2.3.4.5", ""},
		{"[127.0.0.1]", ""},
		{"[fe80::1%eth0]", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := ParseHost(tt.host)
		if tt.want == "" {
			if ok {
				t.Errorf("ParseHost(%q) = %v, want no address", tt.host, got)
			}
			continue
		}
		if !ok || got != netip.MustParseAddr(tt.want) {
			t.Errorf("ParseHost(%q) = %v, %v, want %s", tt.host, got, ok, tt.want)
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	for host, want := range map[string]string{
		"Example.COM.":     "example.com",
		"ｅｘａｍｐｌｅ。com":      "example.com",
		"0x7f.1":           "127.0.0.1",
		"::FFFF:7f00:1":    "[::ffff:127.0.0.1]",
		"[FE80::1%25eth0]": "[fe80::1]",
	} {
		got, err := NormalizeHost(host)
		if err != nil || got != want {
			t.Errorf("NormalizeHost(%q) = %q, %v, want %q", host, got, err, want)
		}
		if again, err := NormalizeHost(got); err != nil || again != got {
			t.Errorf("NormalizeHost(%q) = %q, %v: not idempotent", got, again, err)
		}
	}
	for _, host := range []string{"", "a..b", "1.2.3.4.5", "a b", "a%41", "[::1"} {
		if got, err := NormalizeHost(host); err == nil {
			t.Errorf("NormalizeHost(%q) = %q, want an error", host, got)
		}
	}
}

// TestIPv4Forms checks the WHATWG IPv4 parser on every combination of
// part count and radix for a few addresses, against the dotted form.
func TestIPv4Forms(t *testing.T) {
	for _, dotted := range []string{"127.0.0.1", "10.20.30.40", "169.254.169.254", "0.0.0.0", "255.255.255.255", "93.184.215.14"} {
		a := netip.MustParseAddr(dotted)
		b := a.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		for parts := 1; parts <= 4; parts++ {
			for _, radix := range []string{"dec", "oct", "hex"} {
				host := ipv4Spelling(v, parts, radix)
				got, ok := ParseHost(host)
				if !ok || got != a {
					t.Errorf("ParseHost(%q) = %v, %v, want %s", host, got, ok, a)
				}
			}
		}
	}
}

// ipv4Spelling writes v in parts parts, each in radix.
func ipv4Spelling(v uint32, parts int, radix string) string {
	var nums []uint64
	for i := 0; i < parts-1; i++ {
		nums = append(nums, uint64(v>>(24-8*i))&0xff)
	}
	nums = append(nums, uint64(v)&(1<<(8*(5-parts))-1))
	var s []string
	for _, n := range nums {
		switch radix {
		case "oct":
			s = append(s, "0"+formatUint(n, 8))
		case "hex":
			s = append(s, "0x"+formatUint(n, 16))
		default:
			s = append(s, formatUint(n, 10))
		}
	}
	return strings.Join(s, ".")
}

func formatUint(n, base uint64) string {
	const digits = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= base {
		b = append([]byte{digits[n%base]}, b...)
	}
	return string(b)
}
