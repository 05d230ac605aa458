package proxy

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/filter"
	"github.com/mcpwarden/mcpwarden/jsonrpc"
)

// argTimeout bounds the argument checks of one call (DNS resolution of
// url arguments is the slow part), so a hostile name server cannot stall
// the client's stream.
const argTimeout = 5 * time.Second

// toolState is what the proxy learned of the server's tools from its
// tools/list answers, by exact name.
type toolState struct {
	mu    sync.Mutex
	tools map[string]toolInfo
}

// toolInfo is what one tools/list entry said.
type toolInfo struct {
	definition string         // as listed, to skip the work below when listed again unchanged
	schema     *filter.Schema // nil when the tool has none or it is broken
	broken     string         // why its schema cannot be used
	hidden     string         // why the tool is hidden
}

func newToolState() *toolState { return &toolState{tools: map[string]toolInfo{}} }

// find returns what the session's listings said of the tool, and
// whether any listed it.
func (t *toolState) find(name string) (toolInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	info, ok := t.tools[name]
	return info, ok
}

// unlistedError refuses a call of a tool the server does not list, even
// when mcpwarden has listed its tools for the call.
func unlistedError() *filter.CallError {
	return &filter.CallError{Unknown: true,
		Reason: "the MCP server does not list this tool, so its definition and arguments cannot be checked"}
}

// guardCall runs the per-tool guards on a tools/call the policy allows;
// info is what the session's listings said of the tool, if known. It
// returns the message to forward and the arguments to record, with
// secrets redacted, whether or not the call is refused; what the guards
// changed goes to c.notes.
func (p *Proxy) guardCall(m *jsonrpc.Message, c *call, args jsontext.Value, info toolInfo, known bool) ([]byte, jsontext.Value, *filter.CallError) {
	unlisted := !known && p.checksListing()
	if p.cfg.Calls == nil {
		if unlisted {
			return nil, args, unlistedError()
		}
		return m.Raw, args, nil
	}
	// Redacted first, so that no refusal below records the secret.
	out, findings, cerr := p.cfg.Calls.RedactArgs(c.target, args)
	if len(findings) > 0 {
		c.notes = append(c.notes, "secrets redacted from the arguments: "+strings.Join(findings, ", "))
	}
	if unlisted {
		return nil, out, unlistedError()
	}
	if info.hidden != "" {
		return nil, out, &filter.CallError{Reason: info.hidden, Unknown: true}
	}
	if cerr != nil {
		return nil, out, cerr
	}
	if info.broken != "" {
		return nil, out, &filter.CallError{Reason: "the tool's input schema cannot be used to check its arguments: " + info.broken}
	}
	release, cerr := p.session.Admit(c.target, time.Now())
	if cerr != nil {
		return nil, out, cerr
	}
	ctx := context.Background()
	if p.cfg.Calls.ChecksArgKinds(c.target) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, argTimeout)
		defer cancel()
	}
	// The arguments as sent are checked: a redaction must not make them
	// pass a schema they fail.
	if cerr := p.cfg.Calls.CheckArgs(ctx, c.target, args, info.schema); cerr != nil {
		release()
		return nil, out, cerr
	}
	c.release = release
	if sameBytes(out, args) {
		return m.Raw, out, nil
	}
	params, err := editMember(m.Params, "arguments", out)
	if err != nil {
		release()
		return nil, out, &filter.CallError{Reason: "rewriting the arguments: " + err.Error()}
	}
	return jsonrpc.RequestMessage(m.ID, m.Method, params), out, nil
}

// toolError answers a tools/call with a tool error: the model reads it
// and can correct the call, which a JSON-RPC error would not let it do.
func (p *Proxy) toolError(id jsonrpc.ID, msg string) {
	res, _ := json.Marshal(struct {
		Content []textContent `json:"content"`
		IsError bool          `json:"isError"`
	}{[]textContent{{"text", "mcpwarden: " + msg}}, true})
	p.toClient(jsonrpc.ResultResponse(id, res))
}

type textContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// editMember returns obj with the member name set to val, or removed
// when val is nil, every other member kept as it was and in its place.
func editMember(obj jsontext.Value, name string, val jsontext.Value) (jsontext.Value, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(obj))
	var out bytes.Buffer
	enc := jsontext.NewEncoder(&out, jsontext.EscapeForHTML(false), jsontext.EscapeForJS(false))
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return nil, err
	}
	write := func(tok jsontext.Token, v jsontext.Value) error {
		if err := enc.WriteToken(tok); err != nil {
			return err
		}
		return enc.WriteValue(v)
	}
	done := false
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		tok = tok.Clone() // reading the value voids it
		v, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		if tok.String() == name {
			if done = true; val == nil {
				continue
			}
			v = val
		}
		if err := write(tok, v); err != nil {
			return nil, err
		}
	}
	if !done && val != nil {
		if err := write(jsontext.String(name), val); err != nil {
			return nil, err
		}
	}
	if err := enc.WriteToken(jsontext.EndObject); err != nil {
		return nil, err
	}
	return bytes.TrimRight(out.Bytes(), "\n"), nil
}

// note writes a record of what a guard did outside a call: a changed
// tool hidden, a suspicious description.
func (p *Proxy) note(target, reason string) {
	_ = p.record(audit.Record{Event: audit.EventGuard, Method: "tools/list", Target: target, Reason: reason})
}
