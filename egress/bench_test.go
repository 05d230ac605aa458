package egress

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
)

// sink accepts connections on loopback and reads each to its end, then
// answers with one byte, so that the writer knows everything arrived.
func sink(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(io.Discard, c)
				_, _ = c.Write([]byte{1})
			}()
		}
	}()
	return l.Addr().String()
}

// loopbackProxy runs a proxy that may reach the sink on loopback.
func loopbackProxy(b *testing.B, target string) string {
	b.Helper()
	pol, err := NewPolicy([]string{target}, []string{"127.0.0.0/8"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Policy: pol})
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	b.Cleanup(func() { l.Close(); s.Close() })
	return l.Addr().String()
}

// connectThrough opens a CONNECT tunnel to target through the proxy.
func connectThrough(b *testing.B, proxyAddr, target string) net.Conn {
	c, err := net.Dial("tcp", proxyAddr)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\n\r\n", target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("CONNECT: %v %v", resp, err)
	}
	if br.Buffered() > 0 {
		b.Fatal("bytes after the CONNECT answer")
	}
	return c
}

// BenchmarkThroughput sends b.N chunks of 64 KiB over one connection to
// a loopback sink, directly and through the proxy's CONNECT tunnel.
func BenchmarkThroughput(b *testing.B) {
	chunk := make([]byte, 64<<10)
	target := sink(b)
	run := func(b *testing.B, c net.Conn) {
		defer c.Close()
		b.SetBytes(int64(len(chunk)))
		b.ResetTimer()
		for range b.N {
			if _, err := c.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		c.(*net.TCPConn).CloseWrite()
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("direct", func(b *testing.B) {
		c, err := net.Dial("tcp", target)
		if err != nil {
			b.Fatal(err)
		}
		run(b, c)
	})
	b.Run("proxy", func(b *testing.B) {
		run(b, connectThrough(b, loopbackProxy(b, target), target))
	})
}

// BenchmarkConnect is the cost of one connection: direct, against
// CONNECT through the proxy (request, policy check, dial, answer).
func BenchmarkConnect(b *testing.B) {
	target := sink(b)
	b.Run("direct", func(b *testing.B) {
		for range b.N {
			c, err := net.Dial("tcp", target)
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
	})
	b.Run("proxy", func(b *testing.B) {
		p := loopbackProxy(b, target)
		for range b.N {
			connectThrough(b, p, target).Close()
		}
	})
}
