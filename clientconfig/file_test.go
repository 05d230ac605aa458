package clientconfig

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const desktopConfig = `{
  // servers for Claude Desktop
  "mcpServers": {
    "memory": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-memory"]
    },
    "tool": {"command": "/opt/tool"},
    "web": {"type": "http", "url": "https://example.com/mcp"},
  },
}
`

const codexConfig = `# Codex
[mcp_servers.memory]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-memory"]

[mcp_servers.tool]
command = "/opt/tool"
`

// writeConfig writes a file with the given mode and returns its path.
func writeConfig(t *testing.T, name, content string, mode fs.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func modeOf(t *testing.T, path string) fs.FileMode {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode()
}

// TestFileRoundTrip: wrap backs up and writes with the mode kept; a
// second wrap changes nothing; unwrap of an untouched file restores it
// byte for byte, even the entry that had no args, and removes the backup.
func TestFileRoundTrip(t *testing.T) {
	for _, tc := range []struct{ client, name, content string }{
		{"claude-desktop", "claude_desktop_config.json", desktopConfig},
		{"codex", "config.toml", codexConfig},
	} {
		t.Run(tc.client, func(t *testing.T) {
			c, _ := Lookup(tc.client)
			path := writeConfig(t, tc.name, tc.content, 0o640)
			opts := Options{Warden: warden}

			fr, err := WrapFile(path, c, opts, false)
			if err != nil {
				t.Fatal(err)
			}
			if !fr.Written || !fr.BackupCreated || fr.Backup != path+BackupSuffix {
				t.Fatalf("wrap: %+v, want it written with a new backup at %s", fr, path+BackupSuffix)
			}
			wrappedText := readFile(t, path)
			if !strings.Contains(wrappedText, warden) {
				t.Fatalf("the file is not wrapped:\n%s", wrappedText)
			}
			if got := readFile(t, fr.Backup); got != tc.content {
				t.Errorf("backup holds\n%s\nwant the original", got)
			}
			for _, p := range []string{path, fr.Backup} {
				if m := modeOf(t, p); m != 0o640 {
					t.Errorf("%s has mode %v, want -rw-r-----", p, m)
				}
			}
			assertNoTemp(t, filepath.Dir(path))

			again, err := WrapFile(path, c, opts, false)
			if err != nil || again.Changed || again.Written || readFile(t, path) != wrappedText {
				t.Errorf("second wrap: %+v, %v; want no change", again, err)
			}

			un, err := UnwrapFile(path, c, opts, false)
			if err != nil {
				t.Fatal(err)
			}
			if !un.Restored || !un.BackupRemoved {
				t.Errorf("unwrap: %+v, want the backup restored and removed", un)
			}
			if got := readFile(t, path); got != tc.content {
				t.Errorf("after unwrap:\n%s\nwant the original byte for byte:\n%s", got, tc.content)
			}
			if _, err := os.Lstat(fr.Backup); !os.IsNotExist(err) {
				t.Errorf("backup still there after restore: %v", err)
			}
			if m := modeOf(t, path); m != 0o640 {
				t.Errorf("mode after unwrap %v", m)
			}
			assertNoTemp(t, filepath.Dir(path))
		})
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".mcpwarden-") && !strings.HasSuffix(e.Name(), BackupSuffix) {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// TestUnwrapAfterEdit: a file edited after wrap is unwrapped entry by
// entry; the edits stay, and so does the backup.
func TestUnwrapAfterEdit(t *testing.T) {
	c, _ := Lookup("claude-desktop")
	path := writeConfig(t, "claude_desktop_config.json", desktopConfig, 0o600)
	opts := Options{Warden: warden}
	if _, err := WrapFile(path, c, opts, false); err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(readFile(t, path), `"mcpServers": {`,
		`"mcpServers": {
    // added after wrap
    "later": {"command": "later-server", "args": ["--flag"]},`, 1)
	edited = strings.Replace(edited, `"@modelcontextprotocol/server-memory"]`, `"@modelcontextprotocol/server-memory"], "env": {"MEMORY_FILE_PATH": "/m.jsonl"}`, 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	un, err := UnwrapFile(path, c, opts, false)
	if err != nil {
		t.Fatal(err)
	}
	if un.Restored || un.BackupRemoved || un.Backup != path+BackupSuffix {
		t.Errorf("unwrap: %+v, want an in-place unwrap that keeps the backup", un)
	}
	got := readFile(t, path)
	for _, want := range []string{
		"// added after wrap",
		`"later": {"command": "later-server", "args": ["--flag"]},`,
		`"command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-memory"], "env": {"MEMORY_FILE_PATH": "/m.jsonl"}`,
		`"tool": {"command": "/opt/tool", "args": []}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("after unwrap, missing %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, warden) {
		t.Errorf("still wrapped:\n%s", got)
	}
	if readFile(t, un.Backup) != desktopConfig {
		t.Error("the backup changed")
	}
}

// TestBackupNeverReplaced: a backup that exists holds the file from
// before any wrap; wrapping an edited file must not replace it with a
// wrapped version.
func TestBackupNeverReplaced(t *testing.T) {
	c, _ := Lookup("claude-desktop")
	path := writeConfig(t, "claude_desktop_config.json", desktopConfig, 0o600)
	opts := Options{Warden: warden}
	if _, err := WrapFile(path, c, opts, false); err != nil {
		t.Fatal(err)
	}
	// A new server appears, and wrap runs again.
	edited := strings.Replace(readFile(t, path), `"tool":`, `"new": {"command": "new-server"}, "tool":`, 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	fr, err := WrapFile(path, c, opts, false)
	if err != nil {
		t.Fatal(err)
	}
	if !fr.Written || fr.BackupCreated {
		t.Errorf("wrap: %+v, want written without a new backup", fr)
	}
	if got := readFile(t, path+BackupSuffix); got != desktopConfig {
		t.Errorf("the backup was replaced:\n%s", got)
	}
}

// TestDryRunWritesNothing: a dry run reports the diff and leaves the
// directory as it was.
func TestDryRunWritesNothing(t *testing.T) {
	c, _ := Lookup("claude-desktop")
	path := writeConfig(t, "claude_desktop_config.json", desktopConfig, 0o644)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	fr, err := WrapFile(path, c, Options{Warden: warden}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !fr.Changed || fr.Written || fr.BackupCreated {
		t.Errorf("dry run: %+v", fr)
	}
	for _, want := range []string{"--- " + path, "+++ " + path, `-      "command": "npx",`, `+      "command": "` + warden + `",`, "@@ "} {
		if !strings.Contains(fr.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, fr.Diff)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries after a dry run, want 1", len(entries))
	}
	info, _ := os.Stat(path)
	if readFile(t, path) != desktopConfig || !info.ModTime().Equal(old) {
		t.Error("the file was touched")
	}

	// And a dry unwrap of a wrapped file.
	if _, err := WrapFile(path, c, Options{Warden: warden}, false); err != nil {
		t.Fatal(err)
	}
	wrapped := readFile(t, path)
	un, err := UnwrapFile(path, c, Options{Warden: warden}, true)
	if err != nil || !un.Changed || un.Written || !un.Restored || un.BackupRemoved {
		t.Errorf("dry unwrap: %+v %v", un, err)
	}
	if readFile(t, path) != wrapped || readFile(t, path+BackupSuffix) != desktopConfig {
		t.Error("a dry unwrap changed files")
	}
}

// TestSymlinkWrittenThrough: a configuration that is a symbolic link (a
// dotfile manager's) is changed in the file it points to; the link stays
// a link, and the backup is beside the real file.
func TestSymlinkWrittenThrough(t *testing.T) {
	c, _ := Lookup("cursor")
	target := writeConfig(t, "real-mcp.json", desktopConfig, 0o600)
	link := filepath.Join(t.TempDir(), "mcp.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fr, err := WrapFile(link, c, Options{Warden: warden}, false)
	if err != nil {
		t.Fatal(err)
	}
	if fr.Target != target || fr.Backup != target+BackupSuffix {
		t.Errorf("wrap: %+v, want target %s", fr, target)
	}
	if modeOf(t, link)&fs.ModeSymlink == 0 {
		t.Fatal("the link was replaced by a file")
	}
	if got, _ := os.Readlink(link); got != target {
		t.Errorf("the link now points to %s", got)
	}
	if !strings.Contains(readFile(t, target), warden) {
		t.Error("the target was not wrapped")
	}
	if _, err := os.Lstat(link + BackupSuffix); !os.IsNotExist(err) {
		t.Errorf("a backup beside the link: %v", err)
	}
	if _, err := UnwrapFile(link, c, Options{Warden: warden}, false); err != nil {
		t.Fatal(err)
	}
	if readFile(t, target) != desktopConfig || modeOf(t, link)&fs.ModeSymlink == 0 {
		t.Error("unwrap through the link did not restore the target")
	}
}

// TestRefusedFiles: a file that does not parse is refused without any
// write or backup; so are a missing file, a directory, a dangling link and
// a FIFO (which would block a reader).
func TestRefusedFiles(t *testing.T) {
	c, _ := Lookup("claude-desktop")
	bad := "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"npx\"}\n    \"b\": {\"command\": \"x\"}\n  }\n}\n"
	path := writeConfig(t, "claude_desktop_config.json", bad, 0o600)
	_, err := WrapFile(path, c, Options{Warden: warden}, false)
	if err == nil || !strings.Contains(err.Error(), "line 4, column 5") || !strings.Contains(err.Error(), path) {
		t.Errorf("wrap of invalid JSON: %v, want the path and line 4, column 5", err)
	}
	if readFile(t, path) != bad {
		t.Error("the invalid file was changed")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("%d entries beside the invalid file, want none", len(entries)-1)
	}

	dir := t.TempDir()
	dangling := filepath.Join(dir, "dangling.json")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "missing.json"), dir, dangling, fifo} {
		if _, err := WrapFile(p, c, Options{Warden: warden}, false); err == nil {
			t.Errorf("wrap of %s succeeded", p)
		}
	}
}

// TestReplaceRefusesConcurrentChange: when the client rewrote the file
// after it was read, the rewrite is abandoned and the client's version
// stays.
func TestReplaceRefusesConcurrentChange(t *testing.T) {
	path := writeConfig(t, "mcp.json", "{}", 0o600)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"theirs": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	err = replace(path, []byte("{}"), []byte(`{"ours": 1}`), info)
	if err == nil || !strings.Contains(err.Error(), "changed while") {
		t.Fatalf("replace: %v, want a refusal", err)
	}
	if got := readFile(t, path); got != `{"theirs": 1}` {
		t.Errorf("file holds %s", got)
	}
	assertNoTemp(t, filepath.Dir(path))
}

// TestLargeFileRefused: reading is bounded.
func TestLargeFileRefused(t *testing.T) {
	c, _ := Lookup("cursor")
	path := filepath.Join(t.TempDir(), "mcp.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := WrapFile(path, c, Options{Warden: warden}, false); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("wrap of a huge file: %v", err)
	}
}

// BenchmarkWrapClaudeJSON measures a wrap of a ~/.claude.json that holds
// history and servers of many projects, as long-used ones do: 200
// projects, each with a filesystem server on its own directory.
func BenchmarkWrapClaudeJSON(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`{"mcpServers": {"memory": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]}}, "projects": {`)
	for i := range 200 {
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString(`"/home/me/p` + strconv.Itoa(i) + `": {"history": [{"display": "` + strings.Repeat("some prompt text ", 20) + `"}], "mcpServers": {"fs": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/w/` + strconv.Itoa(i) + `"]}}}`)
	}
	buf.WriteString("}}")
	data := buf.Bytes()
	c, _ := Lookup("claude-code")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Wrap(data, c, Options{Warden: warden}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOwnerKept: run as root on a user's file (sudo mcpwarden wrap), the
// new file and the backup keep the user as owner, or the user could no
// longer edit their own configuration. It needs root to give a file away.
func TestOwnerKept(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a file owned by another user")
	}
	c, _ := Lookup("claude-desktop")
	path := writeConfig(t, "claude_desktop_config.json", desktopConfig, 0o600)
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := WrapFile(path, c, Options{Warden: warden}, false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + BackupSuffix} {
		info, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := info.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 {
			t.Errorf("%s is owned by %d:%d, want 65534:65534", p, st.Uid, st.Gid)
		}
	}
}
