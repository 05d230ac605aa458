package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
// tools/list answers: each tool's compiled input schema, and the tools
// hidden because their definition changed since it was pinned.
type toolState struct {
	mu      sync.Mutex
	schemas map[string]*filter.Schema // by exact name; nil entry: none usable
	broken  map[string]string         // name: why its schema cannot be used
	hidden  map[string]string         // name: why it is hidden
}

func newToolState() *toolState {
	return &toolState{schemas: map[string]*filter.Schema{}, broken: map[string]string{}, hidden: map[string]string{}}
}

func (t *toolState) lookup(name string) (s *filter.Schema, broken, hidden string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.schemas[name], t.broken[name], t.hidden[name]
}

// guardCall runs the per-tool guards on a tools/call the policy allows.
// It returns the message to forward, the guards' findings for the audit
// record, and, when the call is refused, the refusal.
func (p *Proxy) guardCall(m *jsonrpc.Message, c *call, args jsontext.Value) ([]byte, []string, *filter.CallError) {
	if p.cfg.Calls == nil {
		return m.Raw, nil, nil
	}
	schema, broken, hidden := p.tools.lookup(c.target)
	if hidden != "" {
		return nil, nil, &filter.CallError{Reason: hidden}
	}
	if broken != "" {
		return nil, nil, &filter.CallError{Reason: "the tool's input schema cannot be used to check its arguments: " + broken}
	}
	release, err := p.session.Admit(c.target, time.Now())
	if err != nil {
		return nil, nil, asCallError(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), argTimeout)
	defer cancel()
	out, findings, err := p.cfg.Calls.CheckArgs(ctx, c.target, args, schema)
	if err != nil {
		release()
		return nil, nil, asCallError(err)
	}
	c.release = release
	var notes []string
	if len(findings) > 0 {
		notes = append(notes, "secrets redacted from the arguments: "+strings.Join(findings, ", "))
	}
	if bytes.Equal(out, args) {
		return m.Raw, notes, nil
	}
	params, err := replaceMember(m.Params, "arguments", out)
	if err != nil {
		release()
		return nil, nil, &filter.CallError{Reason: "rewriting the arguments: " + err.Error()}
	}
	return jsonrpc.RequestMessage(m.ID, m.Method, params), notes, nil
}

func asCallError(err error) *filter.CallError {
	var ce *filter.CallError
	if errors.As(err, &ce) {
		return ce
	}
	return &filter.CallError{Reason: err.Error()}
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

// replaceMember returns obj with the member name set to val, every other
// member kept as it was.
func replaceMember(obj jsontext.Value, name string, val jsontext.Value) (jsontext.Value, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(obj))
	var out bytes.Buffer
	enc := jsontext.NewEncoder(&out, jsontext.EscapeForHTML(false), jsontext.EscapeForJS(false))
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return nil, err
	}
	done := false
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		v, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		if tok.String() == name {
			v, done = val, true
		}
		if err := enc.WriteToken(tok); err != nil {
			return nil, err
		}
		if err := enc.WriteValue(v); err != nil {
			return nil, err
		}
	}
	if !done {
		if err := enc.WriteToken(jsontext.String(name)); err != nil {
			return nil, err
		}
		if err := enc.WriteValue(val); err != nil {
			return nil, err
		}
	}
	if err := enc.WriteToken(jsontext.EndObject); err != nil {
		return nil, err
	}
	return bytes.TrimRight(out.Bytes(), "\n"), nil
}

// binaryMembers hold base64 data in MCP results (image and audio
// content, blob resources); secret patterns in them are noise.
var binaryMembers = map[string]bool{"data": true, "blob": true}

// guardResult applies the result guards to the answer of a call: the
// size limit, secrets and hidden text. It returns the result to forward,
// notes for the audit log, and an error when the result must not reach
// the client at all.
func (p *Proxy) guardResult(c *call, result jsontext.Value) (jsontext.Value, []string, error) {
	var notes []string
	if c.method == "tools/call" && p.cfg.Calls != nil {
		if limit := p.cfg.Calls.MaxResultSize(c.target); limit > 0 && int64(len(result)) > limit {
			return nil, nil, fmt.Errorf("the result of %s is %d bytes, more than the profile's max_result_size of %d", c.target, len(result), limit)
		}
	}
	if p.cfg.Sanitize != nil {
		var kinds []string
		out, changed, err := filter.RewriteStrings(result, func(_, s string) (string, bool) {
			clean, what := p.cfg.Sanitize(s)
			if what == "" {
				return s, false
			}
			kinds = appendUnique(kinds, what)
			return clean, true
		})
		if err != nil {
			return nil, nil, err
		}
		if changed {
			result = out
			notes = append(notes, "hidden text stripped: "+strings.Join(kinds, "; "))
		}
	}
	if p.cfg.Calls != nil && carriesContent(c.method) {
		out, found, blocked, err := p.cfg.Calls.RedactResult(c.target, c.method, result, binaryMembers)
		if err != nil {
			return nil, nil, err
		}
		if blocked {
			return nil, nil, fmt.Errorf("the result of %s carries a secret (%s) and the profile blocks such results", c.target, strings.Join(found, ", "))
		}
		if len(found) > 0 {
			result = out
			notes = append(notes, "secrets redacted from the result: "+strings.Join(found, ", "))
		}
	}
	return result, notes, nil
}

// carriesContent reports the methods whose results carry text from the
// server's data to the model, where secrets may hide.
func carriesContent(method string) bool {
	switch method {
	case "tools/call", "resources/read", "prompts/get":
		return true
	}
	return false
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// note writes a record of what a guard did outside a call: a changed
// tool hidden, a suspicious description.
func (p *Proxy) note(target, reason string) {
	_ = p.record(audit.Record{Event: audit.EventGuard, Method: "tools/list", Target: target, Reason: reason})
}
