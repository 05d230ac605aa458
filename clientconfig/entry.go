package clientconfig

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/mcpwarden/mcpwarden/profile"
)

// Action is what happened, or would happen, to one server entry.
type Action string

const (
	Wrapped        Action = "wrapped"         // now runs under mcpwarden
	AlreadyWrapped Action = "already wrapped" // ran under mcpwarden before; left alone
	Unwrapped      Action = "unwrapped"       // runs its own command again
	NotWrapped     Action = "not wrapped"     // left alone, for the reason in Detail
)

// Report says what wrap or unwrap did to one server entry.
type Report struct {
	// Where is the location of the server list ("mcpServers",
	// "projects./home/me/app.mcpServers", "mcp_servers").
	Where string
	// Name is the server's name in the client.
	Name   string
	Action Action
	// Profile is the profile the server runs under, when wrapped.
	Profile string
	// Detail explains the action: why an entry is not wrapped, that no
	// built-in profile matched, environment variables the profile drops.
	Detail string
}

// Options are the choices of a wrap.
type Options struct {
	// Warden is the command that runs mcpwarden in the rewritten entries:
	// an absolute path, or "mcpwarden" to find it on the client's PATH.
	Warden string
	// RunFlags are extra flags for "mcpwarden run", placed after the
	// profile (such as "--best-effort").
	RunFlags []string
}

// runValueFlags are the flags of "mcpwarden run" that take a value in the
// next argument; they matter only for a line written by hand without "--".
var runValueFlags = []string{"profile", "audit-log", "max-message-size", "grace", "pin-dir"}

// isWarden reports whether command runs mcpwarden.
func isWarden(command string, opts Options) bool {
	return command == opts.Warden || filepath.Base(command) == "mcpwarden"
}

// splitRun parses the arguments of a wrapped entry, "run [FLAGS] [--] CMD
// [ARGS...]". It returns the index of CMD in args and the profile named by
// the flags ("" when none), or ok false when args is not such a line.
func splitRun(args []string) (cmdIndex int, prof string, ok bool) {
	if len(args) == 0 || args[0] != "run" {
		return 0, "", false
	}
	// With "--", as wrap writes it, the command follows the first one,
	// whatever flags come before (no flag of run takes "--" as a value).
	if k := slices.Index(args, "--"); k > 0 {
		if k+1 >= len(args) {
			return 0, "", false
		}
		for i := 1; i < k; i++ {
			name, val, inline := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
			if name == "profile" && !inline && i+1 < k {
				val = args[i+1]
			}
			if name == "profile" {
				prof = val
			}
		}
		return k + 1, prof, true
	}
	i := 1
	for i < len(args) {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		name, val, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !inline && slices.Contains(runValueFlags, name) {
			if i+1 >= len(args) {
				return 0, "", false
			}
			val = args[i+1]
			i++
		}
		if name == "profile" {
			prof = val
		}
		i++
	}
	if i >= len(args) {
		return 0, "", false
	}
	return i, prof, true
}

// wrapPrefix is what the arguments of a wrapped entry start with, before
// the server's own command and arguments.
func wrapPrefix(prof string, opts Options) []string {
	out := []string{"run", "--profile", prof}
	out = append(out, opts.RunFlags...)
	return append(out, "--")
}

// choose selects the built-in profile for argv and explains the choice
// when it is worth a word: no profile matched, or the entry sets
// environment variables the profile does not pass through.
func choose(argv []string, env []string) (name, detail string, err error) {
	p, err := profile.Select(argv)
	if err != nil {
		return "", "", err
	}
	var notes []string
	if p.Server.Name == profile.DefaultName {
		notes = append(notes, "no built-in profile matches "+strings.Join(argv, " ")+
			", so it runs under the strict default profile (see mcpwarden profile show default)")
	}
	if dropped := droppedEnv(p, env); len(dropped) > 0 {
		notes = append(notes, "profile "+p.Server.Name+" does not pass "+strings.Join(dropped, ", ")+
			" to the server; name them in a profile's sandbox.env")
	}
	return p.Server.Name, strings.Join(notes, "; "), nil
}

// droppedEnv returns the names in env that profile p does not pass to the
// server.
func droppedEnv(p *profile.Profile, env []string) []string {
	var out []string
	for _, name := range env {
		kept := slices.ContainsFunc(p.Sandbox.Env, func(e string) bool {
			n, _, _ := strings.Cut(e, "=")
			return n == name
		})
		if !kept {
			out = append(out, name)
		}
	}
	return out
}

// remoteTypes are the transport types of servers reached over the network.
var remoteTypes = []string{"http", "sse", "streamable-http", "streamableHttp", "ws", "websocket"}

// remoteKind returns the transport of a server entry that is not started
// as a local process ("" for a stdio server): its type, or "http" for an
// entry that names a URL.
func remoteKind(typ string, hasURL bool) string {
	if slices.Contains(remoteTypes, typ) {
		return typ
	}
	if hasURL && (typ == "" || typ == "stdio") {
		return "http"
	}
	return ""
}

// remoteDetail is the explanation for a remote server.
func remoteDetail(kind string) string {
	return "remote server (" + kind + "), mcpwarden sandboxes stdio servers only"
}
