package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/mcpwarden/mcpwarden/profiles"
)

// Select returns the built-in profile whose server.match fits the server's
// command line argv (argv[0] is the command), or the default profile when
// none does.
//
// A match pattern is a glob ('*' any run of characters, '?' one character).
// It fits an argument A when it matches A itself, A without a trailing
// "@version", the last element of A as a path, or any run of consecutive
// '/'-separated elements of A, so that a script at
// ".../node_modules/@scope/pkg/dist/index.js" fits "@scope/pkg". A run
// does not start inside a scoped name: "@other/pkg" does not fit "pkg".
// When several profiles fit, the one with the longest fitting pattern wins,
// then the one whose name sorts first.
//
// Only the arguments that name the program are looked at: argv[0] and, when
// argv[0] is a launcher such as npx, node, uvx, python or docker run, the
// package, script, module or image it starts. The server's own arguments
// are data (a directory to serve, a URL) and are ignored, so that a
// directory named like some package cannot pick that package's profile.
func Select(argv []string) (*Profile, error) {
	if len(argv) == 0 {
		return nil, errors.New("profile: empty server command line (give the command after --)")
	}
	cands, err := builtinMatches()
	if err != nil {
		return nil, err
	}
	name := bestMatch(cands, argv)
	if name == "" {
		name = DefaultName
	}
	return Builtin(name)
}

// candidate is a built-in profile's name and its server.match patterns.
type candidate struct {
	name  string
	match []string
}

// builtinMatches returns the match patterns of every built-in profile,
// sorted by name. Only the chosen profile needs parsing whole: decoding
// all of them cost a few milliseconds on every start of mcpwarden run
// without --profile, so each one's [server] table is decoded alone, and
// a file whose [server] table cannot be cut out is parsed whole.
func builtinMatches() ([]candidate, error) {
	names, err := BuiltinNames()
	if err != nil {
		return nil, err
	}
	cands := make([]candidate, 0, len(names))
	for _, name := range names {
		data, err := fs.ReadFile(profiles.FS(), name+".toml")
		if err != nil {
			return nil, fmt.Errorf("profile builtin:%s: %w", name, err)
		}
		var head struct {
			Server struct {
				Match []string `toml:"match"`
			} `toml:"server"`
		}
		table, ok := serverTable(data)
		if ok {
			_, err = toml.Decode(string(table), &head)
		}
		if !ok || err != nil {
			p, err := parseBuiltin(name, data)
			if err != nil {
				return nil, err
			}
			head.Server.Match = p.Server.Match
		}
		cands = append(cands, candidate{name, head.Server.Match})
	}
	return cands, nil
}

// serverTable cuts the [server] table out of a profile: from its header
// line to the next line that starts a table. The built-in profiles are
// written so (a test holds every one of them to it).
func serverTable(data []byte) ([]byte, bool) {
	start, off := -1, 0
	for line := range bytes.Lines(data) {
		if start < 0 && string(bytes.TrimSpace(line)) == "[server]" {
			start = off
		} else if start >= 0 && line[0] == '[' {
			return data[start:off], true
		}
		off += len(line)
	}
	if start < 0 {
		return nil, false
	}
	return data[start:], true
}

// bestMatch returns the name of the candidate, sorted by name, that fits
// argv best, or "".
func bestMatch(cands []candidate, argv []string) string {
	args := programArgs(argv)
	best, bestLen := "", -1
	for _, c := range cands {
		for _, pat := range c.match {
			// Strictly longer, so that on a tie the first name stays.
			if len(pat) > bestLen && fitsAny(pat, args) {
				best, bestLen = c.name, len(pat)
			}
		}
	}
	return best
}

func fitsAny(pattern string, args []string) bool {
	for _, a := range args {
		if fits(pattern, a) {
			return true
		}
	}
	return false
}

// maxSegments bounds the path elements of one argument that are combined
// into runs, keeping the work quadratic in a small number.
const maxSegments = 32

// fits reports whether pattern fits the argument a, as described at Select.
// A run never starts just after a scope ("@scope/"): "@other/pkg" names a
// different package than "pkg" does.
func fits(pattern, a string) bool {
	for _, form := range argForms(a) {
		if globMatch(pattern, form) {
			return true
		}
		segs := strings.FieldsFunc(form, func(r rune) bool { return r == '/' })
		segs = segs[max(0, len(segs)-maxSegments):]
		for i := range segs {
			if i > 0 && strings.HasPrefix(segs[i-1], "@") {
				continue
			}
			for j := i + 1; j <= len(segs); j++ {
				if globMatch(pattern, strings.Join(segs[i:j], "/")) {
					return true
				}
			}
		}
	}
	return false
}

// argForms returns a, without deno's "npm:" prefix, and, if a ends in
// "@version", a without it (the '@' that starts a scoped name does not
// count).
func argForms(a string) []string {
	a = strings.TrimPrefix(a, "npm:")
	forms := []string{a}
	if i := strings.LastIndexByte(a, '@'); i > 0 && !strings.Contains(a[i:], "/") {
		forms = append(forms, a[:i])
	}
	return forms
}

// globMatch reports whether name matches pattern entirely: '*' matches any
// run of characters, '/' included, '?' one character, anything else itself.
func globMatch(pattern, name string) bool {
	px, nx := 0, 0
	starPx, starNx := -1, 0 // where to resume when the last '*' must take more
	for px < len(pattern) || nx < len(name) {
		if px < len(pattern) {
			switch c := pattern[px]; {
			case c == '*':
				starPx, starNx = px, nx
				px++
				continue
			case c == '?' && nx < len(name):
				_, w := utf8.DecodeRuneInString(name[nx:])
				px, nx = px+1, nx+w
				continue
			case c != '?' && nx < len(name) && name[nx] == c:
				px, nx = px+1, nx+1
				continue
			}
		}
		if starPx < 0 || starNx >= len(name) {
			return false
		}
		_, w := utf8.DecodeRuneInString(name[starNx:])
		starNx += w
		px, nx = starPx+1, starNx
	}
	return true
}

// launcher describes a command that runs another program named among its
// arguments.
type launcher struct {
	subcommands []string // words before the program, such as "run" in "uv run"
	naming      []string // options whose value names the program, such as npx -p
	valued      []string // other options that take the next argument as value
	final       []string // options after which everything is the program's, as python -m
	assignments bool     // NAME=VALUE words precede the program, as for env
}

// launcherFor returns how the command named cmd finds its program.
func launcherFor(cmd string) (launcher, bool) {
	name := path.Base(cmd)
	if v, ok := strings.CutPrefix(name, "python"); ok && strings.Trim(v, "0123456789.") == "" {
		return launcher{naming: []string{"-m"}, valued: []string{"-W", "-X"}, final: []string{"-m", "-c"}}, true
	}
	switch name {
	case "npx", "pnpx", "bunx":
		return launcher{naming: []string{"-p", "--package"}}, true
	case "npm":
		return launcher{subcommands: []string{"exec", "x"}, naming: []string{"-p", "--package"}}, true
	case "pnpm":
		return launcher{subcommands: []string{"dlx", "exec"}, naming: []string{"--package"}}, true
	case "yarn":
		return launcher{subcommands: []string{"dlx"}, naming: []string{"-p", "--package"}}, true
	case "bun":
		return launcher{subcommands: []string{"x", "run"}}, true
	case "deno":
		return launcher{subcommands: []string{"run"}}, true
	case "node", "nodejs", "tsx", "ts-node":
		return launcher{valued: []string{"-r", "--require", "--import", "--loader", "--experimental-loader", "-C", "--conditions"},
			final: []string{"-e", "--eval", "-p", "--print"}}, true
	case "uvx":
		return launcher{naming: []string{"--from"}, valued: []string{"--with", "--python", "-p", "--index", "--index-url", "--extra-index-url"}}, true
	case "uv":
		return launcher{subcommands: []string{"run", "tool"}, naming: []string{"--from", "--directory", "--project"},
			valued: []string{"--with", "--python", "-p", "--index", "--index-url", "--extra-index-url", "--env-file"}}, true
	case "pipx":
		return launcher{subcommands: []string{"run"}, naming: []string{"--spec"}, valued: []string{"--python", "--index-url", "--pip-args"}}, true
	case "docker", "podman":
		return launcher{subcommands: []string{"run", "container"}, valued: []string{
			"-e", "--env", "--env-file", "-v", "--volume", "--mount", "--name", "-w", "--workdir", "--network", "--net",
			"-p", "--publish", "-u", "--user", "--entrypoint", "-l", "--label", "--platform", "-m", "--memory", "--cpus",
			"--add-host", "--cap-add", "--cap-drop", "--device", "--security-opt", "--tmpfs", "--ulimit", "-h", "--hostname",
			"--pull", "--restart", "--log-driver", "--log-opt", "--runtime"}}, true
	case "env":
		return launcher{valued: []string{"-u", "--unset", "-C", "--chdir"}, assignments: true}, true
	}
	return launcher{}, false
}

// programArgs returns the arguments of argv that name the program: argv[0]
// and, through any chain of launchers, the values of naming options and
// the program each launcher starts.
func programArgs(argv []string) []string {
	var out []string
	for len(argv) > 0 {
		out = append(out, argv[0])
		l, ok := launcherFor(argv[0])
		if !ok {
			break
		}
		var named []string
		argv, named = l.program(argv[1:])
		out = append(out, named...)
	}
	return out
}

// program skips the launcher's own arguments in args and returns the rest,
// starting with the program, and the values of naming options on the way.
func (l launcher) program(args []string) (rest, named []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return args[i+1:], named
		case strings.HasPrefix(a, "-") && a != "-":
			opt, val, inline := strings.Cut(a, "=")
			isNaming := slices.Contains(l.naming, opt)
			if !inline && (isNaming || slices.Contains(l.valued, opt)) && i+1 < len(args) {
				i++
				val = args[i]
			}
			if isNaming && val != "" {
				named = append(named, val)
			}
			if slices.Contains(l.final, opt) {
				return nil, named
			}
		case slices.Contains(l.subcommands, a):
		case l.assignments && strings.Contains(a, "="):
		default:
			return args[i:], named
		}
	}
	return nil, named
}
