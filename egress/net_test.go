package egress

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"
)

// The test network: two network namespaces the test creates, joined by a
// veth pair. "c" is where the proxy connects from; "h" holds the test
// hosts. Nothing leaves these namespaces: the addresses below exist only
// in them, and the proxy under test listens on the test process's
// loopback.
var (
	// publicAddr and otherAddr are public addresses (as urlguard
	// classifies them) of the allowed and the denied test host.
	publicAddr = netip.MustParseAddr("11.0.0.2")
	otherAddr  = netip.MustParseAddr("11.0.0.3")
	// privateAddr and metadataAddr are reachable from "c" too, so that a
	// refusal is the policy's and not the network's.
	privateAddr  = netip.MustParseAddr("10.0.0.2")
	metadataAddr = netip.MustParseAddr("169.254.169.254")
)

// testNet is one pair of namespaces.
type testNet struct {
	client, hosts string // names under /run/netns
}

// newTestNet creates the namespaces and removes them when the test ends.
// It needs root (ip netns); without it the test is skipped.
func newTestNet(t testing.TB) *testNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test creates network namespaces with ip netns (run as root; the unprivileged run covers the rest)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2) to create test network namespaces")
	}
	base := fmt.Sprintf("mcpw-eg-%d-%s", os.Getpid(), randHex(t))
	n := &testNet{client: base + "-c", hosts: base + "-h"}
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", n.client).Run()
		_ = exec.Command("ip", "netns", "del", n.hosts).Run()
	})
	cmds := [][]string{
		{"netns", "add", n.client},
		{"netns", "add", n.hosts},
		{"link", "add", "vc", "netns", n.client, "type", "veth", "peer", "name", "vh", "netns", n.hosts},
		{"-n", n.client, "link", "set", "lo", "up"},
		{"-n", n.hosts, "link", "set", "lo", "up"},
		{"-n", n.client, "addr", "add", "11.0.0.1/24", "dev", "vc"},
		{"-n", n.hosts, "addr", "add", publicAddr.String() + "/24", "dev", "vh"},
		{"-n", n.hosts, "addr", "add", otherAddr.String() + "/32", "dev", "vh"},
		{"-n", n.hosts, "addr", "add", privateAddr.String() + "/32", "dev", "vh"},
		{"-n", n.hosts, "addr", "add", metadataAddr.String() + "/32", "dev", "vh"},
		{"-n", n.client, "link", "set", "vc", "up"},
		{"-n", n.hosts, "link", "set", "vh", "up"},
		{"-n", n.client, "route", "add", privateAddr.String() + "/32", "dev", "vc"},
		{"-n", n.client, "route", "add", metadataAddr.String() + "/32", "dev", "vc"},
	}
	for _, c := range cmds {
		if out, err := exec.Command("ip", c...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	return n
}

func randHex(t testing.TB) string {
	b := make([]byte, 4)
	f, err := os.Open("/dev/urandom")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}

// in runs f on a thread that has joined namespace ns. Sockets f creates
// stay in ns whichever thread uses them later.
func in(t testing.TB, ns string, f func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatalf("setns %s: %v", ns, err)
	}
	f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked, so the runtime retires it with the
		// goroutine rather than reuse it in the wrong namespace.
		t.Errorf("setns back: %v", err)
		return
	}
	runtime.UnlockOSThread()
}

// dialer connects from the client namespace: the proxy's Dialer.
func (n *testNet) dialer(t testing.TB) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		in(t, n.client, func() {
			var d net.Dialer
			c, err = d.DialContext(ctx, network, addr)
		})
		return c, err
	}
}

// listen listens on addr in the hosts namespace.
func (n *testNet) listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var l net.Listener
	var err error
	in(t, n.hosts, func() { l, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatalf("listen %s in the hosts namespace: %v", addr, err)
	}
	return l
}

// hosts are the test hosts one network serves: HTTPS on port 443 and
// HTTP on port 80 of publicAddr, otherAddr and privateAddr, each saying
// who it is, and echoing the request headers as the HTTP one.
type hosts struct {
	pool *x509.CertPool
}

func (n *testNet) startHosts(t testing.TB) *hosts {
	t.Helper()
	h := &hosts{}
	for _, a := range []netip.Addr{publicAddr, otherAddr, privateAddr, metadataAddr} {
		name := a.String()
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Host", name)
			for k, vs := range r.Header {
				for _, v := range vs {
					fmt.Fprintf(w, "%s: %s\n", k, v)
				}
			}
			fmt.Fprintf(w, "Host: %s\nserved-by: %s\n", r.Host, name)
		}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.Listener.Close()
		srv.Listener = n.listen(t, netip.AddrPortFrom(a, 443).String())
		srv.StartTLS()
		t.Cleanup(srv.Close)
		if h.pool == nil {
			h.pool = x509.NewCertPool()
			h.pool.AddCert(srv.Certificate())
		}
		plain := &http.Server{Handler: srv.Config.Handler}
		pl := n.listen(t, netip.AddrPortFrom(a, 80).String())
		go func() { _ = plain.Serve(pl) }()
		t.Cleanup(func() { plain.Close() })
	}
	return h
}

// tlsConfig trusts the test hosts' certificate, which httptest issues
// for example.com.
func (h *hosts) tlsConfig() *tls.Config {
	return &tls.Config{RootCAs: h.pool, ServerName: "example.com"}
}

// testZone is what the test DNS server answers for A queries.
var testZone = map[string][]netip.Addr{
	"allowed.test.":  {publicAddr},
	"other.test.":    {otherAddr},
	"private.test.":  {privateAddr},
	"metadata.test.": {metadataAddr},
	"mixed.test.":    {publicAddr, privateAddr},
	"mapped.test.":   {netip.MustParseAddr("::ffff:10.0.0.2")},
	"a.wild.test.":   {publicAddr},
}

// rebindName answers publicAddr the first time it is asked, and
// privateAddr from then on.
const rebindName = "rebind.test."

// dnsServer is a real DNS server on the test process's loopback.
type dnsServer struct {
	addr    string
	mu      sync.Mutex
	queries map[string]int
}

// startDNS runs the server and returns a resolver that asks only it.
func startDNS(t testing.TB) (*net.Resolver, *dnsServer) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{addr: pc.LocalAddr().String(), queries: map[string]int{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp, ok := s.answer(buf[:n]); ok {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.addr)
	}}, s
}

func (s *dnsServer) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[name]
}

func (s *dnsServer) answer(query []byte) ([]byte, bool) {
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
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	addrs, known := testZone[name]
	if q.Type == dnsmessage.TypeA {
		s.mu.Lock()
		s.queries[name]++
		n := s.queries[name]
		s.mu.Unlock()
		if name == rebindName {
			known, addrs = true, []netip.Addr{privateAddr}
			if n == 1 {
				addrs = []netip.Addr{publicAddr}
			}
		}
	} else if name == rebindName {
		known = true
	}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	for _, a := range addrs {
		rrh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}
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
	return out, err == nil
}
