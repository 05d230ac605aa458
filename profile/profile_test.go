package profile

import (
	"errors"
	"github.com/go-json-experiment/json/jsontext"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestBuiltinsParse(t *testing.T) {
	ps, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Server.Name)
		if p.Origin != "builtin:"+p.Server.Name {
			t.Errorf("%s: Origin = %q", p.Server.Name, p.Origin)
		}
		if !strings.HasPrefix(string(p.Source), "#") {
			t.Errorf("%s: does not start with a comment block", p.Server.Name)
		}
		// The network and the limits of the profiles for servers that
		// need more are pinned in package profiles (builtin_test.go).
		local := slices.Contains([]string{"default", "everything", "filesystem", "memory"}, p.Server.Name)
		if local && p.Sandbox.Network != "none" {
			t.Errorf("%s: network = %q, want none", p.Server.Name, p.Sandbox.Network)
		}
		want := Limits{Memory: 1 << 30, Processes: 256, OpenFiles: 1024}
		if local && p.Sandbox.Limits != want {
			t.Errorf("%s: limits = %+v, want %+v", p.Server.Name, p.Sandbox.Limits, want)
		}
		if !reflect.DeepEqual(p.Tools.Allow, []string{"*"}) {
			t.Errorf("%s: tools.allow = %q", p.Server.Name, p.Tools.Allow)
		}
		for _, h := range []string{"~/.ssh", "~/.aws", "~/.gnupg", "~/.config/gcloud", "~/.kube", "~/.docker"} {
			if !slices.Contains(p.Sandbox.Hide, h) {
				t.Errorf("%s: hide lacks %s", p.Server.Name, h)
			}
		}
		for _, e := range []string{"PATH", "HOME", "LANG"} {
			if !slices.Contains(p.Sandbox.Env, e) {
				t.Errorf("%s: env lacks %s", p.Server.Name, e)
			}
		}
	}
	if want := []string{"brave-search", "default", "everything", "fetch", "filesystem", "git", "github", "github-mcp-server", "memory",
		"playwright", "postgres", "puppeteer", "sequential-thinking", "slack", "sqlite", "time"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Builtins() = %q, want %q", names, want)
	}
}

func TestBuiltinGrants(t *testing.T) {
	for _, tc := range []struct {
		name         string
		match        []string
		write        []string
		readArgDirs  bool
		extraEnv     string
		noReadInHome bool
	}{
		{name: "default", readArgDirs: true},
		{name: "filesystem", match: []string{"@modelcontextprotocol/server-filesystem", "mcp-server-filesystem"}, write: []string{ArgDirs, "~/.npm"}, readArgDirs: true},
		{name: "everything", match: []string{"@modelcontextprotocol/server-everything", "mcp-server-everything"}, write: []string{"~/.npm"}},
		{name: "memory", match: []string{"@modelcontextprotocol/server-memory", "mcp-server-memory"}, write: []string{"~/.local/share/mcp-server-memory", "~/.npm"}, extraEnv: "MEMORY_FILE_PATH"},
	} {
		p, err := Builtin(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p.Server.Match, tc.match) {
			t.Errorf("%s: match = %q, want %q", tc.name, p.Server.Match, tc.match)
		}
		if !reflect.DeepEqual(p.Sandbox.Write, tc.write) {
			t.Errorf("%s: write = %q, want %q", tc.name, p.Sandbox.Write, tc.write)
		}
		if got := slices.Contains(p.Sandbox.Read, ArgDirs); got != tc.readArgDirs {
			t.Errorf("%s: read has {arg_dirs} = %v", tc.name, got)
		}
		if tc.extraEnv != "" && !slices.Contains(p.Sandbox.Env, tc.extraEnv) {
			t.Errorf("%s: env lacks %s", tc.name, tc.extraEnv)
		}
		// The home directory as a whole must never be readable, let alone
		// writable: credentials live there.
		for _, path := range append(append([]string{}, p.Sandbox.Read...), p.Sandbox.Write...) {
			if path == "~" || path == "/" || path == "/home" || path == "/root" {
				t.Errorf("%s: grants %s", tc.name, path)
			}
		}
		// Writing to a package cache lets the server alter the code of
		// other servers: only npx needs it (its own cache, which it updates
		// even for a cached package), and only servers launched by npx get it.
		for _, w := range p.Sandbox.Write {
			npx := w == "~/.npm" && slices.ContainsFunc(p.Server.Match, func(m string) bool { return strings.HasPrefix(m, "@") })
			if !npx && (strings.HasPrefix(w, "~/.npm") || strings.HasPrefix(w, "~/.cache") || strings.HasPrefix(w, "~/.nvm")) {
				t.Errorf("%s: writes %s", tc.name, w)
			}
		}
	}
}

const everyKey = `
[server]
name = "every.key_1-x"
description = "all keys"
match = ["@scope/pkg", "pkg-bin*"]

[sandbox]
network = "proxy"
allow_hosts = ["api.github.com:443", "*.example.com:8443", "10.1.2.3:80", "[::1]:8080", "UPPER.Example.COM:1"]
allow_private = ["10.0.0.0/8", "fd00::/8", "192.168.1.7/32"]
read = ["/usr", "~", "~/.npm", "{arg_dirs}", "/with space/and{brace}"]
write = ["{arg_dirs}", "/tmp/x"]
hide = ["~/.ssh"]
env = ["PATH", "_X1", "lower"]

[sandbox.limits]
memory = "512MiB"
processes = 64
open_files = 256
file_size = "100MB"
cpu_seconds = 30

[tools]
allow = ["read_*", "list_?"]
deny = ["delete_*"]

[tools.limits]
calls_per_minute = 120
burst = 20
max_calls = 1000
max_in_flight = 8
max_result_size = "4MiB"

[tools.rules.write_file]
approval = "always"
schema = '{"type": "object", "required": ["path"]}'
secrets = "block"
calls_per_minute = 6
max_calls = 10
max_in_flight = 1
max_result_size = "1KiB"

[tools.rules.write_file.args]
"/path" = { kind = "path", access = "write" }
"/paths/*" = { kind = "path" }
"/url" = { kind = "url", schemes = ["https"], allow_hosts = ["*.example.com"], deny_hosts = ["evil.example.com"], allow_private = ["10.1.0.0/16"] }
"/sql" = { kind = "sql", dialect = "postgres", deny_functions = ["my_fn"] }
"/cmd" = { kind = "command", allow = ["git status", "git log **"] }

[tools.rules.query]
approval = "once-per-session"

[guards]
secrets = "off"
strip_hidden = false
pin = false
approval_fallback = "refuse"

[resources]
allow = ["file:///*"]
deny = ["file:///etc/*"]

[prompts]
allow = []
deny = ["*"]
`

func TestEveryKeyRoundTrips(t *testing.T) {
	p, err := Parse("every.toml", []byte(everyKey))
	if err != nil {
		t.Fatal(err)
	}
	want := &Profile{
		Server: Server{Name: "every.key_1-x", Description: "all keys", Match: []string{"@scope/pkg", "pkg-bin*"}},
		Sandbox: Sandbox{
			Network:      "proxy",
			AllowHosts:   []string{"api.github.com:443", "*.example.com:8443", "10.1.2.3:80", "[::1]:8080", "UPPER.Example.COM:1"},
			AllowPrivate: []string{"10.0.0.0/8", "fd00::/8", "192.168.1.7/32"},
			Read:         []string{"/usr", "~", "~/.npm", "{arg_dirs}", "/with space/and{brace}"},
			Write:        []string{"{arg_dirs}", "/tmp/x"},
			Hide:         []string{"~/.ssh"},
			Env:          []string{"PATH", "_X1", "lower"},
			Limits:       Limits{Memory: 512 << 20, Processes: 64, OpenFiles: 256, FileSize: 100_000_000, CPUSeconds: 30},
		},
		Tools:      Lists{Allow: []string{"read_*", "list_?"}, Deny: []string{"delete_*"}},
		ToolLimits: CallLimits{CallsPerMinute: 120, Burst: 20, MaxCalls: 1000, MaxInFlight: 8, MaxResultSize: 4 << 20},
		ToolRules: []ToolRule{{
			Name: "write_file", Approval: "always", Secrets: "block",
			Schema: jsontext.Value(`{"type":"object","required":["path"]}`),
			Limits: CallLimits{CallsPerMinute: 6, MaxCalls: 10, MaxInFlight: 1, MaxResultSize: 1 << 10},
			Args: []ArgRule{
				{Pointer: "/path", Kind: KindPath, Access: "write"},
				{Pointer: "/paths/*", Kind: KindPath, Access: "read"},
				{Pointer: "/url", Kind: KindURL, Schemes: []string{"https"}, AllowHosts: []string{"*.example.com"},
					DenyHosts: []string{"evil.example.com"}, AllowPrivate: []string{"10.1.0.0/16"}},
				{Pointer: "/sql", Kind: KindSQL, Dialect: "postgres", DenyFunctions: []string{"my_fn"}},
				{Pointer: "/cmd", Kind: KindCommand, Allow: []string{"git status", "git log **"}},
			},
		}, {Name: "query", Approval: "once-per-session"}},
		Guards:    Guards{Secrets: "off", ApprovalFallback: "refuse"},
		Resources: Lists{Allow: []string{"file:///*"}, Deny: []string{"file:///etc/*"}},
		Prompts:   Lists{Allow: []string{}, Deny: []string{"*"}},
		Source:    []byte(everyKey),
		Origin:    "every.toml",
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", p, want)
	}
}

// The same profile written with inline tables and dotted keys is the same
// profile.
func TestInlineAndDottedForms(t *testing.T) {
	src := `
server = { name = "x", match = ["a"] }
sandbox.network = "host"
sandbox.limits = { memory = "1G", processes = 2 }
tools.deny = ["b"]
`
	p, err := Parse("x.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Server.Name != "x" || p.Sandbox.Network != "host" || p.Sandbox.Limits.Memory != 1<<30 ||
		p.Sandbox.Limits.Processes != 2 || !reflect.DeepEqual(p.Tools.Deny, []string{"b"}) {
		t.Errorf("got %+v", p)
	}
}

func TestDefaults(t *testing.T) {
	p, err := Parse("min.toml", []byte("[server]\nname = \"min\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Sandbox.Network != "none" {
		t.Errorf("network = %q, want none", p.Sandbox.Network)
	}
	all := Lists{Allow: []string{"*"}}
	for name, l := range map[string]Lists{"tools": p.Tools, "resources": p.Resources, "prompts": p.Prompts} {
		if !reflect.DeepEqual(l, all) {
			t.Errorf("%s = %+v, want %+v", name, l, all)
		}
	}
	if p.Sandbox.Limits != (Limits{}) || p.Sandbox.Read != nil || p.Sandbox.Write != nil || p.Sandbox.Env != nil {
		t.Errorf("sandbox = %+v, want nothing granted", p.Sandbox)
	}
}

// An explicit empty allow list allows nothing; only an absent one allows
// everything.
func TestAllowAbsentVersusEmpty(t *testing.T) {
	for _, tc := range []struct {
		body string
		want []string
	}{
		{"", []string{"*"}},
		{"deny = [\"x\"]", []string{"*"}},
		{"allow = []", []string{}},
		{"allow = [\"a\"]", []string{"a"}},
	} {
		for _, table := range []string{"tools", "resources", "prompts"} {
			src := "[server]\nname = \"x\"\n[" + table + "]\n" + tc.body + "\n"
			p, err := Parse("x.toml", []byte(src))
			if err != nil {
				t.Fatalf("%q: %v", src, err)
			}
			got := map[string]Lists{"tools": p.Tools, "resources": p.Resources, "prompts": p.Prompts}[table]
			if !reflect.DeepEqual(got.Allow, tc.want) {
				t.Errorf("[%s] %s: allow = %#v, want %#v", table, tc.body, got.Allow, tc.want)
			}
		}
	}
}

func TestParseCopiesSource(t *testing.T) {
	data := []byte("[server]\nname = \"x\"\n")
	p, err := Parse("x.toml", data)
	if err != nil {
		t.Fatal(err)
	}
	data[0] = '#'
	if p.Source[0] != '[' {
		t.Error("Profile.Source shares memory with the caller's slice")
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "mine.toml")
	if err := os.WriteFile(file, []byte("[server]\nname = \"mine\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	// A file in the working directory called like a built-in must not
	// shadow it: a bare name is always a built-in.
	if err := os.WriteFile("memory", []byte("[server]\nname = \"evil\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		arg, wantName, wantOrigin string
	}{
		{file, "mine", file},
		{"mine.toml", "mine", "mine.toml"},
		{"./mine.toml", "mine", "./mine.toml"},
		{"memory", "memory", "builtin:memory"},
		{"default", "default", "builtin:default"},
	} {
		p, err := Resolve(tc.arg)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tc.arg, err)
			continue
		}
		if p.Server.Name != tc.wantName || p.Origin != tc.wantOrigin {
			t.Errorf("Resolve(%q) = %s from %s, want %s from %s", tc.arg, p.Server.Name, p.Origin, tc.wantName, tc.wantOrigin)
		}
	}

	_, err := Resolve("nosuch")
	if err == nil || !strings.Contains(err.Error(), "default, everything, fetch, filesystem, git") {
		t.Errorf("Resolve(unknown name) = %v, want the list of built-in names", err)
	}
	for _, arg := range []string{"nosuch.toml", filepath.Join(dir, "nosuch")} {
		if _, err := Resolve(arg); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Resolve(%q) = %v, want not-exist", arg, err)
		}
	}
}

func TestBuiltinRejectsNonNames(t *testing.T) {
	for _, name := range []string{"", "../profile/x", "Default", "default.toml", ".", "a/b"} {
		if _, err := Builtin(name); err == nil {
			t.Errorf("Builtin(%q) succeeded", name)
		}
	}
}

func TestBuiltinNameMustMatchFile(t *testing.T) {
	_, err := parseBuiltin("memory", []byte("[server]\nname = \"filesystem\"\n"))
	if err == nil || !strings.Contains(err.Error(), "memory.toml") {
		t.Errorf("got %v, want a name mismatch error", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()

	big := filepath.Join(dir, "big.toml")
	data := []byte("[server]\nname = \"big\"\n" + strings.Repeat("#", MaxSize))
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Load(oversized) = %v, want a size error", err)
	}

	if _, err := Load(dir); err == nil {
		t.Error("Load(directory) succeeded")
	}

	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[server]\nname = \"x\"\n\n[sandbox]\nnetwrok = \"none\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(bad)
	if want := "profile " + bad + `:5: unknown key "sandbox.netwrok"`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load = %v, want prefix %q", err, want)
	}
}
