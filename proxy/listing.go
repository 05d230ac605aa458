package proxy

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/jsonrpc"
)

// A tools/call of a tool that this session has not seen listed is checked
// against nothing: no pin says whether its definition changed, no input
// schema checks its arguments. A client that calls from a list it cached
// in an earlier session, or a model that calls a name a server slipped
// into some text, would get past both guards. So mcpwarden lists the
// server's tools itself, with a tools/list request of its own, and holds
// such calls until the listing is done; then they are checked like any
// other, and a tool the server does not list is refused as unknown.
//
// Whatever the client sends while calls are held waits behind them, so
// that the server sees the client's messages in the order it sent them
// (a call before the notification that follows it, say).

// listing is mcpwarden's own tools/list in flight and the calls it holds.
type listing struct {
	mu     sync.Mutex
	id     jsonrpc.ID   // of the page in flight; zero when none
	seq    int          // pages requested, for fresh ids
	parked []parkedCall // what waits for the listing, in arrival order
	// meta holds the protocol's members of the _meta of the call that
	// started the listing: in the stateless protocol every request
	// carries the version and the client's capabilities, so mcpwarden's
	// own must carry the client's.
	meta map[string]jsontext.Value
	// resuming holds what a finished listing held and the resumer
	// goroutine has not handled yet; it runs while any is left; closed
	// stops it when the session ends, and done is closed when it has
	// stopped.
	resuming []parkedCall
	running  bool
	closed   bool
	done     chan struct{}
	// busy mirrors holding() for a look without the lock: every message
	// from the client asks, and nearly always nothing is held. Only the
	// client's pump (park) can make it true, so a false it reads cannot
	// be overtaken by a listing it has not started.
	busy atomic.Bool
}

// unlock releases l.mu, first noting in busy whether anything is held.
func (l *listing) unlock() {
	l.busy.Store(l.holding())
	l.mu.Unlock()
}

// parkedCall is a message from the client held for the listing, copied
// out of the reader's buffer: a tools/call that waits for the listing
// (forList), or a message that came after one and waits behind it.
type parkedCall struct {
	c       *call // for a request; nil for a notification or a response
	raw     []byte
	forList bool
}

// holding reports whether messages from the client must wait behind
// held calls; l.mu is held.
func (l *listing) holding() bool {
	return !l.id.IsZero() || len(l.parked) > 0 || len(l.resuming) > 0 || l.running
}

// holdBehind keeps m, a message from the client, behind the held calls
// when there are any, and reports whether it did. A cancellation of a
// held call takes the call back instead: the server never sees either.
func (p *Proxy) holdBehind(m *jsonrpc.Message) bool {
	l := &p.listing
	if !l.busy.Load() {
		return false
	}
	l.mu.Lock()
	held, dup := p.holdLocked(m)
	l.unlock()
	if dup {
		// Answered at once, as a duplicate that is not held would be.
		p.reply(m.ID, jsonrpc.CodeInvalidRequest, "mcpwarden: a request with id "+m.ID.Raw()+" is already in flight", nil)
	}
	return held
}

// holdLocked is holdBehind's part under l.mu; dup reports a request
// whose id is in flight or held already, which is not held.
func (p *Proxy) holdLocked(m *jsonrpc.Message) (held, dup bool) {
	l := &p.listing
	if !l.holding() || l.closed {
		return false, false
	}
	if m.Kind == jsonrpc.Notification && m.Method == "notifications/cancelled" {
		if id, ok := cancelledID(m); ok && p.cancelParkedLocked(id) {
			return true, false
		}
	}
	if m.Kind == jsonrpc.Request && (p.isParkedLocked(m.ID) || p.fromClient.Has(m.ID) || p.awaitingApproval(m.ID)) {
		return true, true
	}
	pc := parkedCall{raw: slices.Clone(m.Raw)}
	if m.Kind == jsonrpc.Request {
		pc.c = &call{id: m.ID, method: m.Method, start: time.Now()}
		if m.Method == "tools/call" {
			pc.c.target, pc.c.audited = toolName(m.Params), true
		}
	}
	l.parked = append(l.parked, pc)
	return true, false
}

// checksListing reports whether some guard checks calls against the
// tool's listed definition (pins, schemas), so that a call of a tool the
// session has not seen listed must wait for a listing.
func (p *Proxy) checksListing() bool { return p.cfg.Pins != nil || p.cfg.Calls != nil }

// park holds a call until mcpwarden's own listing is answered, starting
// the listing if none is in flight.
func (p *Proxy) park(m *jsonrpc.Message, c *call) {
	l := &p.listing
	l.mu.Lock()
	if l.closed {
		l.unlock()
		p.reply(m.ID, jsonrpc.CodeServerGone, "mcpwarden: MCP server is gone", nil)
		return
	}
	if len(l.parked)+len(l.resuming) >= maxInFlight {
		l.unlock()
		p.reply(m.ID, jsonrpc.CodeInternalError, fmt.Sprintf("mcpwarden: more than %d requests in flight; retry when some have been answered", maxInFlight), nil)
		return
	}
	if p.isParkedLocked(m.ID) || p.fromClient.Has(m.ID) || p.awaitingApproval(m.ID) {
		l.unlock()
		p.reply(m.ID, jsonrpc.CodeInvalidRequest, "mcpwarden: a request with id "+m.ID.Raw()+" is already in flight", nil)
		return
	}
	l.parked = append(l.parked, parkedCall{c: c, raw: slices.Clone(m.Raw), forList: true})
	start := l.id.IsZero()
	if start {
		l.meta = protocolMeta(m.Params)
	}
	l.unlock()
	if start {
		p.diag("listing the server's tools before a call of %q, which this session has not seen listed", c.target)
		p.requestPage("")
	}
}

// requestPage sends one tools/list request of mcpwarden's own, for the
// page at cursor ("" for the first).
func (p *Proxy) requestPage(cursor string) {
	l := &p.listing
	l.mu.Lock()
	l.seq++
	id := jsonrpc.StringID(fmt.Sprintf("mcpwarden-tools-list-%s-%d", p.approvals.nonce, l.seq))
	l.id = id
	meta := l.meta
	l.unlock()
	// The id carries the proxy's random part: the client cannot have it
	// in flight, and if it sends it later, that request is a duplicate.
	if !p.fromClient.Add(id, &call{id: id, method: "tools/list", ownListing: true}) {
		p.listingDone("the session is closing")
		return
	}
	params, _ := json.Marshal(listParams(cursor, meta))
	if !p.toServer(jsonrpc.RequestMessage(id, "tools/list", params)) {
		p.fromClient.Take(id)
		p.listingDone("the MCP server is no longer reading its input")
	}
}

// listParams are the params of mcpwarden's tools/list: the cursor of the
// page and the protocol's _meta members.
func listParams(cursor string, meta map[string]jsontext.Value) map[string]any {
	params := map[string]any{}
	if cursor != "" {
		params["cursor"] = cursor
	}
	if len(meta) > 0 {
		params["_meta"] = meta
	}
	return params
}

// protocolMeta returns the members of params._meta that the protocol
// defines (named io.modelcontextprotocol/...), copied; nothing else of
// the call's _meta (a progress token, say) belongs on another request.
func protocolMeta(params jsontext.Value) map[string]jsontext.Value {
	f, err := fields(params, "_meta")
	if err != nil || f[0].Kind() != '{' {
		return nil
	}
	var all map[string]jsontext.Value
	if json.Unmarshal(f[0], &all) != nil {
		return nil
	}
	out := map[string]jsontext.Value{}
	for k, v := range all {
		if strings.HasPrefix(k, "io.modelcontextprotocol/") {
			out[k] = slices.Clone(v)
		}
	}
	return out
}

// listingAnswered takes the server's answer to a page of mcpwarden's own
// listing: the tools are judged and learnt as any listing's are, and the
// next page is asked for until the last, when the held calls go on.
func (p *Proxy) listingAnswered(m *jsonrpc.Message) {
	if m.Error != nil {
		p.listingDone("the MCP server refused to list its tools: " + m.Error.Message)
		return
	}
	if _, err := p.toolsList(m.Result); err != nil {
		p.listingDone("the MCP server's tools/list result is malformed: " + err.Error())
		return
	}
	f, err := fields(m.Result, "nextCursor")
	if err == nil && f[0] != nil && f[0].Kind() == '"' {
		if cursor, err := str(f[0], "nextCursor"); err == nil && cursor != "" {
			p.requestPage(cursor)
			return
		}
	}
	p.listingDone("")
}

// listingDone ends the listing and hands on what it held: the calls to
// be checked again now that their tools are known (or known to be
// absent), or, when the listing failed (failure says why), to be refused;
// the messages that waited behind them go on as they came.
func (p *Proxy) listingDone(failure string) {
	l := &p.listing
	l.mu.Lock()
	parked := l.parked
	l.parked, l.id = nil, jsonrpc.ID{}
	var refused []parkedCall
	for _, pc := range parked {
		if failure != "" && pc.forList {
			refused = append(refused, pc)
		} else {
			l.resuming = append(l.resuming, pc)
		}
	}
	start := !l.running && !l.closed && len(l.resuming) > 0
	if start {
		l.running, l.done = true, make(chan struct{})
	}
	l.unlock()
	for _, pc := range refused {
		p.refuseParked(pc, failure)
	}
	// Not on the caller's goroutine: that is the server's pump, which
	// must keep reading while the held calls are written to the server.
	if start {
		go p.resume()
	}
}

// resume handles the calls of finished listings, one at a time and in
// order, until none are left or the session ends.
func (p *Proxy) resume() {
	l := &p.listing
	dec := jsonrpc.NewDecoder(p.cfg.MaxDepth)
	for {
		l.mu.Lock()
		if len(l.resuming) == 0 && l.id.IsZero() {
			// What came while the resumer ran waited behind it; no
			// listing is in flight, since nothing is parked while held.
			l.resuming, l.parked = l.parked, nil
		}
		if l.closed || len(l.resuming) == 0 {
			l.running = false
			close(l.done)
			l.unlock()
			return
		}
		pc := l.resuming[0]
		l.resuming = l.resuming[1:]
		l.unlock()
		m, err := dec.Decode(pc.raw)
		if err != nil { // it decoded before it was held
			p.diag("dropped a held message from the client: %v", err)
			continue
		}
		switch m.Kind {
		case jsonrpc.Request:
			p.request(m, true)
		case jsonrpc.Notification:
			p.clientNotification(m)
		case jsonrpc.Response:
			p.clientResponse(m)
		}
	}
}

// orphanHeld answers, when the server has gone, every call still held or
// waiting to be resumed, as the calls in flight are answered: the server
// will never see them.
func (p *Proxy) orphanHeld(reason string) {
	l := &p.listing
	l.mu.Lock()
	l.closed = true
	done := l.done
	running := l.running
	l.unlock()
	if running {
		<-done // the call it is on finishes, and is in flight or answered
	}
	l.mu.Lock()
	held := append(l.resuming, l.parked...)
	l.resuming, l.parked, l.id = nil, nil, jsonrpc.ID{}
	l.unlock()
	for _, pc := range held {
		if pc.c == nil {
			continue // a notification or an answer the server no longer needs
		}
		msg := "MCP server " + reason + " before answering"
		p.reply(pc.c.id, jsonrpc.CodeServerGone, "mcpwarden: "+msg, nil)
		p.outcome(pc.c, "server_exited", msg)
	}
}

// refuseParked answers a held call that the listing could not serve.
func (p *Proxy) refuseParked(pc parkedCall, why string) {
	reason := "the tool could not be checked against the server's listing: " + why
	p.diag("refused tools/call %q: %s", pc.c.target, reason)
	_ = p.record(audit.Record{Event: "decision", Method: "tools/call", RequestID: pc.c.id.Raw(), Target: pc.c.target,
		Decision: "deny", Reason: reason})
	p.reply(pc.c.id, jsonrpc.CodeInternalError, "mcpwarden: "+reason, nil)
	p.outcome(pc.c, "denied", reason)
}

// isOwnListing reports whether id is that of mcpwarden's listing page in
// flight, which the client must not cancel.
func (p *Proxy) isOwnListing(id jsonrpc.ID) bool {
	l := &p.listing
	if !l.busy.Load() {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.id.IsZero() && l.id.Key() == id.Key()
}

// isParkedLocked reports whether a call with id is held; l.mu is held.
func (p *Proxy) isParkedLocked(id jsonrpc.ID) bool {
	for _, pc := range slices.Concat(p.listing.parked, p.listing.resuming) {
		if pc.c != nil && pc.c.id.Key() == id.Key() {
			return true
		}
	}
	return false
}

// isParked reports whether a call with id is held for the listing.
func (p *Proxy) isParked(id jsonrpc.ID) bool {
	if !p.listing.busy.Load() {
		return false
	}
	p.listing.mu.Lock()
	defer p.listing.mu.Unlock()
	return p.isParkedLocked(id)
}

// cancelParkedLocked forgets a held request the client cancelled; it
// reports whether there was one. l.mu is held.
func (p *Proxy) cancelParkedLocked(id jsonrpc.ID) bool {
	l := &p.listing
	for _, held := range []*[]parkedCall{&l.parked, &l.resuming} {
		for i, pc := range *held {
			if pc.c != nil && pc.c.id.Key() == id.Key() {
				*held = slices.Delete(*held, i, i+1)
				return true
			}
		}
	}
	return false
}
