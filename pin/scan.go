package pin

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/mcpwarden/mcpwarden/runecut"
	"github.com/mcpwarden/mcpwarden/sanitize"
)

// Finding is one instruction-like marker in a tool definition.
type Finding struct {
	// Where is a JSON Pointer (RFC 6901) to the string in the definition,
	// such as "/description" or "/inputSchema/properties/note/description";
	// for a member name it is the pointer to the member followed by
	// " (member name)".
	Where string
	// Marker says what kind of marker was found: one of the Marker*
	// constants.
	Marker string
	// Text is the matching text, lower-cased with runs of white space
	// turned into one space and format characters removed, cut to at most
	// 80 bytes. It comes from the server: escape it before printing it.
	Text string
}

// Values of [Finding.Marker].
const (
	MarkerTag           = "instruction tag"       // <IMPORTANT>, <SYSTEM>, <|im_start|>, [INST]
	MarkerOverride      = "override instruction"  // "ignore previous instructions"
	MarkerSecrecy       = "secrecy instruction"   // "do not tell the user"
	MarkerPrecondition  = "precondition"          // "before using this tool, read ..."
	MarkerSensitivePath = "sensitive path"        // ~/.ssh, id_rsa, .env, mcp.json
	MarkerExfiltration  = "exfiltration"          // "pass its content as", "send all emails to x@y"
	MarkerShadowing     = "tool shadowing"        // "when this tool is available, the send_email tool must"
	MarkerUrgency       = "urgency"               // "very very important"
	MarkerOtherName     = "mentions other name"   // a name passed to Scan
	MarkerInvalid       = "unparsable definition" // the definition is not a JSON object
)

// maxFindingText bounds [Finding.Text].
const maxFindingText = 80

// markerRule is one pattern of a marker kind. Patterns run on normalised
// text (see normalise), so they are written in lower case with single
// spaces.
type markerRule struct {
	marker string
	re     *regexp.Regexp
}

// markerRules are compiled on first use, not at start-up: every process
// of mcpwarden, the sandbox's init stage among them, would pay for them,
// and most never scan a description.
var markerRules = sync.OnceValue(compileMarkerRules)

func compileMarkerRules() []markerRule {
	return compileRules([]struct{ marker, expr string }{
		// Tags that dress text up as a message from the system or the user,
		// and the turn markers of chat templates.
		{MarkerTag, `<\s*/?\s*(important|system|system[-_ ]?prompt|sys|instructions?|hidden|secret|admin|administrator|assistant|critical|override|directive|prompt|note[-_ ]?to[-_ ]?(the[-_ ]?)?(ai|model|assistant|llm))\b[^<>]{0,40}>`},
		{MarkerTag, `<\|[a-z_]{2,20}\|>`},
		{MarkerTag, `\[/?(inst|system|sys)\]`},
		{MarkerTag, `<</?sys>>`},

		{MarkerOverride, `\b(ignore|disregard|forget|override|bypass|skip) ((all|any|the|your|of|my|these|those) )*(previous|prior|above|earlier|preceding|former|original|other|existing|system|safety|security|initial) (instructions?|directions?|directives?|rules|guidelines|prompts?|messages?|context|constraints|restrictions|policies|guardrails)\b`},
		{MarkerOverride, `\b(ignore|disregard|forget) (all|any|your|the) (instructions|directions|directives|guidelines|rules|prompts)\b`},
		{MarkerOverride, `\b(ignore|disregard|forget) (everything|anything) (above|before|else|previously|you)\b`},
		{MarkerOverride, `\bnew (system )?instructions ?:`},
		{MarkerOverride, `\byou (are|will) now (act|acting|be|behave|behaving|ignore|operate|operating|in)\b`},
		{MarkerOverride, `\bfrom now on,? (you|ignore|always|never)\b`},

		{MarkerSecrecy, `\b(do not|don't|dont|never|must not|should not|shouldn't) (\w+ ){0,2}(tell|inform|notify|alert|mention|reveal|disclose|show|say|explain|report|let)\b[^.]{0,60}?\b(user|human|operator|anyone)\b`},
		{MarkerSecrecy, `\b(do not|don't|dont|never) (mention|reveal|disclose) (this|that|it|these)\b`},
		{MarkerSecrecy, `\bwithout (telling|informing|notifying|asking|alerting|letting) (the )?(user|human)\b`},
		{MarkerSecrecy, `\b(the )?(user|human) (must|should|need|needs to|may) not (know|see|be told|find out|notice|learn)\b`},
		{MarkerSecrecy, `\b(user|human) (won't|will not|doesn't|does not|need not) (need to )?(know|see|notice)\b`},
		{MarkerSecrecy, `\bkeep (this|it|that) (secret|hidden|confidential|private|between us)\b`},
		{MarkerSecrecy, `\b(hide|conceal) (this|it|that)( \w+){0,2} from (the )?(user|human)\b`},

		{MarkerPrecondition, `\bbefore (using|calling|invoking|running|executing|you use|you call) (this|the|any)( [\w-]+){0,2} tool\b[^.]{0,160}?\b(read|open|cat|load|fetch|access|send|upload|pass|include|attach|copy|retrieve|collect)\b`},
		{MarkerPrecondition, `\botherwise,? (the|this) tool (will not|won't|cannot|can't|does not|doesn't) work\b`},

		{MarkerSensitivePath, `(^|[^a-z0-9_])\.ssh\b`},
		{MarkerSensitivePath, `\bid_(rsa|dsa|ecdsa|ed25519)\b`},
		{MarkerSensitivePath, `\b(authorized_keys|known_hosts)\b`},
		{MarkerSensitivePath, `(^|[^a-z0-9_])\.env\b`},
		{MarkerSensitivePath, `/etc/(passwd|shadow|gshadow|sudoers)\b`},
		{MarkerSensitivePath, `(^|[^a-z0-9_])\.aws\b`},
		{MarkerSensitivePath, `(^|[^a-z0-9_])\.(gnupg|netrc|npmrc|pypirc|pgpass|git-credentials|password-store|kube/config|docker/config\.json|config/gcloud)\b`},
		{MarkerSensitivePath, `\bapplication_default_credentials\.json\b`},
		{MarkerSensitivePath, `(^|[^a-z0-9_])\.(bash|zsh)_history\b`},
		{MarkerSensitivePath, `\bwallet\.dat\b`},
		{MarkerSensitivePath, `\b(mcp|claude_desktop_config)\.json\b`},
		{MarkerSensitivePath, `(^|[^a-z0-9_])\.(cursor|claude\.json|codeium)\b`},
		{MarkerSensitivePath, `\b(ssh|private|secret) keys?\b`},
		{MarkerSensitivePath, `\bseed phrases?\b`},

		{MarkerExfiltration, `\bpass (its|the|their|this|that|all|any) (\w+ ){0,2}(contents?|data|text|output|values?) (as|in|into|to|via|through)\b`},
		{MarkerExfiltration, `\b(send|forward|copy|bcc|cc|email|mail|upload|post)\b[^.]{0,60}?\bto [a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}`},
		{MarkerExfiltration, `\b(all|every) (emails?|messages?|requests?|data|files?) (must|should|shall) (be )?(sent|forwarded|go|routed|copied|redirected) to\b`},

		{MarkerShadowing, `\bwhen(ever)? this tool is (available|present|installed|loaded|enabled|active)\b`},
		{MarkerShadowing, `\bside[- ]?effects? (on|for|to) (the )?(also present )?[a-z0-9_.-]+ tool\b`},
		{MarkerShadowing, `\binstead of (using |calling )?(the )?[a-z0-9_.-]+( tool)?,? (always )?(use|call|invoke|run)\b`},
		{MarkerShadowing, `\bthe [a-z0-9]+(_[a-z0-9]+)+ tool (must|shall|has to|is required to)\b`},
		{MarkerShadowing, `\b(all|any|every) (other )?tools?\b[^.]{0,40}?\b(must|shall|have to|are required to)\b`},

		{MarkerUrgency, `\b(very ){2,}important\b`},
	})
}

func compileRules(rules []struct{ marker, expr string }) []markerRule {
	out := make([]markerRule, len(rules))
	for i, r := range rules {
		out[i] = markerRule{marker: r.marker, re: regexp.MustCompile(r.expr)}
	}
	return out
}

// Scan looks for instruction-like markers in the text of a tool
// definition: its title and description, every string and member name
// inside inputSchema, outputSchema and annotations (property descriptions,
// defaults, enumerations, property names), and any member whose name
// equals one of those up to case. The tool's name is not scanned.
//
// others are names whose mention is suspicious in this tool's text: other
// servers' names and their tools' names, which a poisoned description
// names in order to steer calls to them ("shadowing"). A mention counts as
// a whole word, ignoring case; the tool's own name is skipped. Names that
// are common words (a server called "memory") will find ordinary text too,
// so pass distinctive names.
//
// Findings come in a stable order (by position in the sorted definition,
// then by kind), at most one of each kind for each string, except that
// each of the others mentioned is a finding of its own. A definition
// that is not a JSON object yields a single MarkerInvalid finding. Scan
// only reports; whether a finding hides a tool is the caller's policy.
func Scan(def []byte, others ...string) []Finding {
	var v any
	if err := json.Unmarshal(def, &v); err != nil {
		return []Finding{{Marker: MarkerInvalid, Text: cut(err.Error())}}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return []Finding{{Marker: MarkerInvalid, Text: "not a JSON object"}}
	}
	own, _ := obj["name"].(string)
	s := scanner{names: otherNames(own, others)}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if k == "name" || !isPinnedMember(k) {
			continue
		}
		s.walk("/"+escapePointer(k), obj[k])
	}
	return s.found
}

// scanner collects the findings of one Scan.
type scanner struct {
	names []string // normalised, see otherNames
	found []Finding
}

func (s *scanner) walk(ptr string, v any) {
	switch v := v.(type) {
	case string:
		s.text(ptr, v)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			child := ptr + "/" + escapePointer(k)
			s.text(child+" (member name)", k)
			s.walk(child, v[k])
		}
	case []any:
		for i, e := range v {
			s.walk(ptr+"/"+strconv.Itoa(i), e)
		}
	}
}

// text checks one string against every rule, reporting the first match of
// each marker kind.
func (s *scanner) text(where, raw string) {
	t := normalise(raw)
	if t == "" {
		return
	}
	var seen []string
	for _, r := range markerRules() {
		if slices.Contains(seen, r.marker) {
			continue
		}
		loc := r.re.FindStringIndex(t)
		if loc == nil {
			continue
		}
		if r.marker == MarkerSensitivePath {
			loc = token(t, loc)
		}
		seen = append(seen, r.marker)
		s.found = append(s.found, Finding{Where: where, Marker: r.marker, Text: cut(strings.TrimSpace(t[loc[0]:loc[1]]))})
	}
	for _, n := range s.names {
		if mentions(t, n) {
			s.found = append(s.found, Finding{Where: where, Marker: MarkerOtherName, Text: cut(n)})
		}
	}
}

// token widens the match loc in t to the space-delimited word around it,
// without surrounding quotes and punctuation, so that a finding shows the
// whole path ("~/.ssh/id_rsa") rather than the part that matched.
func token(t string, loc []int) []int {
	start, end := loc[0], loc[1]
	for start > 0 && t[start-1] != ' ' {
		start--
	}
	for end < len(t) && t[end] != ' ' {
		end++
	}
	const trim = "`'\"()[]{}<>,;:!?"
	for start < loc[0] && strings.IndexByte(trim, t[start]) >= 0 {
		start++
	}
	for end > loc[1] && strings.IndexByte(trim+".", t[end-1]) >= 0 {
		end--
	}
	return []int{start, end}
}

// normalise lower-cases s, drops what a reader cannot see and that would
// split a word for the patterns (everything [sanitize.String] removes, such
// as escape sequences, controls and variation selectors, and every format
// character left, such as the joiners it keeps between letters), and turns
// every run of white space into one space, so that a marker spread over
// lines or padded with tabs still matches.
func normalise(s string) string {
	s, _ = sanitize.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r):
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// mentions reports whether the normalised text t mentions the normalised
// name n as a whole word. Word characters for names include '_' and '-',
// which tool names use as separators, so "send_email" is not mentioned in
// "send_email_draft" or "resend_email"; a '.' counts only before another
// word character, so a name may end a sentence.
func mentions(t, n string) bool {
	for i := 0; ; {
		j := strings.Index(t[i:], n)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(n)
		before, _ := utf8.DecodeLastRuneInString(t[:start])
		after, size := utf8.DecodeRuneInString(t[end:])
		if start > 0 && (isNameRune(before) || before == '.') {
			i = start + 1
			continue
		}
		if end < len(t) && isNameRune(after) {
			i = start + 1
			continue
		}
		if end < len(t) && after == '.' {
			if next, _ := utf8.DecodeRuneInString(t[end+size:]); end+size < len(t) && isNameRune(next) {
				i = start + 1
				continue
			}
		}
		return true
	}
}

func isNameRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-'
}

// otherNames normalises the names of others and drops own, empty names and
// repeats.
func otherNames(own string, others []string) []string {
	var out []string
	own = normalise(own)
	for _, n := range others {
		n = normalise(n)
		if n != "" && n != own && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// pointerEscaper escapes a member name as a JSON Pointer reference token;
// built once, since Scan escapes every member name of every listing.
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointer(s string) string { return pointerEscaper.Replace(s) }

// cut shortens s to at most maxFindingText bytes without splitting a
// character.
func cut(s string) string { return runecut.Prefix(s, maxFindingText) }

// String formats a finding for a diagnostic line, quoting the text so that
// nothing in it can pass for mcpwarden's own words.
func (f Finding) String() string {
	where := f.Where
	if where == "" {
		where = "/"
	}
	return fmt.Sprintf("%s at %s: %s", f.Marker, where, strconv.QuoteToASCII(f.Text))
}
