package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/tailscale/hujson"
)

// TestWrapClaudeDesktopConfig is the adoption path end to end: "mcpwarden
// wrap" rewrites a Claude Desktop configuration that starts the real
// server-memory, and the command and arguments the rewritten entry holds,
// started as the client would start them (its env added), serve a tool
// call through mcpwarden with the memory profile, which the audit log
// records. "mcpwarden unwrap" then gives back the original file.
func TestWrapClaudeDesktopConfig(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	home := t.TempDir()
	state := t.TempDir()
	memDir := filepath.Join(home, ".local", "share", "mcp-server-memory")
	if err := os.MkdirAll(memDir, 0o700); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(memDir, "memory.jsonl")
	config := filepath.Join(home, ".config", "Claude", "claude_desktop_config.json")
	if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
		t.Fatal(err)
	}
	original := `{
  // written by hand
  "mcpServers": {
    "memory": {
      "command": "node",
      "args": [` + string(hujson.String(npmServer(t, "server-memory"))) + `],
      "env": {"MEMORY_FILE_PATH": ` + string(hujson.String(store)) + `},
    },
    "docs": {"type": "http", "url": "https://example.com/mcp"},
  },
  "globalShortcut": "",
}
`
	if err := os.WriteFile(config, []byte(original), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=", "XDG_STATE_HOME=" + state}

	// As root the kernel exempts the server from the process limit, so
	// the run line needs --best-effort there (as rootFlags says).
	wrapArgs := []string{"wrap", "--client", "claude-desktop", "--mcpwarden", wardenBin}
	if len(rootFlags()) > 0 {
		wrapArgs = append(wrapArgs, "--best-effort")
	}
	out := runWarden(t, ctx, env, wrapArgs...)
	for _, want := range []string{
		"memory: wrapped, profile memory",
		"docs: not wrapped: remote server (http), mcpwarden sandboxes stdio servers only",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("wrap output lacks %q:\n%s", want, out)
		}
	}

	entry := readEntry(t, config, "memory")
	if entry.Command != wardenBin || len(entry.Args) < 4 || entry.Args[0] != "run" || entry.Args[2] != "memory" {
		t.Fatalf("wrapped entry %+v, want %s run --profile memory ...", entry, wardenBin)
	}
	argv := append([]string{entry.Command}, entry.Args...)
	for k, v := range entry.Env {
		env = append(env, k+"="+v)
	}
	cmd, _ := newCommand(t, "mcpwarden", argv, env...)
	cs := connectGo(t, ctx, newGoClient(nil), cmd, "")
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "create_entities", Arguments: map[string]any{
		"entities": []any{map[string]any{"name": "wrapped", "entityType": "test", "observations": []any{"started from the wrapped config"}}},
	}})
	if err != nil || res.IsError {
		t.Fatalf("create_entities: %v %s", err, toolText(res))
	}
	if data, err := os.ReadFile(store); err != nil || !bytes.Contains(data, []byte("started from the wrapped config")) {
		t.Errorf("the memory file %s does not hold the entity (%v): %s", store, err, data)
	}
	auditLog := filepath.Join(state, "mcpwarden", "memory.jsonl")
	recs := waitAudit(t, ctx, auditLog, func(recs []auditRecord) bool {
		return len(auditFor(recs, "outcome", "create_entities")) > 0
	})
	if d := auditFor(recs, "decision", "create_entities"); len(d) != 1 || d[0].Decision != "allow" || d[0].Server != "memory" {
		t.Errorf("audit decision records for create_entities: %s", dumpAudit(d))
	}
	_ = cs.Close()

	runWarden(t, ctx, env, "unwrap", "--client", "claude-desktop")
	if got, err := os.ReadFile(config); err != nil || string(got) != original {
		t.Errorf("unwrap did not restore the original (%v):\n%s", err, got)
	}
}

// runWarden runs mcpwarden with env added and returns its stdout, failing
// the test when it fails.
func runWarden(t *testing.T, ctx context.Context, env []string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, wardenBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("mcpwarden %v: %v\n%s%s", args, err, out.String(), errb.String())
	}
	return out.String()
}

// serverEntry is one server of a client configuration.
type serverEntry struct {
	Command string            `json:"command"`
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env"`
}

// readEntry reads the named server of a Claude Desktop configuration,
// which may hold comments and trailing commas.
func readEntry(t *testing.T, path, name string) serverEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	std, err := hujson.Standardize(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var cfg struct {
		MCPServers map[string]serverEntry `json:"mcpServers"`
	}
	if err := json.Unmarshal(std, &cfg, json.RejectUnknownMembers(false)); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, data)
	}
	e, ok := cfg.MCPServers[name]
	if !ok {
		t.Fatalf("%s has no server %q:\n%s", path, name, data)
	}
	return e
}
