// Package proxy is the message pump between an MCP client and the server
// mcpwarden supervises. Every line in either direction is decoded by the
// strict jsonrpc decoder, classified, checked against the policy, and only
// then forwarded as the very bytes that were validated. Requests are
// tracked by id so that the client gets exactly one answer to each, even
// when mcpwarden refuses the call or the server dies.
package proxy

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/filter"
	"github.com/mcpwarden/mcpwarden/jsonrpc"
	"github.com/mcpwarden/mcpwarden/pin"
)

// Config holds what a Proxy enforces and where it reports.
type Config struct {
	Policy *filter.Policy
	Audit  *audit.Log
	// Diag receives one-line diagnostics, without the "mcpwarden: " prefix.
	Diag func(msg string)
	// MaxMessageSize and MaxDepth bound every message in both directions
	// (jsonrpc defaults when zero).
	MaxMessageSize int
	MaxDepth       int
	// Warnings are copied into every audit record, e.g. sandbox features
	// that were missing under --best-effort.
	Warnings []string
	// Calls holds the per-tool rules (argument kinds, schemas, limits,
	// approval, secrets) and the result guards. Nil checks nothing beyond
	// the Policy.
	Calls *filter.Calls
	// Pins records tool definitions and hides the ones that changed; nil
	// turns pinning off.
	Pins *pin.Store
	// Observe, if set, is handed every audit record as it is written,
	// with the time of writing and the negotiated protocol version ("" if
	// none yet), also without an audit log; telemetry export uses it. It
	// must not block.
	Observe func(r audit.Record, at time.Time, protocolVersion string)
	// Widen, if set, is called once for each direction, the first time a
	// message of more than LargeMessage bytes comes from that side, so
	// that the caller can give that direction's pipes larger kernel
	// buffers: a session that never moves a large message keeps the
	// default ones. fromServer tells which direction it is.
	Widen func(fromServer bool)
}

// LargeMessage is the size of message past which Config.Widen is called.
const LargeMessage = 1 << 20

// Streams are the four ends a Proxy pumps between.
type Streams struct {
	ClientIn  io.Reader      // what the client sends (mcpwarden's stdin)
	ClientOut io.Writer      // what the client reads (mcpwarden's stdout)
	ServerIn  io.WriteCloser // the server's stdin
	ServerOut io.Reader      // the server's stdout
}

// Proxy pumps one session. Create it with New and call Run once.
type Proxy struct {
	cfg     Config
	streams Streams

	client lineWriter // to the client
	server lineWriter // to the server

	fromClient *jsonrpc.Tracker[*call] // client requests awaiting the server
	fromServer *jsonrpc.Tracker[*call] // server requests awaiting the client
	version    atomic.Pointer[string]  // negotiated protocol version
	session    *filter.Session         // limits and approvals of this session; nil without Calls
	tools      *toolState              // what tools/list answers said
	firstSight atomic.Bool             // this session pinned the server's first tools
	warned     sync.Map                // guard findings already reported
	approvals  *approvals              // calls waiting for a person
	listing    listing                 // mcpwarden's own tools/list and the calls it holds
	// clientElicits is set when the client declared the elicitation
	// capability in initialize.
	clientElicits atomic.Bool
	clientGone    chan struct{} // closed when the client stops sending
	goneOnce      sync.Once
}

// call is a request in flight.
type call struct {
	id      jsonrpc.ID
	method  string
	target  string // tool name, resource URI or prompt name; "" if none
	audited bool
	start   time.Time
	release func()   // gives back what the call holds of the limits; nil if nothing
	notes   []string // what the guards did, for the outcome record
	// approval is set on mcpwarden's own elicitation requests: the
	// client's answer belongs to it, not to the server.
	approval *approval
	// ownListing marks mcpwarden's own tools/list: the server's answer
	// belongs to it, not to the client.
	ownListing bool
}

// New returns a Proxy for the given streams.
func New(cfg Config, s Streams) *Proxy {
	if cfg.Diag == nil {
		cfg.Diag = func(string) {}
	}
	p := &Proxy{
		cfg:        cfg,
		streams:    s,
		client:     lineWriter{w: s.ClientOut},
		server:     lineWriter{w: s.ServerIn, c: s.ServerIn},
		fromClient: jsonrpc.NewTracker[*call](),
		fromServer: jsonrpc.NewTracker[*call](),
		clientGone: make(chan struct{}),
		tools:      newToolState(),
		approvals:  newApprovals(),
	}
	if cfg.Calls != nil {
		p.session = cfg.Calls.NewSession()
	}
	return p
}

// ClientGone is closed when the client has closed its side (end of input
// or a failed write), so the caller can start stopping the server.
func (p *Proxy) ClientGone() <-chan struct{} { return p.clientGone }

// Run pumps messages until the server's output ends, then answers every
// request still in flight with an error and returns. The client side is
// read concurrently; when it ends, the server's stdin is closed.
func (p *Proxy) Run(serverEnded func() string) {
	go p.pumpClient()
	p.pumpServer()
	reason := "closed its output"
	if serverEnded != nil {
		reason = serverEnded()
	}
	p.answerOrphans(reason)
}

func (p *Proxy) markClientGone() {
	p.goneOnce.Do(func() {
		close(p.clientGone)
		if err := p.server.close(); err != nil {
			p.diag("closing the server's input: %v", err)
		}
	})
}

// direction is what differs between the two directions of the pump.
type direction struct {
	from     string // "the client" or "the server", for diagnostics
	in       io.Reader
	server   bool // the direction from the server
	tooLarge func(*jsonrpc.TooLargeError)
	batch    func(*jsonrpc.Decoder, []byte)
	invalid  func(err error, line []byte)
	message  func(*jsonrpc.Message)
}

// pump reads, frames, decodes and dispatches one direction's messages
// until its input ends. Each line is handled before the next is read, so
// the handlers may use it without copying.
func (p *Proxy) pump(d direction) {
	r := jsonrpc.NewReader(d.in, p.cfg.MaxMessageSize)
	dec := jsonrpc.NewDecoder(p.cfg.MaxDepth)
	widened := p.cfg.Widen == nil
	for {
		line, err := r.Next()
		if !widened && (len(line) > LargeMessage || err != nil) {
			var tle *jsonrpc.TooLargeError
			if len(line) > LargeMessage || errors.As(err, &tle) && tle.Size > LargeMessage {
				p.cfg.Widen(d.server)
				widened = true
			}
		}
		if err != nil {
			// Declared only here: errors.As moves tle to the heap, which
			// must not cost every message an allocation.
			var tle *jsonrpc.TooLargeError
			switch {
			case errors.As(err, &tle):
				d.tooLarge(tle)
				continue
			case errors.Is(err, io.EOF), errors.Is(err, os.ErrClosed):
				return
			}
			p.diag("reading from %s: %v", d.from, err)
			return
		}
		if jsonrpc.IsBatch(line) {
			d.batch(dec, line)
			continue
		}
		m, err := dec.Decode(line)
		if err != nil {
			d.invalid(err, line)
			continue
		}
		d.message(m)
	}
}

// answerOrphans answers every request the server will now never answer.
func (p *Proxy) answerOrphans(reason string) {
	p.orphanApprovals(reason)
	p.orphanHeld(reason)
	for _, c := range p.fromClient.Close() {
		if c.ownListing {
			continue // the calls it held are answered above
		}
		msg := "MCP server " + reason + " before answering"
		p.reply(c.id, jsonrpc.CodeServerGone, "mcpwarden: "+msg, nil)
		p.outcome(c, "server_exited", msg)
	}
}

// setVersion records the negotiated protocol version. Its own function so
// that only a request that names a version pays for the copy that the
// pointer needs, not every request that looks for one.
func (p *Proxy) setVersion(v string) { p.version.Store(&v) }

func (p *Proxy) protocolVersion() string {
	if v := p.version.Load(); v != nil {
		return *v
	}
	return ""
}

func (p *Proxy) diag(format string, args ...any) {
	p.cfg.Diag(fmt.Sprintf(format, args...))
}

// reply sends mcpwarden's own error answer to a client request.
func (p *Proxy) reply(id jsonrpc.ID, code int64, msg string, data any) {
	p.toClient(jsonrpc.ErrorResponse(id, code, msg, data))
}

func (p *Proxy) toClient(b []byte) {
	if err := p.client.write(b); err != nil {
		p.diag("writing to the client: %v", err)
		p.markClientGone()
	}
}

// toServer forwards b; it reports false if the server can no longer read.
func (p *Proxy) toServer(b []byte) bool {
	if err := p.server.write(b); err != nil {
		if !errors.Is(err, errClosed) {
			p.diag("writing to the server: %v", err)
		}
		return false
	}
	return true
}

var errClosed = errors.New("stream closed")

// lineWriter writes whole messages under a lock, so that messages from
// different goroutines never interleave and closing never cuts one short.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	c      io.Closer // nil if the stream is not ours to close
	buf    []byte    // reused for small messages
	failed bool
}

var newline = []byte{'\n'}

func (l *lineWriter) write(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed {
		return errClosed
	}
	var err error
	if len(b) < smallMessage {
		// One write: the reader wakes once for the whole line, not once
		// for the message and again for its newline.
		l.buf = append(append(l.buf[:0], b...), '\n')
		_, err = l.w.Write(l.buf)
	} else if _, err = l.w.Write(b); err == nil {
		_, err = l.w.Write(newline)
	}
	if err != nil {
		l.failed = true
	}
	return err
}

// smallMessage is the size under which a message is copied to go out in
// one write with its newline; larger ones are written in place.
const smallMessage = 64 << 10

func (l *lineWriter) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed = true
	if l.c == nil {
		return nil
	}
	return l.c.Close()
}

// CloseServerInput closes the server's stdin between messages, never in
// the middle of one.
func (p *Proxy) CloseServerInput() { p.markClientGone() }
