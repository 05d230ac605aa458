package egress

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/proxy"
)

// testTimeout bounds every exchange a test waits for.
const testTimeout = 20 * time.Second

// running is a proxy under test on the test process's loopback.
type running struct {
	addr string
	mu   sync.Mutex
	recs []Record
	got  chan Record
}

// startProxy starts a proxy with the policy, connecting from n's client
// namespace, with edit applied to its configuration.
func startProxy(t *testing.T, n *testNet, res *net.Resolver, allowHosts, allowPrivate []string, edit func(*Config)) *running {
	t.Helper()
	pol, err := NewPolicy(allowHosts, allowPrivate, res)
	if err != nil {
		t.Fatal(err)
	}
	r := &running{got: make(chan Record, 64)}
	cfg := Config{Policy: pol, Audit: func(rec Record) {
		r.mu.Lock()
		r.recs = append(r.recs, rec)
		r.mu.Unlock()
		r.got <- rec
	}}
	if n != nil {
		cfg.Dialer = n.dialer(t)
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		l.Close()
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	r.addr = l.Addr().String()
	return r
}

// next returns the next audit record.
func (r *running) next(t *testing.T) Record {
	t.Helper()
	select {
	case rec := <-r.got:
		return rec
	case <-time.After(testTimeout):
		t.Fatal("no audit record")
		return Record{}
	}
}

// httpsClient goes through the proxy with CONNECT (HTTPS_PROXY).
func (r *running) httpsClient(h *hosts) *http.Client {
	u := &url.URL{Scheme: "http", Host: r.addr}
	return &http.Client{Timeout: testTimeout, Transport: &http.Transport{Proxy: http.ProxyURL(u), TLSClientConfig: h.tlsConfig(), DisableKeepAlives: true}}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// rawRequest sends text to the proxy and returns what it answers.
func (r *running) rawRequest(t *testing.T, text string) string {
	t.Helper()
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(c, text); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestAllowedHostOverHTTPS(t *testing.T) {
	n := newTestNet(t)
	h := n.startHosts(t)
	res, _ := startDNS(t)
	p := startProxy(t, n, res, []string{"allowed.test:443"}, nil, nil)
	code, body := get(t, p.httpsClient(h), "https://allowed.test/")
	if code != 200 || !strings.Contains(body, "served-by: "+publicAddr.String()) {
		t.Fatalf("GET https://allowed.test/: %d %q", code, body)
	}
	rec := p.next(t)
	if !rec.Allowed || rec.Protocol != ProtoConnect || rec.Host != "allowed.test" || rec.Port != 443 || rec.Addr != publicAddr {
		t.Errorf("record %+v", rec)
	}
	if rec.Up < 100 || rec.Down < 500 || rec.Duration <= 0 {
		t.Errorf("record counts up %d, down %d, duration %v: a TLS exchange is larger", rec.Up, rec.Down, rec.Duration)
	}
}

func TestDeniedHostRefused(t *testing.T) {
	n := newTestNet(t)
	h := n.startHosts(t)
	res, _ := startDNS(t)
	p := startProxy(t, n, res, []string{"allowed.test:443", "*.wild.test:443"}, nil, nil)
	c := p.httpsClient(h)
	for _, u := range []string{"https://other.test/", "https://allowed.test:8443/", "https://wild.test/", "https://" + otherAddr.String() + "/"} {
		code, body := get(t, c, u)
		if code == 200 {
			t.Errorf("%s: reached: %q", u, body)
		}
		rec := p.next(t)
		if rec.Allowed || rec.Reason == "" || rec.Addr.IsValid() {
			t.Errorf("%s: record %+v", u, rec)
		}
	}
	// The refusal says why, in the body of a 403.
	ans := p.rawRequest(t, "CONNECT other.test:443 HTTP/1.1\r\nHost: other.test:443\r\n\r\n")
	if !strings.HasPrefix(ans, "HTTP/1.1 403 ") || !strings.Contains(ans, "no allow_hosts") {
		t.Errorf("CONNECT other.test:443: %q", ans)
	}
	p.next(t)
	// A glob matches names below it.
	if code, body := get(t, c, "https://a.wild.test/"); code != 200 {
		t.Errorf("a.wild.test: %d %q", code, body)
	}
}

// A name that resolves to a private or metadata address is refused,
// although the test network would deliver the connection (control).
func TestPrivateAddressesRefused(t *testing.T) {
	n := newTestNet(t)
	h := n.startHosts(t)
	res, _ := startDNS(t)
	names := []string{"private.test", "metadata.test", "mixed.test", "mapped.test"}
	var allow []string
	for _, name := range names {
		allow = append(allow, name+":443")
	}
	p := startProxy(t, n, res, allow, nil, nil)
	for _, name := range names {
		ans := p.rawRequest(t, "CONNECT "+name+":443 HTTP/1.1\r\n\r\n")
		if !strings.HasPrefix(ans, "HTTP/1.1 403 ") || !strings.Contains(ans, "address not allowed") {
			t.Errorf("%s: %q", name, ans)
		}
		if rec := p.next(t); rec.Allowed || rec.Addr.IsValid() {
			t.Errorf("%s: record %+v", name, rec)
		}
	}
	// Control: the private host is there for a direct connection.
	conn, err := n.dialer(t)(t.Context(), "tcp", privateAddr.String()+":443")
	if err != nil {
		t.Fatalf("control: direct connection to the private host: %v", err)
	}
	conn.Close()

	// allow_private opens a range, and metadata only by its own address.
	p2 := startProxy(t, n, res, allow, []string{"10.0.0.0/24", "169.254.0.0/16"}, nil)
	if code, body := get(t, p2.httpsClient(h), "https://private.test/"); code != 200 || !strings.Contains(body, privateAddr.String()) {
		t.Errorf("private.test with allow_private: %d %q", code, body)
	}
	p2.next(t)
	if code, _ := get(t, p2.httpsClient(h), "https://metadata.test/"); code == 200 {
		t.Error("metadata.test reached through allow_private 169.254.0.0/16")
	}
	p2.next(t)
}

// The proxy connects to the address it checked: a resolver that answers
// a public address first and a private one afterwards gains nothing.
func TestRebindingResolverGainsNothing(t *testing.T) {
	n := newTestNet(t)
	h := n.startHosts(t)
	res, dns := startDNS(t)
	p := startProxy(t, n, res, []string{"rebind.test:443"}, nil, nil)
	code, body := get(t, p.httpsClient(h), "https://rebind.test/")
	if code != 200 || !strings.Contains(body, "served-by: "+publicAddr.String()) {
		t.Fatalf("first: %d %q", code, body)
	}
	if rec := p.next(t); rec.Addr != publicAddr {
		t.Errorf("connected to %v, want the checked %v", rec.Addr, publicAddr)
	}
	if q := dns.count(rebindName); q != 1 {
		t.Errorf("the name was resolved %d times for one connection, want 1", q)
	}
	// The next connection resolves again, gets the private answer, and
	// is refused.
	ans := p.rawRequest(t, "CONNECT rebind.test:443 HTTP/1.1\r\n\r\n")
	if !strings.HasPrefix(ans, "HTTP/1.1 403 ") || !strings.Contains(ans, privateAddr.String()) {
		t.Errorf("second: %q", ans)
	}
}

// IP literals in every spelling are read as the address they spell, and
// loopback is refused in all of them, even when allow_hosts names it.
func TestIPLiteralSpellings(t *testing.T) {
	res, _ := startDNS(t)
	pol, err := NewPolicy([]string{"127.0.0.1:443", "[::1]:443", "11.0.0.2:443"}, nil, res)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "0x7f.1", "2130706433", "127.1", "0177.0.0.1", "0x7f000001", "[::ffff:127.0.0.1]", "[::1]", "::1", "[0:0:0:0:0:0:0:1]", "[::ffff:7f00:1]", "１２７.０.０.１"} {
		tgt, err := pol.Check(t.Context(), host, 443)
		if err == nil || !strings.Contains(err.Error(), "loopback (") {
			t.Errorf("%s: target %+v, error %v; want refused as loopback", host, tgt, err)
		}
	}
	// An odd spelling of an allowed public address is that address.
	for _, host := range []string{"0xb.0.0.2", "11.2", "184549378", "[::ffff:11.0.0.2]"} {
		tgt, err := pol.Check(t.Context(), host, 443)
		if err != nil || len(tgt.Addrs) != 1 || tgt.Addrs[0].Unmap() != publicAddr {
			t.Errorf("%s: target %+v, error %v; want %v", host, tgt, err, publicAddr)
		}
	}
	// Not hosts at all.
	for _, host := range []string{"user@allowed.test", "allowed.test/x", "allowed.test\x00", "allowed.test#", "a b", "", "[::1", "1.2.3.4.5", "allowed.test\\"} {
		if tgt, err := pol.Check(t.Context(), host, 443); err == nil {
			t.Errorf("%q allowed: %+v", host, tgt)
		}
	}
}

// Names are matched in normal form: case, a trailing dot and the
// host:port split cannot be played with.
func TestHostMatching(t *testing.T) {
	res, _ := startDNS(t)
	pol, err := NewPolicy([]string{"Allowed.Test:443", "*.wild.test:443"}, nil, res)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"allowed.test", "ALLOWED.TEST", "allowed.test.", "a.wild.test"} {
		if _, err := pol.Check(t.Context(), host, 443); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	for _, c := range []struct {
		host string
		port uint16
	}{{"allowed.test", 80}, {"wild.test", 443}, {"xwild.test", 443}, {"allowed.test.evil", 443}, {"other.test", 443}, {"allowed.test", 0}} {
		if tgt, err := pol.Check(t.Context(), c.host, c.port); err == nil {
			t.Errorf("%s:%d allowed: %+v", c.host, c.port, tgt)
		}
	}
	for _, bad := range [][]string{{"allowed.test"}, {"allowed.test:0"}, {"allowed.test:x"}, {"a*b.test:443"}} {
		if _, err := NewPolicy(bad, nil, res); err == nil {
			t.Errorf("NewPolicy(%q) accepted", bad)
		}
	}
	if _, err := NewPolicy(nil, []string{"10.0.0.0/33"}, res); err == nil {
		t.Error("allow_private 10.0.0.0/33 accepted")
	}
}

// "*:443" is any public host on 443, never an internal one: every
// name is still resolved and checked, every literal classified.
func TestAnyPublicHost(t *testing.T) {
	res, _ := startDNS(t)
	pol, err := NewPolicy([]string{"*:443"}, nil, res)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"allowed.test", "other.test", "a.wild.test", publicAddr.String()} {
		if _, err := pol.Check(t.Context(), host, 443); err != nil {
			t.Errorf("%s:443 refused: %v", host, err)
		}
	}
	for _, c := range []struct {
		host string
		port uint16
	}{
		{"allowed.test", 80}, {"private.test", 443}, {"metadata.test", 443}, {"mixed.test", 443}, {"mapped.test", 443},
		{"localhost", 443}, {"127.0.0.1", 443}, {"0x7f.1", 443}, {"2130706433", 443}, {"[::ffff:127.0.0.1]", 443},
		{"169.254.169.254", 443}, {"10.0.0.2", 443}, {"[::1]", 443}, {"100.64.0.1", 443}, {"no-such.test", 443},
	} {
		if tgt, err := pol.Check(t.Context(), c.host, c.port); err == nil {
			t.Errorf("%s:%d allowed: %+v", c.host, c.port, tgt)
		}
	}
}

// Plain HTTP forwarding: hop-by-hop headers go no further, the upstream
// sees the Host of the request target, and the request target decides.
func TestHTTPForwarding(t *testing.T) {
	n := newTestNet(t)
	n.startHosts(t)
	res, _ := startDNS(t)
	p := startProxy(t, n, res, []string{"allowed.test:80"}, nil, nil)
	ans := p.rawRequest(t, "GET http://allowed.test/path HTTP/1.1\r\nHost: allowed.test\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s3cret\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nKeep-Alive: 300\r\nX-Kept: yes\r\n\r\n")
	if !strings.HasPrefix(ans, "HTTP/1.1 200 ") || !strings.Contains(ans, "served-by: "+publicAddr.String()) {
		t.Fatalf("forwarded request: %q", ans)
	}
	for _, leaked := range []string{"s3cret", "Zm9v", "Keep-Alive: 300"} {
		if strings.Contains(ans, leaked) {
			t.Errorf("the upstream saw %q:\n%s", leaked, ans)
		}
	}
	if !strings.Contains(ans, "X-Kept: yes") || !strings.Contains(ans, "Host: allowed.test\n") {
		t.Errorf("the upstream's view:\n%s", ans)
	}
	if rec := p.next(t); !rec.Allowed || rec.Protocol != ProtoHTTP || rec.Up == 0 || rec.Down == 0 {
		t.Errorf("record %+v", rec)
	}
	// Through a real client's HTTP_PROXY handling.
	c := &http.Client{Timeout: testTimeout, Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: p.addr})}}
	if code, body := get(t, c, "http://allowed.test/"); code != 200 {
		t.Errorf("http client: %d %q", code, body)
	}
	p.next(t)
	if code, body := get(t, c, "http://other.test/"); code != 403 || !strings.Contains(body, "no allow_hosts") {
		t.Errorf("http client, other.test: %d %q", code, body)
	}
	p.next(t)
	// A body is forwarded as framed by the proxy's own parse, and a
	// request pipelined behind the first (with framing that parsers may
	// read differently) goes nowhere: one request a connection.
	ans = p.rawRequest(t, "POST http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\nGET http://other.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n")
	if !strings.HasPrefix(ans, "HTTP/1.1 200 ") || strings.Count(ans, "HTTP/1.1 ") != 1 || strings.Contains(ans, otherAddr.String()) {
		t.Errorf("pipelined requests: %q", ans)
	}
	if rec := p.next(t); rec.Host != "allowed.test" {
		t.Errorf("record %+v", rec)
	}
	select {
	case rec := <-p.got:
		t.Errorf("a second request was served: %+v", rec)
	case <-time.After(100 * time.Millisecond):
	}
}

// Requests that try to make the proxy and the upstream disagree on the
// destination are refused.
func TestSmuggling(t *testing.T) {
	n := newTestNet(t)
	n.startHosts(t)
	res, _ := startDNS(t)
	p := startProxy(t, n, res, []string{"allowed.test:80", "allowed.test:443"}, nil, nil)
	for _, c := range []struct{ name, req, want string }{
		{"Host header names another host", "GET http://allowed.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n", "400"},
		{"Host header names another port", "GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test:8080\r\n\r\n", "400"},
		{"two Host headers", "GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\nHost: other.test\r\n\r\n", "400"},
		{"origin form", "GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n", "400"},
		{"userinfo in the target", "GET http://allowed.test@other.test/ HTTP/1.1\r\n\r\n", "400"},
		{"userinfo in CONNECT", "CONNECT allowed.test@other.test:443 HTTP/1.1\r\n\r\n", "400"},
		{"CONNECT without port", "CONNECT allowed.test HTTP/1.1\r\n\r\n", "400"},
		{"CONNECT with path", "CONNECT other.test/allowed.test:443 HTTP/1.1\r\n\r\n", "400"},
		{"https absolute form", "GET https://allowed.test/ HTTP/1.1\r\n\r\n", "400"},
		{"CONNECT odd loopback", "CONNECT 0x7f.1:443 HTTP/1.1\r\n\r\n", "403"},
		{"CONNECT decimal loopback", "CONNECT 2130706433:443 HTTP/1.1\r\n\r\n", "403"},
		{"CONNECT mapped loopback", "CONNECT [::ffff:127.0.0.1]:443 HTTP/1.1\r\n\r\n", "403"},
		{"CONNECT short loopback", "CONNECT 127.1:443 HTTP/1.1\r\n\r\n", "403"},
		{"not HTTP", "\x16\x03\x01\x00\x05hello\r\n\r\n", "400"},
	} {
		ans := p.rawRequest(t, c.req)
		if !strings.HasPrefix(ans, "HTTP/1.1 "+c.want+" ") {
			t.Errorf("%s: %q, want %s", c.name, ans, c.want)
		}
		if rec := p.next(t); rec.Allowed {
			t.Errorf("%s: record %+v", c.name, rec)
		}
	}
}

func TestSOCKS5(t *testing.T) {
	n := newTestNet(t)
	h := n.startHosts(t)
	res, _ := startDNS(t)
	p := startProxy(t, n, res, []string{"allowed.test:443", "11.0.0.2:80"}, nil, nil)
	// A real SOCKS5 client, sending the name (socks5h).
	d, err := proxy.SOCKS5("tcp", p.addr, nil, proxy.Direct)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: testTimeout, Transport: &http.Transport{
		DialContext:       d.(proxy.ContextDialer).DialContext,
		TLSClientConfig:   h.tlsConfig(),
		DisableKeepAlives: true,
	}}
	if code, body := get(t, c, "https://allowed.test/"); code != 200 || !strings.Contains(body, publicAddr.String()) {
		t.Fatalf("https over SOCKS5: %d %q", code, body)
	}
	if rec := p.next(t); !rec.Allowed || rec.Protocol != ProtoSOCKS5 || rec.Addr != publicAddr {
		t.Errorf("record %+v", rec)
	}
	if code, _ := get(t, c, "https://other.test/"); code == 200 {
		t.Error("other.test reached over SOCKS5")
	}
	p.next(t)

	for _, tc := range []struct {
		name string
		req  []byte
		want byte
	}{
		{"IPv4 allowed", socksReq(1, 1, []byte{11, 0, 0, 2}, 80), socksSucceeded},
		{"IPv4 loopback", socksReq(1, 1, []byte{127, 0, 0, 1}, 443), socksNotAllowed},
		{"IPv6 mapped private", socksReq(1, 4, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2}, 443), socksNotAllowed},
		{"domain with NUL", socksReq(1, 3, domain("allowed.test\x00.evil"), 443), socksNotAllowed},
		{"domain with newline", socksReq(1, 3, domain("allowed.test\n"), 443), socksNotAllowed},
		{"domain with invalid UTF-8", socksReq(1, 3, domain("allowed.tes\xff\xfe"), 443), socksNotAllowed},
		{"domain spelling an IP", socksReq(1, 3, domain("0x7f.1"), 443), socksNotAllowed},
		{"empty domain", socksReq(1, 3, []byte{0}, 443), socksNotAllowed},
		{"BIND", socksReq(2, 1, []byte{11, 0, 0, 2}, 80), socksCmdNotSupported},
		{"UDP ASSOCIATE", socksReq(3, 1, []byte{11, 0, 0, 2}, 80), socksCmdNotSupported},
		{"unknown address type", socksReq(1, 9, []byte{1, 2, 3, 4}, 80), socksAddrNotSupported},
	} {
		rep := p.socks(t, []byte{5, 1, 0}, tc.req)
		if len(rep) < 2 || rep[1] != tc.want {
			t.Errorf("%s: reply %x, want code %d", tc.name, rep, tc.want)
		}
		rec := p.next(t)
		if (tc.want == socksSucceeded) != rec.Allowed {
			t.Errorf("%s: record %+v", tc.name, rec)
		}
	}
	// Only authentication methods offered: none acceptable.
	if rep := p.socks(t, []byte{5, 1, 2}, nil); len(rep) != 2 || rep[1] != socksNoMethods {
		t.Errorf("username/password only: %x", rep)
	}
	p.next(t)
}

// domain is a SOCKS5 domain address: its length, then its bytes.
func domain(name string) []byte { return append([]byte{byte(len(name))}, name...) }

func socksReq(cmd, atyp byte, addr []byte, port uint16) []byte {
	b := append([]byte{5, cmd, 0, atyp}, addr...)
	return binary.BigEndian.AppendUint16(b, port)
}

// socks sends a greeting and a request and returns every byte answered,
// the greeting's reply included.
func (r *running) socks(t *testing.T, greeting, req []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	c.Write(greeting)
	g := make([]byte, 2)
	if _, err := io.ReadFull(c, g); err != nil {
		t.Fatalf("greeting: %v", err)
	}
	if g[1] != 0 {
		return g
	}
	c.Write(req)
	rep := make([]byte, 10)
	nr, _ := io.ReadFull(c, rep)
	return rep[:nr]
}

// A client that sends its request slowly, or a request without end, is
// cut off: the handshake has a deadline and a size bound.
func TestSlowAndLargeClientsBounded(t *testing.T) {
	res, _ := startDNS(t)
	p := startProxy(t, nil, res, []string{"allowed.test:443"}, nil, func(c *Config) { c.HandshakeTimeout = 300 * time.Millisecond })
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	go func() {
		for _, b := range []byte("CONNECT allowed.test:443 HTTP/1.1\r\nX-A: " + strings.Repeat("a", 1000)) {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	ans, _ := io.ReadAll(bufio.NewReader(c))
	if len(ans) > 0 && !strings.HasPrefix(string(ans), "HTTP/1.1 400 ") {
		t.Errorf("slow client got %q", ans)
	}
	if rec := p.next(t); rec.Allowed || !strings.Contains(rec.Reason, "timed out") {
		t.Errorf("slow client: record %+v", rec)
	}
	// A header section beyond the bound.
	big := "CONNECT allowed.test:443 HTTP/1.1\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 1000)+"\r\n", 100) + "\r\n"
	p2 := startProxy(t, nil, res, []string{"allowed.test:443"}, nil, nil)
	if ans := p2.rawRequest(t, big); !strings.HasPrefix(ans, "HTTP/1.1 400 ") {
		t.Errorf("large request: %.200q", ans)
	}
	if rec := p2.next(t); !strings.Contains(rec.Reason, "larger than") {
		t.Errorf("large request: record %+v", rec)
	}
}

// Connections beyond MaxConns are closed at once, and audited.
func TestMaxConns(t *testing.T) {
	res, _ := startDNS(t)
	p := startProxy(t, nil, res, []string{"allowed.test:443"}, nil, func(c *Config) { c.MaxConns = 1 })
	hold, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	// Make sure the first is being served before the second arrives.
	hold.Write([]byte("C"))
	time.Sleep(50 * time.Millisecond)
	second, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_ = second.SetDeadline(time.Now().Add(testTimeout))
	if n, err := second.Read(make([]byte, 1)); err == nil {
		t.Errorf("the second connection read %d bytes", n)
	}
	if rec := p.next(t); !strings.Contains(rec.Reason, "more than 1 connections") {
		t.Errorf("record %+v", rec)
	}
}

// quietUpstream accepts connections on loopback and holds them open
// without a word, as an idle server does.
func quietUpstream(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return l.Addr().String()
}

// tunnel opens a CONNECT tunnel through proxyAddr to target.
func tunnel(t *testing.T, proxyAddr, target string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", proxyAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	io.WriteString(c, "CONNECT "+target+" HTTP/1.1\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT %s: %v %v", target, resp, err)
	}
	return c
}

// An idle tunnel ends after the idle timeout, and Close ends the rest,
// idle upstream sides included.
func TestTunnelsEnd(t *testing.T) {
	target := quietUpstream(t)
	p := startProxy(t, nil, nil, []string{target}, []string{"127.0.0.0/8"}, func(c *Config) { c.IdleTimeout = 200 * time.Millisecond })
	c := tunnel(t, p.addr, target)
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read from an idle tunnel")
	}
	if rec := p.next(t); !rec.Allowed || rec.Addr.String() != "127.0.0.1" {
		t.Errorf("record %+v", rec)
	}

	pol, err := NewPolicy([]string{target}, []string{"127.0.0.0/8"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	c2 := tunnel(t, l.Addr().String(), target)
	closed := make(chan struct{})
	go func() { l.Close(); s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(testTimeout):
		t.Fatal("Close did not return with a tunnel open")
	}
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Error("the tunnel outlived Close")
	}
}
