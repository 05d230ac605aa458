// Package filter decides which MCP tools, resources and prompts exist for
// the model.
//
// A [Policy] is compiled from allow and deny globs per kind of item. Deny
// always wins, and every doubt denies: a name that is empty, not valid
// UTF-8 or contains a control or invisible format character is denied; a
// deny glob also catches spellings a server might treat as the same name
// (case variants, 'ſ', the Kelvin sign, fullwidth and other compatibility
// forms); a resource URI is also checked in normalised and
// percent-decoded form, so dot segments, doubled slashes and encoded
// characters do not slip past a deny glob. An allow glob, by contrast,
// must match the name exactly as given. [Policy.FilterList] removes
// denied items from list results without re-encoding anything it keeps.
package filter

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rules are the globs for one kind of item. In a glob, '*' matches any
// run of characters including '/', '?' matches exactly one character,
// and every other character matches itself. An item is allowed when it
// matches an Allow glob and no Deny glob; an empty Allow list allows
// nothing.
type Rules struct {
	Allow []string
	Deny  []string
}

// Decision is the verdict on one item, with a reason fit for an audit log
// such as `denied by tools.deny "write_*"`.
type Decision struct {
	Allow  bool
	Reason string
}

// Policy decides which tools, resources and prompts are visible. It is
// immutable and safe for concurrent use.
type Policy struct {
	tools, resources, prompts ruleSet
}

// ruleSet is the compiled form of one Rules value.
type ruleSet struct {
	kind  string // "tools", "resources" or "prompts", as in the profile
	noun  string // "tool name", "resource URI", "prompt name"
	allow []glob
	deny  []denyGlob
}

// denyGlob keeps a deny pattern both as written and folded.
type denyGlob struct {
	exact, folded glob
}

// New compiles the rules for tools, resources and prompts. A glob that is
// empty, not valid UTF-8 or contains a control or format character is an
// error: no name it could match would be allowed through anyway.
func New(tools, resources, prompts Rules) (*Policy, error) {
	var p Policy
	var err error
	if p.tools, err = compileRules("tools", "tool name", tools); err != nil {
		return nil, err
	}
	if p.resources, err = compileRules("resources", "resource URI", resources); err != nil {
		return nil, err
	}
	if p.prompts, err = compileRules("prompts", "prompt name", prompts); err != nil {
		return nil, err
	}
	return &p, nil
}

func compileRules(kind, noun string, r Rules) (ruleSet, error) {
	rs := ruleSet{kind: kind, noun: noun}
	for i, pat := range r.Allow {
		if err := checkText(pat); err != nil {
			return rs, fmt.Errorf("filter: %s.allow[%d] %q: %w", kind, i, pat, err)
		}
		rs.allow = append(rs.allow, compileGlob(pat))
	}
	for i, pat := range r.Deny {
		if err := checkText(pat); err != nil {
			return rs, fmt.Errorf("filter: %s.deny[%d] %q: %w", kind, i, pat, err)
		}
		g := compileGlob(pat)
		rs.deny = append(rs.deny, denyGlob{exact: g, folded: g.folded()})
	}
	return rs, nil
}

// checkText rejects what no tool, prompt or resource name may contain.
// Beyond the C0 and C1 controls this covers invisible format characters
// (zero-width joiners, bidirectional overrides, the byte order mark) and
// the line and paragraph separators: they make a name look like another
// in a client's list and serve no purpose in a real one.
func checkText(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	if !utf8.ValidString(s) {
		return errors.New("invalid UTF-8")
	}
	for i, r := range s {
		if forbidden(r) {
			return fmt.Errorf("control or format character %U at byte %d", r, i)
		}
	}
	return nil
}

func forbidden(r rune) bool {
	if r < utf8.RuneSelf {
		return r < 0x20 || r == 0x7F
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// Tool decides whether the tool called name may be listed and called.
// Each deny glob is matched against name as given and, with case and
// compatibility forms folded in both, against the folded name:
// "WRITE_FILE", "Write_File", "ｗｒｉｔｅ_file" and "wrıte_file" are all
// denied by "write_*".
// Names quoted in the reason are escaped, so it is safe to log.
func (p *Policy) Tool(name string) Decision {
	return p.tool(name).decision()
}

// Prompt decides whether the prompt called name may be listed and used.
func (p *Policy) Prompt(name string) Decision {
	return p.prompt(name).decision()
}

// Resource decides whether the resource at uri may be listed and read.
// Deny globs are matched against uri as given, in normal form, with its
// path percent-decoded, without the host of a file URI, and as a
// directory with a trailing slash, each also folded; allow globs must
// match both uri as given and its normal form. A URI without a scheme, with an encoded control character, or
// whose ".." segments climb above the root is denied.
func (p *Policy) Resource(uri string) Decision {
	return p.resource(uri).decision()
}

// tool, prompt and resource are the decisions without their reasons
// spelt out, for list filtering, which needs only the outcome.
func (p *Policy) tool(name string) verdict {
	if p == nil {
		return verdict{why: noPolicy}
	}
	return p.tools.decideName(name)
}

func (p *Policy) prompt(name string) verdict {
	if p == nil {
		return verdict{why: noPolicy}
	}
	return p.prompts.decideName(name)
}

func (p *Policy) resource(uri string) verdict {
	if p == nil {
		return verdict{why: noPolicy}
	}
	return p.resources.decideURI(uri)
}

func deny(reason string) Decision { return Decision{Allow: false, Reason: reason} }

// verdict is a decision with what its reason is made of.
type verdict struct {
	why     why
	rs      *ruleSet
	pattern string // the glob that decided
	label   string // which form of the item matched or failed to
	text    string // that form
	folded  []rune // for a folded form, the text as matched
	err     error  // what makes the item invalid
}

type why int

const (
	noPolicy why = iota
	invalid
	deniedBy
	notAllowed
	allowedBy
)

func (v verdict) allow() bool { return v.why == allowedBy }

func (v verdict) decision() Decision {
	return Decision{Allow: v.allow(), Reason: v.reason()}
}

func (v verdict) reason() string {
	switch v.why {
	case invalid:
		return fmt.Sprintf("invalid %s: %v", v.rs.noun, v.err)
	case deniedBy:
		text := v.text
		if v.folded != nil {
			text = string(v.folded)
		}
		if v.label == "" {
			return fmt.Sprintf("denied by %s.deny %q", v.rs.kind, v.pattern)
		}
		return fmt.Sprintf("denied by %s.deny %q (%s form %q)", v.rs.kind, v.pattern, v.label, text)
	case notAllowed:
		if v.label == "" {
			return fmt.Sprintf("not matched by %s.allow", v.rs.kind)
		}
		return fmt.Sprintf("%s form %q not matched by %s.allow", v.label, v.text, v.rs.kind)
	case allowedBy:
		return fmt.Sprintf("allowed by %s.allow %q", v.rs.kind, v.pattern)
	}
	return "no policy"
}

// decideName decides for tools and prompts.
func (rs *ruleSet) decideName(name string) verdict {
	if err := checkText(name); err != nil {
		return verdict{why: invalid, rs: rs, err: err}
	}
	forms := []form{{"", name}}
	// A server that trims names would run " delete_all" as "delete_all".
	if t := strings.TrimFunc(name, unicode.IsSpace); t != name {
		if v, denied := rs.denied([]form{{"trimmed", t}}); denied {
			return v
		}
	}
	if v, denied := rs.denied(forms); denied {
		return v
	}
	return rs.allowed(forms)
}

// decideURI decides for resources and resource templates.
func (rs *ruleSet) decideURI(uri string) verdict {
	if err := checkText(uri); err != nil {
		return verdict{why: invalid, rs: rs, err: err}
	}
	forms, err := normalizeURI(uri)
	if err != nil {
		return verdict{why: invalid, rs: rs, err: err}
	}
	all := []form{{"", uri}}
	if forms.norm != uri {
		all = append(all, form{"normalised", forms.norm})
	}
	if v, denied := rs.denied(append(all, forms.variants...)); denied {
		return v
	}
	return rs.allowed(all)
}

// form is one spelling of an item; label is empty for the one as given.
type form struct {
	label, text string
}

// denied checks every form, as given and folded, against every deny glob.
func (rs *ruleSet) denied(forms []form) (verdict, bool) {
	if len(rs.deny) == 0 {
		return verdict{}, false
	}
	for _, f := range forms {
		exact, folded := []rune(f.text), fold(f.text)
		for _, g := range rs.deny {
			v := verdict{why: deniedBy, rs: rs, pattern: g.exact.text, label: f.label, text: f.text}
			if g.exact.match(exact) {
				return v, true
			}
			if g.folded.match(folded) {
				v.label, v.folded = joinLabel("folded", f.label), folded
				return v, true
			}
		}
	}
	return verdict{}, false
}

func joinLabel(a, b string) string {
	if b == "" {
		return a
	}
	return a + " " + b
}

// allowed requires every form to match some allow glob, and names the
// glob that matched the first.
func (rs *ruleSet) allowed(forms []form) verdict {
	v := verdict{why: allowedBy, rs: rs}
	for i, f := range forms {
		g, ok := rs.allowedBy([]rune(f.text))
		switch {
		case !ok:
			return verdict{why: notAllowed, rs: rs, label: f.label, text: f.text}
		case i == 0:
			v.pattern = g
		}
	}
	return v
}

func (rs *ruleSet) allowedBy(name []rune) (string, bool) {
	for _, g := range rs.allow {
		if g.match(name) {
			return g.text, true
		}
	}
	return "", false
}
