package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestNpxFromCacheInsideSandbox runs the command line users put in their
// client configuration, `npx -y @modelcontextprotocol/server-filesystem
// DIR`, through mcpwarden without --profile: the built-in filesystem
// profile is selected, the sandbox has no network, and npx runs the server
// from its cache, which a first run outside mcpwarden filled (the one step
// here that needs the npm registry).
func TestNpxFromCacheInsideSandbox(t *testing.T) {
	const pkg = "@modelcontextprotocol/server-filesystem@2026.8.31"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	home := t.TempDir()
	env := []string{"HOME=" + home, "npm_config_cache=", "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false"}
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		env = append(env, "npm_config_cafile=/etc/ssl/certs/ca-certificates.crt")
	}
	fill := exec.CommandContext(ctx, "npm", "exec", "--yes", "--package="+pkg, "--", "true")
	fill.Env = append(os.Environ(), env...)
	if out, err := fill.CombinedOutput(); err != nil {
		t.Fatalf("filling the npx cache outside mcpwarden: %v\n%s", err, out)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "note.txt"), []byte("from the cache"), 0o644); err != nil {
		t.Fatal(err)
	}
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd, stderr := newCommand(t, "mcpwarden", append(append([]string{wardenBin, "run", "--audit-log", auditLog}, rootFlags()...), "--", "npx", "-y", pkg, dir), env...)
	cs := connectGo(t, ctx, newGoClient(&mcp.ClientOptions{}), cmd, "")
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_text_file", Arguments: map[string]any{"path": filepath.Join(dir, "note.txt")}})
	if err != nil || res.IsError {
		t.Fatalf("read_text_file: %v %v\nstderr: %s", err, res, stderr)
	}
	if got := toolText(res); !strings.Contains(got, "from the cache") {
		t.Fatalf("read_text_file = %q", got)
	}
	recs := readAudit(t, auditLog)
	if len(recs) == 0 || recs[0].Server != "filesystem" {
		t.Fatalf("audit records %v: want the built-in filesystem profile selected", recs)
	}
}
