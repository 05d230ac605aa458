package proxy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/filter"
	"github.com/mcpwarden/mcpwarden/jsonrpc"
)

// pumpServer reads the server's messages until its output ends. Lines that
// are not JSON-RPC never reach the client: they are reported on stderr,
// where a server's log output belongs.
func (p *Proxy) pumpServer() {
	p.pump(direction{
		from:     "the server",
		in:       p.streams.ServerOut,
		server:   true,
		tooLarge: p.serverTooLarge,
		batch:    p.serverBatch,
		invalid:  p.serverInvalid,
		message:  p.fromServerMsg,
	})
}

func (p *Proxy) serverInvalid(err error, line []byte) {
	p.diag("dropped a line from the server that is not valid JSON-RPC (%v): %s", err, excerpt(line))
	var de *jsonrpc.DecodeError
	if errors.As(err, &de) && !de.ID.IsZero() && !de.HasMethod {
		if c, ok := p.fromClient.Take(de.ID); ok {
			if c.ownListing {
				p.listingDone("its answer was invalid: " + de.Reason)
				return
			}
			p.reply(c.id, jsonrpc.CodeInternalError, "mcpwarden: the MCP server's response was invalid: "+de.Reason, nil)
			p.outcome(c, "error", "invalid response: "+de.Reason)
		}
	}
}

func (p *Proxy) serverTooLarge(tle *jsonrpc.TooLargeError) {
	env := jsonrpc.Recover(tle)
	p.diag("dropped a message of %d bytes from the server (limit %d)", tle.Size, tle.Limit)
	if env.HasMethod || env.ID.IsZero() {
		return
	}
	if c, ok := p.fromClient.Take(env.ID); ok {
		msg := fmt.Sprintf("mcpwarden: the MCP server's response of %d bytes exceeds the limit of %d bytes", tle.Size, tle.Limit)
		if c.ownListing {
			p.listingDone(msg)
			return
		}
		p.reply(c.id, jsonrpc.CodeInternalError, msg, nil)
		p.outcome(c, "error", msg)
	}
}

func (p *Proxy) serverBatch(dec *jsonrpc.Decoder, line []byte) {
	elems, err := dec.SplitBatch(line)
	if err != nil {
		p.serverInvalid(err, line)
		return
	}
	allowed := batchesAllowed(p.protocolVersion())
	if !allowed {
		p.diag("the server sent a batch, which protocol version %s does not have", quoteVersion(p.protocolVersion()))
	}
	for _, e := range elems {
		m, err := dec.Decode(e)
		switch {
		case err != nil:
			p.serverInvalid(err, e)
		case allowed:
			p.fromServerMsg(m)
		case m.Kind == jsonrpc.Response:
			if c, ok := p.fromClient.Take(m.ID); ok {
				if c.ownListing {
					p.listingDone("it answered in a batch, which this protocol version does not allow")
					continue
				}
				p.reply(c.id, jsonrpc.CodeInternalError, "mcpwarden: the MCP server answered in a batch, which this protocol version does not allow", nil)
				p.outcome(c, "error", "answer in a batch")
			}
		}
	}
}

func (p *Proxy) fromServerMsg(m *jsonrpc.Message) {
	switch m.Kind {
	case jsonrpc.Response:
		p.serverResponse(m)
	case jsonrpc.Request:
		out, err := p.guardFromServer(m)
		if err != nil {
			p.diag("refused the server's %s: %v", m.Method, err)
			p.toServer(jsonrpc.ErrorResponse(m.ID, jsonrpc.CodeInvalidRequest, "mcpwarden: "+err.Error(), nil))
			return
		}
		c := &call{id: m.ID, method: m.Method}
		if !p.fromServer.Add(m.ID, c) {
			p.toServer(jsonrpc.ErrorResponse(m.ID, jsonrpc.CodeInvalidRequest, "mcpwarden: a request with this id is already in flight", nil))
			return
		}
		p.toClient(out)
	case jsonrpc.Notification:
		switch m.Method {
		case "notifications/cancelled":
			p.cancelled(m, p.fromServer)
		case "notifications/tools/list_changed":
			p.toolsChanged()
		case "notifications/resources/updated":
			if f, err := fields(m.Params, "uri"); err == nil {
				if uri, err := str(f[0], "uri"); err != nil || !p.cfg.Policy.Resource(uri).Allow {
					return // a hidden resource does not change, as far as the client knows
				}
			}
		}
		out, err := p.guardFromServer(m)
		if err != nil {
			p.diag("dropped the server's %s: %v", m.Method, err)
			return
		}
		p.toClient(out)
	}
}

// guardFromServer applies the result guards to the params of a request or
// notification from the server (see filter.Calls.GuardServerMessage) and
// returns the message to forward: the server's bytes when nothing
// changed. What was changed is recorded in the audit log.
func (p *Proxy) guardFromServer(m *jsonrpc.Message) ([]byte, error) {
	if p.cfg.Calls == nil || m.Params == nil {
		return m.Raw, nil
	}
	out, notes, err := p.cfg.Calls.GuardServerMessage(m.Method, m.Params)
	if err != nil {
		_ = p.record(audit.Record{Event: audit.EventGuard, Method: m.Method, RequestID: m.ID.Raw(), Reason: err.Error()})
		return nil, err
	}
	if len(notes) > 0 {
		_ = p.record(audit.Record{Event: audit.EventGuard, Method: m.Method, RequestID: m.ID.Raw(),
			Reason: "from the server: " + strings.Join(notes, "; ")})
	}
	if sameBytes(out, m.Params) {
		return m.Raw, nil
	}
	if m.Kind == jsonrpc.Request {
		return jsonrpc.RequestMessage(m.ID, m.Method, out), nil
	}
	return jsonrpc.NotificationMessage(m.Method, out), nil
}

func (p *Proxy) serverResponse(m *jsonrpc.Message) {
	c, ok := p.fromClient.Take(m.ID)
	if !ok {
		p.diag("dropped a response from the server to unknown request id %s", m.ID)
		return
	}
	if c.ownListing {
		p.listingAnswered(m)
		return
	}
	out := m.Raw
	if m.Result != nil {
		var err error
		if out, err = p.checkResult(c, m); err != nil {
			p.diag("refused the server's answer to %s: %v", c.method, err)
			p.reply(c.id, jsonrpc.CodeInternalError, "mcpwarden: "+err.Error(), nil)
			p.outcome(c, "error", err.Error())
			return
		}
	}
	p.toClient(out)
	p.finished(c, m)
}

// checkResult applies the policy to a result and returns the message to
// forward: the original bytes, or a rewritten response when entries were
// hidden.
func (p *Proxy) checkResult(c *call, m *jsonrpc.Message) ([]byte, error) {
	switch {
	case filter.ListMethod(c.method):
		var hide func(string) bool
		if c.method == "tools/list" {
			var err error
			if hide, err = p.toolsList(m.Result); err != nil {
				return nil, fmt.Errorf("tools/list result: %w", err)
			}
		}
		filtered, _, err := p.cfg.Policy.FilterList(c.method, m.Result, hide)
		if err != nil {
			return nil, fmt.Errorf("malformed %s result: %w", c.method, err)
		}
		return p.guarded(c, m, filtered)
	case c.method == "initialize":
		v, err := resultVersion(m.Result)
		if err != nil {
			return nil, err
		}
		if !knownVersion(v) {
			return nil, fmt.Errorf("the MCP server chose protocol version %s, which mcpwarden does not know (supported: %s)", quoteVersion(v), versionList())
		}
		p.setVersion(v)
	}
	return p.guarded(c, m, m.Result)
}

// guarded applies the result guards to result, the answer to c, and
// returns the message to forward: the server's bytes when nothing
// changed.
func (p *Proxy) guarded(c *call, m *jsonrpc.Message, result jsontext.Value) ([]byte, error) {
	out := result
	if p.cfg.Calls != nil {
		var notes []string
		var err error
		if out, notes, err = p.cfg.Calls.GuardResult(c.target, c.method, result); err != nil {
			return nil, err
		}
		c.notes = append(c.notes, notes...)
	}
	if sameBytes(out, m.Result) {
		return m.Raw, nil
	}
	return jsonrpc.ResultResponse(m.ID, out), nil
}

func resultVersion(result jsontext.Value) (string, error) {
	f, err := fields(result, "protocolVersion")
	if err != nil {
		return "", fmt.Errorf("malformed initialize result: %w", err)
	}
	return str(f[0], "protocolVersion")
}

func excerpt(b []byte) string {
	const n = 200
	if len(b) > n {
		return fmt.Sprintf("%q… (%d bytes)", b[:n], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// sameBytes reports whether a and b are the same slice of memory, which
// is how the guards say they changed nothing.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
