package profile

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// maxProblems bounds the problems reported for one file; past it the rest
// is noise.
const maxProblems = 20

// decoder checks a parsed TOML document against the profile schema. It
// walks the generic map that toml produces rather than decoding into
// structs, so that every problem (an unknown key, a wrong type, a bad value)
// is found by the same code and reported with the key's line.
type decoder struct {
	origin string
	pos    positions
	errs   []*Error
}

func decode(origin, src string) (*Profile, error) {
	var doc map[string]any
	if _, err := toml.Decode(src, &doc); err != nil {
		return nil, syntaxError(origin, src, err)
	}
	d := &decoder{origin: origin, pos: scanPositions(src)}
	p := d.profile(doc)
	if err := d.err(); err != nil {
		return nil, err
	}
	return p, nil
}

func syntaxError(origin, src string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{Origin: origin, Line: errorLine(src, pe.Position), Msg: "syntax error: " + pe.Message}
	}
	return &Error{Origin: origin, Msg: "syntax error: " + err.Error()}
}

// errorLine returns the line of a syntax error. toml counts a newline that
// ends a line as part of the next one, so "[server" followed by a newline
// would be reported a line late; counting from the byte offset puts it
// where it was written, and an error at the end of the file goes on the
// last line that has text.
func errorLine(src string, p toml.Position) int {
	src = src[bomLen(src):] // toml reports offsets past it
	off := p.Start
	if off < 0 || off > len(src) {
		return p.Line
	}
	if strings.TrimRight(src[off:], " \t\r\n") == "" { // at the end of the file
		off = max(0, len(strings.TrimRight(src, " \t\r\n"))-1)
	}
	return strings.Count(src[:off], "\n") + 1
}

// err returns the problems found, in the order of their lines.
func (d *decoder) err() error {
	if len(d.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(d.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	errs := make([]error, 0, min(len(d.errs), maxProblems))
	for _, e := range d.errs[:min(len(d.errs), maxProblems)] {
		errs = append(errs, e)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// fail records a problem about key k, located on line.
func (d *decoder) fail(k toml.Key, line int, format string, args ...any) {
	d.errs = append(d.errs, &Error{Origin: d.origin, Line: line, Key: k.String(), Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) profile(doc map[string]any) *Profile {
	p := &Profile{
		Sandbox:   Sandbox{Network: "none"},
		Tools:     Lists{Allow: []string{"*"}},
		Resources: Lists{Allow: []string{"*"}},
		Prompts:   Lists{Allow: []string{"*"}},
		Guards:    defaultGuards(),
	}
	d.fields(nil, doc, []string{"server", "sandbox", "tools", "resources", "prompts", "guards"}, func(k toml.Key, v any) {
		switch k[0] {
		case "server":
			d.server(k, v, &p.Server)
		case "sandbox":
			d.sandbox(k, v, &p.Sandbox)
		case "tools":
			p.Tools = d.lists(k, v, `"read_*"`, func(k toml.Key, v any) {
				if k[1] == "rules" {
					p.ToolRules = d.toolRules(k, v)
				} else {
					d.toolLimits(k, v, &p.ToolLimits)
				}
			}, "rules", "limits")
		case "resources":
			p.Resources = d.lists(k, v, `"file:///*"`, nil)
		case "prompts":
			p.Prompts = d.lists(k, v, `"summarize"`, nil)
		case "guards":
			d.guards(k, v, &p.Guards)
		}
	})
	server, isTable := doc["server"].(map[string]any)
	if _, named := server["name"]; !named && (isTable || doc["server"] == nil) { // else the type error says enough
		d.fail(toml.Key{"server", "name"}, d.pos.line(toml.Key{"server"}),
			`server.name is missing (add name = "NAME" under [server])`)
	}
	return p
}

// fields checks that v, the value at path, is a table whose keys are all in
// known, and calls f for each known key in the order of the source.
func (d *decoder) fields(path toml.Key, v any, known []string, f func(k toml.Key, v any)) {
	d.entries(path, v, func(k toml.Key, v any) {
		if slices.Contains(known, k[len(k)-1]) {
			f(k, v)
		} else {
			d.unknown(k, known)
		}
	})
}

// entries checks that v, the value at path, is a table, and calls f for
// each of its keys, whatever they are, in the order of the source.
func (d *decoder) entries(path toml.Key, v any, f func(k toml.Key, v any)) {
	t, ok := d.table(path, v)
	if !ok {
		return
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(d.pos.line(child(path, a)), d.pos.line(child(path, b))), cmp.Compare(a, b))
	})
	for _, name := range keys {
		f(child(path, name), t[name])
	}
}

func child(path toml.Key, name string) toml.Key {
	return append(append(make(toml.Key, 0, len(path)+1), path...), name)
}

func (d *decoder) table(k toml.Key, v any) (map[string]any, bool) {
	switch v := v.(type) {
	case map[string]any:
		return v, true
	case []map[string]any:
		d.fail(k, d.pos.line(k), "%s must be a table, not an array of tables (write [%s], not [[%s]])", k, k, k)
	default:
		d.fail(k, d.pos.line(k), "%s must be a table, not %s (write a [%s] section)", k, typeName(v), k)
	}
	return nil, false
}

func (d *decoder) unknown(k toml.Key, known []string) {
	name := k[len(k)-1]
	hint := ""
	if s := suggest(name, known); s != "" {
		hint = fmt.Sprintf("did you mean %q?", s)
	} else if len(k) == 1 {
		hint = "known tables: " + strings.Join(known, ", ")
	} else {
		hint = fmt.Sprintf("known keys in [%s]: %s", k[:len(k)-1], strings.Join(known, ", "))
	}
	d.fail(k, d.pos.line(k), "unknown key %s (%s)", quoteKey(k), hint)
}

func (d *decoder) server(path toml.Key, v any, s *Server) {
	d.fields(path, v, []string{"name", "description", "match"}, func(k toml.Key, v any) {
		switch k[1] {
		case "name":
			name, ok := d.str(k, v, `name = "filesystem"`)
			if ok && !validName(name) {
				d.fail(k, d.pos.line(k), "server.name %q is not a valid name (use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit)", name)
			} else if ok {
				s.Name = name
			}
		case "description":
			if desc, ok := d.str(k, v, `description = "what the server does"`); ok {
				if strings.ContainsRune(desc, 0) {
					d.fail(k, d.pos.line(k), "server.description contains a NUL character (remove it)")
				}
				s.Description = desc
			}
		case "match":
			s.Match = d.strList(k, v, `match = ["@scope/package"]`, checkGlob)
		}
	})
}

func (d *decoder) sandbox(path toml.Key, v any, sb *Sandbox) {
	known := []string{"network", "allow_hosts", "allow_private", "read", "write", "hide", "env", "seccomp_deny", "limits"}
	var proxyOnly []toml.Key // proxy settings that were given entries
	d.fields(path, v, known, func(k toml.Key, v any) {
		if a, ok := v.([]any); ok && len(a) > 0 && (k[1] == "allow_hosts" || k[1] == "allow_private") {
			proxyOnly = append(proxyOnly, k)
		}
		switch k[1] {
		case "network":
			if n, ok := d.str(k, v, `network = "none"`); ok {
				if n != "none" && n != "proxy" && n != "host" {
					d.fail(k, d.pos.line(k), `sandbox.network is %q (use "none", "proxy" or "host")`, n)
				} else {
					sb.Network = n
				}
			}
		case "allow_hosts":
			sb.AllowHosts = d.strList(k, v, `allow_hosts = ["api.example.com:443"]`, checkHostPort)
		case "allow_private":
			sb.AllowPrivate = d.strList(k, v, `allow_private = ["10.0.0.0/8"]`, checkCIDR)
		case "read":
			sb.Read = d.strList(k, v, `read = ["/usr", "{arg_dirs}"]`, checkPath)
		case "write":
			sb.Write = d.strList(k, v, `write = ["{arg_dirs}"]`, checkPath)
		case "hide":
			sb.Hide = d.strList(k, v, `hide = ["~/.ssh"]`, checkPath)
		case "env":
			sb.Env = d.strList(k, v, `env = ["PATH", "HOME", "NODE_ENV=production"]`, checkEnvName)
		case "seccomp_deny":
			sb.SeccompDeny = d.strList(k, v, `seccomp_deny = ["uname"]`, checkSyscallName)
		case "limits":
			d.limits(k, v, &sb.Limits)
		}
	})
	if sb.Network == "proxy" {
		return
	}
	for _, k := range proxyOnly {
		d.fail(k, d.pos.line(k), `%s works only with network = "proxy" (network is %q; set network = "proxy" or remove %s)`, k, sb.Network, k[1])
	}
}

func (d *decoder) limits(path toml.Key, v any, l *Limits) {
	known := []string{"memory", "processes", "open_files", "file_size", "cpu_seconds"}
	d.fields(path, v, known, func(k toml.Key, v any) {
		switch k[2] {
		case "memory":
			l.Memory = d.size(k, v, `memory = "1GiB"`)
		case "file_size":
			l.FileSize = d.size(k, v, `file_size = "100MiB"`)
		case "processes":
			l.Processes = d.count(k, v, `processes = 256`)
		case "open_files":
			l.OpenFiles = d.count(k, v, `open_files = 1024`)
		case "cpu_seconds":
			l.CPUSeconds = d.count(k, v, `cpu_seconds = 3600`)
		}
	})
}

// lists decodes [tools], [resources] or [prompts]. A missing allow means
// everything; an empty one means nothing. The keys in more are passed to
// other.
func (d *decoder) lists(path toml.Key, v any, example string, other func(toml.Key, any), more ...string) Lists {
	l := Lists{Allow: []string{"*"}}
	known := append([]string{"allow", "deny"}, more...)
	d.fields(path, v, known, func(k toml.Key, v any) {
		switch k[1] {
		case "allow":
			l.Allow = d.strList(k, v, "allow = ["+example+"]", checkGlob)
			if l.Allow == nil {
				l.Allow = []string{}
			}
		case "deny":
			l.Deny = d.strList(k, v, "deny = ["+example+"]", checkGlob)
		default:
			other(k, v)
		}
	})
	return l
}

// str returns v if it is a string, else reports its type.
func (d *decoder) str(k toml.Key, v any, example string) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.fail(k, d.pos.line(k), "%s must be a string, not %s (for example %s)", k, typeName(v), example)
	}
	return s, ok
}

// strList returns v if it is an array of strings that check accepts,
// reporting every element that is not.
func (d *decoder) strList(k toml.Key, v any, example string, check func(string) string) []string {
	a, ok := v.([]any)
	if !ok {
		d.fail(k, d.pos.line(k), "%s must be an array of strings, not %s (for example %s)", k, typeName(v), example)
		return nil
	}
	var out []string
	for i, e := range a {
		s, ok := e.(string)
		if !ok {
			d.fail(k, d.pos.elemLine(k, i), "%s[%d] must be a string, not %s (for example %s)", k, i, typeName(e), example)
			continue
		}
		if problem := check(s); problem != "" {
			d.fail(k, d.pos.elemLine(k, i), "%s[%d]: %q %s", k, i, s, problem)
			continue
		}
		out = append(out, s)
	}
	return out
}

// count returns v if it is a positive integer that fits an int32, the range
// of every limit it is used for.
func (d *decoder) count(k toml.Key, v any, example string) int {
	n, ok := v.(int64)
	switch {
	case !ok:
		d.fail(k, d.pos.line(k), "%s must be an integer, not %s (for example %s)", k, typeName(v), example)
	case n <= 0:
		d.fail(k, d.pos.line(k), "%s is %d (use a number greater than zero, or leave the key out for no limit)", k, n)
	case n > math.MaxInt32:
		d.fail(k, d.pos.line(k), "%s is %d, too large (use at most %d)", k, n, math.MaxInt32)
	default:
		return int(n)
	}
	return 0
}

func (d *decoder) size(k toml.Key, v any, example string) int64 {
	s, ok := d.str(k, v, example)
	if !ok {
		return 0
	}
	n, err := ParseSize(s)
	switch {
	case err != nil:
		d.fail(k, d.pos.line(k), "%s: %v (for example %s)", k, err, example)
	case n == 0:
		d.fail(k, d.pos.line(k), "%s is zero (use a size greater than zero, or leave the key out for no limit)", k)
	}
	return n
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	}
	return fmt.Sprintf("a %T", v)
}

// suggest returns the entry of known closest to name, if close enough to
// be a likely typo.
func suggest(name string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return k
		}
		if dist := editDistance(name, k); dist < bestDist && dist < len(k) {
			best, bestDist = k, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
