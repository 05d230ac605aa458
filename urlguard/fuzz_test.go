package urlguard

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// publicResolver answers every name with one public address. The fuzz
// targets explore parsing, not DNS, so they need an answer that is fast
// and never refuses: whatever is refused then is refused by the parser
// or the address check of a literal.
type publicResolver struct{}

func (publicResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.AddrFrom4([4]byte{93, 184, 215, 14})}, nil
}

var fuzzSeeds = []string{
	"http://example.com/",
	"https://93.184.215.14:443/a?b#c",
	"http://2130706433/",
	"http://0x7f.1/",
	"http://0177.0.0.1/",
	"http://127.1/",
	"http://[::ffff:127.0.0.1]/",
	"http://[::ffff:7f00:1]/",
	"http://[64:ff9b::a00:1]/",
	"http://[2002:a9fe:a9fe::]/",
	"http://[::127.0.0.1]/",
	"http://[fe80::1%25eth0]/",
	"http://169.254.169.254/",
	"http://localhost/",
	"http://foo.localhost./",
	"http://allowed.com@evil.com/",
	"http://evil.com#@allowed.com",
	"http://evil.com\\@allowed.com",
	"http://１２７.０.０.１/",
	"http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/",
	"http://аpple.com/",
	"http://xn--pple-43d.com/",
	"HTTP://EXAMPLE.COM.:080/",
	"http://%6c%6f%63%61%6c%68%6f%73%74/",
	"http:///x",
	"gopher://x/",
	"http://1.2.3.4.5/",
	"http://0x/",
}

// FuzzCheck asserts, for any input, that a URL the default rule accepts
// has a scheme of the rule, a host that is in normal form and, if an IP
// literal in any reading, a public one; and that Go's net/url, where it
// parses the URL at all, finds the same host and port, so that a server
// in Go would connect where the check looked.
func FuzzCheck(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	c, err := New(Rule{}, publicResolver{})
	if err != nil {
		f.Fatal(err)
	}
	kinds := []error{ErrInvalid, ErrScheme, ErrHost, ErrAddress, ErrResolve}
	f.Fuzz(func(t *testing.T, raw string) {
		err := c.Check(context.Background(), raw)
		if err != nil {
			n := 0
			for _, k := range kinds {
				if errors.Is(err, k) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("Check(%q) = %v: wraps %d kinds, want 1", raw, err, n)
			}
			if strings.ContainsFunc(err.Error(), func(r rune) bool { return r < ' ' || r == 0x7f }) {
				t.Fatalf("Check(%q): error %q has control characters", raw, err)
			}
			return
		}
		tg, err := Parse(raw)
		if err != nil {
			t.Fatalf("Check(%q) = nil but Parse: %v", raw, err)
		}
		if tg.Scheme != "http" && tg.Scheme != "https" {
			t.Fatalf("Check(%q) = nil with scheme %q", raw, tg.Scheme)
		}
		if norm, err := NormalizeHost(tg.Host); err != nil || norm != tg.Host {
			t.Fatalf("Check(%q) = nil with host %q that normalises to %q, %v", raw, tg.Host, norm, err)
		}
		if a, ok := ParseHost(tg.Host); ok {
			if pub, why := IsPublic(a); !pub {
				t.Fatalf("Check(%q) = nil but host %q: %s", raw, tg.Host, why)
			}
			if a.WithZone("") != tg.Addr.WithZone("") {
				t.Fatalf("Parse(%q).Addr = %v, ParseHost(%q) = %v", raw, tg.Addr, tg.Host, a)
			}
		} else if tg.Addr.IsValid() {
			t.Fatalf("Parse(%q) has address %v but host %q is no literal", raw, tg.Addr, tg.Host)
		}
		// A reader that cuts the host out naively and knows only
		// canonical literals must not find a non-public address either.
		hostText := hostOf(raw)
		if a, err := netip.ParseAddr(strings.Trim(hostText, "[]")); err == nil {
			if pub, why := IsPublic(a); !pub {
				t.Fatalf("Check(%q) = nil but the literal host reads as %s", raw, why)
			}
		}
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		if u.User != nil {
			t.Fatalf("Check(%q) = nil but net/url finds userinfo %q", raw, u.User)
		}
		if u.Scheme != tg.Scheme {
			t.Fatalf("Check(%q): net/url scheme %q, ours %q", raw, u.Scheme, tg.Scheme)
		}
		goHost, err := NormalizeHost(u.Hostname())
		if err != nil || goHost != tg.Host {
			t.Fatalf("Check(%q): net/url host %q normalises to %q, %v; ours %q", raw, u.Hostname(), goHost, err, tg.Host)
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n != int(tg.Port) {
				t.Fatalf("Check(%q): net/url port %q, ours %d", raw, p, tg.Port)
			}
		}
	})
}

// hostOf cuts the host out of a URL the simple way: after "//", up to the
// first '/', '?' or '#', without a port.
func hostOf(raw string) string {
	_, rest, ok := strings.Cut(raw, "//")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i >= 0 {
			return rest[:i+1]
		}
		return rest
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// FuzzParseHost asserts that a host ParseHost reads as an address
// normalises to that address's canonical form, and that a canonical
// address is read as itself.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "0x7f.1", "2130706433", "[::1]", "::ffff:1.2.3.4", "fe80::1%eth0", "example.com", "１.２.３.４", "0x", "1.2.3.4."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		a, ok := ParseHost(host)
		norm, err := NormalizeHost(host)
		if ok {
			if err != nil {
				t.Fatalf("ParseHost(%q) = %v but NormalizeHost: %v", host, a, err)
			}
			b, ok2 := ParseHost(norm)
			if !ok2 || b.WithZone("") != a.WithZone("") {
				t.Fatalf("ParseHost(%q) = %v, but its normal form %q reads as %v, %v", host, a, norm, b, ok2)
			}
			if Classify(a) != Classify(b) {
				t.Fatalf("classes differ for %q and %q", host, norm)
			}
		}
		if err == nil {
			if again, err := NormalizeHost(norm); err != nil || again != norm {
				t.Fatalf("NormalizeHost(%q) = %q, then %q, %v", host, norm, again, err)
			}
		}
		if p, err := netip.ParseAddr(host); err == nil && p.Zone() == "" {
			if !ok || a != p {
				t.Fatalf("netip reads %q as %v, ParseHost as %v, %v", host, p, a, ok)
			}
		}
	})
}
