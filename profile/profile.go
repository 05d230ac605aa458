// Package profile loads, validates and selects mcpwarden profiles.
//
// A profile is a TOML file that says how one MCP server is confined: what the
// sandbox lets it reach (network, paths, environment, resource limits) and
// which tools, resources and prompts of its own it may offer. Profiles come
// from the files embedded in package profiles or from a path given by the
// user. Because a mistake in a profile weakens the confinement silently, this
// package rejects anything it does not understand: unknown keys, values of
// the wrong type and malformed paths, globs or sizes are errors that name the
// file, the line and the key.
package profile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/mcpwarden/mcpwarden/profiles"
)

// MaxSize is the largest profile file accepted, in bytes. Profiles are a few
// kilobytes; the bound keeps a wrong path (a log file, a device) from being
// read whole.
const MaxSize = 1 << 20

// ArgDirs is the placeholder that stands, in a path list, for every argument
// of the server's command line that names an existing directory.
const ArgDirs = "{arg_dirs}"

// DefaultName is the name of the built-in profile used when no other fits.
const DefaultName = "default"

// Profile is a parsed and validated profile.
type Profile struct {
	Server    Server
	Sandbox   Sandbox
	Tools     Lists // globs over tool names
	Resources Lists // globs over resource URIs
	Prompts   Lists // globs over prompt names
	// ToolRules are the [tools.rules.NAME] tables, in the order written.
	ToolRules []ToolRule
	// ToolLimits ([tools.limits]) bound all tool calls of a session.
	ToolLimits CallLimits
	Guards     Guards
	Source     []byte // the TOML text the profile was parsed from
	Origin     string // "builtin:NAME" or the file's path
}

// Server identifies the server a profile is written for.
type Server struct {
	Name        string
	Description string
	// Match holds globs over the server's command line; see Select.
	Match []string
}

// Sandbox is what the server may reach from inside its sandbox.
type Sandbox struct {
	// Network is "none", "proxy" (egress only to AllowHosts) or "host".
	Network string
	// AllowHosts holds "host:port" entries, the host possibly starting
	// with "*."; only with Network "proxy".
	AllowHosts []string
	// AllowPrivate holds CIDR prefixes of private addresses that the proxy
	// may connect to; only with Network "proxy".
	AllowPrivate []string
	// Read lists paths the server may read and execute; Write paths it may
	// also modify; Hide paths replaced by empty directories. Entries are
	// absolute, "~", "~/..." or ArgDirs; see ExpandPaths.
	Read, Write, Hide []string
	// Env names the environment variables passed through to the server;
	// an entry "NAME=value" sets NAME to value instead.
	Env []string
	// SeccompDeny names system calls that fail with EPERM on top of the
	// sandbox's own list.
	SeccompDeny []string
	Limits      Limits
}

// Limits are resource limits; a zero field means no limit.
type Limits struct {
	Memory     int64 // bytes
	FileSize   int64 // bytes, largest file the server may write
	Processes  int
	OpenFiles  int
	CPUSeconds int
}

// Lists is an allow list and a deny list of globs. A name is permitted when
// it matches some Allow glob and no Deny glob. An empty Allow permits
// nothing; a profile that omits allow gets ["*"].
type Lists struct {
	Allow, Deny []string
}

// Parse parses and validates the TOML text data. Origin names the text in
// error messages and is stored in the result: a file path, or "builtin:NAME".
//
// A returned error wraps one *Error per problem found (see errors.Join), in
// the order of their lines, or reports why the text could not be read.
func Parse(origin string, data []byte) (*Profile, error) {
	if len(data) > MaxSize {
		return nil, &Error{Origin: origin, Msg: fmt.Sprintf("profile is %d bytes, more than the limit of %d (is this the right file?)", len(data), MaxSize)}
	}
	p, err := decode(origin, string(data))
	if err != nil {
		return nil, err
	}
	p.Source = slices.Clone(data)
	p.Origin = origin
	return p, nil
}

// Load reads and parses the profile file at path.
func Load(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	defer f.Close()
	// Read one byte past the limit so Parse can tell an oversized file.
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", path, err)
	}
	return Parse(path, data)
}

// Builtin returns the built-in profile called name.
func Builtin(name string) (*Profile, error) {
	if !validName(name) {
		return nil, unknownBuiltin(name)
	}
	data, err := fs.ReadFile(profiles.FS(), name+".toml")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, unknownBuiltin(name)
	}
	if err != nil {
		return nil, fmt.Errorf("profile builtin:%s: %w", name, err)
	}
	return parseBuiltin(name, data)
}

func parseBuiltin(name string, data []byte) (*Profile, error) {
	p, err := Parse("builtin:"+name, data)
	if err != nil {
		return nil, err
	}
	if p.Server.Name != name {
		return nil, &Error{Origin: p.Origin, Key: "server.name",
			Msg: fmt.Sprintf("server.name is %q but the file is %s.toml (the two must agree)", p.Server.Name, name)}
	}
	return p, nil
}

// Builtins returns every built-in profile, sorted by name.
func Builtins() ([]*Profile, error) {
	names, err := BuiltinNames()
	if err != nil {
		return nil, err
	}
	ps := make([]*Profile, 0, len(names))
	for _, name := range names {
		p, err := Builtin(name)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// BuiltinNames returns the names of the built-in profiles, sorted, without
// parsing any of them: for listing names and suggesting the nearest one
// to a misspelt name.
func BuiltinNames() ([]string, error) {
	entries, err := fs.ReadDir(profiles.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("listing built-in profiles: %w", err)
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".toml"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

func unknownBuiltin(name string) error {
	names, err := BuiltinNames()
	if err != nil {
		return err
	}
	return fmt.Errorf("profile %q: no built-in profile has this name (built-in: %s; or give the path of a .toml file)",
		name, strings.Join(names, ", "))
}

// Resolve returns the profile named by nameOrPath, as given to
// `mcpwarden run --profile`: a file path when it contains a '/' or ends in
// ".toml", else the name of a built-in profile.
func Resolve(nameOrPath string) (*Profile, error) {
	if strings.Contains(nameOrPath, "/") || path.Ext(nameOrPath) == ".toml" {
		return Load(nameOrPath)
	}
	return Builtin(nameOrPath)
}
