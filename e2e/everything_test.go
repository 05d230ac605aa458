//lint:file-ignore SA1019 sampling, roots and logging are deprecated from protocol version 2026-07-28 on, and tested for the versions that have them

package e2e_test

import (
	"context"
	"encoding/base64"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// everythingVersions are the protocol versions the Go SDK client can pin.
// With 2026-07-28 the client first sends server/discover, which
// server-everything does not know, and then falls back to initialize.
var everythingVersions = []string{"2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"}

// everythingProfile hides a tool the server always has, a tool it only
// registers after initialization (announced by list_changed), a static
// resource, the session resources named secret*, and a prompt.
const everythingProfile = `
[tools]
deny = ["get-env", "trigger-sampling-*"]

[resources]
deny = ["demo://resource/static/document/architecture.md", "demo://resource/session/secret*"]

[prompts]
deny = ["args-prompt"]
`

// allowAllProfile hides nothing.
const allowAllProfile = `
[tools]
allow = ["*"]
`

// hidden is what a profile hides from server-everything.
type hidden struct {
	tools, resources, prompts []string
}

var everythingHidden = hidden{
	tools:     []string{"get-env", "trigger-sampling-request"},
	resources: []string{"demo://resource/static/document/architecture.md", "demo://resource/session/secret.gz"},
	prompts:   []string{"args-prompt"},
}

// gzipData is what gzip-file-as-resource compresses: a data URI, so that
// the test needs no network.
var gzipData = "data:text/plain;base64," + base64.StdEncoding.EncodeToString([]byte("compressed by server-everything\n"))

// everythingToolArgs are valid arguments for the tools that need some;
// others get arguments derived from their input schema.
var everythingToolArgs = map[string]map[string]any{
	"echo":                           {"message": "hello through mcpwarden", "api_key": "sk-e2e-should-be-redacted"},
	"get-annotated-message":          {"messageType": "success", "includeImage": true},
	"get-resource-links":             {"count": 3},
	"get-resource-reference":         {"resourceType": "Text", "resourceId": 2},
	"get-structured-content":         {"location": "Chicago"},
	"get-sum":                        {"a": 2, "b": 40},
	"trigger-long-running-operation": {"duration": 1, "steps": 3},
	"trigger-sampling-request":       {"prompt": "say hello", "maxTokens": 20},
	"trigger-url-elicitation":        {"url": "https://example.com/consent", "elicitationId": "e2e-url-elicitation"},
	"simulate-research-query":        {"topic": "stdio proxies"},
}

// everythingToolWants are texts a tool's result must contain, through
// mcpwarden as directly: they show that the client's handlers were
// reached through the proxy and answered.
var everythingToolWants = map[string]string{
	"echo":                        "hello through mcpwarden",
	"get-sum":                     "42",
	"get-roots-list":              "e2e-root",
	"trigger-sampling-request":    "sampled by the Go client",
	"trigger-elicitation-request": "Ada Lovelace",
	"trigger-url-elicitation":     "e2e-url-elicitation",
}

// TestEverythingGoClient runs one flow over every feature of
// server-everything, once directly and once through mcpwarden, under
// each protocol version, and requires the same observations except for
// what the profile hides. The allow-all run shows that every tool works
// through mcpwarden when nothing is hidden.
func TestEverythingGoClient(t *testing.T) {
	t.Parallel()
	type run struct {
		name, version, profile string
		hide                   hidden
	}
	var runs []run
	for _, v := range everythingVersions {
		runs = append(runs, run{v, v, everythingProfile, everythingHidden})
	}
	runs = append(runs, run{"allow-all", "", allowAllProfile, hidden{}})
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			var direct, proxied *observations
			t.Run("sessions", func(t *testing.T) {
				t.Run("direct", func(t *testing.T) {
					t.Parallel()
					direct = runEverything(t, r.version, "", hidden{})
				})
				t.Run("proxied", func(t *testing.T) {
					t.Parallel()
					proxied = runEverything(t, r.version, r.profile, r.hide)
				})
			})
			if direct == nil || proxied == nil {
				t.Fatal("a session failed; nothing to compare")
			}
			compareObservations(t, direct, proxied)
			t.Logf("%d observations compared, %d hidden through mcpwarden", len(direct.order), len(proxied.hidden))
		})
	}
}

// observations are what a flow saw, keyed by step, in order. Keys in
// hidden are items the profile hid, which the direct flow saw work.
type observations struct {
	order  []string
	vals   map[string]string
	hidden map[string]bool
}

func newObservations() *observations {
	return &observations{vals: map[string]string{}, hidden: map[string]bool{}}
}

func (o *observations) add(t testing.TB, key string, v any) {
	t.Helper()
	if _, dup := o.vals[key]; dup {
		t.Fatalf("observation %q made twice", key)
	}
	o.order = append(o.order, key)
	o.vals[key] = normalize(t, v)
}

func (o *observations) hide(key string) { o.hidden[key] = true }

func compareObservations(t *testing.T, direct, proxied *observations) {
	t.Helper()
	for _, key := range direct.order {
		want := direct.vals[key]
		got, ok := proxied.vals[key]
		switch {
		case proxied.hidden[key]:
			if ok {
				t.Errorf("%s: hidden through mcpwarden, yet observed: %s", key, got)
			}
		case !ok:
			t.Errorf("%s: observed directly, missing through mcpwarden; direct: %s", key, want)
		case got != want:
			t.Errorf("%s differs:\n direct:  %s\n proxied: %s", key, want, got)
		}
	}
	for key := range proxied.hidden {
		if _, ok := direct.vals[key]; !ok {
			t.Errorf("%s: hidden through mcpwarden, but not seen directly either: the check proves nothing", key)
		}
	}
	for _, key := range proxied.order {
		if _, ok := direct.vals[key]; !ok {
			t.Errorf("%s: observed through mcpwarden only: %s", key, proxied.vals[key])
		}
	}
}

var (
	timeRE = regexp.MustCompile(`\b\d{1,2}:\d{2}:\d{2}(\s?[AP]M)?\b`)
	uuidRE = regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	hexRE  = regexp.MustCompile(`\b[0-9a-f]{32}\b`) // task ids
)

// normalize renders v as canonical JSON with what changes from run to
// run (clock times, random UUIDs and task ids, blobs that embed them)
// made constant.
func normalize(t testing.TB, v any) string {
	t.Helper()
	b, err := stdjson.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	var x any
	if err := stdjson.Unmarshal(b, &x); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	out, err := stdjson.Marshal(scrub(x))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func scrub(x any) any {
	switch v := x.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "blob" {
				if raw, err := base64.StdEncoding.DecodeString(s); err == nil && utf8.Valid(raw) {
					v[k] = "decoded:" + scrubText(string(raw))
					continue
				}
			}
			v[k] = scrub(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = scrub(e)
		}
		return v
	case string:
		return scrubText(v)
	}
	return x
}

func scrubText(s string) string {
	s = timeRE.ReplaceAllString(s, "<time>")
	s = uuidRE.ReplaceAllString(s, "<uuid>")
	return hexRE.ReplaceAllString(s, "<id>")
}

// clientEvents records what the server sent the client on its own.
type clientEvents struct {
	mu               sync.Mutex
	progress         []string // "token progress/total"
	logs             []string // "level: data"
	updated          []string // resource URIs
	toolsChanged     int
	resourcesChanged int
	elicitModes      []string
	sampled          int
	poke             chan struct{}
}

func newClientEvents() *clientEvents { return &clientEvents{poke: make(chan struct{}, 1)} }

// record runs f under the lock and wakes waiters.
func (e *clientEvents) record(f func()) {
	e.mu.Lock()
	f()
	e.mu.Unlock()
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// waitFor waits until pred, run under the lock, holds.
func (e *clientEvents) waitFor(t testing.TB, ctx context.Context, what string, pred func() bool) {
	t.Helper()
	for {
		e.mu.Lock()
		ok := pred()
		e.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-e.poke:
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

// options returns client options whose handlers record into e and answer
// sampling and elicitation as a user would.
func (e *clientEvents) options() *mcp.ClientOptions {
	return &mcp.ClientOptions{
		Capabilities: &mcp.ClientCapabilities{
			RootsV2: &mcp.RootCapabilities{ListChanged: true},
			Elicitation: &mcp.ElicitationCapabilities{
				Form: &mcp.FormElicitationCapabilities{},
				URL:  &mcp.URLElicitationCapabilities{},
			},
		},
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			e.record(func() { e.sampled++ })
			return &mcp.CreateMessageResult{
				Role: "assistant", Model: "e2e-model", StopReason: "endTurn",
				Content: &mcp.TextContent{Text: "sampled by the Go client"},
			}, nil
		},
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			e.record(func() { e.elicitModes = append(e.elicitModes, req.Params.Mode) })
			if req.Params.Mode == "url" {
				return &mcp.ElicitResult{Action: "accept"}, nil
			}
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Ada Lovelace", "check": true}}, nil
		},
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			p := req.Params
			e.record(func() {
				e.progress = append(e.progress, fmt.Sprintf("%v %v/%v", p.ProgressToken, p.Progress, p.Total))
			})
		},
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) {
			e.record(func() { e.logs = append(e.logs, fmt.Sprintf("%s: %v", req.Params.Level, req.Params.Data)) })
		},
		ResourceUpdatedHandler: func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			e.record(func() { e.updated = append(e.updated, req.Params.URI) })
		},
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
			e.record(func() { e.toolsChanged++ })
		},
		ResourceListChangedHandler: func(context.Context, *mcp.ResourceListChangedRequest) {
			e.record(func() { e.resourcesChanged++ })
		},
	}
}

// everythingFlow is one session's walk through server-everything.
type everythingFlow struct {
	t       *testing.T
	ctx     context.Context
	cs      *mcp.ClientSession
	ev      *clientEvents
	obs     *observations
	hide    hidden
	proxied bool
}

// runEverything runs the flow directly (profile "") or through mcpwarden.
func runEverything(t *testing.T, version, profile string, hide hidden) *observations {
	ctx := testContext(t)
	ev := newClientEvents()
	client := newGoClient(ev.options())
	client.AddRoots(&mcp.Root{URI: "file:///tmp/e2e-root", Name: "e2e-root"})
	argv := everythingArgv(t)
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	name := "server-everything"
	if profile != "" {
		argv = wardenArgv(writeProfile(t, profile), auditLog, nil, argv...)
		name = "mcpwarden"
	}
	cmd, _ := newCommand(t, name, argv, canary)
	f := &everythingFlow{t: t, ctx: ctx, cs: connectGo(t, ctx, client, cmd, version), ev: ev,
		obs: newObservations(), hide: hide, proxied: profile != ""}
	f.initialize(version)
	f.tools()
	f.progress()
	f.logging()
	f.resources()
	f.prompts()
	f.completion()
	f.resourceListChanged()
	if f.proxied {
		checkEverythingAudit(t, ctx, auditLog, hide)
	}
	return f.obs
}

func (f *everythingFlow) initialize(version string) {
	res := f.cs.InitializeResult()
	want := version
	if version == "" || version == "2026-07-28" {
		want = "2025-11-25" // the newest version server-everything speaks
	}
	if res.ProtocolVersion != want {
		f.t.Errorf("negotiated protocol version %q, want %q", res.ProtocolVersion, want)
	}
	f.obs.add(f.t, "initialize", res)
}

// listTools waits for the tools/list_changed that follows initialization
// (server-everything then registers the tools that depend on the client's
// capabilities) and lists all pages until those tools appear.
func (f *everythingFlow) listTools() []*mcp.Tool {
	f.ev.waitFor(f.t, f.ctx, "notifications/tools/list_changed", func() bool { return f.ev.toolsChanged > 0 })
	for {
		var tools []*mcp.Tool
		for tool, err := range f.cs.Tools(f.ctx, nil) {
			if err != nil {
				f.t.Fatalf("listing tools: %v", err)
			}
			tools = append(tools, tool)
		}
		if slices.ContainsFunc(tools, func(t *mcp.Tool) bool { return t.Name == "get-roots-list" }) {
			return tools
		}
		select {
		case <-f.ctx.Done():
			f.t.Fatalf("the tools registered after initialization never appeared: %v", f.ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (f *everythingFlow) tools() {
	tools := f.listTools()
	sort.Slice(tools, func(i, j int) bool { return tools[i].Name < tools[j].Name })
	for _, tool := range tools {
		if slices.Contains(f.hide.tools, tool.Name) {
			f.t.Errorf("tools/list through mcpwarden lists the hidden tool %q", tool.Name)
		}
		f.obs.add(f.t, "tool definition "+tool.Name, tool)
	}
	for _, tool := range tools {
		switch tool.Name {
		case "trigger-long-running-operation", "gzip-file-as-resource",
			"toggle-simulated-logging", "toggle-subscriber-updates":
			continue // called by the steps about progress, logging and list changes
		case "get-env":
			f.environment()
			continue
		}
		f.callTool(tool.Name, toolArgs(f.t, tool))
	}
	for _, name := range f.hide.tools {
		f.obs.hide("tool definition " + name)
		f.obs.hide("tool " + name)
		f.expectUnknownTool(name)
	}
}

// canary is set in the environment of every server-everything the tests
// start; through mcpwarden's sandbox, it must not reach the server.
const canary = "E2E_CANARY=only-outside-the-sandbox"

// environment calls get-env, which shows the server's environment: the
// whole of it directly, only what the profile lets through (PATH, HOME,
// LANG) in mcpwarden's sandbox. The results differ by design, so each is
// checked on its own and the observation only records that it was.
func (f *everythingFlow) environment() {
	res, err := f.cs.CallTool(f.ctx, &mcp.CallToolParams{Name: "get-env", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		f.t.Fatalf("get-env: %v", err)
	}
	var env map[string]string
	if err := stdjson.Unmarshal([]byte(toolText(res)), &env); err != nil {
		f.t.Fatalf("get-env: %v: %s", err, toolText(res))
	}
	name, value, _ := strings.Cut(canary, "=")
	if f.proxied {
		for k := range env {
			if k != "PATH" && k != "HOME" && k != "LANG" {
				f.t.Errorf("the sandboxed server sees %s, which the profile does not pass", k)
			}
		}
	} else if env[name] != value {
		f.t.Errorf("the server run directly lacks %s: the sandbox check proves nothing", name)
	}
	f.obs.add(f.t, "tool get-env", "environment checked")
}

// toolArgs returns the table's arguments for a tool, or values for the
// required properties of its input schema.
func toolArgs(t testing.TB, tool *mcp.Tool) map[string]any {
	if args, ok := everythingToolArgs[tool.Name]; ok {
		return args
	}
	b, err := stdjson.Marshal(tool.InputSchema)
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]struct {
			Type string `json:"type"`
			Enum []any  `json:"enum"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := stdjson.Unmarshal(b, &schema); err != nil {
		t.Fatalf("input schema of %s: %v", tool.Name, err)
	}
	args := map[string]any{}
	for _, name := range schema.Required {
		p := schema.Properties[name]
		switch {
		case len(p.Enum) > 0:
			args[name] = p.Enum[0]
		case p.Type == "number" || p.Type == "integer":
			args[name] = 1
		case p.Type == "boolean":
			args[name] = false
		default:
			args[name] = "e2e"
		}
	}
	return args
}

// callTool calls a tool and records its result. A tool result with
// isError fails the test unless the server itself reports it directly
// too; simulate-research-query needs task augmentation, which the Go SDK
// lacks, and answers with isError both ways.
func (f *everythingFlow) callTool(name string, args map[string]any) {
	f.t.Helper()
	f.callToolAs("tool "+name, name, args)
}

// callToolAs is callTool recording under key.
func (f *everythingFlow) callToolAs(key, name string, args map[string]any) {
	f.t.Helper()
	res, err := f.cs.CallTool(f.ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		f.t.Errorf("tool %s: %v", name, err)
		f.obs.add(f.t, key, "error: "+err.Error())
		return
	}
	f.obs.add(f.t, key, res)
	text := toolText(res)
	if res.IsError && name != "simulate-research-query" {
		f.t.Errorf("tool %s returned an error result: %s", name, text)
	}
	if want := everythingToolWants[name]; want != "" && !strings.Contains(text, want) {
		f.t.Errorf("tool %s: result lacks %q: %s", name, want, text)
	}
}

// expectUnknownTool calls a hidden tool, which must look absent.
func (f *everythingFlow) expectUnknownTool(name string) {
	f.t.Helper()
	_, err := f.cs.CallTool(f.ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{}})
	expectRPCError(f.t, "tools/call "+name, err, -32602, "Unknown tool: "+name)
}

// expectRPCError requires err to be a JSON-RPC error with the code and
// a message containing msg.
func expectRPCError(t testing.TB, what string, err error, code int64, msg string) {
	t.Helper()
	var werr *jsonrpc.Error
	switch {
	case err == nil:
		t.Errorf("%s succeeded, want JSON-RPC error %d %q", what, code, msg)
	case !errors.As(err, &werr):
		t.Errorf("%s: %v, want JSON-RPC error %d %q", what, err, code, msg)
	case werr.Code != code || !strings.Contains(werr.Message, msg):
		t.Errorf("%s: error %d %q, want %d %q", what, werr.Code, werr.Message, code, msg)
	}
}

// progress calls the long-running tool with a progress token; every
// progress notification must arrive, bound to the token.
func (f *everythingFlow) progress() {
	params := &mcp.CallToolParams{
		Meta: mcp.Meta{"progressToken": "e2e-progress"},
		Name: "trigger-long-running-operation", Arguments: everythingToolArgs["trigger-long-running-operation"],
	}
	res, err := f.cs.CallTool(f.ctx, params)
	if err != nil {
		f.t.Fatalf("trigger-long-running-operation: %v", err)
	}
	f.obs.add(f.t, "tool trigger-long-running-operation", res)
	f.ev.waitFor(f.t, f.ctx, "3 progress notifications", func() bool { return len(f.ev.progress) >= 3 })
	f.ev.mu.Lock()
	got := slices.Clone(f.ev.progress)
	f.ev.mu.Unlock()
	want := []string{"e2e-progress 1/3", "e2e-progress 2/3", "e2e-progress 3/3"}
	if !slices.Equal(got, want) {
		f.t.Errorf("progress notifications: got %q, want %q", got, want)
	}
	f.obs.add(f.t, "progress", got)
}

// logging sets the level, subscribes to a resource (which the server
// acknowledges with a log message), has the server send updates for it,
// and turns on the server's simulated logging.
func (f *everythingFlow) logging() {
	if err := f.cs.SetLoggingLevel(f.ctx, &mcp.SetLoggingLevelParams{Level: "debug"}); err != nil {
		f.t.Fatalf("logging/setLevel: %v", err)
	}
	uri := "demo://resource/static/document/features.md"
	if err := f.cs.Subscribe(f.ctx, &mcp.SubscribeParams{URI: uri}); err != nil {
		f.t.Fatalf("resources/subscribe: %v", err)
	}
	ack := "info: Received Subscribe Resource request for URI: " + uri
	f.ev.waitFor(f.t, f.ctx, "the log message acknowledging the subscription", func() bool {
		return slices.ContainsFunc(f.ev.logs, func(l string) bool { return strings.HasPrefix(l, ack) })
	})
	f.obs.add(f.t, "log of subscribe", ack)

	f.obs.add(f.t, "toggle-subscriber-updates on", f.callNamed("toggle-subscriber-updates"))
	f.ev.waitFor(f.t, f.ctx, "notifications/resources/updated", func() bool { return slices.Contains(f.ev.updated, uri) })
	f.obs.add(f.t, "toggle-subscriber-updates off", f.callNamed("toggle-subscriber-updates"))
	if err := f.cs.Unsubscribe(f.ctx, &mcp.UnsubscribeParams{URI: uri}); err != nil {
		f.t.Errorf("resources/unsubscribe: %v", err)
	}

	f.obs.add(f.t, "toggle-simulated-logging on", f.callNamed("toggle-simulated-logging"))
	f.ev.waitFor(f.t, f.ctx, "a simulated log message", func() bool {
		return slices.ContainsFunc(f.ev.logs, func(l string) bool { return strings.Contains(l, "evel") && !strings.Contains(l, "Subscribe") })
	})
	f.obs.add(f.t, "toggle-simulated-logging off", f.callNamed("toggle-simulated-logging"))

	for _, hiddenURI := range f.hide.resources {
		if strings.Contains(hiddenURI, "/static/") {
			err := f.cs.Subscribe(f.ctx, &mcp.SubscribeParams{URI: hiddenURI})
			expectRPCError(f.t, "resources/subscribe "+hiddenURI, err, -32002, "Resource not found")
		}
	}
}

// callNamed calls a tool without arguments and returns its text.
func (f *everythingFlow) callNamed(name string) string {
	res, err := f.cs.CallTool(f.ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{}})
	if err != nil {
		f.t.Fatalf("tool %s: %v", name, err)
	}
	if res.IsError {
		f.t.Errorf("tool %s returned an error result: %s", name, toolText(res))
	}
	return toolText(res)
}

// resources lists and reads every resource and template instance.
func (f *everythingFlow) resources() {
	for _, r := range f.listResources() {
		if strings.Contains(r.URI, "/session/") {
			continue // the list-change step looks at session resources
		}
		f.obs.add(f.t, "resource "+r.URI, r)
		f.readResource(r.URI)
	}
	for rt, err := range f.cs.ResourceTemplates(f.ctx, nil) {
		if err != nil {
			f.t.Fatalf("resources/templates/list: %v", err)
		}
		f.obs.add(f.t, "resource template "+rt.URITemplate, rt)
	}
	f.readResource("demo://resource/dynamic/text/1")
	f.readResource("demo://resource/dynamic/blob/2")
	for _, uri := range f.hide.resources {
		if strings.Contains(uri, "/static/") {
			f.obs.hide("resource " + uri)
			f.obs.hide("read " + uri)
			_, err := f.cs.ReadResource(f.ctx, &mcp.ReadResourceParams{URI: uri})
			expectRPCError(f.t, "resources/read "+uri, err, -32002, "Resource not found")
		}
	}
}

func (f *everythingFlow) listResources() []*mcp.Resource {
	var out []*mcp.Resource
	for r, err := range f.cs.Resources(f.ctx, nil) {
		if err != nil {
			f.t.Fatalf("resources/list: %v", err)
		}
		if slices.Contains(f.hide.resources, r.URI) {
			f.t.Errorf("resources/list through mcpwarden lists the hidden resource %q", r.URI)
		}
		out = append(out, r)
	}
	return out
}

func (f *everythingFlow) readResource(uri string) {
	res, err := f.cs.ReadResource(f.ctx, &mcp.ReadResourceParams{URI: uri})
	if err != nil {
		f.t.Errorf("resources/read %s: %v", uri, err)
		f.obs.add(f.t, "read "+uri, "error: "+err.Error())
		return
	}
	if len(res.Contents) == 0 {
		f.t.Errorf("resources/read %s: no contents", uri)
	}
	f.obs.add(f.t, "read "+uri, res)
}

// everythingPromptArgs are valid arguments for the prompts that take some.
var everythingPromptArgs = map[string]map[string]string{
	"args-prompt":        {"city": "Paris", "state": "Texas"},
	"completable-prompt": {"department": "Engineering", "name": "Alice"},
	"resource-prompt":    {"resourceType": "Text", "resourceId": "1"},
}

func (f *everythingFlow) prompts() {
	for p, err := range f.cs.Prompts(f.ctx, nil) {
		if err != nil {
			f.t.Fatalf("prompts/list: %v", err)
		}
		if slices.Contains(f.hide.prompts, p.Name) {
			f.t.Errorf("prompts/list through mcpwarden lists the hidden prompt %q", p.Name)
		}
		f.obs.add(f.t, "prompt "+p.Name, p)
		res, err := f.cs.GetPrompt(f.ctx, &mcp.GetPromptParams{Name: p.Name, Arguments: everythingPromptArgs[p.Name]})
		if err != nil {
			f.t.Errorf("prompts/get %s: %v", p.Name, err)
			continue
		}
		f.obs.add(f.t, "get prompt "+p.Name, res)
	}
	for _, name := range f.hide.prompts {
		f.obs.hide("prompt " + name)
		f.obs.hide("get prompt " + name)
		_, err := f.cs.GetPrompt(f.ctx, &mcp.GetPromptParams{Name: name, Arguments: everythingPromptArgs[name]})
		expectRPCError(f.t, "prompts/get "+name, err, -32602, "Unknown prompt: "+name)
	}
}

func (f *everythingFlow) completion() {
	cases := []struct {
		key    string
		params *mcp.CompleteParams
		want   string
	}{
		{"complete department", &mcp.CompleteParams{
			Ref:      &mcp.CompleteReference{Type: "ref/prompt", Name: "completable-prompt"},
			Argument: mcp.CompleteParamsArgument{Name: "department", Value: "E"},
		}, "Engineering"},
		{"complete name in context", &mcp.CompleteParams{
			Ref:      &mcp.CompleteReference{Type: "ref/prompt", Name: "completable-prompt"},
			Argument: mcp.CompleteParamsArgument{Name: "name", Value: "A"},
			Context:  &mcp.CompleteContext{Arguments: map[string]string{"department": "Engineering"}},
		}, "Alice"},
		{"complete resource template", &mcp.CompleteParams{
			Ref:      &mcp.CompleteReference{Type: "ref/resource", URI: "demo://resource/dynamic/text/{resourceId}"},
			Argument: mcp.CompleteParamsArgument{Name: "resourceId", Value: "3"},
		}, "3"},
	}
	for _, c := range cases {
		res, err := f.cs.Complete(f.ctx, c.params)
		if err != nil {
			f.t.Errorf("%s: %v", c.key, err)
			continue
		}
		if !slices.Contains(res.Completion.Values, c.want) {
			f.t.Errorf("%s: values %q lack %q", c.key, res.Completion.Values, c.want)
		}
		f.obs.add(f.t, c.key, res)
	}
	// Completing an argument of a hidden prompt would reveal it.
	for _, name := range f.hide.prompts {
		_, err := f.cs.Complete(f.ctx, &mcp.CompleteParams{
			Ref:      &mcp.CompleteReference{Type: "ref/prompt", Name: name},
			Argument: mcp.CompleteParamsArgument{Name: "city", Value: "P"},
		})
		expectRPCError(f.t, "completion/complete for "+name, err, -32602, "")
	}
}

// resourceListChanged makes the server register session resources, which
// it announces with notifications/resources/list_changed; the re-list
// through mcpwarden must still hide the secret one.
func (f *everythingFlow) resourceListChanged() {
	for _, name := range []string{"public.gz", "secret.gz"} {
		uri := "demo://resource/session/" + name
		f.ev.mu.Lock()
		before := f.ev.resourcesChanged
		f.ev.mu.Unlock()
		f.callToolAs("tool gzip-file-as-resource "+name, "gzip-file-as-resource",
			map[string]any{"name": name, "data": gzipData, "outputType": "resourceLink"})
		f.ev.waitFor(f.t, f.ctx, "notifications/resources/list_changed", func() bool { return f.ev.resourcesChanged > before })

		listed := slices.ContainsFunc(f.listResources(), func(r *mcp.Resource) bool { return r.URI == uri })
		if slices.Contains(f.hide.resources, uri) {
			f.obs.hide("listed " + uri)
			f.obs.hide("read " + uri)
			_, err := f.cs.ReadResource(f.ctx, &mcp.ReadResourceParams{URI: uri})
			expectRPCError(f.t, "resources/read "+uri, err, -32002, "Resource not found")
			continue
		}
		if !listed {
			f.t.Errorf("resources/list after list_changed lacks %s", uri)
		}
		f.obs.add(f.t, "listed "+uri, listed)
		f.readResource(uri)
	}
}

// checkEverythingAudit checks the audit records of a proxied flow: an
// allowed call has its decision and outcome, hidden items their denials,
// and secret-looking arguments are redacted.
func checkEverythingAudit(t *testing.T, ctx context.Context, path string, hide hidden) {
	t.Helper()
	recs := waitAudit(t, ctx, path, func(recs []auditRecord) bool {
		return len(auditFor(recs, "outcome", "echo")) > 0
	})
	dec := auditFor(recs, "decision", "echo")
	out := auditFor(recs, "outcome", "echo")
	if len(dec) != 1 || dec[0].Decision != "allow" || dec[0].Method != "tools/call" {
		t.Errorf("echo: want one allow decision, got:\n%s", dumpAudit(dec))
	} else {
		args := string(dec[0].Arguments)
		if strings.Contains(args, "sk-e2e-should-be-redacted") || !strings.Contains(args, "[REDACTED]") {
			t.Errorf("echo: arguments not redacted in the audit log: %s", args)
		}
		if !strings.Contains(args, "hello through mcpwarden") {
			t.Errorf("echo: arguments missing from the audit log: %s", args)
		}
	}
	if len(out) != 1 || out[0].Outcome != "ok" || out[0].DurationMS == nil {
		t.Errorf("echo: want one ok outcome with a duration, got:\n%s", dumpAudit(out))
	}
	if got := auditFor(recs, "outcome", "simulate-research-query"); len(got) != 1 || got[0].Outcome != "isError" {
		t.Errorf("simulate-research-query: want an isError outcome, got:\n%s", dumpAudit(got))
	}
	for _, name := range append(append([]string{}, hide.tools...), hide.prompts...) {
		if d := auditFor(recs, "decision", name); len(d) == 0 || d[0].Decision != "deny" {
			t.Errorf("%s: want a deny decision, got:\n%s", name, dumpAudit(d))
		}
		if o := auditFor(recs, "outcome", name); len(o) == 0 || o[0].Outcome != "denied" {
			t.Errorf("%s: want a denied outcome, got:\n%s", name, dumpAudit(o))
		}
	}
	for _, r := range recs {
		if r.Session == "" || r.Server != "e2e" || r.Time == "" {
			t.Errorf("audit record lacks server, session or time: %+v", r)
		}
	}
}

// TestEverythingServerDiscover sends server/discover, with which a
// 2026-07-28 client opens a session, before initialize: server-everything
// does not know the method, and a client then falls back to initialize.
// mcpwarden must pass the question and the answer through unchanged and
// then serve the session the fallback negotiates.
func TestEverythingServerDiscover(t *testing.T) {
	t.Parallel()
	discover := map[string]any{"_meta": map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "mcpwarden-e2e-raw", "version": "1.0.0"},
		"io.modelcontextprotocol/clientCapabilities": map[string]any{},
	}}
	var answers [2]string
	for i, viaWarden := range []bool{false, true} {
		ctx := testContext(t)
		argv := everythingArgv(t)
		if viaWarden {
			argv = wardenArgv(writeProfile(t, everythingProfile), filepath.Join(t.TempDir(), "audit.jsonl"), nil, argv...)
		}
		c := startRaw(t, argv)
		resp := c.call(ctx, "discover", "server/discover", discover, nil, nil)
		if resp.Error == nil {
			t.Fatalf("server/discover succeeded (%s): server-everything has learnt it; revise this test", resp.Result)
		}
		answers[i] = fmt.Sprintf("%d %s", resp.Error.Code, resp.Error.Message)
		c.initialize(ctx, "2025-11-25", nil)
		list := c.call(ctx, "list", "tools/list", map[string]any{}, nil, nil)
		if list.Error != nil || !strings.Contains(string(list.Result), `"echo"`) {
			t.Errorf("tools/list after the fallback: %+v %s", list.Error, list.Result)
		}
		if viaWarden && strings.Contains(string(list.Result), `"get-env"`) {
			t.Errorf("tools/list after the fallback lists the hidden get-env")
		}
	}
	if answers[0] != answers[1] || !strings.HasPrefix(answers[0], "-32601 ") {
		t.Errorf("server/discover: directly %q, through mcpwarden %q; want the same method-not-found answer", answers[0], answers[1])
	}
}
