package egress

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/mcpwarden/mcpwarden/urlguard"
)

// serveHTTP serves a CONNECT request or forwards one absolute-form HTTP
// request.
func (s *Server) serveHTTP(cl *client, start time.Time) Record {
	rec := Record{Protocol: ProtoHTTP}
	req, err := http.ReadRequest(cl.br)
	if err != nil {
		rec.Reason = "unreadable request: " + describe(err)
		if !time.Now().Before(start.Add(s.cfg.HandshakeTimeout)) {
			// textproto reports a line cut short by the deadline as
			// malformed.
			rec.Reason = "timed out reading the request"
		}
		refuse(cl.conn, http.StatusBadRequest, rec.Reason)
		return rec
	}
	if req.Method == http.MethodConnect {
		return s.serveConnect(cl, req, start)
	}
	return s.serveForward(cl, req, start)
}

// serveConnect opens a tunnel to the authority a CONNECT request names.
func (s *Server) serveConnect(cl *client, req *http.Request, start time.Time) Record {
	rec := Record{Protocol: ProtoConnect}
	host, port, err := splitAuthority(req.RequestURI, 0)
	if err != nil {
		rec.Host, rec.Reason = req.RequestURI, "CONNECT target: "+err.Error()
		refuse(cl.conn, http.StatusBadRequest, rec.Reason)
		return rec
	}
	up, _, err := s.open(host, port, start, &rec)
	if err != nil {
		refuse(cl.conn, openStatus(err), rec.Reason)
		return rec
	}
	defer up.Close()
	if _, err := cl.conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		rec.Reason = "answering the client: " + describe(err)
		return rec
	}
	rec.Up, rec.Down = s.relay(cl, up)
	return rec
}

// hopByHop are the headers that concern one connection, not the message
// (RFC 9110, section 7.6.1), and the proxy's own.
var hopByHop = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Expect",
}

// stripHopByHop removes hop-by-hop headers, including those the
// Connection header names.
func stripHopByHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for name := range strings.SplitSeq(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
}

// serveForward forwards one absolute-form request ("GET http://host/path
// HTTP/1.1") and its response, then closes the connection: one request a
// connection keeps every request's destination checked, whatever the
// client sends next.
func (s *Server) serveForward(cl *client, req *http.Request, start time.Time) (rec Record) {
	rec.Protocol = ProtoHTTP
	host, port, err := forwardTarget(req, cl.budget.seen.Bytes())
	if err != nil {
		rec.Host, rec.Reason = req.Host, err.Error()
		refuse(cl.conn, http.StatusBadRequest, rec.Reason)
		return rec
	}
	up, t, err := s.open(host, port, start, &rec)
	if err != nil {
		refuse(cl.conn, openStatus(err), rec.Reason)
		return rec
	}
	defer up.Close()
	cl.handshakeDone()
	// The whole exchange gets the idle timeout: the connection serves one
	// request, so it cannot idle legitimately for longer.
	deadline := time.Now().Add(s.cfg.IdleTimeout)
	_ = cl.conn.SetDeadline(deadline)
	_ = up.SetDeadline(deadline)

	stripHopByHop(req.Header)
	req.Header.Del("Host")
	req.Host = t.Host
	if t.Port != 80 {
		req.Host = t.Authority()
	}
	req.URL.Host = req.Host
	req.Close = true
	upw := &countingWriter{w: up}
	defer func() { rec.Up = upw.n }()
	if err := req.Write(upw); err != nil {
		rec.Reason = "sending the request: " + describe(err)
		refuse(cl.conn, http.StatusBadGateway, rec.Reason)
		return rec
	}
	rb := &budgetReader{r: up, n: maxHeaderBytes}
	resp, err := readFinalResponse(bufio.NewReader(rb), req)
	if err != nil {
		rec.Reason = "reading the response: " + describe(err)
		refuse(cl.conn, http.StatusBadGateway, rec.Reason)
		return rec
	}
	defer resp.Body.Close()
	rb.n = -1
	stripHopByHop(resp.Header)
	resp.Close = true
	down := &countingWriter{w: cl.conn}
	if err := resp.Write(down); err != nil {
		rec.Reason = "relaying the response: " + describe(err)
	}
	rec.Down = down.n
	return rec
}

// readFinalResponse reads the response, skipping informational (1xx)
// ones; a protocol switch is refused, since Upgrade was not forwarded.
func readFinalResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	for range 8 {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, err
		}
		switch {
		case resp.StatusCode == http.StatusSwitchingProtocols:
			resp.Body.Close()
			return nil, errors.New("the server switched protocols, which the proxy does not relay")
		case resp.StatusCode >= 200:
			return resp, nil
		}
		resp.Body.Close()
	}
	return nil, errors.New("too many informational responses")
}

// forwardTarget returns the destination of an absolute-form request. The
// request target decides (RFC 9112, section 3.2.2); a Host header that
// names another destination is refused rather than ignored, since the
// client or something before it meant something else by it.
func forwardTarget(req *http.Request, raw []byte) (host string, port uint16, err error) {
	u := req.URL
	if u == nil || u.Host == "" || !strings.Contains(req.RequestURI, "://") {
		return "", 0, errors.New("not a proxy request: the request target must be an absolute http:// URL, or use CONNECT")
	}
	if u.Scheme != "http" {
		return "", 0, fmt.Errorf("scheme %q cannot be forwarded: use CONNECT for https", u.Scheme)
	}
	if u.User != nil {
		return "", 0, errors.New("userinfo (user@host) in the request target is not allowed")
	}
	host, port, err = splitAuthority(u.Host, 80)
	if err != nil {
		return "", 0, fmt.Errorf("request target: %w", err)
	}
	// net/http drops the Host header of an absolute-form request; the
	// raw header section, read again, still has it.
	hosts, err := rawHostHeaders(raw)
	if err != nil {
		return "", 0, err
	}
	if len(hosts) > 1 {
		return "", 0, errors.New("more than one Host header")
	}
	if len(hosts) == 1 {
		hh, hp, err := splitAuthority(hosts[0], 80)
		if err != nil {
			return "", 0, fmt.Errorf("the Host header: %w", err)
		}
		if !sameHost(hh, host) || hp != port {
			return "", 0, fmt.Errorf("the Host header %q names another destination than the request target %q", hosts[0], u.Host)
		}
	}
	return host, port, nil
}

// rawHostHeaders returns the Host header fields of the request whose
// bytes start raw.
func rawHostHeaders(raw []byte) ([]string, error) {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	if _, err := tp.ReadLine(); err != nil {
		return nil, fmt.Errorf("rereading the request line: %w", err)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, fmt.Errorf("rereading the header: %w", err)
	}
	return h.Values("Host"), nil
}

// sameHost compares two hosts as the policy will read them.
func sameHost(a, b string) bool {
	na, errA := urlguard.NormalizeHost(a)
	nb, errB := urlguard.NormalizeHost(b)
	return errA == nil && errB == nil && na == nb
}

// splitAuthority splits host:port; defPort is used when there is no port,
// and 0 means a port is required. An IPv6 host keeps its brackets.
func splitAuthority(a string, defPort uint16) (host string, port uint16, err error) {
	if a == "" {
		return "", 0, errors.New("empty authority")
	}
	if strings.ContainsAny(a, "@/?#\\") {
		return "", 0, fmt.Errorf("authority %q contains a character that is not allowed in host:port", a)
	}
	hasPort := strings.LastIndexByte(a, ':') > strings.LastIndexByte(a, ']')
	if !hasPort {
		if defPort == 0 {
			return "", 0, fmt.Errorf("authority %q has no port", a)
		}
		return a, defPort, nil
	}
	h, p, err := net.SplitHostPort(a)
	if err != nil {
		return "", 0, fmt.Errorf("authority %q: %w", a, err)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil || n == 0 {
		return "", 0, fmt.Errorf("authority %q: invalid port", a)
	}
	if strings.HasPrefix(a, "[") {
		h = "[" + h + "]"
	}
	return h, uint16(n), nil
}

// openStatus is the status that reports a refused or failed connection.
func openStatus(err error) int {
	var ne net.Error
	switch {
	case errors.Is(err, ErrRefused):
		return http.StatusForbidden
	case errors.As(err, &ne) && ne.Timeout():
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// refuse answers the client with status and the reason as a plain-text
// body, so that the server's own error message says why.
func refuse(c net.Conn, status int, reason string) {
	body := "mcpwarden egress proxy: " + reason + "\n"
	msg := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write([]byte(msg))
}
