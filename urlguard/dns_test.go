package urlguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// testZone is what the test DNS server answers. Names are absolute and
// lower case. A name that is absent gets NXDOMAIN.
var testZone = map[string][]netip.Addr{
	"public.test.":   {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("2606:2800:21f:cb07:6820:80da:af6b:8b2c")},
	"internal.test.": {netip.MustParseAddr("10.0.0.5")},
	"rebind.test.":   {netip.MustParseAddr("127.0.0.1")},
	"mapped.test.":   {netip.MustParseAddr("::ffff:169.254.169.254")},
	"metadata.test.": {netip.MustParseAddr("169.254.169.254")},
	"cgnat.test.":    {netip.MustParseAddr("100.64.1.1")},
	"ula.test.":      {netip.MustParseAddr("fd12:3456::1")},
	"nat64.test.":    {netip.MustParseAddr("64:ff9b::a00:5")},
	// One bad address among good ones refuses the name.
	"mixed.test.":       {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("192.168.1.1")},
	"mixed6.test.":      {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("::1")},
	"svc.corp.test.":    {netip.MustParseAddr("10.1.2.3")},
	"printer.local.":    {netip.MustParseAddr("192.168.1.20")},
	"allowed.test.":     {netip.MustParseAddr("93.184.215.15")},
	"a.allowed.test.":   {netip.MustParseAddr("93.184.215.16")},
	"xn--pple-43d.com.": {netip.MustParseAddr("10.9.9.9")},
	"empty.test.":       {},
}

// Names with a behaviour instead of records.
const (
	servfailName = "servfail.test."
	silentName   = "silent.test." // never answered, to exercise timeouts
)

// startDNS runs a DNS server on an ephemeral UDP port of 127.0.0.1 that
// answers from testZone, and returns a real resolver that sends every
// query there, whatever /etc/resolv.conf names. No query leaves the
// loopback interface.
func startDNS(t testing.TB) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveDNS(t, pc)
	}()
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	addr := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
}

func serveDNS(t testing.TB, pc net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("dns server: read: %v", err)
			}
			return
		}
		resp, ok := answer(buf[:n])
		if !ok {
			continue
		}
		if _, err := pc.WriteTo(resp, from); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("dns server: write: %v", err)
		}
	}
}

// answer builds the response to one query; ok is false for a query that
// is not answered at all.
func answer(query []byte) (resp []byte, ok bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := strings.ToLower(q.Name.String())
	if name == silentName {
		return nil, false
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	addrs, known := testZone[name]
	switch {
	case name == servfailName:
		rh.RCode = dnsmessage.RCodeServerFailure
	case !known:
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, false
	}
	if err := b.Question(q); err != nil {
		return nil, false
	}
	if err := b.StartAnswers(); err != nil {
		return nil, false
	}
	for _, a := range addrs {
		rrh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			err = b.AResource(rrh, dnsmessage.AResource{A: a.As4()})
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			err = b.AAAAResource(rrh, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
		if err != nil {
			return nil, false
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil, false
	}
	return out, true
}

// TestDNSServer makes sure the resolver really talks to the test server,
// so that the Check tests below exercise real DNS messages.
func TestDNSServer(t *testing.T) {
	res := startDNS(t)
	ctx := t.Context()
	got, err := res.LookupNetIP(ctx, "ip", "public.test")
	if err != nil {
		t.Fatalf("lookup public.test: %v", err)
	}
	if len(got) != 2 {
		t.Errorf("public.test: got %v, want an A and an AAAA record", got)
	}
	got, err = res.LookupNetIP(ctx, "ip", "mapped.test")
	if err != nil || len(got) != 1 || got[0].Unmap() != netip.MustParseAddr("169.254.169.254") {
		t.Errorf("mapped.test: got %v, %v", got, err)
	}
	if _, err := res.LookupNetIP(ctx, "ip", "nx.test"); err == nil {
		t.Error("nx.test resolved")
	}
}
