package clientconfig

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const warden = "/opt/mcpwarden/bin/mcpwarden"

// want is what one server entry must look like after a wrap.
type want struct {
	action  Action
	profile string
	command string   // after wrap; "" when the entry must not change
	args    []string // after wrap
}

// wrapped is the argument list wrap gives a server.
func wrapped(prof string, argv ...string) []string {
	return append([]string{"run", "--profile", prof, "--"}, argv...)
}

var formatCases = []struct {
	name   string
	client string
	input  string
	// keep are texts of the input that must survive the wrap unchanged.
	keep []string
	want map[string]want // by Where + "/" + Name
	// exact says unwrap gives back the input byte for byte; it does not
	// when wrap added an args member to an entry that had none.
	exact bool
}{
	{
		name:   "claude desktop",
		client: "claude-desktop",
		input: `{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": [
        "-y",
        "@modelcontextprotocol/server-filesystem",
        "/Users/me/Desktop"
      ]
    },
    "memory": {"args": ["-y", "@modelcontextprotocol/server-memory"], "command": "npx", "env": {"MEMORY_FILE_PATH": "/Users/me/.local/share/mcp-server-memory/memory.jsonl"}},
    "wrapped-before": {
      "command": "/usr/local/bin/mcpwarden",
      "args": ["run", "--profile", "everything", "--", "npx", "-y", "@modelcontextprotocol/server-everything"]
    },
	"tabbed":	{	"command" :	"uvx" ,	"args" :	[ "acme-internal-mcp" , "--repository" , "/src/x" ]	}
  }
}
`,
		keep: []string{`"globalShortcut": "Ctrl+Space"`, `"MEMORY_FILE_PATH": "/Users/me/.local/share/mcp-server-memory/memory.jsonl"`},
		want: map[string]want{
			"mcpServers/filesystem":     {Wrapped, "filesystem", warden, wrapped("filesystem", "npx", "-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop")},
			"mcpServers/memory":         {Wrapped, "memory", warden, wrapped("memory", "npx", "-y", "@modelcontextprotocol/server-memory")},
			"mcpServers/wrapped-before": {AlreadyWrapped, "everything", "", nil},
			"mcpServers/tabbed":         {Wrapped, "default", warden, wrapped("default", "uvx", "acme-internal-mcp", "--repository", "/src/x")},
		},
		exact: true,
	},
	{
		name:   "claude code user file with projects",
		client: "claude-code",
		input: `{
  "numStartups": 42,
  "mcpServers": {
    "memory": {
      "type": "stdio",
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-memory"],
      "env": {}
    },
    "sentry": {"type": "http", "url": "https://mcp.sentry.dev/mcp"},
    "events": {"type": "sse", "url": "https://example.com/sse", "headers": {"Authorization": "Bearer x"}}
  },
  "projects": {
    "/home/me/app": {
      "allowedTools": [],
      "mcpServers": {
        "fs": {"type": "stdio", "command": "node", "args": ["/home/me/app/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js", "/home/me/app"], "env": {"DEBUG": "1"}}
      },
      "hasTrustDialogAccepted": true
    },
    "/home/me/empty": {"mcpServers": {}}
  },
  "oauthAccount": {"emailAddress": "me@example.com"}
}`,
		keep: []string{`"numStartups": 42`, `"hasTrustDialogAccepted": true`, `"headers": {"Authorization": "Bearer x"}`},
		want: map[string]want{
			"mcpServers/memory": {Wrapped, "memory", warden, wrapped("memory", "npx", "-y", "@modelcontextprotocol/server-memory")},
			"mcpServers/sentry": {NotWrapped, "", "", nil},
			"mcpServers/events": {NotWrapped, "", "", nil},
			"projects./home/me/app.mcpServers/fs": {Wrapped, "filesystem", warden,
				wrapped("filesystem", "node", "/home/me/app/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js", "/home/me/app")},
		},
		exact: true,
	},
	{
		name:   "cursor",
		client: "cursor",
		input: `{
  "mcpServers": {
    "remote": { "url": "https://api.example.com/mcp", "headers": { "Authorization": "Bearer ${env:TOKEN}" } },
    "everything": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"], "env": { "API_KEY": "value" } },
    "local-tool": { "command": "/home/me/bin/tool" }
  }
}
`,
		keep: []string{`"Authorization": "Bearer ${env:TOKEN}"`, `"env": { "API_KEY": "value" }`},
		want: map[string]want{
			"mcpServers/remote":     {NotWrapped, "", "", nil},
			"mcpServers/everything": {Wrapped, "everything", warden, wrapped("everything", "npx", "-y", "@modelcontextprotocol/server-everything")},
			"mcpServers/local-tool": {Wrapped, "default", warden, wrapped("default", "/home/me/bin/tool")},
		},
	},
	{
		name:   "vscode jsonc",
		client: "vscode",
		input: `// VS Code MCP servers
{
	"inputs": [
		{ "type": "promptString", "id": "token", "description": "Token", "password": true, },
	],
	"servers": {
		/* the memory server */
		"memory": {
			"type": "stdio",
			"command": "npx",
			"args": [
				"-y", // yes
				"@modelcontextprotocol/server-memory",
			],
			"envFile": "${workspaceFolder}/.env",
		},
		"github": { "type": "http", "url": "https://api.githubcopilot.com/mcp/" },
		"odd": { "type": "pipe", "command": "x" },
	},
}
`,
		keep: []string{"// VS Code MCP servers", "/* the memory server */", `"-y", // yes`, `"envFile": "${workspaceFolder}/.env",`, `"password": true, },`},
		want: map[string]want{
			"servers/memory": {Wrapped, "memory", warden, wrapped("memory", "npx", "-y", "@modelcontextprotocol/server-memory")},
			"servers/github": {NotWrapped, "", "", nil},
			"servers/odd":    {NotWrapped, "", "", nil},
		},
		exact: true,
	},
	{
		name:   "windsurf",
		client: "windsurf",
		input:  "{\r\n  \"mcpServers\": {\r\n    \"fs\": {\r\n      \"command\": \"npx\",\r\n      \"args\": [\r\n        \"-y\",\r\n        \"@modelcontextprotocol/server-filesystem\"\r\n      ],\r\n      \"disabled\": true\r\n    },\r\n    \"web\": {\r\n      \"serverUrl\": \"https://example.com/mcp\"\r\n    },\r\n    \"noargs\": {\r\n      \"command\": \"my-server\"\r\n    }\r\n  }\r\n}\r\n",
		keep:   []string{"\"disabled\": true\r\n", "\"serverUrl\": \"https://example.com/mcp\"\r\n"},
		want: map[string]want{
			"mcpServers/fs":     {Wrapped, "filesystem", warden, wrapped("filesystem", "npx", "-y", "@modelcontextprotocol/server-filesystem")},
			"mcpServers/web":    {NotWrapped, "", "", nil},
			"mcpServers/noargs": {Wrapped, "default", warden, wrapped("default", "my-server")},
		},
	},
	{
		name:   "codex toml",
		client: "codex",
		input: `model = "o3"   # the model
approval_policy = "on-request"

[mcp_servers.memory]
command = "npx"  # the runner
args = ["-y", "@modelcontextprotocol/server-memory"]
env = { MEMORY_FILE_PATH = "/home/me/.local/share/mcp-server-memory/memory.jsonl" }
startup_timeout_sec = 20

[mcp_servers."file system"]
command = 'npx'
args = [
  "-y",  # non-interactive
  '@modelcontextprotocol/server-filesystem',
  """/home/me/work""",
]

[mcp_servers.figma]
url = "https://mcp.figma.com/mcp"
bearer_token_env_var = "FIGMA_TOKEN"

[mcp_servers]
inline = { command = "uvx", args = ["acme-fetcher"], enabled = true }
dotted.command = "/usr/bin/tool"

[profiles.fast]
model = "o4-mini"
`,
		keep: []string{`model = "o3"   # the model`, "startup_timeout_sec = 20", "# non-interactive", `bearer_token_env_var = "FIGMA_TOKEN"`, "enabled = true", `[profiles.fast]`},
		want: map[string]want{
			"mcp_servers/memory": {Wrapped, "memory", warden, wrapped("memory", "npx", "-y", "@modelcontextprotocol/server-memory")},
			"mcp_servers/file system": {Wrapped, "filesystem", warden,
				wrapped("filesystem", "npx", "-y", "@modelcontextprotocol/server-filesystem", "/home/me/work")},
			"mcp_servers/figma":  {NotWrapped, "", "", nil},
			"mcp_servers/inline": {Wrapped, "default", warden, wrapped("default", "uvx", "acme-fetcher")},
			"mcp_servers/dotted": {Wrapped, "default", warden, wrapped("default", "/usr/bin/tool")},
		},
	},
	{
		name:   "codex odd layout",
		client: "codex",
		input: `[ mcp_servers . "spaced" ]   # a header with blanks
args = ["-y", "@modelcontextprotocol/server-memory"]  # args before command
"command" = "npx"

[mcp_servers.spaced.env]
MEMORY_FILE_PATH = "/m.jsonl"

mcp_servers_note = "not a server"

[other]
mcp_servers . dotted . command = "not/a/server"

[[mcp_servers_list]]
command = "neither"
`,
		keep: []string{"# a header with blanks", "# args before command", `mcp_servers . dotted . command = "not/a/server"`, "[[mcp_servers_list]]"},
		want: map[string]want{
			"mcp_servers/spaced": {Wrapped, "memory", warden, wrapped("memory", "npx", "-y", "@modelcontextprotocol/server-memory")},
		},
		exact: true,
	},
	{
		name:   "codex with a byte order mark",
		client: "codex",
		input:  "\ufeff[mcp_servers.b]\ncommand = \"b-server\"\n",
		keep:   []string{"\ufeff[mcp_servers.b]\n"},
		want: map[string]want{
			"mcp_servers/b": {Wrapped, "default", warden, wrapped("default", "b-server")},
		},
	},
	{
		name:   "codex crlf and already wrapped",
		client: "codex",
		input:  "[mcp_servers.a]\r\ncommand = \"mcpwarden\"\r\nargs = [\"run\", \"--audit-log\", \"/tmp/a.jsonl\", \"--profile=memory\", \"npx\", \"-y\", \"@modelcontextprotocol/server-memory\"]\r\n\r\n[mcp_servers.b]\r\ncommand = \"b-server\"\r\n",
		keep:   []string{"[mcp_servers.a]\r\n"},
		want: map[string]want{
			"mcp_servers/a": {AlreadyWrapped, "memory", "", nil},
			"mcp_servers/b": {Wrapped, "default", warden, wrapped("default", "b-server")},
		},
	},
}

func TestWrapFormats(t *testing.T) {
	for _, tc := range formatCases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Lookup(tc.client)
			if err != nil {
				t.Fatal(err)
			}
			in := []byte(tc.input)
			opts := Options{Warden: warden}
			res, err := Wrap(in, c, opts)
			if err != nil {
				t.Fatalf("wrap: %v", err)
			}
			got := map[string]Report{}
			for _, r := range res.Reports {
				got[r.Where+"/"+r.Name] = r
			}
			if len(got) != len(tc.want) {
				t.Errorf("reports for %v, want %d entries", keys(got), len(tc.want))
			}
			before := decodeOrFail(t, c, in)
			after := decodeOrFail(t, c, res.Output)
			for key, w := range tc.want {
				r, ok := got[key]
				if !ok {
					t.Errorf("no report for %s", key)
					continue
				}
				if r.Action != w.action || r.Profile != w.profile {
					t.Errorf("%s: %s profile %q (%s), want %s profile %q", key, r.Action, r.Profile, r.Detail, w.action, w.profile)
				}
				path := entryPath(key)
				if w.command == "" {
					if !reflect.DeepEqual(lookupMap(after, path), lookupMap(before, path)) {
						t.Errorf("%s changed, and must not:\n%v\n%v", key, lookupMap(before, path), lookupMap(after, path))
					}
					continue
				}
				m := lookupMap(after, path)
				if m["command"] != w.command || !reflect.DeepEqual(m["args"], anys(w.args)) {
					t.Errorf("%s after wrap: command %v args %v\nwant command %v args %q", key, m["command"], m["args"], w.command, w.args)
				}
			}
			for _, k := range tc.keep {
				if !bytes.Contains(res.Output, []byte(k)) {
					t.Errorf("wrap lost %q:\n%s", k, res.Output)
				}
			}
			if t.Failed() {
				t.Logf("wrapped:\n%s", res.Output)
			}

			again, err := Wrap(res.Output, c, opts)
			if err != nil || !bytes.Equal(again.Output, res.Output) {
				t.Errorf("wrapping twice changed the file (err %v):\n%s", err, again.Output)
			}

			un, err := Unwrap(res.Output, c, opts)
			if err != nil {
				t.Fatalf("unwrap: %v", err)
			}
			// Unwrap also unwraps the entries that were wrapped before:
			// its result is that of unwrapping the original.
			orig, err := Unwrap(in, c, opts)
			if err != nil {
				t.Fatalf("unwrap of the original: %v", err)
			}
			if tc.exact && !bytes.Equal(un.Output, orig.Output) {
				t.Errorf("unwrap is not the original:\n%s\nwant\n%s", un.Output, orig.Output)
			}
			// Unwrapped, every entry means what it meant before; an
			// entry that had no args may now have an empty list.
			restored := decodeOrFail(t, c, un.Output)
			for key, w := range tc.want {
				m := lookupMap(restored, entryPath(key))
				if w.action == AlreadyWrapped {
					if m["command"] == "mcpwarden" || strings.HasSuffix(m["command"].(string), "/mcpwarden") {
						t.Errorf("%s: unwrap left it wrapped", key)
					}
					delete(lookupMap(before, entryPath(key)[:len(entryPath(key))-1]), entryPath(key)[len(entryPath(key))-1])
					delete(lookupMap(restored, entryPath(key)[:len(entryPath(key))-1]), entryPath(key)[len(entryPath(key))-1])
					continue
				}
				if a, ok := m["args"].([]any); ok && len(a) == 0 && lookupMap(before, entryPath(key))["args"] == nil {
					delete(m, "args")
				}
			}
			if !reflect.DeepEqual(restored, before) {
				t.Errorf("unwrap does not mean the original:\n%s", un.Output)
			}
		})
	}
}

func decodeOrFail(t *testing.T, c Client, data []byte) map[string]any {
	t.Helper()
	m, err := syntaxFor(c.Format).decode(data)
	if err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return normalize(m).(map[string]any)
}

// entryPath turns a report key "projects./a/b.mcpServers/name" into the
// key path of the entry. Project directories in the tests hold no ".".
func entryPath(key string) []string {
	i := strings.LastIndexByte(key, '/')
	where, name := key[:i], key[i+1:]
	var path []string
	if rest, ok := strings.CutPrefix(where, "projects."); ok {
		dir, loc, _ := strings.Cut(rest, ".")
		path = []string{"projects", dir, loc}
	} else {
		path = []string{where}
	}
	return append(path, name)
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func keys(m map[string]Report) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestWrapReportsDetail checks the words a user reads: why a server is
// not wrapped, that no profile matched, which variables a profile drops.
func TestWrapReportsDetail(t *testing.T) {
	c, _ := Lookup("claude-desktop")
	in := `{"mcpServers": {
		"remote": {"type": "http", "url": "https://x/mcp"},
		"sse": {"type": "sse", "url": "https://x/sse"},
		"tool": {"command": "/opt/tool"},
		"mem": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"], "env": {"GITHUB_TOKEN": "t", "MEMORY_FILE_PATH": "/m"}},
		"fake": {"command": "/usr/bin/mcpwarden", "args": ["version"]},
		"nocmd": {"env": {}},
		"badargs": {"command": "x", "args": "x y"},
		"notobj": 3
	}}`
	res, err := Wrap([]byte(in), c, Options{Warden: warden})
	if err != nil {
		t.Fatal(err)
	}
	detail := map[string]string{}
	action := map[string]Action{}
	for _, r := range res.Reports {
		detail[r.Name], action[r.Name] = r.Detail, r.Action
	}
	for name, want := range map[string]string{
		"remote":  "remote server (http), mcpwarden sandboxes stdio servers only",
		"sse":     "remote server (sse), mcpwarden sandboxes stdio servers only",
		"tool":    "no built-in profile matches /opt/tool, so it runs under the strict default profile",
		"mem":     "profile memory does not pass GITHUB_TOKEN to the server",
		"fake":    "its command is mcpwarden but its arguments are not a run command line",
		"nocmd":   "it has no command",
		"badargs": "its args is not a list of strings",
		"notobj":  "its entry is not an object",
	} {
		if !strings.Contains(detail[name], want) {
			t.Errorf("%s: detail %q, want it to contain %q", name, detail[name], want)
		}
	}
	if strings.Contains(detail["mem"], "MEMORY_FILE_PATH") {
		t.Errorf("mem: MEMORY_FILE_PATH is passed by the memory profile, but reported dropped: %q", detail["mem"])
	}
	for _, name := range []string{"remote", "sse", "fake", "nocmd", "badargs", "notobj"} {
		if action[name] != NotWrapped {
			t.Errorf("%s: %s, want not wrapped", name, action[name])
		}
	}
}

// TestWrapQuoting feeds commands and names that need escaping in each
// syntax; the edit is verified by decoding, and must round-trip.
func TestWrapQuoting(t *testing.T) {
	odd := `/opt/we"ird\ dir/ser` + "\u00e9ver\t"
	for _, tc := range []struct{ client, input string }{
		{"cursor", `{"mcpServers": {"na\"me": {"command": "/opt/we\"ird\\ dir/ser\u00e9ver\t", "args": ["a\nb"]}}}`},
		{"codex", "[mcp_servers.\"na\\\"me\"]\ncommand = \"/opt/we\\\"ird\\\\ dir/ser\\u00e9ver\\t\"\nargs = ['a', \"\"\"\nmulti\"\"\"]\n"},
	} {
		c, _ := Lookup(tc.client)
		wardenOdd := `/home/o"d\d/mcpwarden`
		res, err := Wrap([]byte(tc.input), c, Options{Warden: wardenOdd})
		if err != nil {
			t.Fatalf("%s: %v", tc.client, err)
		}
		m := lookupMap(decodeOrFail(t, c, res.Output), []string{c.Locations[0][0], `na"me`})
		args, _ := m["args"].([]any)
		if m["command"] != wardenOdd || len(args) < 5 || args[4] != odd {
			t.Errorf("%s: wrapped entry %v, want command %q and %q after --", tc.client, m, wardenOdd, odd)
		}
		un, err := Unwrap(res.Output, c, Options{Warden: wardenOdd})
		if err != nil || string(un.Output) != tc.input {
			t.Errorf("%s: unwrap gave (err %v)\n%s", tc.client, err, un.Output)
		}
	}
}

// TestMalformedRejected: a file that does not parse, or that a client
// could read differently than this package (a duplicate name), is refused.
func TestMalformedRejected(t *testing.T) {
	for _, tc := range []struct{ name, client, input, want string }{
		{"missing comma", "claude-desktop", "{\n  \"mcpServers\": {\n    \"a\": {\"command\": \"x\"}\n    \"b\": {}\n  }\n}", "line 4, column 5"},
		{"duplicate command", "cursor", `{"mcpServers": {"a": {"command": "npx", "args": [], "command": "evil"}}}`, "duplicate"},
		{"duplicate server", "cursor", `{"mcpServers": {"a": {"command": "x"}, "a": {"command": "y"}}}`, "duplicate"},
		{"top level array", "cursor", `[{"mcpServers": {}}]`, "top level"},
		{"invalid utf8", "vscode", "{\"servers\": {\"a\": {\"command\": \"\xff\"}}}", "UTF-8"},
		{"empty", "windsurf", "", "not valid JSON"},
		{"comment not closed", "vscode", `{"servers": {} /* `, "not valid JSON"},
		{"toml duplicate table", "codex", "[mcp_servers.a]\ncommand = \"x\"\n[mcp_servers.a]\ncommand = \"y\"\n", "line 3"},
		{"toml bad value", "codex", "[mcp_servers.a]\ncommand = npx\n", "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := Lookup(tc.client)
			_, err := Wrap([]byte(tc.input), c, Options{Warden: warden})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("wrap: error %v, want one containing %q", err, tc.want)
			}
			if _, err := Unwrap([]byte(tc.input), c, Options{}); err == nil {
				t.Fatal("unwrap accepted it")
			}
		})
	}
}

func TestSplitRun(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		index   int
		profile string
		ok      bool
	}{
		{[]string{"run", "--profile", "memory", "--", "npx", "-y"}, 4, "memory", true},
		{[]string{"run", "--audit-log", "/a", "--profile=fs", "npx", "x"}, 4, "fs", true},
		{[]string{"run", "-profile", "p", "--best-effort", "--", "--odd-server"}, 5, "p", true},
		{[]string{"run", "node", "s.js"}, 1, "", true},
		{[]string{"run", "--flag-of-a-later-release", "v", "--profile", "p", "--", "npx"}, 6, "p", true},
		{[]string{"run", "--profile"}, 0, "", false},
		{[]string{"run", "--profile", "p", "--"}, 0, "", false},
		{[]string{"version"}, 0, "", false},
		{nil, 0, "", false},
	} {
		i, p, ok := splitRun(tc.args)
		if i != tc.index || p != tc.profile || ok != tc.ok {
			t.Errorf("splitRun(%q) = %d, %q, %v; want %d, %q, %v", tc.args, i, p, ok, tc.index, tc.profile, tc.ok)
		}
	}
}

// TestUnwrapHandWrapped: an entry wrapped by hand, with other run flags
// and no "--", is unwrapped too.
func TestUnwrapHandWrapped(t *testing.T) {
	c, _ := Lookup("cursor")
	in := `{"mcpServers": {"m": {"command": "mcpwarden", "args": ["run", "--audit-log", "/tmp/a", "npx", "-y", "pkg"]}}}`
	res, err := Unwrap([]byte(in), c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"mcpServers": {"m": {"command": "npx", "args": ["-y", "pkg"]}}}`; string(res.Output) != want {
		t.Errorf("unwrap gave\n%s\nwant\n%s", res.Output, want)
	}
}

func TestPaths(t *testing.T) {
	env := Env{Home: "/home/me", XDGConfigHome: "/xdg"}
	for _, tc := range []struct {
		client, project string
		env             Env
		want            []string
	}{
		{"claude-desktop", "", env, []string{"/xdg/Claude/claude_desktop_config.json", "/home/me/Library/Application Support/Claude/claude_desktop_config.json"}},
		{"claude-desktop", "", Env{Home: "/home/me", XDGConfigHome: "relative"}, []string{"/home/me/.config/Claude/claude_desktop_config.json", "/home/me/Library/Application Support/Claude/claude_desktop_config.json"}},
		{"claude-desktop", "/p", env, nil},
		{"claude-code", "", env, []string{"/home/me/.claude.json"}},
		{"claude-code", "/p", env, []string{"/p/.mcp.json"}},
		{"cursor", "", env, []string{"/home/me/.cursor/mcp.json"}},
		{"cursor", "/p", env, []string{"/p/.cursor/mcp.json"}},
		{"vscode", "", env, []string{"/xdg/Code/User/mcp.json", "/home/me/Library/Application Support/Code/User/mcp.json"}},
		{"vscode", "/p", env, []string{"/p/.vscode/mcp.json"}},
		{"windsurf", "", env, []string{"/home/me/.codeium/windsurf/mcp_config.json"}},
		{"codex", "", env, []string{"/home/me/.codex/config.toml"}},
		{"codex", "", Env{Home: "/home/me", CodexHome: "/c"}, []string{"/c/config.toml"}},
		{"codex", "/p", env, []string{"/p/.codex/config.toml"}},
		{"cursor", "", Env{}, nil},
	} {
		c, err := Lookup(tc.client)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Paths(tc.env, tc.project); !slices.Equal(got, tc.want) {
			t.Errorf("%s project %q: %q, want %q", tc.client, tc.project, got, tc.want)
		}
	}
	if _, err := Lookup("emacs"); err == nil || !strings.Contains(err.Error(), "claude-desktop") {
		t.Errorf("Lookup(emacs): %v, want an error listing the clients", err)
	}
	for path, want := range map[string]string{
		"/x/config.toml": "codex", "/home/me/.claude.json": "claude-code", "/w/.vscode/mcp.json": "vscode",
		"/home/me/.config/Code/User/mcp.json": "vscode", "/x/claude_desktop_config.json": "claude-desktop",
	} {
		if got := ForFile(path).Name; got != want {
			t.Errorf("ForFile(%s) = %s, want %s", path, got, want)
		}
	}
}

// FuzzWrap: any input is refused with an error or wrapped; a wrapped
// file wraps again to itself, and unwraps to a file that wraps to it
// again. No input may panic (the TOML scanner runs on what the decoder
// accepted, and must agree with it).
func FuzzWrap(f *testing.F) {
	for _, tc := range formatCases {
		f.Add(tc.client == "codex", tc.input)
	}
	f.Add(true, "[mcp_servers.a]\ncommand = \"x\"\nargs = [ [1, 2], {a = 1}, 1979-05-27 07:32:00Z ]\n")
	f.Add(true, "mcp_servers.a.command = \"x\" # c\nmcp_servers.a.args = []\n")
	f.Add(true, "[mcp_servers]\na = {command = '''x''', args = [\"\"\"\n\"\"\"\"\"]}\n")
	f.Fuzz(func(t *testing.T, toml bool, input string) {
		c, _ := Lookup("claude-code")
		if toml {
			c, _ = Lookup("codex")
		}
		opts := Options{Warden: warden}
		res, err := Wrap([]byte(input), c, opts)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("wrap: %v\n%q", err, input)
			}
			return
		}
		again, err := Wrap(res.Output, c, opts)
		if err != nil || !bytes.Equal(again.Output, res.Output) {
			t.Fatalf("wrap is not idempotent (%v):\n%q\n%q", err, res.Output, again.Output)
		}
		un, err := Unwrap(res.Output, c, opts)
		if err != nil {
			t.Fatalf("unwrap of a wrapped file: %v\n%q", err, res.Output)
		}
		// Unwrapping a wrapped file comes back to the unwrapped original
		// (up to an empty args list where there was none), so wrapping
		// either gives the same servers.
		re, err := Wrap(un.Output, c, opts)
		if err != nil {
			t.Fatalf("wrap of an unwrapped file: %v\n%q", err, un.Output)
		}
		plain, err := Unwrap([]byte(input), c, opts)
		if err != nil {
			t.Fatalf("unwrap of the input: %v", err)
		}
		direct, err := Wrap(plain.Output, c, opts)
		if err != nil {
			t.Fatalf("wrap of the unwrapped input: %v", err)
		}
		if !reflect.DeepEqual(decodeOrFail(t, c, re.Output), decodeOrFail(t, c, direct.Output)) {
			t.Fatalf("wrap, unwrap, wrap differs from unwrap, wrap:\n%q\n%q", re.Output, direct.Output)
		}
	})
}
