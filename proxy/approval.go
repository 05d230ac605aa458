package proxy

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/jsonrpc"
)

// approvals holds the tools/call requests waiting for a person's answer.
// mcpwarden asks with an elicitation/create request of its own, whose id
// carries a random part so that it cannot be one the server uses; the
// client's answer is consumed here and never reaches the server.
type approvals struct {
	mu      sync.Mutex
	waiting map[string]*approval // by the client request's id key
	seq     atomic.Uint64
	nonce   string // random, per proxy
	key     []byte // signs requestState for input_required rounds
}

// approval is one call waiting for an answer.
type approval struct {
	call     *call
	raw      []byte     // the request to forward once approved (a copy)
	args     []byte     // its arguments, for the audit record (a copy)
	elicitID jsonrpc.ID // the id of mcpwarden's elicitation request
}

func newApprovals() *approvals {
	var b [16]byte
	_, _ = rand.Read(b[:])
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &approvals{waiting: map[string]*approval{}, nonce: hex.EncodeToString(b[:6]), key: key}
}

// awaitingApproval reports whether a request with id is waiting for an
// approval, and so still in flight.
func (p *Proxy) awaitingApproval(id jsonrpc.ID) bool {
	p.approvals.mu.Lock()
	defer p.approvals.mu.Unlock()
	_, ok := p.approvals.waiting[id.Key()]
	return ok
}

// approvalMessage is what the person is asked.
func approvalMessage(tool string, args []byte) string {
	shown := string(args)
	if len(shown) > 2000 {
		shown = shown[:2000] + "…"
	}
	if shown == "" {
		shown = "{}"
	}
	return fmt.Sprintf("mcpwarden: allow the MCP server to run the tool %q with these arguments?\n%s", tool, shown)
}

// askApproval holds a tools/call until a person approves it. The client
// is asked with elicitation/create on protocol versions that have it, or
// with an input_required result on 2026-07-28, where servers no longer
// send requests; a client that can be asked neither way gets a tool
// error, since a call that needs approval must not run without it.
func (p *Proxy) askApproval(m *jsonrpc.Message, c *call, raw, args []byte) {
	switch {
	case p.protocolVersion() == "2026-07-28":
		p.approvalRound(m, c, args)
	case p.clientElicits.Load():
		p.elicitApproval(m, c, raw, args)
	default:
		p.approvalRefused(m.ID, c, args, fmt.Sprintf("tool %q needs a person's approval, but the client cannot ask for it (it declared no elicitation capability); use a client that supports elicitation, or remove approval from tools.rules.%s", c.target, c.target))
	}
}

func (p *Proxy) elicitApproval(m *jsonrpc.Message, c *call, raw, args []byte) {
	a := &approval{call: c, raw: slices.Clone(raw), args: slices.Clone(args)}
	// The id carries a random part the server never sees, so it cannot
	// be in flight already unless the session is closing.
	n := p.approvals.seq.Add(1)
	a.elicitID = jsonrpc.StringID(fmt.Sprintf("mcpwarden-approval-%s-%d", p.approvals.nonce, n))
	if !p.fromServer.Add(a.elicitID, &call{id: a.elicitID, method: "elicitation/create", approval: a}) {
		p.approvalRefused(m.ID, c, args, "mcpwarden could not ask for approval: the session is closing")
		return
	}
	p.approvals.mu.Lock()
	if _, dup := p.approvals.waiting[m.ID.Key()]; dup || p.fromClient.Has(m.ID) {
		p.approvals.mu.Unlock()
		p.fromServer.Take(a.elicitID)
		p.reply(m.ID, jsonrpc.CodeInvalidRequest, "mcpwarden: a request with id "+m.ID.Raw()+" is already in flight", nil)
		p.outcome(c, "error", "duplicate request id")
		return
	}
	p.approvals.waiting[m.ID.Key()] = a
	p.approvals.mu.Unlock()
	params, _ := json.Marshal(elicitParams(approvalMessage(c.target, args)))
	p.diag("asking the client for approval of tools/call %q", c.target)
	p.toClient(jsonrpc.RequestMessage(a.elicitID, "elicitation/create", params))
}

type elicitRequest struct {
	Message         string         `json:"message"`
	RequestedSchema map[string]any `json:"requestedSchema"`
}

// elicitParams asks a yes-or-no question: accepting the form approves
// the call, declining or cancelling it refuses.
func elicitParams(msg string) elicitRequest {
	return elicitRequest{Message: msg, RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{}}}
}

// approvalAnswer takes the client's answer to an elicitation request of
// mcpwarden's own.
func (p *Proxy) approvalAnswer(a *approval, m *jsonrpc.Message) {
	switch {
	case m == nil:
		p.approvalDone(a, false, "the client's answer to the approval request was invalid")
	case m.Error != nil:
		p.approvalDone(a, false, "the client could not ask for approval: "+m.Error.Message)
	default:
		action := elicitAction(m.Result)
		p.approvalDone(a, action == "accept", "the user answered "+quoteName(action)+" to the approval request")
	}
}

func elicitAction(result jsontext.Value) string {
	f, err := fields(result, "action")
	if err != nil {
		return ""
	}
	s, _ := str(f[0], "action")
	return s
}

// approvalDone ends a wait: the call goes to the server or is refused.
func (p *Proxy) approvalDone(a *approval, approved bool, reason string) {
	p.approvals.mu.Lock()
	_, ok := p.approvals.waiting[a.call.id.Key()]
	delete(p.approvals.waiting, a.call.id.Key())
	p.approvals.mu.Unlock()
	if !ok {
		return // cancelled meanwhile
	}
	if !approved {
		p.approvalRefused(a.call.id, a.call, a.args, reason)
		return
	}
	p.approvedCall(a.call, a.args, a.raw, "approved: "+reason, reason)
}

// approvedCall forwards raw, a call a person approved, once the approval
// is on record: note goes to the call's guard notes, reason to the
// decision record.
func (p *Proxy) approvedCall(c *call, args, raw []byte, note, reason string) {
	p.session.Approved(c.target)
	c.notes = append(c.notes, note)
	if err := p.record(audit.Record{Event: "decision", Method: "tools/call", RequestID: c.id.Raw(), Target: c.target,
		Arguments: args, Decision: "allow", Reason: reason, Guards: c.notes}); err != nil {
		p.reply(c.id, jsonrpc.CodeInternalError, "mcpwarden: refused because the audit log cannot be written", nil)
		p.outcome(c, "error", "audit log cannot be written")
		return
	}
	p.forward(c.id, c, raw)
}

func (p *Proxy) approvalRefused(id jsonrpc.ID, c *call, args []byte, reason string) {
	p.diag("refused tools/call %q: %s", c.target, reason)
	_ = p.record(audit.Record{Event: "decision", Method: "tools/call", RequestID: id.Raw(), Target: c.target,
		Arguments: args, Decision: "deny", Reason: "not approved: " + reason, Guards: c.notes})
	p.toolError(id, "the call was not approved: "+reason)
	p.outcome(c, "denied", reason)
}

// cancelApproval forgets a call the client cancelled while it waited for
// approval, and withdraws mcpwarden's question. It reports whether id was
// waiting.
func (p *Proxy) cancelApproval(id jsonrpc.ID) bool {
	p.approvals.mu.Lock()
	a, ok := p.approvals.waiting[id.Key()]
	delete(p.approvals.waiting, id.Key())
	p.approvals.mu.Unlock()
	if !ok {
		return false
	}
	p.fromServer.Take(a.elicitID)
	params, _ := json.Marshal(map[string]any{"requestId": jsontext.Value(a.elicitID.Raw()), "reason": "the call was cancelled"})
	p.toClient(jsonrpc.NotificationMessage("notifications/cancelled", params))
	p.outcome(a.call, "cancelled", "cancelled while waiting for approval")
	return true
}

// orphanApprovals answers every call still waiting when the server ended.
func (p *Proxy) orphanApprovals(reason string) {
	p.approvals.mu.Lock()
	waiting := p.approvals.waiting
	p.approvals.waiting = map[string]*approval{}
	p.approvals.mu.Unlock()
	for _, a := range waiting {
		msg := "MCP server " + reason + " before answering"
		p.reply(a.call.id, jsonrpc.CodeServerGone, "mcpwarden: "+msg, nil)
		p.outcome(a.call, "server_exited", msg)
	}
}

// The input_required round of 2026-07-28: mcpwarden answers the call
// itself with a question under its own key, and the client calls again
// with the answer and the requestState it was given, which binds the
// answer to this tool and these arguments.
const approvalInputKey = "mcpwarden/approval"

func (p *Proxy) approvalRound(m *jsonrpc.Message, c *call, args []byte) {
	state := p.approvalState(c.target, args)
	answer, given, params := takeApprovalAnswer(m.Params, state)
	if !given {
		res, _ := json.Marshal(map[string]any{
			"resultType": "input_required",
			"inputRequests": map[string]any{approvalInputKey: map[string]any{
				"method": "elicitation/create", "params": elicitParams(approvalMessage(c.target, args))}},
			"requestState": state,
		})
		_ = p.record(audit.Record{Event: "decision", Method: "tools/call", RequestID: m.ID.Raw(), Target: c.target,
			Arguments: args, Decision: "deny", Reason: "waiting for a person's approval (input_required)"})
		p.toClient(jsonrpc.ResultResponse(m.ID, res))
		p.outcome(c, "input_required", "")
		return
	}
	if answer != "accept" {
		p.approvalRefused(m.ID, c, args, "the user answered "+quoteName(answer)+" to the approval request")
		return
	}
	p.approvedCall(c, args, jsonrpc.RequestMessage(m.ID, m.Method, params),
		"approved: the user accepted the approval request", "approved by the user")
}

// approvalState signs the tool and its arguments in canonical form, so
// that an answer given for one call cannot approve another.
func (p *Proxy) approvalState(tool string, args []byte) string {
	canon := canonicalJSON(args)
	mac := hmac.New(sha256.New, p.approvals.key)
	mac.Write([]byte(tool))
	mac.Write([]byte{0})
	mac.Write(canon)
	return "mcpwarden1." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// canonicalJSON is v in RFC 8785 form, so that a client re-encoding the
// arguments of its retry does not change what the answer is bound to.
func canonicalJSON(v []byte) []byte {
	if len(v) == 0 {
		return []byte("{}")
	}
	c := jsontext.Value(slices.Clone(v))
	if c.Canonicalize() != nil {
		return v
	}
	return c
}

// takeApprovalAnswer finds mcpwarden's answer in a retried call's params.
// It returns the action, whether an answer bound to state was given, and
// the params with mcpwarden's answer and requestState removed, for the
// server. An answer with another requestState counts as none.
func takeApprovalAnswer(params jsontext.Value, state string) (action string, given bool, out jsontext.Value) {
	f, err := fields(params, "inputResponses", "requestState")
	if err != nil || f[0].Kind() != '{' || f[1] == nil {
		return "", false, params
	}
	if rs, err := str(f[1], "requestState"); err != nil || !hmac.Equal([]byte(rs), []byte(state)) {
		return "", false, params
	}
	resp, err := fields(f[0], approvalInputKey)
	if err != nil || resp[0] == nil {
		return "", false, params
	}
	action = elicitAction(resp[0])
	rest, err := editMember(f[0], approvalInputKey, nil)
	if err != nil {
		return "", false, params
	}
	if string(rest) == "{}" {
		rest = nil // mcpwarden's was the only answer
	}
	out, err = editMember(params, "inputResponses", rest)
	if err == nil {
		out, err = editMember(out, "requestState", nil)
	}
	if err != nil {
		return "", false, params
	}
	return action, true, out
}
