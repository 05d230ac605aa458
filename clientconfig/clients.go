// Package clientconfig rewrites the MCP server lists of MCP clients (Claude
// Desktop, Claude Code, Cursor, VS Code, Windsurf, Codex) so that every stdio
// server runs under "mcpwarden run" with its matching profile, and undoes it.
//
// Adoption has to be one command, and a configuration file is the user's
// own: the package edits only the command and args of each server, byte
// ranges in place, so comments, key order, odd formatting and keys it does
// not know stay as they were. Every edit is checked by decoding the result
// and comparing it with the original plus the intended change; a file is
// backed up before it is first changed and replaced atomically.
package clientconfig

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format is the syntax of a configuration file.
type Format int

const (
	// JSON is JSON with comments and trailing commas (JSONC), which VS Code
	// writes and which is a superset of the JSON the other clients read.
	JSON Format = iota
	// TOML is the syntax of Codex's config.toml.
	TOML
)

// Client describes one MCP client: where its files are and where the
// server entries are inside them.
type Client struct {
	// Name is the client's name on the command line ("claude-desktop").
	Name string
	// Title is the client's name for people ("Claude Desktop").
	Title string
	// Format is the syntax of its files.
	Format Format
	// Locations are the key paths of the objects that map server names to
	// server entries; "*" stands for every member (Claude Code keeps
	// per-project servers under projects.<dir>.mcpServers). For TOML the
	// only location is mcp_servers.
	Locations [][]string
	user      func(Env) []string
	project   func(dir string) []string
}

// Env holds the environment values the clients' user paths depend on, so
// that path resolution is a pure function of them.
type Env struct {
	Home          string // $HOME
	XDGConfigHome string // $XDG_CONFIG_HOME; used when absolute
	CodexHome     string // $CODEX_HOME; used when absolute
}

// EnvFrom reads Env through getenv (os.Getenv in production).
func EnvFrom(getenv func(string) string) Env {
	return Env{Home: getenv("HOME"), XDGConfigHome: getenv("XDG_CONFIG_HOME"), CodexHome: getenv("CODEX_HOME")}
}

// configHome is $XDG_CONFIG_HOME when it is absolute, as the XDG Base
// Directory specification asks, else ~/.config.
func (e Env) configHome() string {
	if filepath.IsAbs(e.XDGConfigHome) {
		return e.XDGConfigHome
	}
	return filepath.Join(e.Home, ".config")
}

// macSupport is the macOS per-user application data directory.
func (e Env) macSupport(parts ...string) string {
	return filepath.Join(append([]string{e.Home, "Library", "Application Support"}, parts...)...)
}

var mcpServers = [][]string{{"mcpServers"}}

// clients is the list of supported clients, in the order "all" visits them.
func clients() []Client {
	return []Client{
		{
			Name: "claude-desktop", Title: "Claude Desktop", Format: JSON, Locations: mcpServers,
			user: func(e Env) []string {
				return []string{
					filepath.Join(e.configHome(), "Claude", "claude_desktop_config.json"),
					e.macSupport("Claude", "claude_desktop_config.json"),
				}
			},
		},
		{
			Name: "claude-code", Title: "Claude Code", Format: JSON,
			Locations: [][]string{{"mcpServers"}, {"projects", "*", "mcpServers"}},
			user:      func(e Env) []string { return []string{filepath.Join(e.Home, ".claude.json")} },
			project:   func(d string) []string { return []string{filepath.Join(d, ".mcp.json")} },
		},
		{
			Name: "cursor", Title: "Cursor", Format: JSON, Locations: mcpServers,
			user:    func(e Env) []string { return []string{filepath.Join(e.Home, ".cursor", "mcp.json")} },
			project: func(d string) []string { return []string{filepath.Join(d, ".cursor", "mcp.json")} },
		},
		{
			Name: "vscode", Title: "VS Code", Format: JSON, Locations: [][]string{{"servers"}},
			user: func(e Env) []string {
				return []string{
					filepath.Join(e.configHome(), "Code", "User", "mcp.json"),
					e.macSupport("Code", "User", "mcp.json"),
				}
			},
			project: func(d string) []string { return []string{filepath.Join(d, ".vscode", "mcp.json")} },
		},
		{
			Name: "windsurf", Title: "Windsurf", Format: JSON, Locations: mcpServers,
			user: func(e Env) []string {
				return []string{filepath.Join(e.Home, ".codeium", "windsurf", "mcp_config.json")}
			},
		},
		{
			Name: "codex", Title: "Codex", Format: TOML, Locations: [][]string{{"mcp_servers"}},
			user: func(e Env) []string {
				home := filepath.Join(e.Home, ".codex")
				if filepath.IsAbs(e.CodexHome) {
					home = e.CodexHome
				}
				return []string{filepath.Join(home, "config.toml")}
			},
			project: func(d string) []string { return []string{filepath.Join(d, ".codex", "config.toml")} },
		},
	}
}

// Clients returns every supported client.
func Clients() []Client { return clients() }

// ClientNames returns the names accepted by Lookup, for usage messages.
func ClientNames() []string {
	var names []string
	for _, c := range clients() {
		names = append(names, c.Name)
	}
	return names
}

// Lookup returns the client with the given name.
func Lookup(name string) (Client, error) {
	for _, c := range clients() {
		if c.Name == name {
			return c, nil
		}
	}
	return Client{}, fmt.Errorf("unknown client %q (want one of %s, or all)", name, strings.Join(ClientNames(), ", "))
}

// Paths returns the files where the client keeps its servers, most usual
// first: the user's files, or with a non-empty project directory that
// project's files instead. A client without project files returns none
// for a project.
func (c Client) Paths(env Env, project string) []string {
	if project != "" {
		if c.project == nil {
			return nil
		}
		return c.project(project)
	}
	if env.Home == "" {
		return nil
	}
	return c.user(env)
}

// ForFile returns the client whose files look like path, for a file named
// with --file and no --client: Codex for .toml, Claude Code for
// .claude.json, VS Code for a mcp.json in .vscode or Code/User, and a
// client reading mcpServers otherwise.
func ForFile(path string) Client {
	all := clients()
	pick := func(name string) Client {
		for _, c := range all {
			if c.Name == name {
				return c
			}
		}
		panic("clientconfig: no client " + name) // the names below are all in clients()
	}
	slash := filepath.ToSlash(path)
	switch {
	case strings.HasSuffix(slash, ".toml"):
		return pick("codex")
	case filepath.Base(path) == ".claude.json":
		return pick("claude-code")
	case strings.Contains(slash, ".vscode/") || strings.Contains(slash, "Code/User/"):
		return pick("vscode")
	}
	return pick("claude-desktop")
}
