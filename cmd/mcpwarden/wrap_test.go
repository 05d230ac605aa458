package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpwarden/mcpwarden/clientconfig"
)

// fakeHome makes a home directory with the given files and points HOME
// and XDG_CONFIG_HOME at it.
func fakeHome(t *testing.T, files map[string]string) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("CODEX_HOME", "")
	for rel, content := range files {
		path := filepath.Join(home, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

const cliDesktop = `{"mcpServers": {
  "memory": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]},
  "web": {"type": "http", "url": "https://example.com/mcp"}
}}
`

const cliCodex = "[mcp_servers.fs]\ncommand = \"npx\"\nargs = [\"-y\", \"@modelcontextprotocol/server-filesystem\", \"/w\"]\n"

func TestWrapCommandAllClients(t *testing.T) {
	home := fakeHome(t, map[string]string{
		".config/Claude/claude_desktop_config.json": cliDesktop,
		".codex/config.toml":                        cliCodex,
	})
	desktop := filepath.Join(home, ".config/Claude/claude_desktop_config.json")
	codex := filepath.Join(home, ".codex/config.toml")

	code, out, errs := runCLI(t, "wrap", "--dry-run", "--mcpwarden", "mcpwarden")
	if code != 0 || errs != "" {
		t.Fatalf("wrap --dry-run: %d %q", code, errs)
	}
	for _, want := range []string{
		"Claude Desktop: " + desktop, "  memory: wrapped, profile memory",
		"  web: not wrapped: remote server (http), mcpwarden sandboxes stdio servers only",
		"Codex: " + codex, "  fs: wrapped, profile filesystem",
		`+  "memory": {"command": "mcpwarden", "args": ["run", "--profile", "memory", "--", "npx", "-y", "@modelcontextprotocol/server-memory"]},`,
		"dry run: nothing written",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if readText(t, desktop) != cliDesktop || readText(t, codex) != cliCodex {
		t.Fatal("a dry run changed a file")
	}

	code, out, errs = runCLI(t, "wrap")
	exe, _ := os.Executable()
	// The test binary runs from the go command's temporary directory,
	// which a client could not start later: wrap says so.
	if code != 0 || strings.Contains(exe, "/go-build") != strings.Contains(errs, "mcpwarden: warning: this mcpwarden runs from a temporary build directory") {
		t.Fatalf("wrap: %d %q", code, errs)
	}
	if !strings.Contains(readText(t, desktop), `"command": "`+exe+`"`) {
		t.Errorf("wrap did not write this program's path %s:\n%s", exe, readText(t, desktop))
	}
	if !strings.Contains(out, "the file as it was is at "+desktop+clientconfig.BackupSuffix) {
		t.Errorf("wrap output does not name the backup:\n%s", out)
	}
	code, out, _ = runCLI(t, "wrap")
	if code != 0 || strings.Count(out, "  unchanged") != 2 || !strings.Contains(out, "memory: already wrapped, profile memory") {
		t.Errorf("second wrap: %d\n%s", code, out)
	}
	code, out, errs = runCLI(t, "unwrap")
	if code != 0 || errs != "" || strings.Count(out, "restored the file from before wrap byte for byte") != 2 {
		t.Errorf("unwrap: %d %q\n%s", code, errs, out)
	}
	if readText(t, desktop) != cliDesktop || readText(t, codex) != cliCodex {
		t.Error("unwrap did not restore the files")
	}
}

func TestWrapCommandSelectors(t *testing.T) {
	home := fakeHome(t, map[string]string{
		".cursor/mcp.json":         cliDesktop,
		"proj/.cursor/mcp.json":    cliDesktop,
		"proj/.vscode/mcp.json":    `{"servers": {"m": {"type": "stdio", "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]}}}`,
		"elsewhere/some-file.json": cliDesktop,
	})
	proj := filepath.Join(home, "proj")

	// --project changes the project's files only.
	code, out, errs := runCLI(t, "wrap", "--project", proj, "--mcpwarden", "/nonexistent/mcpwarden", "--best-effort")
	if code != 0 {
		t.Fatalf("wrap --project: %d %q", code, errs)
	}
	if !strings.Contains(errs, "mcpwarden: warning: --mcpwarden /nonexistent/mcpwarden: ") {
		t.Errorf("no warning about a mcpwarden that does not exist: %q", errs)
	}
	if !strings.Contains(out, "Cursor: "+filepath.Join(proj, ".cursor/mcp.json")) || !strings.Contains(out, "VS Code: "+filepath.Join(proj, ".vscode/mcp.json")) {
		t.Errorf("wrap --project output:\n%s", out)
	}
	if readText(t, filepath.Join(home, ".cursor/mcp.json")) != cliDesktop {
		t.Error("wrap --project changed the user's file")
	}
	if got := readText(t, filepath.Join(proj, ".vscode/mcp.json")); !strings.Contains(got, `"args": ["run", "--profile", "memory", "--best-effort", "--", "npx"`) {
		t.Errorf("--best-effort not in the run line:\n%s", got)
	}

	// --file with --client.
	file := filepath.Join(home, "elsewhere/some-file.json")
	if code, _, errs := runCLI(t, "wrap", "--file", file, "--client", "cursor"); code != 0 || !strings.Contains(readText(t, file), `"run", "--profile", "memory"`) {
		t.Errorf("wrap --file: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "unwrap", "--file", file); code != 0 || readText(t, file) != cliDesktop {
		t.Errorf("unwrap --file: %d %q", code, errs)
	}

	// --client picks one client.
	code, out, _ = runCLI(t, "wrap", "--client", "cursor", "--dry-run")
	if code != 0 || !strings.Contains(out, "Cursor: "+filepath.Join(home, ".cursor/mcp.json")) || strings.Contains(out, "VS Code") {
		t.Errorf("wrap --client cursor: %d\n%s", code, out)
	}
}

func TestWrapCommandErrors(t *testing.T) {
	home := fakeHome(t, map[string]string{".cursor/mcp.json": "{\"mcpServers\": {\n  \"a\": {\"command\": \"x\"}\n  \"b\": {}\n}}\n"})
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"wrap", "--client", "windsurf"}, 1, []string{"mcpwarden: no Windsurf configuration found; tried " + filepath.Join(home, ".codeium/windsurf/mcp_config.json"), "--file"}},
		{[]string{"wrap", "--client", "cursor"}, 1, []string{"mcpwarden: " + filepath.Join(home, ".cursor/mcp.json") + ": not valid JSON: line 3, column 3", "fix or restore the file"}},
		{[]string{"wrap", "--client", "emacs"}, 1, []string{`mcpwarden: unknown client "emacs"`, "claude-desktop"}},
		{[]string{"wrap", "--client", "claude-desktop", "--project", home}, 1, []string{"mcpwarden: Claude Desktop has no project configuration"}},
		{[]string{"wrap", "--file", filepath.Join(home, "none.json")}, 1, []string{"mcpwarden: --file " + filepath.Join(home, "none.json")}},
		{[]string{"wrap", "extra"}, 2, []string{"mcpwarden: wrap takes no arguments"}},
		{[]string{"wrap", "--frob"}, 2, []string{"mcpwarden: wrap: flag provided but not defined: -frob"}},
		{[]string{"unwrap", "--best-effort"}, 2, []string{"mcpwarden: unwrap: flag provided but not defined"}},
		{[]string{"wrap", "--file", "a", "--project", "b"}, 2, []string{"not both"}},
	} {
		checkCLIError(t, tc.args, tc.code, tc.want)
	}
	t.Setenv("HOME", "")
	if code, _, errs := runCLI(t, "wrap"); code != 1 || !strings.Contains(errs, "HOME is not set") {
		t.Errorf("wrap without HOME: %d %q", code, errs)
	}
	empty := fakeHome(t, nil)
	if code, _, errs := runCLI(t, "unwrap"); code != 1 || !strings.Contains(errs, "no MCP client configuration found; tried "+filepath.Join(empty, ".config/Claude/claude_desktop_config.json")) {
		t.Errorf("unwrap with no files: %d %q", code, errs)
	}
}

func TestWrapHelp(t *testing.T) {
	for _, args := range [][]string{{"wrap", "--help"}, {"unwrap", "-h"}} {
		code, out, _ := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "mcpwarden "+args[0]+" --dry-run") || !strings.Contains(out, "codex") {
			t.Errorf("%q: %d\n%s", args, code, out)
		}
	}
	if _, out, _ := runCLI(t, "help"); !strings.Contains(out, "\n  wrap ") || !strings.Contains(out, "\n  unwrap ") {
		t.Errorf("the usage does not list wrap:\n%s", out)
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWrapOutputEscaped: server names and commands come from the file; a
// terminal escape or a bidi override in one is printed escaped, so that
// the summary cannot be forged or made to drive the terminal.
func TestWrapOutputEscaped(t *testing.T) {
	fakeHome(t, map[string]string{".cursor/mcp.json": `{"mcpServers": {"evil\u001b[2K\rmemory: wrapped\u202e": {"command": "/opt/x\u0007"}}}`})
	code, out, errs := runCLI(t, "wrap", "--client", "cursor", "--mcpwarden", "/usr/bin/mcpwarden")
	if code != 0 {
		t.Fatalf("wrap: %d %q", code, errs)
	}
	if strings.ContainsAny(out, "\x1b\r\a\u202e") {
		t.Errorf("raw control characters in the output: %q", out)
	}
	if !strings.Contains(out, `evil\x1b[2K\rmemory: wrapped\u202e: wrapped, profile default`) || !strings.Contains(out, `/opt/x\a`) {
		t.Errorf("output %q lacks the escaped name and command", out)
	}
	if !strings.Contains(out, "Restart the clients whose files changed") {
		t.Errorf("no restart hint after a write:\n%s", out)
	}
}
