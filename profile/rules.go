package profile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/go-json-experiment/json/jsontext"
)

// Guards are the server-wide checks on what crosses the proxy besides the
// allow and deny lists: secrets, hidden text, pinned tool definitions and
// how approval reaches a person.
type Guards struct {
	// Secrets is what happens to a secret found in a tool result or in
	// tool-call arguments: "redact" (the default), "block" or "off".
	Secrets string
	// StripHidden removes terminal escape sequences, control characters
	// and invisible Unicode from the server's text (default true).
	StripHidden bool
	// Pin records the server's tool definitions on first sight and hides
	// a tool whose definition later changes (default true).
	Pin bool
	// ApprovalFallback is what "approval" does when the client cannot be
	// asked (no elicitation): "refuse", the only value so far; "terminal",
	// a prompt on mcpwarden's controlling terminal, is reserved.
	ApprovalFallback string
}

// CallLimits bound how often and how much tools may be used. A zero field
// means no limit.
type CallLimits struct {
	CallsPerMinute int   // sustained rate, a token bucket refilled per minute
	Burst          int   // bucket size; CallsPerMinute when zero
	MaxCalls       int   // calls in one session
	MaxInFlight    int   // calls awaiting an answer at once
	MaxResultSize  int64 // bytes of one result as the server sent it
}

// ToolRule is the profile's table [tools.rules.NAME] for one tool.
type ToolRule struct {
	// Name is the tool's name as written in the profile.
	Name string
	// Approval is "", "always" or "once-per-session".
	Approval string
	// Schema is a JSON Schema the arguments must satisfy in addition to
	// the tool's own inputSchema; nil when absent.
	Schema jsontext.Value
	// Secrets overrides Guards.Secrets for this tool; "" inherits it.
	Secrets string
	Limits  CallLimits
	// Args are the argument kinds, in the order written.
	Args []ArgRule
}

// Argument kinds.
const (
	KindPath    = "path"
	KindURL     = "url"
	KindSQL     = "sql"
	KindCommand = "command"
)

// ArgRule marks one argument of a tool call, addressed by a JSON pointer
// into the arguments object, as a kind that mcpwarden checks. A "*"
// segment stands for every element of an array or member of an object.
type ArgRule struct {
	Pointer string
	Kind    string
	// Access is "read" or "write", for paths: which of the sandbox's sets
	// the path must lie in.
	Access string
	// Schemes, AllowHosts, DenyHosts and AllowPrivate are for urls.
	Schemes, AllowHosts, DenyHosts, AllowPrivate []string
	// Dialect ("postgres" or "sqlite") and DenyFunctions are for sql.
	Dialect       string
	DenyFunctions []string
	// Allow holds argv patterns, for commands.
	Allow []string
}

func defaultGuards() Guards {
	return Guards{Secrets: "redact", StripHidden: true, Pin: true, ApprovalFallback: "refuse"}
}

func (d *decoder) guards(path toml.Key, v any, g *Guards) {
	d.fields(path, v, []string{"secrets", "strip_hidden", "pin", "approval_fallback"}, func(k toml.Key, v any) {
		switch k[1] {
		case "secrets":
			g.Secrets = d.oneOf(k, v, "redact", "block", "off")
		case "strip_hidden":
			g.StripHidden = d.boolean(k, v, g.StripHidden)
		case "pin":
			g.Pin = d.boolean(k, v, g.Pin)
		case "approval_fallback":
			if f := d.oneOf(k, v, "refuse", "terminal"); f == "terminal" {
				d.fail(k, d.pos.line(k), `%s = "terminal" (a prompt on mcpwarden's terminal) is not built yet; use "refuse"`, k)
			} else if f != "" {
				g.ApprovalFallback = f
			}
		}
	})
}

var limitKeys = []string{"calls_per_minute", "burst", "max_calls", "max_in_flight", "max_result_size"}

// callLimit decodes one of limitKeys into l; k's last element names it.
func (d *decoder) callLimit(k toml.Key, v any, l *CallLimits) {
	switch k[len(k)-1] {
	case "calls_per_minute":
		l.CallsPerMinute = d.count(k, v, "calls_per_minute = 60")
	case "burst":
		l.Burst = d.count(k, v, "burst = 10")
	case "max_calls":
		l.MaxCalls = d.count(k, v, "max_calls = 1000")
	case "max_in_flight":
		l.MaxInFlight = d.count(k, v, "max_in_flight = 4")
	case "max_result_size":
		l.MaxResultSize = d.size(k, v, `max_result_size = "4MiB"`)
	}
}

func (d *decoder) checkBurst(k toml.Key, l CallLimits) {
	if l.Burst > 0 && l.CallsPerMinute == 0 {
		d.fail(k, d.pos.line(k), "%s has burst but no calls_per_minute (add calls_per_minute, or remove burst)", k)
	}
}

func (d *decoder) toolLimits(path toml.Key, v any, l *CallLimits) {
	d.fields(path, v, limitKeys, func(k toml.Key, v any) { d.callLimit(k, v, l) })
	d.checkBurst(path, *l)
}

// toolRules decodes [tools.rules]: a table of tool names, each a table.
func (d *decoder) toolRules(path toml.Key, v any) []ToolRule {
	var rules []ToolRule
	d.entries(path, v, func(k toml.Key, v any) {
		name := k[len(k)-1]
		if problem := checkToolName(name); problem != "" {
			d.fail(k, d.pos.line(k), "%s: tool name %q %s", k, name, problem)
			return
		}
		rules = append(rules, d.toolRule(k, name, v))
	})
	return rules
}

func checkToolName(name string) string {
	if name == "" {
		return "is empty"
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "contains a control character"
		}
	}
	return ""
}

func (d *decoder) toolRule(path toml.Key, name string, v any) ToolRule {
	r := ToolRule{Name: name}
	known := append([]string{"approval", "schema", "secrets", "args"}, limitKeys...)
	d.fields(path, v, known, func(k toml.Key, v any) {
		switch k[len(k)-1] {
		case "approval":
			r.Approval = d.oneOf(k, v, "always", "once-per-session")
		case "schema":
			r.Schema = d.schema(k, v)
		case "secrets":
			r.Secrets = d.oneOf(k, v, "redact", "block", "off")
		case "args":
			r.Args = d.argRules(k, v)
		default:
			d.callLimit(k, v, &r.Limits)
		}
	})
	d.checkBurst(path, r.Limits)
	return r
}

// schema checks that v is a JSON object given as a string; whether it is
// a valid JSON Schema is checked where it is compiled.
func (d *decoder) schema(k toml.Key, v any) jsontext.Value {
	s, ok := d.str(k, v, `schema = '{"type": "object"}'`)
	if !ok {
		return nil
	}
	val := jsontext.Value(s)
	if err := val.Compact(); err != nil || val.Kind() != '{' {
		d.fail(k, d.pos.line(k), "%s must be a JSON object written as a string (for example schema = '{\"type\": \"object\"}')", k)
		return nil
	}
	return val
}

// argRules decodes [tools.rules.NAME.args]: JSON pointers to inline tables.
func (d *decoder) argRules(path toml.Key, v any) []ArgRule {
	var out []ArgRule
	d.entries(path, v, func(k toml.Key, v any) {
		ptr := k[len(k)-1]
		if problem := checkPointer(ptr); problem != "" {
			d.fail(k, d.pos.line(k), "%s: %q %s", path, ptr, problem)
			return
		}
		if a, ok := d.argRule(k, ptr, v); ok {
			out = append(out, a)
		}
	})
	return out
}

// checkPointer accepts an RFC 6901 JSON pointer ("/path", "/paths/*").
func checkPointer(p string) string {
	if !strings.HasPrefix(p, "/") {
		return `is not a JSON pointer (write "/name" for the argument "name", "/list/*" for each element of "list")`
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '~' && (i+1 == len(p) || p[i+1] != '0' && p[i+1] != '1') {
			return `has a '~' that is not "~0" or "~1"`
		}
	}
	return ""
}

// argKeys are the keys each kind takes besides "kind".
var argKeys = map[string][]string{
	KindPath:    {"access"},
	KindURL:     {"schemes", "allow_hosts", "deny_hosts", "allow_private"},
	KindSQL:     {"dialect", "deny_functions"},
	KindCommand: {"allow"},
}

func (d *decoder) argRule(path toml.Key, ptr string, v any) (ArgRule, bool) {
	a := ArgRule{Pointer: ptr}
	t, ok := d.table(path, v)
	if !ok {
		return a, false
	}
	kv, ok := t["kind"]
	if !ok {
		d.fail(path, d.pos.line(path), `%s has no kind (add kind = "path", "url", "sql" or "command")`, path)
		return a, false
	}
	a.Kind = d.oneOf(child(path, "kind"), kv, KindPath, KindURL, KindSQL, KindCommand)
	if a.Kind == "" {
		return a, false
	}
	known := append([]string{"kind"}, argKeys[a.Kind]...)
	d.fields(path, v, known, func(k toml.Key, v any) {
		switch k[len(k)-1] {
		case "access":
			a.Access = d.oneOf(k, v, "read", "write")
		case "schemes":
			a.Schemes = d.strList(k, v, `schemes = ["https"]`, checkScheme)
		case "allow_hosts":
			a.AllowHosts = d.strList(k, v, `allow_hosts = ["api.example.com", "*.example.com"]`, checkHostGlob)
		case "deny_hosts":
			a.DenyHosts = d.strList(k, v, `deny_hosts = ["*.internal"]`, checkHostGlob)
		case "allow_private":
			a.AllowPrivate = d.strList(k, v, `allow_private = ["10.1.0.0/16"]`, checkCIDR)
		case "dialect":
			a.Dialect = d.oneOf(k, v, "postgres", "sqlite")
		case "deny_functions":
			a.DenyFunctions = d.strList(k, v, `deny_functions = ["my_side_effect"]`, checkIdent)
		case "allow":
			a.Allow = d.strList(k, v, `allow = ["git status", "git log **"]`, checkArgvPattern)
		}
	})
	switch {
	case a.Kind == KindPath && a.Access == "":
		a.Access = "read"
	case a.Kind == KindSQL && a.Dialect == "":
		d.fail(path, d.pos.line(path), `%s: an sql argument needs dialect = "postgres" or "sqlite"`, path)
	case a.Kind == KindCommand && len(a.Allow) == 0:
		d.fail(path, d.pos.line(path), `%s: a command argument needs allow = [...] (argv patterns such as "git status")`, path)
	}
	return a, true
}

func checkScheme(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return `is not a lower-case URL scheme (for example "https")`
		}
	}
	if s == "" {
		return `is not a lower-case URL scheme (for example "https")`
	}
	return ""
}

func checkHostGlob(s string) string {
	h := strings.TrimPrefix(s, "*.")
	if h == "" || h == "*" && s == "*" {
		return ""
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == ':' || c == '[' || c == ']') {
			return `is not a lower-case host name or "*.domain" glob`
		}
	}
	return ""
}

func checkIdent(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n;()") {
		return "is not a function name"
	}
	return ""
}

func checkArgvPattern(s string) string {
	if strings.TrimSpace(s) == "" {
		return "is empty"
	}
	if strings.ContainsAny(s, "\x00\n\r") {
		return "contains a NUL or line break"
	}
	return ""
}

// oneOf returns v if it is a string among choices, else reports it and
// returns "".
func (d *decoder) oneOf(k toml.Key, v any, choices ...string) string {
	s, ok := d.str(k, v, fmt.Sprintf("%s = %q", k[len(k)-1], choices[0]))
	if !ok {
		return ""
	}
	if !slices.Contains(choices, s) {
		d.fail(k, d.pos.line(k), "%s is %q (use %s)", k, s, orList(choices))
		return ""
	}
	return s
}

func (d *decoder) boolean(k toml.Key, v any, def bool) bool {
	b, ok := v.(bool)
	if !ok {
		d.fail(k, d.pos.line(k), "%s must be true or false, not %s", k, typeName(v))
		return def
	}
	return b
}

func orList(choices []string) string {
	q := make([]string, len(choices))
	for i, c := range choices {
		q[i] = fmt.Sprintf("%q", c)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
