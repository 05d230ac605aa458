package e2e_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// listToolNames lists every page of tools.
func listToolNames(t testing.TB, ctx context.Context, cs *mcp.ClientSession) []string {
	t.Helper()
	var names []string
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		names = append(names, tool.Name)
	}
	return names
}

// waitToolNames lists tools until want is among them.
func waitToolNames(t testing.TB, ctx context.Context, cs *mcp.ClientSession, want string) []string {
	t.Helper()
	for {
		names := listToolNames(t, ctx, cs)
		if slices.Contains(names, want) {
			return names
		}
		select {
		case <-ctx.Done():
			t.Fatalf("tool %s never appeared; tools: %q", want, names)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestPolicyEverythingDeniedTools hides get-env and every trigger-* tool
// of server-everything: they are absent from every page of tools/list,
// calling them (in any case) is answered as for a tool that does not
// exist, and each refusal is in the audit log before the outcome.
func TestPolicyEverythingDeniedTools(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	opts := newClientEvents().options()

	directCmd, _ := newCommand(t, "server-everything", everythingArgv(t))
	direct := connectGo(t, ctx, newGoClient(opts), directCmd, "")
	all := waitToolNames(t, ctx, direct, "trigger-sampling-request")

	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	prof := writeProfile(t, "[tools]\ndeny = [\"get-env\", \"trigger-*\"]\n")
	cmd, _ := newCommand(t, "mcpwarden", wardenArgv(prof, auditLog, nil, everythingArgv(t)...))
	cs := connectGo(t, ctx, newGoClient(newClientEvents().options()), cmd, "")
	// get-roots-list is registered with the trigger-* tools, after
	// initialization: once it is listed, they would be too.
	got := waitToolNames(t, ctx, cs, "get-roots-list")

	var denied []string
	for _, name := range all {
		hide := name == "get-env" || strings.HasPrefix(name, "trigger-")
		if hide {
			denied = append(denied, name)
		}
		if listed := slices.Contains(got, name); listed == hide {
			t.Errorf("tool %s: listed through mcpwarden = %v, want %v", name, listed, !hide)
		}
	}
	if len(denied) < 5 {
		t.Fatalf("server-everything offers only %d tools to deny (%q): the test proves little", len(denied), all)
	}
	for _, name := range append(denied, "GET-ENV", "Trigger-Long-Running-Operation") {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{}})
		expectRPCError(t, "tools/call "+name, err, -32602, "Unknown tool: "+name)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "still here"}})
	if err != nil || !strings.Contains(toolText(res), "still here") {
		t.Errorf("echo after the refusals: %v %v", err, res)
	}

	recs := waitAudit(t, ctx, auditLog, func(recs []auditRecord) bool { return len(auditFor(recs, "outcome", "echo")) == 1 })
	for _, name := range denied {
		d, o := auditFor(recs, "decision", name), auditFor(recs, "outcome", name)
		if len(d) != 1 || d[0].Decision != "deny" || !strings.Contains(d[0].Reason, "tools.deny") || d[0].Method != "tools/call" {
			t.Errorf("%s: want one deny decision naming tools.deny, got:\n%s", name, dumpAudit(d))
		}
		if len(o) != 1 || o[0].Outcome != "denied" {
			t.Errorf("%s: want one denied outcome, got:\n%s", name, dumpAudit(o))
		}
		if len(d) == 1 && len(o) == 1 && string(d[0].ID) != string(o[0].ID) {
			t.Errorf("%s: decision and outcome carry different ids %s and %s", name, d[0].ID, o[0].ID)
		}
	}
	if d := auditFor(recs, "decision", "echo"); len(d) != 1 || d[0].Decision != "allow" {
		t.Errorf("echo: want one allow decision, got:\n%s", dumpAudit(d))
	}
	// The decision is written before the call is forwarded, so it comes
	// first in the log.
	decided, ended := -1, -1
	for i, r := range recs {
		switch {
		case r.Target == "echo" && r.Event == "decision":
			decided = i
		case r.Target == "echo" && r.Event == "outcome":
			ended = i
		}
	}
	if decided < 0 || ended < decided {
		t.Errorf("echo: the decision (record %d) must precede the outcome (record %d)", decided, ended)
	}
}

// TestPolicyFilesystemWriteDenied runs server-filesystem on a directory
// with write_file denied: the write is refused and leaves no file, while
// reading still works.
func TestPolicyFilesystemWriteDenied(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from the disk\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	// The sandbox lets the server write the directory: only the policy
	// stands between the client and the write.
	prof := writeProfile(t, "[tools]\ndeny = [\"write_file\"]\n", grant{read: []string{"{arg_dirs}"}, write: []string{"{arg_dirs}"}})
	argv := wardenArgv(prof, auditLog, nil, "node", npmServer(t, "server-filesystem"), dir)
	cmd, _ := newCommand(t, "mcpwarden", argv)
	// No roots capability: the server must keep to the directory it was given.
	cs := connectGo(t, ctx, newGoClient(&mcp.ClientOptions{Capabilities: &mcp.ClientCapabilities{}}), cmd, "")

	names := listToolNames(t, ctx, cs)
	if slices.Contains(names, "write_file") || !slices.Contains(names, "read_text_file") {
		t.Errorf("tools through mcpwarden: %q; want read_text_file and no write_file", names)
	}
	target := filepath.Join(dir, "written.txt")
	_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "write_file",
		Arguments: map[string]any{"path": target, "content": "should never be written"}})
	expectRPCError(t, "write_file", err, -32602, "Unknown tool: write_file")
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("write_file was refused, yet %s exists (stat: %v)", target, err)
	}

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_text_file",
		Arguments: map[string]any{"path": filepath.Join(dir, "hello.txt")}})
	if err != nil {
		t.Fatalf("read_text_file: %v", err)
	}
	if res.IsError || !strings.Contains(toolText(res), "hello from the disk") {
		t.Errorf("read_text_file: %s", toolText(res))
	}
	recs := waitAudit(t, ctx, auditLog, func(recs []auditRecord) bool { return len(auditFor(recs, "outcome", "read_text_file")) == 1 })
	if d := auditFor(recs, "decision", "write_file"); len(d) != 1 || d[0].Decision != "deny" {
		t.Errorf("write_file: want a deny decision, got:\n%s", dumpAudit(d))
	} else if !strings.Contains(string(d[0].Arguments), "written.txt") {
		t.Errorf("write_file: the refused call's arguments are not in the audit log: %s", d[0].Arguments)
	}
	if o := auditFor(recs, "outcome", "read_text_file"); o[0].Outcome != "ok" {
		t.Errorf("read_text_file: want outcome ok, got:\n%s", dumpAudit(o))
	}
}

// TestPolicyMemoryThroughWarden stores and reads a knowledge graph in
// server-memory through mcpwarden; the profile hides the delete tools.
func TestPolicyMemoryThroughWarden(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	store := filepath.Join(t.TempDir(), "memory.jsonl")
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	prof := writeProfile(t, "[tools]\ndeny = [\"delete_*\"]\n", grant{write: []string{filepath.Dir(store)}, env: []string{"MEMORY_FILE_PATH"}})
	argv := wardenArgv(prof, auditLog, nil, "node", npmServer(t, "server-memory"))
	cmd, _ := newCommand(t, "mcpwarden", argv, "MEMORY_FILE_PATH="+store)
	cs := connectGo(t, ctx, newGoClient(nil), cmd, "")

	names := listToolNames(t, ctx, cs)
	for _, name := range names {
		if strings.HasPrefix(name, "delete_") {
			t.Errorf("hidden tool %s is listed", name)
		}
	}
	if !slices.Contains(names, "create_entities") || !slices.Contains(names, "read_graph") {
		t.Fatalf("tools: %q", names)
	}
	entity := map[string]any{"name": "mcpwarden", "entityType": "project",
		"observations": []string{"relays JSON-RPC between an MCP client and server"}}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "create_entities",
		Arguments: map[string]any{"entities": []any{entity}}})
	if err != nil || res.IsError {
		t.Fatalf("create_entities: %v %s", err, toolText(res))
	}
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_entities",
		Arguments: map[string]any{"entityNames": []string{"mcpwarden"}}})
	expectRPCError(t, "delete_entities", err, -32602, "Unknown tool: delete_entities")

	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_graph", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("read_graph: %v", err)
	}
	if text := toolText(res); !strings.Contains(text, "relays JSON-RPC") {
		t.Errorf("read_graph lacks the entity: %s", text)
	}
	data, err := os.ReadFile(store)
	if err != nil || !strings.Contains(string(data), `"mcpwarden"`) {
		t.Errorf("the memory file lacks the entity (%v): %s", err, data)
	}
}

// TestRecorderGoClient drives the Go SDK server in e2e/recorder through
// mcpwarden under every protocol version the SDKs share, with one item a
// page so that every page of every list is filtered. With 2026-07-28 the
// session starts with server/discover, which the recorder answers.
func TestRecorderGoClient(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			record := filepath.Join(t.TempDir(), "record.jsonl")
			auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
			argv := wardenArgv(writeProfile(t, smuggleProfile, recordGrant(record)), auditLog, nil, recorderBin, "-page-size", "1")
			cmd, _ := newCommand(t, "mcpwarden", argv, "RECORD_FILE="+record)
			cs := connectGo(t, ctx, newGoClient(nil), cmd, version)
			if got := cs.InitializeResult().ProtocolVersion; got != version {
				t.Errorf("negotiated %q, want %q", got, version)
			}
			checkRecorderSession(t, ctx, cs)
			data, _ := os.ReadFile(record)
			if version == "2026-07-28" && !strings.Contains(string(data), `"server/discover"`) {
				t.Errorf("the session did not start with server/discover; the recorder received:\n%s", data)
			}
			checkRecord(t, record, "")
		})
	}
}

func checkRecorderSession(t *testing.T, ctx context.Context, cs *mcp.ClientSession) {
	t.Helper()
	tools := listToolNames(t, ctx, cs)
	slices.Sort(tools)
	if want := []string{"safe_echo", "sleep"}; !slices.Equal(tools, want) {
		t.Errorf("tools through mcpwarden: %q, want %q", tools, want)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "safe_echo", Arguments: map[string]any{"text": "hi"}})
	if err != nil || toolText(res) != "hi\n" {
		t.Errorf("safe_echo: %v %v", err, res)
	}
	for _, name := range []string{"delete_everything", "Delete_Everything", "erase_disks"} {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: map[string]any{}})
		expectRPCError(t, "tools/call "+name, err, -32602, "Unknown tool: "+name)
	}
	var uris []string
	for r, err := range cs.Resources(ctx, nil) {
		if err != nil {
			t.Fatalf("resources/list: %v", err)
		}
		uris = append(uris, r.URI)
	}
	if !slices.Equal(uris, []string{"rec://public/info"}) {
		t.Errorf("resources through mcpwarden: %q", uris)
	}
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "rec://public/info"}); err != nil {
		t.Errorf("reading rec://public/info: %v", err)
	}
	_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "rec://secret/key"})
	expectRPCError(t, "resources/read rec://secret/key", err, -32002, "Resource not found")
	var prompts []string
	for p, err := range cs.Prompts(ctx, nil) {
		if err != nil {
			t.Fatalf("prompts/list: %v", err)
		}
		prompts = append(prompts, p.Name)
	}
	if !slices.Equal(prompts, []string{"greeting"}) {
		t.Errorf("prompts through mcpwarden: %q", prompts)
	}
	_, err = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "secret_plan"})
	expectRPCError(t, "prompts/get secret_plan", err, -32602, "Unknown prompt: secret_plan")
}
