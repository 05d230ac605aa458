package proxy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/filter"
)

// harness runs a Proxy between two pairs of pipes: the test plays the
// client on one side and the server on the other, and sees every byte that
// crosses.
type harness struct {
	t        *testing.T
	client   io.WriteCloser // what the client sends
	toClient <-chan string  // what the client receives
	server   io.WriteCloser // what the server sends
	toServer <-chan string  // what the server receives
	done     chan struct{}
	auditLog string
	audit    *audit.Log
	diags    chan string
	p        *Proxy
}

func newHarness(t *testing.T, tools filter.Rules, maxMsg int) *harness {
	t.Helper()
	return newHarnessWith(t, tools, maxMsg, nil)
}

// newHarnessWith is newHarness with more of the Config set by with.
func newHarnessWith(t *testing.T, tools filter.Rules, maxMsg int, with func(*Config)) *harness {
	t.Helper()
	policy, err := filter.New(tools, filter.Rules{Allow: []string{"*"}, Deny: []string{"file:///secret/*"}},
		filter.Rules{Allow: []string{"*"}, Deny: []string{"hidden_*"}})
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	al, err := audit.Open(logPath, "test", "s1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	cr, cw := io.Pipe()
	or, ow := io.Pipe()
	sr, sw := io.Pipe()
	xr, xw := io.Pipe()
	h := &harness{t: t, client: cw, server: xw, done: make(chan struct{}), auditLog: logPath, audit: al, diags: make(chan string, 100)}
	h.toClient = readLines(or)
	h.toServer = readLines(sr)
	cfg := Config{Policy: policy, Audit: al, MaxMessageSize: maxMsg,
		Diag: func(m string) {
			select {
			case h.diags <- m:
			default:
			}
		}}
	if with != nil {
		with(&cfg)
	}
	h.p = New(cfg, Streams{ClientIn: cr, ClientOut: ow, ServerIn: sw, ServerOut: xr})
	go func() {
		defer close(h.done)
		h.p.Run(func() string { return "exited with status 3" })
		ow.Close()
	}()
	t.Cleanup(func() {
		cw.Close()
		xw.Close()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("proxy did not stop")
		}
	})
	return h
}

func readLines(r io.Reader) <-chan string {
	ch := make(chan string, 1000)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			ch <- sc.Text()
		}
		io.Copy(io.Discard, r) //nolint:errcheck // drain after an overlong line
	}()
	return ch
}

func (h *harness) send(w io.Writer, lines ...string) {
	h.t.Helper()
	for _, l := range lines {
		if _, err := io.WriteString(w, l+"\n"); err != nil {
			h.t.Fatalf("write: %v", err)
		}
	}
}

func (h *harness) fromClient(lines ...string) { h.t.Helper(); h.send(h.client, lines...) }
func (h *harness) fromServer(lines ...string) { h.t.Helper(); h.send(h.server, lines...) }

func next(t *testing.T, ch <-chan string, what string) string {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatalf("%s: stream closed", what)
		}
		return l
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: nothing arrived", what)
	}
	return ""
}

// quiet asserts that nothing more arrives on ch for a short while.
func quiet(t *testing.T, ch <-chan string, what string) {
	t.Helper()
	select {
	case l, ok := <-ch:
		if ok {
			t.Fatalf("%s received unexpected %s", what, l)
		}
	case <-time.After(100 * time.Millisecond):
	}
}

// sync proves ordering: once the server has received this ping, everything
// the client sent before it has been handled.
func (h *harness) sync(id string) {
	h.t.Helper()
	h.fromClient(`{"jsonrpc":"2.0","id":"` + id + `","method":"ping"}`)
	got := next(h.t, h.toServer, "server")
	if !strings.Contains(got, `"`+id+`"`) {
		h.t.Fatalf("server received %s, want only the ping %s", got, id)
	}
	h.fromServer(`{"jsonrpc":"2.0","id":"` + id + `","result":{}}`)
	if got := next(h.t, h.toClient, "client"); !strings.Contains(got, `"`+id+`"`) {
		h.t.Fatalf("client received %s, want the pong", got)
	}
}

type response struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeResponse(t *testing.T, line string) response {
	t.Helper()
	var r response
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("client got a line that is not JSON: %q", line)
	}
	return r
}

func denyDelete() filter.Rules {
	return filter.Rules{Allow: []string{"*"}, Deny: []string{"delete_*"}}
}

func TestAllowedCallRoundTrip(t *testing.T) {
	h := newHarness(t, denyDelete(), 0)
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"token":"abc","x":1}}}`
	h.fromClient(call)
	if got := next(t, h.toServer, "server"); got != call {
		t.Fatalf("server got %q, want the exact bytes %q", got, call)
	}
	// The decision is on record before the server could answer.
	if recs := readAudit(t, h.auditLog); len(recs) != 1 || recs[0]["decision"] != "allow" {
		t.Fatalf("audit before forwarding = %v", recs)
	}
	answer := `{"result":{"content":[{"type":"text","text":"hi"}],"isError":true},"jsonrpc":"2.0","id":1}`
	h.fromServer(answer)
	if got := next(t, h.toClient, "client"); got != answer {
		t.Fatalf("client got %q", got)
	}
	h.sync("s")
	recs := readAudit(t, h.auditLog)
	if len(recs) != 2 || recs[1]["outcome"] != "isError" {
		t.Fatalf("audit = %v", recs)
	}
	if args, _ := json.Marshal(recs[0]["arguments"]); !strings.Contains(string(args), "[REDACTED]") {
		t.Errorf("token not redacted in audit: %s", args)
	}
}

func readAudit(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestDeniedToolNeverReachesServer is the smuggling table: every message
// here names a denied tool in some disguise; none may reach the server,
// and each request whose id can be read gets exactly one answer.
func TestDeniedToolNeverReachesServer(t *testing.T) {
	cases := []struct {
		name   string
		line   string
		answer string // expected id of the answer, "" for none
		code   int
	}{
		{"plain", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_all"}}`, "1", -32602},
		{"notification", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"delete_all"}}`, "", 0},
		{"string id", `{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"delete_all"}}`, `"x"`, -32602},
		{"float id", `{"jsonrpc":"2.0","id":1.0,"method":"tools/call","params":{"name":"delete_all"}}`, "null", -32600},
		{"null id", `{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"delete_all"}}`, "null", -32600},
		{"with result", `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_all"},"result":{}}`, "2", -32600},
		{"with error", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"delete_all"},"error":{"code":1,"message":""}}`, "3", -32600},
		{"duplicate name", `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","name":"delete_all"}}`, "4", -32600},
		{"case variant member", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","Name":"delete_all"}}`, "5", -32600},
		{"lone case variant", `{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"NAME":"delete_all"}}`, "6", -32602},
		{"kelvin member", `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","argument\u017f":{},"arguments":{}}}`, "7", -32600},
		{"escaped name", `{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"delete\u005fall"}}`, "8", -32602},
		{"upper case tool", `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"DELETE_ALL"}}`, "9", -32602},
		{"long s tool", `{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"delete_\u017fecrets"}}`, "10", -32602},
		{"fullwidth tool", `{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"ｄelete_all"}}`, "11", -32602},
		{"method case", `{"jsonrpc":"2.0","id":12,"method":"tools/call","Method":"x","params":{"name":"delete_all"}}`, "12", -32600},
		{"trailing object", `{"jsonrpc":"2.0","id":13,"method":"ping"}{"jsonrpc":"2.0","id":14,"method":"tools/call","params":{"name":"delete_all"}}`, "13", -32600},
		{"invalid utf8", "{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"tools/call\",\"params\":{\"name\":\"delete_all\xff\"}}", "15", -32600},
		{"batch without batching", `[{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"delete_all"}}]`, "16", -32600},
		{"unknown member", `{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"delete_all"},"x":1}`, "17", -32600},
		{"method case variant", `{"jsonrpc":"2.0","id":19,"method":"Tools/Call","params":{"name":"delete_all"}}`, "19", -32601},
		{"method notification case variant", `{"jsonrpc":"2.0","method":"TOOLS/CALL","params":{"name":"delete_all"}}`, "", 0},
		{"id with leading zero", `{"jsonrpc":"2.0","id":01,"method":"tools/call","params":{"name":"delete_all"}}`, "null", -32700},
		{"duplicate name, method last", `{"jsonrpc":"2.0","id":42,"params":{"name":"a","name":"delete_all"},"method":"tools/call"}`, "42", -32600},
		{"case variant member, method last", `{"jsonrpc":"2.0","id":50,"Method":"tools/call","params":{"name":"delete_all"}}`, "50", -32600},
		{"padded name", `{"jsonrpc":"2.0","id":51,"method":"tools/call","params":{"name":" delete_all"}}`, "51", -32602},
		{"nul in name", `{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{"name":"delete_all\u0000"}}`, "18", -32602},
	}
	h := newHarness(t, denyDelete(), 0)
	for i, c := range cases {
		h.fromClient(c.line)
		if c.answer != "" {
			r := decodeResponse(t, next(t, h.toClient, c.name))
			if string(r.ID) != c.answer || r.Error == nil || r.Error.Code != c.code {
				t.Errorf("%s: answer id %s error %+v, want id %s code %d", c.name, r.ID, r.Error, c.answer, c.code)
			}
		}
		h.sync("sync" + string(rune('a'+i)))
	}
	quiet(t, h.toClient, "client")
}

func TestBatchesFollowProtocolVersion(t *testing.T) {
	h := newHarness(t, denyDelete(), 0)
	h.fromClient(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`)
	next(t, h.toServer, "server")
	h.fromServer(`{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-03-26","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}`)
	next(t, h.toClient, "client")
	h.fromClient(`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_x"}},{"jsonrpc":"2.0","method":"notifications/x"}]`)
	// The denied element is answered by mcpwarden; the others reach the
	// server one by one.
	r := decodeResponse(t, next(t, h.toClient, "client"))
	if string(r.ID) != "2" || r.Error == nil {
		t.Fatalf("answer to the denied element: %+v", r)
	}
	if got := next(t, h.toServer, "server"); !strings.Contains(got, `"echo"`) {
		t.Fatalf("server got %s", got)
	}
	if got := next(t, h.toServer, "server"); got != `{"jsonrpc":"2.0","method":"notifications/x"}` {
		t.Fatalf("server got %s", got)
	}
	h.sync("s")
}

func TestListResultsAreFiltered(t *testing.T) {
	h := newHarness(t, denyDelete(), 0)
	h.fromClient(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"c1"}}`)
	next(t, h.toServer, "server")
	h.fromServer(`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}},{"name":"Delete_Files","inputSchema":{"type":"object"}}],"nextCursor":"c2"}}`)
	got := next(t, h.toClient, "client")
	if strings.Contains(got, "Delete_Files") || !strings.Contains(got, `"echo"`) || !strings.Contains(got, `"nextCursor":"c2"`) {
		t.Fatalf("client got %s", got)
	}
	h.fromClient(`{"jsonrpc":"2.0","id":2,"method":"prompts/list"}`)
	next(t, h.toServer, "server")
	h.fromServer(`{"jsonrpc":"2.0","id":2,"result":{"prompts":[{"name":"hidden_p"},{"name":"ok"}]}}`)
	if got := next(t, h.toClient, "client"); strings.Contains(got, "hidden_p") || !strings.Contains(got, `"ok"`) {
		t.Fatalf("client got %s", got)
	}
}

func TestResourcesAndPromptsPolicy(t *testing.T) {
	h := newHarness(t, denyDelete(), 0)
	h.fromClient(`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///secret/../secret/key"}}`)
	if r := decodeResponse(t, next(t, h.toClient, "client")); r.Error == nil || r.Error.Code != -32002 {
		t.Fatalf("resource read answer %+v", r)
	}
	h.fromClient(`{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"hidden_x"}}`)
	if r := decodeResponse(t, next(t, h.toClient, "client")); r.Error == nil || r.Error.Code != -32602 {
		t.Fatalf("prompt answer %+v", r)
	}
	h.fromClient(`{"jsonrpc":"2.0","id":3,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"hidden_x"},"argument":{"name":"a","value":""}}}`)
	if r := decodeResponse(t, next(t, h.toClient, "client")); r.Error == nil {
		t.Fatalf("completion answer %+v", r)
	}
	h.sync("s")
	// A hidden resource's updates do not reach the client.
	h.fromServer(`{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"file:///secret/key"}}`,
		`{"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"file:///ok"}}`)
	if got := next(t, h.toClient, "client"); !strings.Contains(got, "file:///ok") {
		t.Fatalf("client got %s", got)
	}
}

func TestServerDeathAnswersEveryPendingRequest(t *testing.T) {
	h := newHarness(t, denyDelete(), 0)
	h.fromClient(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}`,
		`{"jsonrpc":"2.0","id":"b","method":"resources/list"}`)
	next(t, h.toServer, "server")
	next(t, h.toServer, "server")
	h.server.Close()
	ids := map[string]bool{}
	for range 2 {
		r := decodeResponse(t, next(t, h.toClient, "client"))
		if r.Error == nil || r.Error.Code != -32000 || !strings.Contains(r.Error.Message, "exited with status 3") {
			t.Fatalf("answer %+v", r)
		}
		ids[string(r.ID)] = true
	}
	if !ids["1"] || !ids[`"b"`] {
		t.Fatalf("answered ids %v", ids)
	}
	<-h.done
	recs := readAudit(t, h.auditLog)
	if last := recs[len(recs)-1]; last["outcome"] != "server_exited" {
		t.Fatalf("last audit record %v", last)
	}
}

func TestOversizedMessagesAreAnsweredAndStreamContinues(t *testing.T) {
	h := newHarness(t, denyDelete(), 4096)
	big := `{"jsonrpc":"2.0","id":77,"method":"tools/call","params":{"name":"echo","arguments":{"x":"` + strings.Repeat("a", 10000) + `"}}}`
	h.fromClient(big)
	if r := decodeResponse(t, next(t, h.toClient, "client")); string(r.ID) != "77" || r.Error == nil {
		t.Fatalf("answer %+v", r)
	}
	h.sync("after")
	// An oversized result is not forwarded; the client learns why.
	h.fromClient(`{"jsonrpc":"2.0","id":78,"method":"tools/call","params":{"name":"echo"}}`)
	next(t, h.toServer, "server")
	h.fromServer(`{"result":{"content":[{"type":"text","text":"` + strings.Repeat("b", 10000) + `"}]},"jsonrpc":"2.0","id":78}`)
	r := decodeResponse(t, next(t, h.toClient, "client"))
	if string(r.ID) != "78" || r.Error == nil || !strings.Contains(r.Error.Message, "exceeds") {
		t.Fatalf("answer %+v", r)
	}
	h.sync("after2")
}

func TestServerNoiseAndStrayResponsesAreDropped(t *testing.T) {
	h := newHarness(t, denyDelete(), 0)
	h.fromServer("Server listening on stdio", `{"jsonrpc":"2.0","id":999,"result":{}}`, `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}`)
	if got := next(t, h.toClient, "client"); !strings.Contains(got, "notifications/message") {
		t.Fatalf("client got %s", got)
	}
	// The client cannot answer a request the server never made.
	h.fromClient(`{"jsonrpc":"2.0","id":5,"result":{}}`)
	h.sync("s")
	// But it can answer one the server did make, once.
	h.fromServer(`{"jsonrpc":"2.0","id":"srv1","method":"sampling/createMessage","params":{}}`)
	next(t, h.toClient, "client")
	h.fromClient(`{"jsonrpc":"2.0","id":"srv1","result":{"x":1}}`, `{"jsonrpc":"2.0","id":"srv1","result":{"x":2}}`)
	if got := next(t, h.toServer, "server"); got != `{"jsonrpc":"2.0","id":"srv1","result":{"x":1}}` {
		t.Fatalf("server got %s", got)
	}
	h.sync("s2")
}

func TestDuplicateInFlightIDIsRefused(t *testing.T) {
	h := newHarness(t, denyDelete(), 0)
	h.fromClient(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}}`)
	next(t, h.toServer, "server")
	h.fromClient(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"b"}}`)
	if r := decodeResponse(t, next(t, h.toClient, "client")); r.Error == nil {
		t.Fatalf("answer %+v", r)
	}
	h.sync("s")
}

func TestProtocolVersionChecks(t *testing.T) {
	h := newHarness(t, denyDelete(), 0)
	// A server that picks a version mcpwarden does not know is refused.
	h.fromClient(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2099-01-01","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`)
	next(t, h.toServer, "server")
	h.fromServer(`{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2099-01-01","capabilities":{},"serverInfo":{"name":"s","version":"1"}}}`)
	if r := decodeResponse(t, next(t, h.toClient, "client")); r.Error == nil || !strings.Contains(r.Error.Message, "2099-01-01") {
		t.Fatalf("answer %+v", r)
	}
	// A stateless request names its version in _meta.
	h.fromClient(`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2030-01-01"}}}`)
	if r := decodeResponse(t, next(t, h.toClient, "client")); r.Error == nil {
		t.Fatalf("answer %+v", r)
	}
	h.fromClient(`{"jsonrpc":"2.0","id":3,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`)
	if got := next(t, h.toServer, "server"); !strings.Contains(got, "server/discover") {
		t.Fatalf("server got %s", got)
	}
}

func TestCancelledRequestIsForgotten(t *testing.T) {
	h := newHarness(t, denyDelete(), 0)
	h.fromClient(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}`)
	next(t, h.toServer, "server")
	h.fromClient(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`)
	next(t, h.toServer, "server")
	h.server.Close()
	<-h.done
	quiet(t, h.toClient, "client") // no invented answer to the cancelled call
}

// TestUnrecordableCallIsRefused shows the audit log failing closed: a call
// whose decision cannot be written down does not run.
func TestUnrecordableCallIsRefused(t *testing.T) {
	h := newHarness(t, denyDelete(), 0)
	if err := h.audit.Close(); err != nil {
		t.Fatal(err)
	}
	h.fromClient(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`)
	r := decodeResponse(t, next(t, h.toClient, "client"))
	if string(r.ID) != "1" || r.Error == nil || !strings.Contains(r.Error.Message, "audit log") {
		t.Fatalf("answer %+v", r)
	}
	h.sync("s") // the call never reached the server
}

// TestRequestsInFlightAreBounded shows that a client that never waits for
// answers cannot make mcpwarden hold an unbounded table of requests.
func TestRequestsInFlightAreBounded(t *testing.T) {
	h := newHarness(t, denyDelete(), 0)
	go func() {
		for range h.toServer { // a server that reads and never answers
		}
	}()
	var b strings.Builder
	for i := range maxInFlight + 1 {
		fmt.Fprintf(&b, `{"jsonrpc":"2.0","id":%d,"method":"ping"}`+"\n", i)
	}
	if _, err := io.WriteString(h.client, b.String()); err != nil {
		t.Fatal(err)
	}
	r := decodeResponse(t, next(t, h.toClient, "client"))
	if string(r.ID) != fmt.Sprint(maxInFlight) || r.Error == nil || !strings.Contains(r.Error.Message, "in flight") {
		t.Fatalf("answer %+v", r)
	}
	if n := h.p.fromClient.Len(); n != maxInFlight {
		t.Fatalf("%d requests tracked, want %d", n, maxInFlight)
	}
	go func() { // the orphans' answers when the server goes
		for range h.toClient {
		}
	}()
}

// TestServerRequestsAnsweredWhenClientCannot shows that a server request
// still gets exactly one answer when the client's is invalid or too large,
// and that a server cannot have two requests with one id in flight.
func TestServerRequestsAnsweredWhenClientCannot(t *testing.T) {
	h := newHarness(t, denyDelete(), 4096)
	h.fromServer(`{"jsonrpc":"2.0","id":"q1","method":"sampling/createMessage","params":{}}`,
		`{"jsonrpc":"2.0","id":"q2","method":"roots/list"}`,
		`{"jsonrpc":"2.0","id":"q2","method":"roots/list"}`)
	next(t, h.toClient, "client")
	next(t, h.toClient, "client")
	if r := decodeResponse(t, next(t, h.toServer, "server")); string(r.ID) != `"q2"` || r.Error == nil {
		t.Fatalf("duplicate server request id: server got %+v", r)
	}
	h.fromClient(`{"jsonrpc":"2.0","id":"q1","result":{"a":1,"A":2}}`)
	if r := decodeResponse(t, next(t, h.toServer, "server")); string(r.ID) != `"q1"` || r.Error == nil || !strings.Contains(r.Error.Message, "invalid") {
		t.Fatalf("invalid client response: server got %+v", r)
	}
	h.fromClient(`{"jsonrpc":"2.0","result":{"roots":[{"uri":"file:///` + strings.Repeat("x", 5000) + `"}]},"id":"q2"}`)
	if r := decodeResponse(t, next(t, h.toServer, "server")); string(r.ID) != `"q2"` || r.Error == nil || !strings.Contains(r.Error.Message, "exceeds") {
		t.Fatalf("oversized client response: server got %+v", r)
	}
	h.sync("s")
}

// TestWidenOncePerDirection: the caller's Widen hook runs the first time a
// message over LargeMessage comes from a side, once for that side, and
// never for small messages.
func TestWidenOncePerDirection(t *testing.T) {
	widened := make(chan bool, 10)
	h := newHarnessWith(t, denyDelete(), 8<<20, func(c *Config) { c.Widen = func(fromServer bool) { widened <- fromServer } })
	h.sync("small")
	if len(widened) != 0 {
		t.Fatal("Widen called for small messages")
	}
	text := strings.Repeat("b", LargeMessage)
	for i := range 2 {
		id := fmt.Sprint(80 + i)
		h.fromClient(`{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"echo","arguments":{"x":"` + text + `"}}}`)
		next(t, h.toServer, "server")
		h.fromServer(`{"jsonrpc":"2.0","id":` + id + `,"result":{"content":[{"type":"text","text":"` + text + `"}]}}`)
		if r := decodeResponse(t, next(t, h.toClient, "client")); string(r.ID) != id || r.Error != nil {
			t.Fatalf("answer %+v", r)
		}
	}
	h.sync("after")
	close(widened)
	var got []bool
	for w := range widened {
		got = append(got, w)
	}
	if len(got) != 2 || got[0] == got[1] {
		t.Fatalf("Widen calls (fromServer) = %v, want one for each direction", got)
	}
}
