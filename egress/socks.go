package egress

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// SOCKS5 (RFC 1928) constants.
const (
	socksVersion   = 5
	socksNoAuth    = 0x00
	socksNoMethods = 0xff
	socksConnect   = 0x01
	socksIPv4      = 0x01
	socksDomain    = 0x03
	socksIPv6      = 0x04
)

// SOCKS5 reply codes.
const (
	socksSucceeded        = 0x00
	socksGeneralFailure   = 0x01
	socksNotAllowed       = 0x02
	socksHostUnreachable  = 0x04
	socksConnRefused      = 0x05
	socksTTLExpired       = 0x06
	socksCmdNotSupported  = 0x07
	socksAddrNotSupported = 0x08
)

// serveSOCKS serves one SOCKS5 CONNECT without authentication; BIND and
// UDP ASSOCIATE are refused, since a sandboxed server has no business
// accepting connections or sending datagrams through the proxy.
func (s *Server) serveSOCKS(cl *client, start time.Time) Record {
	rec := Record{Protocol: ProtoSOCKS5}
	host, port, code, err := readSOCKSRequest(cl)
	if err != nil {
		rec.Host, rec.Port, rec.Reason = host, port, err.Error()
		if code != 0 {
			socksReply(cl.conn, code)
		}
		return rec
	}
	up, _, err := s.open(host, port, start, &rec)
	if err != nil {
		socksReply(cl.conn, socksOpenCode(err))
		return rec
	}
	defer up.Close()
	if err := socksReply(cl.conn, socksSucceeded); err != nil {
		rec.Reason = "answering the client: " + describe(err)
		return rec
	}
	rec.Up, rec.Down = s.relay(cl, up)
	return rec
}

// readSOCKSRequest reads the greeting, answers it, and reads the request.
// A non-zero code is the reply to send with the error; zero means the
// client is past answering (it closed, or timed out).
func readSOCKSRequest(cl *client) (host string, port uint16, code byte, err error) {
	var hdr [2]byte
	if _, err := io.ReadFull(cl.br, hdr[:]); err != nil {
		return "", 0, 0, fmt.Errorf("SOCKS5 greeting: %s", describe(err))
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(cl.br, methods); err != nil {
		return "", 0, 0, fmt.Errorf("SOCKS5 greeting: %s", describe(err))
	}
	noAuth := false
	for _, m := range methods {
		noAuth = noAuth || m == socksNoAuth
	}
	if !noAuth {
		_, _ = cl.conn.Write([]byte{socksVersion, socksNoMethods})
		return "", 0, 0, errors.New("SOCKS5: the client offers no method without authentication")
	}
	if _, err := cl.conn.Write([]byte{socksVersion, socksNoAuth}); err != nil {
		return "", 0, 0, fmt.Errorf("SOCKS5 greeting: %s", describe(err))
	}
	var req [4]byte
	if _, err := io.ReadFull(cl.br, req[:]); err != nil {
		return "", 0, 0, fmt.Errorf("SOCKS5 request: %s", describe(err))
	}
	if req[0] != socksVersion || req[2] != 0 {
		return "", 0, socksGeneralFailure, fmt.Errorf("SOCKS5 request: version %d, reserved byte %d", req[0], req[2])
	}
	if req[1] != socksConnect {
		return "", 0, socksCmdNotSupported, fmt.Errorf("SOCKS5 command %d refused: only CONNECT (1) is served", req[1])
	}
	switch req[3] {
	case socksIPv4, socksIPv6:
		b := make([]byte, map[byte]int{socksIPv4: 4, socksIPv6: 16}[req[3]])
		if _, err := io.ReadFull(cl.br, b); err != nil {
			return "", 0, 0, fmt.Errorf("SOCKS5 address: %s", describe(err))
		}
		a, _ := netip.AddrFromSlice(b)
		host = a.String()
		if a.Is6() {
			host = "[" + host + "]"
		}
	case socksDomain:
		var n [1]byte
		if _, err := io.ReadFull(cl.br, n[:]); err != nil {
			return "", 0, 0, fmt.Errorf("SOCKS5 address: %s", describe(err))
		}
		b := make([]byte, n[0])
		if _, err := io.ReadFull(cl.br, b); err != nil {
			return "", 0, 0, fmt.Errorf("SOCKS5 address: %s", describe(err))
		}
		host = string(b)
	default:
		return "", 0, socksAddrNotSupported, fmt.Errorf("SOCKS5 address type %d is not supported", req[3])
	}
	var p [2]byte
	if _, err := io.ReadFull(cl.br, p[:]); err != nil {
		return host, 0, 0, fmt.Errorf("SOCKS5 port: %s", describe(err))
	}
	port = binary.BigEndian.Uint16(p[:])
	if host == "" {
		return "", port, socksNotAllowed, errors.New("SOCKS5: empty host")
	}
	return host, port, 0, nil
}

// socksReply sends a reply with code and an unspecified bound address:
// the proxy's own address outside the sandbox is none of the server's
// business.
func socksReply(c net.Conn, code byte) error {
	_, err := c.Write([]byte{socksVersion, code, 0, socksIPv4, 0, 0, 0, 0, 0, 0})
	return err
}

// socksOpenCode maps a refused or failed connection to a reply code.
func socksOpenCode(err error) byte {
	var ne net.Error
	switch {
	case errors.Is(err, ErrRefused):
		return socksNotAllowed
	case errors.As(err, &ne) && ne.Timeout():
		return socksTTLExpired
	case errors.Is(err, syscall.ECONNREFUSED):
		return socksConnRefused
	}
	return socksHostUnreachable
}
