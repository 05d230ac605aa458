// Package secrets finds credentials in text that crosses the proxy, tool
// results on their way to the model and tool-call arguments on their way to
// a server, so that they can be redacted or the message refused.
//
// A server that reads files, environments or databases returns whatever it
// finds, and an API key in a tool result is one prompt injection away from
// leaving the machine; a model that pastes a key into a call's arguments
// hands it to the server. The audit package already redacts arguments whose
// member names look secret; this package looks at the values themselves.
//
// Detection is a table of rules, each a regular expression (Go's RE2
// syntax, which runs in time linear in the text whatever the input) and one
// or more literal keywords, at least one of which occurs in every match. One
// pass over the text with an automaton of all keywords finds where the
// keywords occur; a rule's expression runs only on windows around the
// occurrences of its own keywords, and, for the rules whose keywords are
// common words ("password", "token", "://"), only where a look at the next
// few bytes shows that a match could start there (an assignment, an '@').
// Text with none of the keywords costs that one pass and nothing else. Some
// rules also require a minimum entropy of the secret, or reject values that
// look like placeholders or code, to keep ordinary text from being redacted.
//
// The built-in rules cover the credentials that have a recognisable shape
// (cloud, source hosting, payment, messaging and AI provider keys, private
// key blocks, JWTs, passwords in URLs and connection strings) and secret
// assignments with a high-entropy value. They do not find a secret that has
// no shape and no name, such as a low-entropy password on its own.
package secrets

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Finding is one secret in a text.
type Finding struct {
	// Rule is the ID of the rule that found it.
	Rule string
	// Start and End are the byte offsets of the secret itself, which may be
	// only part of what the rule matched: the value of an assignment, the
	// password of a URL.
	Start, End int
}

// window is how far from a keyword a pattern is first looked for when the
// rule does not say. A match that reaches the edge of its window is looked
// for again in a larger one, so this bounds the length of nothing but the
// shortest match.
const window = 1024

// rule is a compiled rule.
type rule struct {
	id       string
	keywords []string // as given; folded ones are in the keyword set
	exact    bool     // keywords must occur in the case given
	re       *regexp.Regexp
	window   int
	entropy  float64
	check    func(string) bool // nil or extra test of the secret
	near     func(text string, start, end int) bool
}

// Scanner finds secrets with a fixed set of rules. It is immutable and safe
// for concurrent use.
type Scanner struct {
	rules []*rule
	kw    *keywordSet
	// owners[w] lists the rules that keyword w triggers.
	owners [][]int
}

// NewScanner returns a scanner with the built-in rules.
func NewScanner() *Scanner {
	return defaultScanner()
}

func newScanner(rules []*rule) (*Scanner, error) {
	s := &Scanner{rules: rules}
	index := map[string]int{}
	var words []string
	for i, r := range rules {
		if len(r.keywords) == 0 {
			// Such a rule would run over every text in full; the
			// prefilter is what keeps clean text cheap.
			return nil, fmt.Errorf("secrets: rule %q has no keywords", r.id)
		}
		for _, k := range r.keywords {
			f := fold(k)
			w, ok := index[f]
			if !ok {
				w = len(words)
				index[f] = w
				words = append(words, f)
				s.owners = append(s.owners, nil)
			}
			if !slices.Contains(s.owners[w], i) {
				s.owners[w] = append(s.owners[w], i)
			}
		}
	}
	kw, err := newKeywordSet(words)
	if err != nil {
		return nil, err
	}
	s.kw = kw
	return s, nil
}

// hit is an occurrence of a keyword.
type hit struct{ start, end int }

// found is a finding with the index of its rule, which breaks ties.
type found struct {
	rule       int
	start, end int
}

// Find returns the secrets in text, in order, none overlapping another:
// where two rules' findings overlap, they are merged into one finding that
// covers both and names the rule of the one that starts first (the longer
// one, then the earlier rule, when they start together).
func (s *Scanner) Find(text string) []Finding {
	fs := s.find(text)
	if len(fs) == 0 {
		return nil
	}
	out := make([]Finding, len(fs))
	for i, f := range fs {
		out[i] = Finding{Rule: s.rules[f.rule].id, Start: f.start, End: f.end}
	}
	return out
}

// Redact returns text with each secret replaced by "[REDACTED:<rule>]",
// and the findings, with offsets into text. When there is none it returns
// text itself.
func (s *Scanner) Redact(text string) (string, []Finding) {
	fs := s.Find(text)
	if len(fs) == 0 {
		return text, nil
	}
	var b strings.Builder
	b.Grow(len(text) + 16*len(fs))
	last := 0
	for _, f := range fs {
		b.WriteString(text[last:f.Start])
		b.WriteString("[REDACTED:")
		b.WriteString(f.Rule)
		b.WriteString("]")
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String(), fs
}

func (s *Scanner) find(text string) []found {
	// hits[r] lists the keyword occurrences for rule r; nil until one.
	var hits [][]hit
	s.kw.scan(text, func(start int, w int32) {
		end := start + len(s.kw.words[w])
		for _, r := range s.owners[w] {
			rl := s.rules[r]
			if rl.exact && !slices.Contains(rl.keywords, text[start:end]) {
				continue
			}
			if rl.near != nil && !rl.near(text, start, end) {
				continue
			}
			if hits == nil {
				hits = make([][]hit, len(s.rules))
			}
			hits[r] = append(hits[r], hit{start, end})
		}
	})
	var fs []found
	for r, hs := range hits {
		if len(hs) > 0 {
			fs = s.rules[r].findNear(fs, r, text, hs)
		}
	}
	return merge(fs)
}

// findNear appends to fs the findings of rule r in windows of text around
// the keyword occurrences hs.
func (rl *rule) findNear(fs []found, r int, text string, hs []hit) []found {
	// Occurrences come in order of their ends; a rule with keywords of
	// several lengths may need them sorted by start.
	byStart := func(x, y hit) int { return cmp.Compare(x.start, y.start) }
	if !slices.IsSortedFunc(hs, byStart) {
		slices.SortStableFunc(hs, byStart)
	}
	for radius := rl.window; ; radius *= 4 {
		n := len(fs)
		complete := true
		for i := 0; i < len(hs); {
			// One region for all the occurrences whose windows overlap.
			a, b := max(0, hs[i].start-radius), min(len(text), hs[i].end+radius)
			j := i + 1
			for j < len(hs) && hs[j].start-radius <= b {
				b = max(b, min(len(text), hs[j].end+radius))
				j++
			}
			var ok bool
			fs, ok = rl.findInRegion(fs, r, text, a, b, hs[i:j])
			if !ok {
				complete = false
				break
			}
			i = j
		}
		if complete || radius >= len(text) {
			return fs
		}
		fs = fs[:n]
	}
}

// findInRegion is findIn for a region around the occurrences hs. It
// reports false when a match reaches an edge of the region that is not an
// edge of text: the match may be cut short there.
func (rl *rule) findInRegion(fs []found, r int, text string, a, b int, hs []hit) ([]found, bool) {
	ok := true
	fs = rl.findIn(fs, r, text, a, b, func(ms, me int) bool {
		if (ms == a && a > 0) || (me == b && b < len(text)) {
			ok = false
		}
		return containsHit(hs, ms, me)
	})
	return fs, ok
}

// containsHit reports whether one of hs, sorted by start, lies within
// [ms, me).
func containsHit(hs []hit, ms, me int) bool {
	i, _ := slices.BinarySearchFunc(hs, ms, func(h hit, ms int) int { return cmp.Compare(h.start, ms) })
	for ; i < len(hs) && hs[i].start < me; i++ {
		if hs[i].end <= me {
			return true
		}
	}
	return false
}

// findIn appends to fs the findings of rule r in text[a:b]. accept is asked
// about each whole match, as offsets into text.
func (rl *rule) findIn(fs []found, r int, text string, a, b int, accept func(ms, me int) bool) []found {
	for _, m := range rl.re.FindAllStringSubmatchIndex(text[a:b], -1) {
		if !accept(a+m[0], a+m[1]) {
			continue
		}
		start, end := m[0], m[1]
		for g := 2; g < len(m); g += 2 {
			if m[g] >= 0 {
				start, end = m[g], m[g+1]
				break
			}
		}
		if start == end {
			continue
		}
		secret := text[a+start : a+end]
		if rl.entropy > 0 && entropy(secret) < rl.entropy {
			continue
		}
		if rl.check != nil && !rl.check(secret) {
			continue
		}
		fs = append(fs, found{rule: r, start: a + start, end: a + end})
	}
	return fs
}

// merge sorts fs and merges those that overlap.
func merge(fs []found) []found {
	if len(fs) < 2 {
		return fs
	}
	slices.SortFunc(fs, func(x, y found) int {
		if x.start != y.start {
			return x.start - y.start
		}
		if x.end != y.end {
			return y.end - x.end
		}
		return x.rule - y.rule
	})
	out := fs[:1]
	for _, f := range fs[1:] {
		last := &out[len(out)-1]
		if f.start < last.end {
			last.end = max(last.end, f.end)
			continue
		}
		out = append(out, f)
	}
	return out
}
