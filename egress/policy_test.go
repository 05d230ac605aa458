package egress

import (
	"context"
	"errors"
	"testing"
)

// A host that, put in a URL, would end its authority early or make
// userinfo of part of it is refused, although the URL urlguard would see
// names an allowed host (the control shows that host is reachable). This
// matters for SOCKS5, whose domain bytes reach the policy unparsed.
func TestPolicyRefusesURLDelimitersInHost(t *testing.T) {
	res, _ := startDNS(t)
	p, err := NewPolicy([]string{"allowed.test:443", "*.allowed.test:443"}, nil, res)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if tg, err := p.Check(ctx, "allowed.test", 443); err != nil || len(tg.Addrs) == 0 {
		t.Fatalf("control: allowed.test:443: %+v, %v", tg, err)
	}
	for _, host := range []string{
		"allowed.test/.evil.test",
		"allowed.test?.evil.test",
		"allowed.test#.evil.test",
		"evil.test@allowed.test",
		"allowed.test\\.evil.test",
		"allowed.test:443",
		"allowed.test:443#",
		"[allowed.test]",
	} {
		tg, err := p.Check(ctx, host, 443)
		if !errors.Is(err, ErrRefused) || len(tg.Addrs) != 0 {
			t.Errorf("%q: %+v, %v; want a refusal", host, tg, err)
		}
	}
}
