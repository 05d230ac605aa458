package proxy

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/filter"
	"github.com/mcpwarden/mcpwarden/jsonrpc"
)

// pumpClient reads the client's messages until its input ends.
func (p *Proxy) pumpClient() {
	defer p.markClientGone()
	p.pump(direction{
		from:     "the client",
		in:       p.streams.ClientIn,
		tooLarge: p.clientTooLarge,
		batch:    p.clientBatch,
		invalid:  func(err error, _ []byte) { p.clientInvalid(err) },
		message:  p.fromClientMsg,
	})
}

// clientInvalid answers a message that failed to decode, when it can tell
// which request it was, and reports it.
func (p *Proxy) clientInvalid(err error) {
	var de *jsonrpc.DecodeError
	errors.As(err, &de)
	p.diag("refused a message from the client: %v", err)
	switch {
	case de != nil && !de.ID.IsZero() && de.HasMethod:
		p.reply(de.ID, jsonrpc.CodeInvalidRequest, "mcpwarden: invalid request: "+de.Error(), nil)
	case de != nil && !de.ID.IsZero():
		// No method was read before the error: an invalid answer to a
		// server request gets the server an error instead, so that it
		// does not wait for ever; anything else may be a request whose
		// method came later, and is answered.
		if c, ok := p.fromServer.Take(de.ID); ok {
			if c.approval != nil {
				p.approvalAnswer(c.approval, nil)
				return
			}
			p.toServer(jsonrpc.ErrorResponse(c.id, jsonrpc.CodeInternalError, "mcpwarden: the client's response was invalid: "+de.Reason, nil))
			return
		}
		p.reply(de.ID, jsonrpc.CodeInvalidRequest, "mcpwarden: invalid request: "+de.Error(), nil)
	case de != nil && de.Err == nil:
		p.reply(jsonrpc.Null, jsonrpc.CodeInvalidRequest, "mcpwarden: invalid request: "+de.Reason, nil)
	default:
		p.reply(jsonrpc.Null, jsonrpc.CodeParseError, "mcpwarden: parse error: "+err.Error(), nil)
	}
}

func (p *Proxy) clientTooLarge(tle *jsonrpc.TooLargeError) {
	env := jsonrpc.Recover(tle)
	p.diag("refused a message of %d bytes from the client (limit %d)", tle.Size, tle.Limit)
	msg := fmt.Sprintf("mcpwarden: message of %d bytes exceeds the limit of %d bytes", tle.Size, tle.Limit)
	if !env.HasMethod && !env.ID.IsZero() {
		if c, ok := p.fromServer.Take(env.ID); ok {
			if c.approval != nil {
				p.approvalAnswer(c.approval, nil)
				return
			}
			p.toServer(jsonrpc.ErrorResponse(c.id, jsonrpc.CodeInternalError, msg, nil))
			return
		}
	}
	p.reply(env.ID, jsonrpc.CodeInvalidRequest, msg, nil)
}

// clientBatch handles a JSON array. Only protocol version 2025-03-26 has
// batches; there each element is checked and forwarded on its own, as if
// sent alone, which every peer of that version must accept.
func (p *Proxy) clientBatch(dec *jsonrpc.Decoder, line []byte) {
	elems, err := dec.SplitBatch(line)
	if err != nil {
		p.clientInvalid(err)
		return
	}
	if v := p.protocolVersion(); !batchesAllowed(v) {
		p.diag("refused a batch from the client: protocol version %q has no batches", v)
		answered := false
		for _, e := range elems {
			if m, err := dec.Decode(e); err == nil && m.Kind == jsonrpc.Request {
				p.reply(m.ID, jsonrpc.CodeInvalidRequest, "mcpwarden: JSON-RPC batches are not allowed in protocol version "+quoteVersion(v), nil)
				answered = true
			}
		}
		if !answered {
			p.reply(jsonrpc.Null, jsonrpc.CodeInvalidRequest, "mcpwarden: JSON-RPC batches are not allowed in protocol version "+quoteVersion(v), nil)
		}
		return
	}
	for _, e := range elems {
		m, err := dec.Decode(e)
		if err != nil {
			p.clientInvalid(err)
			continue
		}
		p.fromClientMsg(m)
	}
}

func (p *Proxy) fromClientMsg(m *jsonrpc.Message) {
	if p.holdBehind(m) {
		return // it waits behind calls held for mcpwarden's own listing
	}
	switch m.Kind {
	case jsonrpc.Request:
		p.clientRequest(m)
	case jsonrpc.Notification:
		p.clientNotification(m)
	case jsonrpc.Response:
		p.clientResponse(m)
	}
}

func (p *Proxy) clientResponse(m *jsonrpc.Message) {
	c, ok := p.fromServer.Take(m.ID)
	if !ok {
		p.diag("dropped a response from the client to unknown request id %s", m.ID)
		return
	}
	if c.approval != nil {
		p.approvalAnswer(c.approval, m)
		return
	}
	p.toServer(m.Raw)
}

// maxInFlight bounds the requests awaiting the server, and so the memory a
// client can make mcpwarden hold by never waiting for answers.
const maxInFlight = 10000

// guarded names the request methods whose params the policy inspects; a
// notification with one of these methods is never forwarded, since it
// could make a server act without an answer mcpwarden could check.
var guarded = map[string]bool{
	"tools/call": true, "resources/read": true, "resources/subscribe": true,
	"resources/unsubscribe": true, "prompts/get": true, "completion/complete": true,
	"tools/list": true, "resources/list": true, "resources/templates/list": true,
	"prompts/list": true, "initialize": true, "server/discover": true,
}

// foldedGuarded maps the folded spelling of each guarded method to it.
var foldedGuarded = func() map[string]string {
	out := make(map[string]string, len(guarded))
	for m := range guarded {
		out[jsonrpc.Fold(m)] = m
	}
	return out
}()

// disguised reports whether method spells a guarded method in another
// case ("Tools/Call"), which a server matching methods loosely would run
// unchecked.
func disguised(method string) bool {
	m, ok := foldedGuarded[jsonrpc.Fold(method)]
	return ok && m != method
}

func (p *Proxy) clientNotification(m *jsonrpc.Message) {
	if disguised(m.Method) {
		p.diag("dropped a %q notification from the client: a case variant of a guarded method", m.Method)
		return
	}
	if guarded[m.Method] {
		p.diag("dropped a %q notification from the client: it is a request method", m.Method)
		if m.Method == "tools/call" {
			_ = p.record(audit.Record{Event: "decision", Method: m.Method, Decision: "deny",
				Reason: "sent as a notification", Target: toolName(m.Params)})
		}
		return
	}
	if m.Method == "notifications/cancelled" {
		if id, ok := cancelledID(m); ok && p.cancelApproval(id) {
			return // the server never saw the call
		}
		if id, ok := cancelledID(m); ok && p.isOwnListing(id) {
			p.diag("dropped the client's cancellation of mcpwarden's own request %s", id)
			return
		}
		p.cancelled(m, p.fromClient)
	}
	p.toServer(m.Raw)
}

// cancelled forgets a request the sender gave up on: MCP says its answer
// should not come, and mcpwarden must not later invent one.
func (p *Proxy) cancelled(m *jsonrpc.Message, t *jsonrpc.Tracker[*call]) {
	if id, ok := cancelledID(m); ok {
		if c, ok := t.Take(id); ok {
			p.outcome(c, "cancelled", "")
		}
	}
}

// cancelledID returns the requestId of a notifications/cancelled.
func cancelledID(m *jsonrpc.Message) (jsonrpc.ID, bool) {
	f, err := fields(m.Params, "requestId")
	if err != nil || f[0] == nil {
		return jsonrpc.ID{}, false
	}
	return jsonrpc.ParseID(f[0])
}

func (p *Proxy) clientRequest(m *jsonrpc.Message) { p.request(m, false) }

// request handles a request from the client; listed is set when it was
// held for mcpwarden's own listing of the tools, which is now done.
func (p *Proxy) request(m *jsonrpc.Message, listed bool) {
	if disguised(m.Method) {
		p.diag("refused %q: a case variant of a guarded method", m.Method)
		p.reply(m.ID, jsonrpc.CodeMethodNotFound, "Method not found", nil)
		return
	}
	if p.cfg.Calls != nil {
		p.cfg.Calls.Warm()
	}
	c := &call{id: m.ID, method: m.Method, start: time.Now()}
	if v := metaVersion(m.Params); v != "" {
		if !knownVersion(v) {
			p.reply(m.ID, jsonrpc.CodeInvalidRequest, "mcpwarden: unsupported protocol version "+quoteVersion(v)+"; supported: "+versionList(), nil)
			return
		}
		p.setVersion(v)
	}
	if m.Method == "initialize" {
		p.clientElicits.Store(declaresElicitation(m.Params))
	}
	d, args, err := p.decide(m, c)
	if err != nil {
		p.reply(m.ID, jsonrpc.CodeInvalidParams, "mcpwarden: invalid params: "+err.Error(), nil)
		p.diag("refused %s: invalid params: %v", m.Method, err)
		if c.target != "" || m.Method == "tools/call" {
			_ = p.record(audit.Record{Event: "decision", Method: m.Method, RequestID: m.ID.Raw(), Target: c.target,
				Decision: "deny", Reason: "invalid params: " + err.Error()})
		}
		return
	}
	raw := m.Raw
	if d.Allow && m.Method == "tools/call" {
		info, known := p.tools.find(c.target)
		if !known && p.checksListing() && !listed {
			p.park(m, c)
			return
		}
		var cerr *filter.CallError
		if raw, args, cerr = p.guardCall(m, c, args, info, known); cerr != nil {
			p.refuseCall(m, c, args, cerr)
			return
		}
		if p.session != nil && p.session.NeedsApproval(c.target) {
			p.askApproval(m, c, raw, args)
			return
		}
	}
	if c.audited {
		err := p.record(audit.Record{Event: "decision", Method: m.Method, RequestID: m.ID.Raw(), Target: c.target,
			Arguments: args, Decision: decisionWord(d.Allow), Reason: d.Reason, Guards: c.notes})
		if err != nil && d.Allow {
			// Fail closed: a call that cannot be put on record does not run.
			p.reply(m.ID, jsonrpc.CodeInternalError, "mcpwarden: refused because the audit log cannot be written", nil)
			p.outcome(c, "error", "audit log cannot be written")
			return
		}
	}
	if !d.Allow {
		p.refuse(m, c, d)
		return
	}
	p.forward(m.ID, c, raw)
}

// forward sends an admitted request to the server, tracking it so that
// the client gets an answer whatever happens.
func (p *Proxy) forward(id jsonrpc.ID, c *call, raw []byte) {
	if p.fromClient.Len() >= maxInFlight {
		p.reply(id, jsonrpc.CodeInternalError, fmt.Sprintf("mcpwarden: more than %d requests in flight; retry when some have been answered", maxInFlight), nil)
		p.outcome(c, "error", "too many requests in flight")
		return
	}
	if p.awaitingApproval(id) || p.isParked(id) || !p.fromClient.Add(id, c) {
		p.reply(id, jsonrpc.CodeInvalidRequest, "mcpwarden: a request with id "+id.Raw()+" is already in flight", nil)
		p.outcome(c, "error", "duplicate request id")
		return
	}
	if !p.toServer(raw) {
		if c, ok := p.fromClient.Take(id); ok {
			p.reply(id, jsonrpc.CodeServerGone, "mcpwarden: MCP server is no longer reading its input", nil)
			p.outcome(c, "server_exited", "server input closed")
		}
	}
}

// refuseCall answers a tools/call that a guard refused with a tool
// error, or as an unknown tool when the tool is hidden.
func (p *Proxy) refuseCall(m *jsonrpc.Message, c *call, args []byte, cerr *filter.CallError) {
	p.diag("refused tools/call %q: %s", c.target, cerr.Reason)
	_ = p.record(audit.Record{Event: "decision", Method: m.Method, RequestID: m.ID.Raw(), Target: c.target,
		Arguments: args, Decision: "deny", Reason: cerr.Reason, Guards: c.notes})
	if cerr.Unknown {
		p.reply(m.ID, jsonrpc.CodeInvalidParams, "Unknown tool: "+c.target, nil)
	} else {
		p.toolError(m.ID, cerr.Reason)
	}
	p.outcome(c, "denied", cerr.Reason)
}

// refuse answers a denied request the way a server answers for something
// that does not exist, so that a hidden tool looks absent, not forbidden.
func (p *Proxy) refuse(m *jsonrpc.Message, c *call, d filter.Decision) {
	p.diag("refused %s %q: %s", m.Method, c.target, d.Reason)
	switch m.Method {
	case "tools/call":
		p.reply(m.ID, jsonrpc.CodeInvalidParams, "Unknown tool: "+c.target, nil)
	case "resources/read", "resources/subscribe", "resources/unsubscribe":
		p.reply(m.ID, jsonrpc.CodeResourceNotFound, "Resource not found", map[string]string{"uri": c.target})
	case "prompts/get":
		p.reply(m.ID, jsonrpc.CodeInvalidParams, "Unknown prompt: "+c.target, nil)
	default:
		p.reply(m.ID, jsonrpc.CodeInvalidParams, "mcpwarden: "+d.Reason, nil)
	}
	if c.audited {
		p.outcome(c, "denied", d.Reason)
	}
}

// decide applies the policy to a request. It fills c.target and c.audited
// and returns the arguments to audit.
func (p *Proxy) decide(m *jsonrpc.Message, c *call) (filter.Decision, []byte, error) {
	allow := filter.Decision{Allow: true}
	switch m.Method {
	case "tools/call":
		f, err := fields(m.Params, "name", "arguments")
		if err != nil {
			return allow, nil, err
		}
		if c.target, err = str(f[0], "name"); err != nil {
			return allow, nil, err
		}
		if f[1] != nil && f[1].Kind() != '{' {
			return allow, nil, errors.New("arguments must be an object")
		}
		c.audited = true
		return p.cfg.Policy.Tool(c.target), f[1], nil
	case "resources/read", "resources/subscribe", "resources/unsubscribe":
		f, err := fields(m.Params, "uri")
		if err != nil {
			return allow, nil, err
		}
		if c.target, err = str(f[0], "uri"); err != nil {
			return allow, nil, err
		}
		c.audited = m.Method == "resources/read"
		return p.cfg.Policy.Resource(c.target), nil, nil
	case "prompts/get":
		f, err := fields(m.Params, "name", "arguments")
		if err != nil {
			return allow, nil, err
		}
		if c.target, err = str(f[0], "name"); err != nil {
			return allow, nil, err
		}
		c.audited = true
		return p.cfg.Policy.Prompt(c.target), f[1], nil
	case "completion/complete":
		f, err := fields(m.Params, "ref")
		if err != nil {
			return allow, nil, err
		}
		if f[0] == nil {
			return allow, nil, errors.New(`missing "ref"`)
		}
		return p.cfg.Policy.CompletionRef(f[0]), nil, nil
	}
	return allow, nil, nil
}

func fields(params jsontext.Value, names ...string) ([]jsontext.Value, error) {
	if params == nil {
		return nil, errors.New("missing params")
	}
	out := make([]jsontext.Value, len(names))
	if err := jsonrpc.Fields(params, names, out); err != nil {
		return nil, err
	}
	return out, nil
}

func str(v jsontext.Value, name string) (string, error) {
	if v == nil || v.Kind() != '"' {
		return "", fmt.Errorf("%q must be a string", name)
	}
	var s string
	if err := jsonUnquote(v, &s); err != nil {
		return "", fmt.Errorf("%q: %w", name, err)
	}
	return s, nil
}

func toolName(params jsontext.Value) string {
	f, err := fields(params, "name")
	if err != nil {
		return ""
	}
	s, _ := str(f[0], "name")
	return s
}

func decisionWord(allow bool) string {
	if allow {
		return "allow"
	}
	return "deny"
}

// declaresElicitation reports whether initialize params declare the
// client's elicitation capability.
func declaresElicitation(params jsontext.Value) bool {
	f, err := fields(params, "capabilities")
	if err != nil || f[0].Kind() != '{' {
		return false
	}
	caps, err := fields(f[0], "elicitation")
	return err == nil && caps[0].Kind() == '{'
}
