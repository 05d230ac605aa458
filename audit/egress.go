package audit

import "github.com/rs/zerolog"

// EventEgress records one connection the sandboxed server made through
// the egress proxy (network = "proxy"), allowed or refused: Target is
// host:port, Decision and Reason say what the proxy decided, Duration is
// how long the connection lasted, and Egress holds the rest.
const EventEgress = "egress"

// Egress is what an EventEgress record adds, after the other members:
//
//	protocol     "connect", "http" or "socks5"
//	address      the address connected to (after resolving, as checked)
//	bytes_up     bytes from the server to the destination (a number)
//	bytes_down   bytes from the destination to the server (a number)
type Egress struct {
	Protocol  string
	Address   string
	BytesUp   int64
	BytesDown int64
}

func egressFields(ev *zerolog.Event, e *Egress) {
	if e == nil {
		return
	}
	str(ev, "protocol", e.Protocol)
	str(ev, "address", e.Address)
	ev.Int64("bytes_up", e.BytesUp)
	ev.Int64("bytes_down", e.BytesDown)
}
