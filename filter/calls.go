package filter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/pathguard"
	"github.com/mcpwarden/mcpwarden/profile"
	"github.com/mcpwarden/mcpwarden/sanitize"
	"github.com/mcpwarden/mcpwarden/secrets"
	"github.com/mcpwarden/mcpwarden/urlguard"
)

// Calls holds the per-tool rules of a profile, compiled: argument kinds,
// schemas, approval, limits and the secret mode. It is immutable and safe
// for concurrent use; the state of one session lives in a [Session].
type Calls struct {
	rules       map[string]*toolRule // by folded tool name
	limits      profile.CallLimits   // [tools.limits], over all tools
	secrets     string               // [guards] secrets
	stripHidden bool                 // [guards] strip_hidden
	scans       bool                 // some result check needs the secret rules
	warm        sync.Once
	scratch     *scratchCache // unquote buffer reused between results
}

// toolRule is one compiled [tools.rules.NAME] table.
type toolRule struct {
	name     string
	approval string
	schema   *Schema
	secrets  string
	limits   profile.CallLimits
	args     []argRule
}

// argRule is a compiled argument kind at a pointer.
type argRule struct {
	pointer string
	path    []string // unescaped, folded segments; "*" is every element
	kind    string
	check   argChecker
}

// argChecker checks one argument value; a value of the wrong JSON type
// is a notString error.
type argChecker interface {
	check(ctx context.Context, v any) error
}

// CallsConfig is what Calls is compiled from.
type CallsConfig struct {
	Rules   []profile.ToolRule
	Limits  profile.CallLimits
	Secrets string // "redact", "block" or "off"
	// StripHidden removes escape sequences and invisible characters from
	// the text of results.
	StripHidden bool
	// Roots are the sandbox's path sets that path arguments must lie in.
	Roots pathguard.Roots
	// Resolver resolves host names of url arguments; nil uses the system's.
	Resolver urlguard.Resolver
}

// Warm starts compiling, in the background, the secret rules that result
// checks will need, so that the first result does not wait for them. The
// proxy calls it when the client's first request arrives: a start that
// serves no request never pays for them, and one that does has them by the
// time a tool answers.
func (c *Calls) Warm() {
	if c.scans {
		c.warm.Do(func() { go secrets.NewScanner() })
	}
}

// NewCalls compiles the rules. Two rules for names that fold to the same
// spelling are an error: which one applies to a call would depend on how
// the server matches names.
func NewCalls(cfg CallsConfig) (*Calls, error) {
	c := &Calls{rules: map[string]*toolRule{}, limits: cfg.Limits, secrets: cfg.Secrets, stripHidden: cfg.StripHidden,
		scratch: newScratchCache()}
	if c.secrets == "" {
		c.secrets = "off"
	}
	c.scans = c.secrets != "off" || slices.ContainsFunc(cfg.Rules, func(r profile.ToolRule) bool { return r.Secrets != "" && r.Secrets != "off" })
	var paths *pathguard.Guard
	if usesKind(cfg.Rules, profile.KindPath) {
		var err error
		if paths, err = pathguard.New(cfg.Roots); err != nil {
			return nil, fmt.Errorf("path arguments: %w", err)
		}
	}
	for _, r := range cfg.Rules {
		key := foldKey(r.Name)
		if prev, ok := c.rules[key]; ok {
			return nil, fmt.Errorf("tools.rules: %q and %q name the same tool for a server that ignores case", prev.name, r.Name)
		}
		tr, err := compileToolRule(r, cfg, paths)
		if err != nil {
			return nil, fmt.Errorf("tools.rules.%s: %w", r.Name, err)
		}
		c.rules[key] = tr
	}
	return c, nil
}

func usesKind(rules []profile.ToolRule, kind string) bool {
	for _, r := range rules {
		for _, a := range r.Args {
			if a.Kind == kind {
				return true
			}
		}
	}
	return false
}

func compileToolRule(r profile.ToolRule, cfg CallsConfig, paths *pathguard.Guard) (*toolRule, error) {
	tr := &toolRule{name: r.Name, approval: r.Approval, secrets: r.Secrets, limits: r.Limits}
	if r.Schema != nil {
		s, err := CompileSchema(r.Schema)
		if err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
		tr.schema = s
	}
	for _, a := range r.Args {
		chk, err := newArgChecker(a, cfg, paths)
		if err != nil {
			return nil, fmt.Errorf("args.%q: %w", a.Pointer, err)
		}
		tr.args = append(tr.args, argRule{pointer: a.Pointer, path: splitPointer(a.Pointer), kind: a.Kind, check: chk})
	}
	return tr, nil
}

// splitPointer splits an RFC 6901 pointer into unescaped segments, each
// folded as member names are when they are matched.
func splitPointer(p string) []string {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, s := range segs {
		if s != "*" {
			segs[i] = foldKey(strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~"))
		}
	}
	return segs
}

// rule returns the rule for tool, matched by folded name so that a
// case variant of a guarded tool cannot escape its rule.
func (c *Calls) rule(tool string) *toolRule {
	if len(c.rules) == 0 {
		return nil // most profiles: no folding on every call
	}
	return c.rules[foldKey(tool)]
}

// Approval returns the approval a call of tool needs: "", "always" or
// "once-per-session".
func (c *Calls) Approval(tool string) string {
	if r := c.rule(tool); r != nil {
		return r.approval
	}
	return ""
}

// CallError is a refused call: Reason is both the tool error the model
// reads and the line for the audit record.
type CallError struct {
	Reason string
	// Unknown asks for the refusal to look like that of a tool that does
	// not exist, as for a tool hidden by its pin.
	Unknown bool
}

func (e *CallError) Error() string { return e.Reason }

func refusal(format string, args ...any) *CallError {
	return &CallError{Reason: fmt.Sprintf(format, args...)}
}

// ChecksArgKinds reports whether calls of tool have argument kinds to
// check, the only checks that use CheckArgs' context (to bound name
// resolution), so that a call without them need not set up a deadline.
func (c *Calls) ChecksArgKinds(tool string) bool {
	r := c.rule(tool)
	return r != nil && len(r.args) > 0
}

// CheckArgs checks the arguments of a call of tool against the tool's
// own schema (toolSchema, from its pinned or listed definition; nil when
// unknown), the profile's schema and the argument kinds.
func (c *Calls) CheckArgs(ctx context.Context, tool string, args jsontext.Value, toolSchema *Schema) *CallError {
	r := c.rule(tool)
	if toolSchema == nil && (r == nil || r.schema == nil && len(r.args) == 0) {
		return nil
	}
	v, err := DecodeArgs(args)
	if err != nil {
		return refusal("arguments: %v", err)
	}
	if toolSchema != nil {
		if err := toolSchema.Validate(v); err != nil {
			return refusal("arguments do not match the tool's input schema: %v", err)
		}
	}
	if r != nil {
		return r.checkArgs(ctx, v)
	}
	return nil
}

func (r *toolRule) checkArgs(ctx context.Context, v any) *CallError {
	if r.schema != nil {
		if err := r.schema.Validate(v); err != nil {
			return refusal("arguments do not match the profile's schema for %s: %v", r.name, err)
		}
	}
	for _, a := range r.args {
		var err *CallError
		visit(v, a.path, "", func(at string, val any) {
			if err != nil {
				return
			}
			var ns notString
			switch cerr := a.check.check(ctx, val); {
			case errors.As(cerr, &ns):
				err = refusal("argument %s must be %s (%s), not %s", at, ns.want, a.kind, jsonType(val))
			case cerr != nil:
				err = refusal("argument %s refused: %v", at, cerr)
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// visit calls f with every value at path in v, whose segments are
// folded (see splitPointer). Object members are matched by folded name,
// so that "Path" is checked where a server decoding loosely reads it as
// "path".
func visit(v any, path []string, at string, f func(at string, v any)) {
	if len(path) == 0 {
		f(orRoot(at), v)
		return
	}
	seg, rest := path[0], path[1:]
	switch v := v.(type) {
	case map[string]any:
		for name, child := range v {
			if seg == "*" || foldKey(name) == seg {
				visit(child, rest, at+"/"+escapeSegment(name), f)
			}
		}
	case []any:
		for i, child := range v {
			if seg == "*" || seg == strconv.Itoa(i) {
				visit(child, rest, at+"/"+strconv.Itoa(i), f)
			}
		}
	}
}

func orRoot(at string) string {
	if at == "" {
		return "/"
	}
	return at
}

func escapeSegment(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	}
	return "a number"
}

// secretMode returns the secret mode for tool.
func (c *Calls) secretMode(tool string) string {
	if r := c.rule(tool); r != nil && r.secrets != "" {
		return r.secrets
	}
	return c.secrets
}

// RedactArgs applies the secret mode of tool to the arguments of a call:
// a model tricked into pasting a key into a request must not send it on,
// nor leave it in the audit log. It returns the arguments with secrets
// redacted (args itself when there are none), the rules that matched,
// and, in block mode, the refusal; the redacted arguments are returned
// with the refusal too, for the record.
func (c *Calls) RedactArgs(tool string, args jsontext.Value) (jsontext.Value, []string, *CallError) {
	mode := c.secretMode(tool)
	if mode == "off" || args == nil {
		return args, nil, nil
	}
	out, found, err := c.redact(args)
	if err != nil {
		return nil, nil, refusal("arguments: %v", err)
	}
	if len(found) > 0 && mode == "block" {
		return out, found, refusal("arguments carry a secret (%s)", strings.Join(found, ", "))
	}
	return out, found, nil
}

// redact replaces the secrets in every string of v and returns the
// rules that matched.
func (c *Calls) redact(v jsontext.Value) (jsontext.Value, []string, error) {
	var found []string
	out, _, err := rewriteStrings(v, func(_, s string) (string, bool) {
		if red, ok := c.redactString(s, &found); ok {
			return red, true
		}
		// A secret split by invisible characters (zero-width spaces,
		// tag characters, escapes) is whole again for whoever strips
		// them: it is looked for in the visible text too, and then the
		// visible text, redacted, is what is kept.
		if clean, rep := sanitize.String(s); !rep.Clean() {
			if red, ok := c.redactString(clean, &found); ok {
				return red, true
			}
		}
		return s, false
	}, c.scratch)
	return out, found, err
}

// redactString redacts s, adding the rules that matched to found.
func (c *Calls) redactString(s string, found *[]string) (string, bool) {
	red, fs := secrets.NewScanner().Redact(s)
	for _, f := range fs {
		if !slices.Contains(*found, f.Rule) {
			*found = append(*found, f.Rule)
		}
	}
	return red, len(fs) > 0
}

// foldKey is the folded spelling of a name as a map key. ASCII folds
// byte by byte to lower case, so a name in lower-case ASCII, the common
// spelling of tool and member names, is its own key and is not copied.
func foldKey(s string) string {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b >= utf8.RuneSelf || 'A' <= b && b <= 'Z' {
			return string(fold(s))
		}
	}
	return s
}
