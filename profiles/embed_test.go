package profiles

import (
	"io/fs"
	"strings"
	"testing"
)

func TestFS(t *testing.T) {
	entries, err := fs.ReadDir(FS(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		data, err := fs.ReadFile(FS(), e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "# "+strings.TrimSuffix(e.Name(), ".toml")+": ") {
			t.Errorf("%s does not open with a comment naming the profile", e.Name())
		}
	}
	if got, want := strings.Join(names, " "), "brave-search.toml default.toml everything.toml fetch.toml filesystem.toml git.toml github-mcp-server.toml github.toml memory.toml "+
		"playwright.toml postgres.toml puppeteer.toml sequential-thinking.toml slack.toml sqlite.toml time.toml"; got != want {
		t.Errorf("files = %s, want %s", got, want)
	}
}
