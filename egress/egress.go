// Package egress is the proxy through which a sandboxed MCP server with
// network = "proxy" reaches the network: the server's network namespace
// has only loopback, and its one way out is a listener there whose
// connections mcpwarden accepts and serves from outside the sandbox.
// Everything that decides where a connection goes therefore runs outside
// the server's reach.
//
// The proxy speaks HTTP CONNECT, plain HTTP forwarding (absolute-form
// requests, one request a connection) and SOCKS5 CONNECT, the three forms
// HTTPS_PROXY, HTTP_PROXY and ALL_PROXY make client libraries use. Each
// destination is checked by a [Policy]: allow_hosts entries are
// host:port with "*." globs, names are resolved by the proxy itself, and
// every address must be public unless allow_private names its range (the
// address classes and host normalisation are urlguard's). The proxy then
// connects to a checked address, never resolving again, so a name that
// answers differently the second time (DNS rebinding) gains nothing.
// Every attempt, allowed or refused, is reported to an audit callback
// with the bytes it carried each way and how long it lasted.
package egress

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Protocols of [Record.Protocol].
const (
	ProtoConnect = "connect"
	ProtoHTTP    = "http"
	ProtoSOCKS5  = "socks5"
)

// Record is what the proxy reports about one connection attempt.
type Record struct {
	// Protocol is ProtoConnect, ProtoHTTP or ProtoSOCKS5, or "" when the
	// client was refused before it said.
	Protocol string
	// Host and Port are the destination, Host in normal form when it
	// could be read.
	Host string
	Port uint16
	// Addr is the address connected to; invalid when none was.
	Addr netip.Addr
	// Allowed says whether the policy let the connection through; Reason
	// says why not, or why an allowed one failed.
	Allowed bool
	Reason  string
	// Up counts the bytes from the server to the destination, Down those
	// back. For HTTP forwarding they are the request and response as
	// sent, headers included.
	Up, Down int64
	// Duration is from accepting the client's connection to its end.
	Duration time.Duration
}

// Config configures a [Server]. Zero durations and limits take the
// defaults below.
type Config struct {
	// Policy decides on destinations; required.
	Policy *Policy
	// Audit, when set, gets one Record for every connection the proxy
	// accepts, once it ends. It is called from the connection's goroutine.
	Audit func(Record)
	// HandshakeTimeout bounds reading the client's request (the CONNECT
	// line and headers, the SOCKS5 greeting and request), resolving and
	// connecting: a client that sends slowly is cut off. Default 15s.
	HandshakeTimeout time.Duration
	// DialTimeout bounds connecting to each address. Default 10s.
	DialTimeout time.Duration
	// IdleTimeout ends a relayed connection on which nothing moved in
	// either direction for this long. Default 10 minutes.
	IdleTimeout time.Duration
	// MaxConns bounds the connections served at once; more are closed as
	// soon as they are accepted. Default 256.
	MaxConns int
	// Dialer, when set, connects to the checked address (it receives it
	// as an IP literal host:port); tests use it to reach test hosts in
	// other network namespaces. Default: a net.Dialer.
	Dialer func(ctx context.Context, network, address string) (net.Conn, error)
}

// Defaults of [Config].
const (
	DefaultHandshakeTimeout = 15 * time.Second
	DefaultDialTimeout      = 10 * time.Second
	DefaultIdleTimeout      = 10 * time.Minute
	DefaultMaxConns         = 256
)

// maxHeaderBytes bounds an HTTP request's or response's header section.
const maxHeaderBytes = 64 << 10

// Server serves proxy connections. Make one with [New].
type Server struct {
	cfg   Config
	slots chan struct{}
	// ctx ends with Close, cutting short resolving and connecting.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New checks cfg and returns a server.
func New(cfg Config) (*Server, error) {
	if cfg.Policy == nil {
		return nil, errors.New("egress: no policy")
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.Dialer == nil {
		d := &net.Dialer{Timeout: cfg.DialTimeout}
		cfg.Dialer = d.DialContext
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, slots: make(chan struct{}, cfg.MaxConns), ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}, nil
}

// Serve accepts connections on l until l fails or the server is closed,
// and serves each in a goroutine of its own. It returns nil after Close.
func (s *Server) Serve(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("egress: accept: %w", err)
		}
		start := time.Now()
		select {
		case s.slots <- struct{}{}:
		default:
			c.Close()
			s.audit(Record{Reason: fmt.Sprintf("more than %d connections at once", s.cfg.MaxConns), Duration: time.Since(start)})
			continue
		}
		if !s.track(c, true) {
			c.Close()
			<-s.slots
			return nil
		}
		go func() {
			defer s.wg.Done()
			defer func() { <-s.slots }()
			defer s.track(c, false)
			defer c.Close()
			s.audit(s.serveConn(c, start))
		}()
	}
}

// Close ends every connection and waits for their goroutines; Serve
// returns once its listener is closed too, which is the caller's.
func (s *Server) Close() {
	s.cancel()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track adds or removes c from the live set, and counts its goroutine
// in wg when adding, under the lock that Close takes before waiting;
// adding fails once closed.
func (s *Server) track(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.conns, c)
		return true
	}
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) audit(r Record) {
	if s.cfg.Audit != nil {
		s.cfg.Audit(r)
	}
}

// serveConn reads the first byte to tell SOCKS5 (version 5) from HTTP,
// and hands over.
func (s *Server) serveConn(c net.Conn, start time.Time) Record {
	_ = c.SetDeadline(start.Add(s.cfg.HandshakeTimeout))
	cl := &client{conn: c, budget: &budgetReader{r: c, n: maxHeaderBytes, keep: true}}
	cl.br = bufio.NewReaderSize(cl.budget, 4096)
	first, err := cl.br.Peek(1)
	var rec Record
	switch {
	case err != nil:
		rec = Record{Reason: "no request: " + describe(err)}
	case first[0] == socksVersion:
		rec = s.serveSOCKS(cl, start)
	default:
		rec = s.serveHTTP(cl, start)
	}
	rec.Duration = time.Since(start)
	return rec
}

// client is the client's side of one connection: reads go through br,
// which may hold bytes the client sent ahead, and budget bounds them
// until the handshake is over.
type client struct {
	conn   net.Conn
	br     *bufio.Reader
	budget *budgetReader
}

// handshakeDone lifts the bound on reading and the handshake deadline.
func (c *client) handshakeDone() {
	c.budget.n = -1
	c.budget.keep = false
	c.budget.seen = bytes.Buffer{}
	_ = c.conn.SetDeadline(time.Time{})
}

// open checks host:port against the policy and connects to one of the
// checked addresses, both within the handshake's deadline, and fills in
// rec's destination, verdict, address and reason. The error wraps
// [ErrRefused] when the policy refused.
func (s *Server) open(host string, port uint16, start time.Time, rec *Record) (net.Conn, Target, error) {
	ctx, cancel := context.WithDeadline(s.ctx, start.Add(s.cfg.HandshakeTimeout))
	defer cancel()
	t, err := s.cfg.Policy.Check(ctx, host, port)
	rec.Host, rec.Port = t.Host, t.Port
	if err != nil {
		rec.Reason = err.Error()
		return nil, t, err
	}
	rec.Allowed = true
	up, addr, err := s.dial(ctx, t)
	if err != nil {
		rec.Reason = err.Error()
		return nil, t, err
	}
	rec.Addr = addr
	return up, t, nil
}

// dial connects to one of t's checked addresses, in order, within the
// handshake's deadline.
func (s *Server) dial(ctx context.Context, t Target) (net.Conn, netip.Addr, error) {
	var errs []error
	for _, a := range t.Addrs {
		dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
		c, err := s.cfg.Dialer(dctx, "tcp", netip.AddrPortFrom(a, t.Port).String())
		cancel()
		if err == nil {
			// Close ends the upstream side too, which may be idle.
			u := &upstreamConn{Conn: c}
			u.stop = context.AfterFunc(s.ctx, func() { c.Close() })
			return u, a, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, netip.Addr{}, fmt.Errorf("connecting to %s: %w", t.Authority(), errors.Join(errs...))
}

// relay copies both ways between the client (reading through in, which
// may hold bytes the client sent early) and upstream until both
// directions end or nothing moves for the idle timeout, and returns the
// bytes carried up (client to upstream) and down.
func (s *Server) relay(cl *client, upstream net.Conn) (up, down int64) {
	var activity atomic.Int64
	activity.Store(time.Now().UnixNano())
	cl.handshakeDone()
	client, in := cl.conn, cl.br
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		up = copyActive(upstream, in, &activity)
		closeWrite(upstream)
	}()
	go func() {
		defer wg.Done()
		down = copyActive(client, upstream, &activity)
		closeWrite(client)
	}()
	go func() {
		t := time.NewTicker(min(s.cfg.IdleTimeout/4+time.Millisecond, time.Minute))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if time.Since(time.Unix(0, activity.Load())) > s.cfg.IdleTimeout {
					client.Close()
					upstream.Close()
					return
				}
			}
		}
	}()
	wg.Wait()
	close(stop)
	return up, down
}

// copyActive copies src to dst, noting the time of each transfer.
func copyActive(dst io.Writer, src io.Reader, activity *atomic.Int64) int64 {
	buf := make([]byte, 32<<10)
	var n int64
	for {
		nr, rerr := src.Read(buf)
		if nr > 0 {
			activity.Store(time.Now().UnixNano())
			nw, werr := dst.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n
			}
		}
		if rerr != nil {
			return n
		}
	}
}

// upstreamConn is a connection the proxy made; closing it unregisters
// it from the server's Close.
type upstreamConn struct {
	net.Conn
	stop func() bool
}

func (u *upstreamConn) Close() error {
	u.stop()
	return u.Conn.Close()
}

// CloseWrite half-closes the connection when it can be.
func (u *upstreamConn) CloseWrite() error {
	if cw, ok := u.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return u.Conn.Close()
}

// closeWrite half-closes c so the peer sees the end of what was relayed,
// or closes it when it cannot be half-closed.
func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		if cw.CloseWrite() == nil {
			return
		}
	}
	c.Close()
}

// describe words an error for a refusal or a record.
func describe(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the client closed the connection"
	case errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, errBudget):
		return fmt.Sprintf("request larger than %d bytes", maxHeaderBytes)
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	}
	return err.Error()
}

// errBudget is what a budgetReader returns once its budget is spent.
var errBudget = errors.New("header budget exhausted")

// budgetReader bounds what the handshake may read, and keeps what it
// read in seen when asked to; handshakeDone lifts the bound.
type budgetReader struct {
	r    io.Reader
	n    int64 // bytes left; negative means unlimited
	keep bool
	seen bytes.Buffer
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.n == 0 {
		return 0, errBudget
	}
	if b.n > 0 && int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	if b.n > 0 {
		b.n -= int64(n)
		if b.keep {
			b.seen.Write(p[:n])
		}
	}
	return n, err
}

// countingWriter counts what passes through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
