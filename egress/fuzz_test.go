package egress

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mcpwarden/mcpwarden/urlguard"
)

// zone answers from a fixed table, so that the fuzzer needs no DNS server.
type zone map[string][]netip.Addr

func (z zone) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := z[strings.TrimSuffix(strings.ToLower(host), ".")]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

var fuzzZone = zone{
	"allowed.test":   {publicAddr},
	"a.wild.test":    {publicAddr},
	"private.test":   {privateAddr},
	"metadata.test":  {metadataAddr},
	"rebind.test":    {publicAddr, privateAddr},
	"other.test":     {otherAddr},
	"mapped.test":    {netip.MustParseAddr("::ffff:127.0.0.1")},
	"localhost.test": {netip.MustParseAddr("127.0.0.1")},
}

// FuzzHandshake feeds arbitrary bytes to the proxy as a client's request.
// Whatever they say, the proxy must end, and may only ever try to connect
// to a public address of an allowed destination.
func FuzzHandshake(f *testing.F) {
	for _, s := range []string{
		"CONNECT allowed.test:443 HTTP/1.1\r\n\r\n",
		"GET http://allowed.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n",
		"GET http://allowed.test:443/ HTTP/1.1\r\nHost: ALLOWED.test.:443\r\n\r\n",
		"CONNECT 0x7f.1:443 HTTP/1.1\r\n\r\n",
		"CONNECT [::ffff:127.0.0.1]:443 HTTP/1.1\r\n\r\n",
		"CONNECT a.wild.test:443 HTTP/1.1\r\n\r\n",
		"CONNECT rebind.test:443 HTTP/1.1\r\n\r\n",
		"\x05\x01\x00\x05\x01\x00\x03\x0callowed.test\x01\xbb",
		"\x05\x01\x00\x05\x01\x00\x01\x0b\x00\x00\x02\x01\xbb",
		"\x05\x01\x00\x05\x01\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x7f\x00\x00\x01\x01\xbb",
		"\x05\x02\x00\x02\x05\x02\x00\x01\x0b\x00\x00\x02\x01\xbb",
	} {
		f.Add([]byte(s))
	}
	pol, err := NewPolicy([]string{"allowed.test:443", "*.wild.test:443", "11.0.0.2:443", "rebind.test:443", "private.test:443", "mapped.test:443"}, nil, fuzzZone)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, req []byte) {
		var dialled []string
		s, err := New(Config{Policy: pol, HandshakeTimeout: time.Second, Dialer: func(_ context.Context, _, addr string) (net.Conn, error) {
			dialled = append(dialled, addr)
			return nil, errors.New("the fuzzer connects nowhere")
		}})
		if err != nil {
			t.Fatal(err)
		}
		client, server := net.Pipe()
		// The reader drains the proxy's answers, so that neither side
		// blocks on the synchronous pipe; closing after the request ends
		// it, as a client that sent a truncated request would.
		go func() { _, _ = io.Copy(io.Discard, client) }()
		go func() {
			_, _ = client.Write(req)
			client.Close()
		}()
		rec := s.serveConn(server, time.Now())
		server.Close()
		client.Close()
		for _, a := range dialled {
			ap, err := netip.ParseAddrPort(a)
			if err != nil {
				t.Fatalf("dialled %q, not an address", a)
			}
			if ok, why := urlguard.IsPublic(ap.Addr()); !ok || ap.Port() != 443 || ap.Addr() != publicAddr {
				t.Fatalf("dialled %s (%s) for record %+v", a, why, rec)
			}
		}
		if rec.Allowed && rec.Port != 443 {
			t.Fatalf("allowed %+v", rec)
		}
	})
}
