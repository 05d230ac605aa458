package profile

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/mcpwarden/mcpwarden/profiles"
)

func TestSelect(t *testing.T) {
	nm := "/home/u/.npm/_npx/6913fdfd1ea7a741/node_modules"
	for _, tc := range []struct {
		argv string // split on blanks
		want string
	}{
		// npx and friends, with and without versions and flags.
		{"npx -y @modelcontextprotocol/server-filesystem /home/u/projects", "filesystem"},
		{"npx -y @modelcontextprotocol/server-filesystem@1.2.3 /dir", "filesystem"},
		{"npx -y @modelcontextprotocol/server-filesystem@latest /a /b", "filesystem"},
		{"npx --yes -- @modelcontextprotocol/server-everything@2026.8.31 stdio", "everything"},
		{"npx -y -p @modelcontextprotocol/server-memory mcp-server-memory", "memory"},
		{"npx --package=@modelcontextprotocol/server-memory -y mcp-server-memory", "memory"},
		{"/home/u/.nvm/versions/node/v22.1.0/bin/npx -y @modelcontextprotocol/server-memory", "memory"},
		{"npm exec -y -- @modelcontextprotocol/server-memory", "memory"},
		{"pnpm dlx @modelcontextprotocol/server-filesystem /d", "filesystem"},
		{"bunx @modelcontextprotocol/server-everything", "everything"},
		{"yarn dlx @modelcontextprotocol/server-everything", "everything"},
		{"deno run -A npm:@modelcontextprotocol/server-memory@2026.8.31", "memory"},
		// The bin name, bare or as a path.
		{"mcp-server-filesystem /srv/data", "filesystem"},
		{"/usr/local/bin/mcp-server-memory", "memory"},
		{nm + "/.bin/mcp-server-everything", "everything"},
		// node running the package's script from wherever it is installed.
		{"node " + nm + "/@modelcontextprotocol/server-filesystem/dist/index.js /home/u/x", "filesystem"},
		{"node --enable-source-maps /work/e2e/npm/node_modules/@modelcontextprotocol/server-memory/dist/index.js", "memory"},
		{"/usr/bin/node -r dotenv/config /opt/node_modules/@modelcontextprotocol/server-everything/dist/index.js", "everything"},
		{"node /usr/lib/node_modules/.pnpm/@modelcontextprotocol+server-memory@1.0.0/node_modules/@modelcontextprotocol/server-memory/dist/index.js", "memory"},
		{"env MEMORY_FILE_PATH=/x/m.jsonl npx -y @modelcontextprotocol/server-memory", "memory"},
		{"/usr/bin/env -u FOO node /x/node_modules/mcp-server-filesystem/index.js", "filesystem"},
		// Python launchers, and commands that no built-in profile fits.
		{"uvx mcp-server-fetch", "fetch"},
		{"uvx --from git+https://github.com/x/mcp-server-fetch mcp-server-fetch", "fetch"},
		{"uv --directory /home/u/weather run weather.py", "default"},
		{"python3 -m mcp_server_time", "time"},
		{"docker run -i --rm mcp/filesystem /projects", "default"},
		{"docker run -i --rm --mount type=bind,src=/home/u/p,dst=/projects mcp/filesystem /projects", "default"},
		{"npx -y @modelcontextprotocol/server-github", "github"},
		{"uvx mcp-server-weather", "default"},
		{"./server", "default"},

		// Negative cases: data arguments never pick a profile.
		{"npx -y some-other-server /home/u/src/mcp-server-memory", "default"},
		{"npx -y some-other-server /home/u/@modelcontextprotocol/server-memory", "default"},
		{"some-server --root /home/u/mcp-server-filesystem", "default"},
		{"mcp-server-filesystem /home/u/node_modules/@modelcontextprotocol/server-memory", "filesystem"},
		{"npx -y @modelcontextprotocol/server-filesystem /home/u/mcp-server-memory", "filesystem"},
		{"node /opt/other/index.js /home/u/mcp-server-memory", "default"},
		{"python3 -m other_server /home/u/mcp-server-memory", "default"},
		{"python3 /opt/server.py mcp-server-memory", "default"},
		{"docker run -i --rm -v /home/u/mcp-server-memory:/data mcp/everything", "default"},
		{"docker run -i -e MEMORY=mcp-server-memory --rm some/image", "default"},
		{"uvx some-server --path /home/u/mcp-server-memory", "default"},
		// Names that only look alike.
		{"npx -y @evil/server-filesystem /d", "default"},
		{"npx -y @evil/mcp-server-memory", "default"},
		{"node /x/node_modules/@evil/mcp-server-memory/dist/index.js", "default"},
		{"npx -y @modelcontextprotocol/server-filesystem-extra /d", "default"},
		{"npx -y @modelcontextprotocol/server-filesystemx", "default"},
		{"npx -y mcp-server-memory-plus", "default"},
		{"npx -y xmcp-server-memory", "default"},
		{"node /home/u/mcp-server-memory-fork/index.js", "default"},
		{"npx -y modelcontextprotocol/server-memory", "default"},
		{"npx -y @modelcontextprotocol", "default"},
		{"npx", "default"},
		{"npx -y", "default"},
		{"node -e require('@modelcontextprotocol/server-memory')", "default"},
	} {
		argv := strings.Fields(tc.argv)
		p, err := Select(argv)
		if err != nil {
			t.Errorf("Select(%q): %v", tc.argv, err)
			continue
		}
		if p.Server.Name != tc.want {
			t.Errorf("Select(%q) = %s, want %s", tc.argv, p.Server.Name, tc.want)
		}
	}
}

func TestSelectEmpty(t *testing.T) {
	if _, err := Select(nil); err == nil {
		t.Error("Select(nil) succeeded")
	}
}

func TestSelectLongestThenName(t *testing.T) {
	cands := []candidate{{"a", []string{"pkg*"}}, {"b", []string{"pkg-long"}}, {"c", []string{"pkg*"}}, {"d", []string{"@s/*"}}, {"e", []string{"@s/pkg-long"}}}
	for _, tc := range []struct{ argv, want string }{
		{"pkg-long", "b"},        // longest pattern wins
		{"pkg-x", "a"},           // equal length: first name
		{"npx @s/pkg-long", "e"}, // "@s/pkg-long" is longer than "pkg-long"
		{"npx @s/other", "d"},
		{"npx @t/pkg-long", ""}, // a scope is part of the name
		{"other", ""},
	} {
		if got := bestMatch(cands, strings.Fields(tc.argv)); got != tc.want {
			t.Errorf("bestMatch(%q) = %q, want %q", tc.argv, got, tc.want)
		}
	}
}

func TestFits(t *testing.T) {
	for _, tc := range []struct {
		pattern, arg string
		want         bool
	}{
		{"@s/p", "@s/p", true},
		{"@s/p", "@s/p@1.2.3", true},
		{"@s/p", "@s/p@", true},
		{"@s/p", "/x/node_modules/@s/p/dist/index.js", true},
		{"@s/p", "/x/@s/p@1/y", false}, // a version in the middle is not stripped
		{"p", "p@1.0", true},
		{"p", "/usr/bin/p", true},
		{"p", "/usr/bin/p/", true},
		{"p", "@s/p", false},
		{"p", "npm:@s/p", false},
		{"@s/p", "npm:@s/p@1", true},
		{"@s", "@s", true},
		{"p*", "/x/p-anything/y", true},
		{"a/b", "x/a//b/y", true},
		{"", "x", false},
		{"*", "", true},
	} {
		if got := fits(tc.pattern, tc.arg); got != tc.want {
			t.Errorf("fits(%q, %q) = %v, want %v", tc.pattern, tc.arg, got, tc.want)
		}
	}
	// Very long paths stay cheap.
	long := strings.Repeat("/seg", 100000) + "/@s/p/index.js"
	if !fits("@s/p", long) {
		t.Error("fits on a long path")
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "a/b/c", true},
		{"a*", "a", true},
		{"a*", "ab/c", true},
		{"*c", "ab/c", true},
		{"*c", "ab/cd", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"a*b", "abab", true},
		{"?", "é", true},
		{"??", "é", false},
		{"?", "", false},
		{"a?c", "a/c", true},
		{"*é", "xxé", true},
		{"[a]", "[a]", true},
		{"[a]", "a", false},
		{`a\*`, `a\xyz`, true},
		{"**", "x", true},
		{"*?*", "", false},
		{"read_*", "read_file", true},
		{"read_*", "READ_file", false},
	} {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestProgramArgs(t *testing.T) {
	for _, tc := range []struct{ argv, want string }{
		{"npx -y pkg /dir", "npx pkg"},
		{"npx -p a -p b bin x", "npx a b bin"},
		{"env A=1 B=2 npx -y pkg /d", "env npx pkg"},
		{"uv --directory /w run s.py arg", "uv /w s.py"},
		{"uv tool run --from src bin arg", "uv src bin"},
		{"python3.12 -u -m mod arg", "python3.12 mod"},
		{"python -c code arg", "python"},
		{"docker run -i -v /a:/b --rm img arg", "docker img"},
		{"server /dir", "server"},
		{"npx -- -weird /d", "npx -weird"},
	} {
		got := strings.Join(programArgs(strings.Fields(tc.argv)), " ")
		if got != tc.want {
			t.Errorf("programArgs(%q) = %q, want %q", tc.argv, got, tc.want)
		}
	}
}

// Select reads the built-ins' match patterns from their [server] tables
// alone: for every built-in that must give what the whole parse gives.
func TestBuiltinMatchesAgreeWithParse(t *testing.T) {
	cands, err := builtinMatches()
	if err != nil {
		t.Fatal(err)
	}
	names, err := BuiltinNames()
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) != len(names) {
		t.Fatalf("%d candidates for %d built-ins", len(cands), len(names))
	}
	for _, c := range cands {
		p, err := Builtin(c.name)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := fs.ReadFile(profiles.FS(), c.name+".toml")
		if _, ok := serverTable(data); !ok && len(p.Server.Match) > 0 {
			t.Errorf("%s: no [server] table to cut out; write it as a [server] table", c.name)
		}
		if !slices.Equal(c.match, p.Server.Match) {
			t.Errorf("%s: match from the [server] table %q, from the whole file %q", c.name, c.match, p.Server.Match)
		}
	}
}

func TestServerTable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[server]\nname = \"a\"\n[sandbox]\nread = []\n", "[server]\nname = \"a\"\n"},
		{"# c\n[server]\nmatch = [\n  \"x\",\n]\n", "[server]\nmatch = [\n  \"x\",\n]\n"},
		{"[sandbox]\n[server]\nname = \"a\"", "[server]\nname = \"a\""},
	}
	for _, tt := range tests {
		got, ok := serverTable([]byte(tt.in))
		if !ok || string(got) != tt.want {
			t.Errorf("serverTable(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	if _, ok := serverTable([]byte("server = { name = \"a\" }\n")); ok {
		t.Error("an inline server table was cut out")
	}
}

// BenchmarkSelect is the profile choice every `mcpwarden run` without
// --profile makes before it starts the server.
func BenchmarkSelect(b *testing.B) {
	argv := []string{"npx", "-y", "@modelcontextprotocol/server-filesystem", "/tmp"}
	for b.Loop() {
		if _, err := Select(argv); err != nil {
			b.Fatal(err)
		}
	}
}
