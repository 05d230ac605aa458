// Package cmdguard decides whether a command that a shell-like tool is
// asked to run is one the profile allows.
//
// Tools that run commands (a "command" string, or an "args" array) are
// the shortest way from a prompt injection to code execution, and the
// usual defences fail in known ways: an allowlist of program names lets
// "git -c core.sshCommand=… status" through; a prefix match lets
// "ls; rm -rf /" through; a shell string that is merely split on spaces
// still expands "$(id)", backticks, globs, redirections and "~".
//
// A [Checker] therefore matches whole argument vectors, word by word,
// against patterns such as "git status" or "git log **", and a command
// string is accepted only when it has no shell syntax at all: after
// refusing every character a POSIX shell, bash, zsh or cmd.exe gives a
// meaning to, splitting on spaces and tabs is exactly what the shell
// would do, so the words matched are the words run. Look-alike
// characters (fullwidth, small and other compatibility forms of those
// metacharacters, and spaces other than ' ' and tab) are refused too,
// since a server or a terminal on the way may fold them to ASCII.
package cmdguard

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mcpwarden/mcpwarden/runecut"
	"golang.org/x/text/unicode/norm"
)

// Limits on what is checked at all. MaxWordLen is the kernel's
// MAX_ARG_STRLEN; a longer word could not be passed to a program anyway.
const (
	MaxWordLen    = 128 << 10
	MaxCommandLen = 128 << 10
	MaxWords      = 4096
)

// Rule lists the allowed commands.
//
// Each entry of Allow is a pattern: words separated by spaces. The first
// word is the program, compared by its exact text, so "git" does not
// match "/usr/bin/git" nor the other way round, and it may not contain
// '*' or '='. Every further word matches exactly one word of the command:
// '*' in it matches any run of characters within that word, and every
// other character matches itself. A '*' cannot match the start of an
// option, a word beginning with '-', unless the pattern's word begins
// with '-' too ("--format=*") or a "--" in the pattern has ended the
// options: "cat *" allows "cat notes.txt" but not "cat --help", and
// "rg * *" does not allow "rg --pre=sh x .". A final "**" matches any
// further words, options included, so "git log **" allows
// "git log --output=/etc/x": use it only where every option is harmless.
//
// The pattern "ls" allows only "ls" with no arguments; "ls *" allows one
// argument that is not an option; "ls -l *" one after -l.
type Rule struct {
	Allow []string
}

// Checker matches commands against a compiled Rule. It is immutable and
// safe for concurrent use.
type Checker struct {
	patterns []pattern
}

type pattern struct {
	text  string   // as written, for messages
	words []string // program first
	rest  bool     // ended with "**"
}

// New compiles the patterns of r. A pattern that is empty, has a
// control, invisible or non-ASCII space character, a program word with
// '*' or '=', or "**" anywhere but at the end, is an error.
func New(r Rule) (*Checker, error) {
	c := &Checker{}
	for _, text := range r.Allow {
		p, err := compile(text)
		if err != nil {
			return nil, fmt.Errorf("cmdguard: pattern %q: %w", text, err)
		}
		c.patterns = append(c.patterns, p)
	}
	return c, nil
}

func compile(text string) (pattern, error) {
	if !utf8.ValidString(text) {
		return pattern{}, fmt.Errorf("not valid UTF-8")
	}
	for _, r := range text {
		if r != ' ' && r != '\t' && (invisible(r) || unicode.IsSpace(r)) {
			return pattern{}, fmt.Errorf("character %U is not allowed in a pattern", r)
		}
	}
	words := split(text)
	if len(words) == 0 {
		return pattern{}, fmt.Errorf("empty")
	}
	p := pattern{text: strings.Join(words, " ")}
	if words[len(words)-1] == "**" {
		p.rest = true
		words = words[:len(words)-1]
	}
	if len(words) == 0 {
		return pattern{}, fmt.Errorf(`"**" cannot stand for the program`)
	}
	if strings.ContainsAny(words[0], "*=") {
		return pattern{}, fmt.Errorf("the program %q must be exact text, without '*' or '='", words[0])
	}
	for _, w := range words[1:] {
		if strings.Contains(w, "**") {
			return pattern{}, fmt.Errorf(`"**" may only be the last word`)
		}
	}
	p.words = words
	return p, nil
}

// Error is a refused command. Its message is meant both for the audit
// record and for the tool error the model reads.
type Error struct {
	Command string // the command string, or the argv joined by spaces
	Reason  string
}

// Error says which command was refused and why.
func (e *Error) Error() string {
	return fmt.Sprintf("refused command %q: %s", shorten(e.Command), e.Reason)
}

// CheckString checks a command that will be given to a shell. It is
// refused unless it is plain words separated by spaces and tabs, with no
// character any common shell treats specially, and those words match an
// allowed pattern.
func (c *Checker) CheckString(cmd string) error {
	refuse := func(format string, a ...any) error {
		return &Error{Command: cmd, Reason: fmt.Sprintf(format, a...)}
	}
	if len(cmd) > MaxCommandLen {
		return refuse("it is %d bytes long, more than %d", len(cmd), MaxCommandLen)
	}
	if reason := shellUnsafe(cmd); reason != "" {
		return refuse("%s; only plain words separated by spaces are accepted", reason)
	}
	argv := split(cmd)
	for i, w := range argv {
		if strings.HasPrefix(w, "=") {
			// zsh replaces "=name" with the path of the program name.
			return refuse("word %d %q begins with '=', which zsh expands", i, w)
		}
	}
	return c.match(cmd, argv)
}

// CheckArgv checks an argument vector that will be executed directly,
// without a shell: its words need no quoting rule, but control and
// invisible characters and invalid UTF-8 are still refused, and the
// words must match an allowed pattern. A server that joins the array
// into a shell command needs [Checker.CheckString] on the joined string
// instead.
func (c *Checker) CheckArgv(argv []string) error {
	joined := strings.Join(argv, " ")
	if len(argv) > MaxWords {
		return &Error{Command: joined, Reason: fmt.Sprintf("it has %d words, more than %d", len(argv), MaxWords)}
	}
	for i, w := range argv {
		if reason := badWord(w); reason != "" {
			return &Error{Command: joined, Reason: fmt.Sprintf("word %d %s", i, reason)}
		}
	}
	return c.match(joined, argv)
}

// badWord returns why an argv word cannot be passed on, or "".
func badWord(w string) string {
	if len(w) > MaxWordLen {
		return fmt.Sprintf("is %d bytes long, more than %d", len(w), MaxWordLen)
	}
	for i, r := range w {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(w[i:], "\uFFFD"):
			return fmt.Sprintf("is not valid UTF-8 at offset %d", i)
		case r == 0:
			return fmt.Sprintf("has a NUL byte at offset %d", i)
		case r == '\n' || r == '\r':
			return fmt.Sprintf("has a line break at offset %d", i)
		case invisible(r):
			return fmt.Sprintf("has the control or invisible character %U at offset %d", r, i)
		}
	}
	return ""
}

// match finds a pattern for argv, or says what came closest.
func (c *Checker) match(cmd string, argv []string) error {
	if len(argv) == 0 {
		return &Error{Command: cmd, Reason: "it is empty"}
	}
	if strings.Contains(argv[0], "=") {
		return &Error{Command: cmd, Reason: fmt.Sprintf("%q is an environment assignment, not a program", argv[0])}
	}
	var same []string
	optionOnly := false
	for _, p := range c.patterns {
		if p.words[0] != argv[0] {
			continue
		}
		if p.match(argv, true) {
			return nil
		}
		same = append(same, fmt.Sprintf("%q", p.text))
		optionOnly = optionOnly || p.match(argv, false)
	}
	if len(same) == 0 {
		return &Error{Command: cmd, Reason: fmt.Sprintf("%q is not an allowed program", argv[0])}
	}
	reason := fmt.Sprintf("%q matches no allowed pattern; allowed for %q: %s", argv, argv[0], strings.Join(same, ", "))
	if optionOnly {
		reason += " ('*' does not match an option, a word beginning with '-')"
	}
	return &Error{Command: cmd, Reason: reason}
}

// match reports whether argv fits p. With guardOptions, a glob that
// starts with '*' does not match a word starting with '-' until a
// literal "--" has been matched.
func (p pattern) match(argv []string, guardOptions bool) bool {
	if len(argv) < len(p.words) || (!p.rest && len(argv) != len(p.words)) {
		return false
	}
	if argv[0] != p.words[0] {
		return false
	}
	options := guardOptions
	for i := 1; i < len(p.words); i++ {
		w, a := p.words[i], argv[i]
		if options && strings.HasPrefix(w, "*") && strings.HasPrefix(a, "-") {
			return false
		}
		if !glob(w, a) {
			return false
		}
		if w == "--" {
			options = false
		}
	}
	return true
}

// glob reports whether s matches pattern, in which '*' matches any run
// of bytes and everything else matches itself. On a mismatch it retries
// from the last '*' one byte further, which is linear per star and never
// exponential.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && pattern[px] == '*':
			star, mark = px, sx
			px++
		case px < len(pattern) && pattern[px] == s[sx]:
			px++
			sx++
		case star >= 0:
			mark++
			px, sx = star+1, mark
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// split cuts s at runs of spaces and tabs, the only separators a shell
// string that passed shellUnsafe can have.
func split(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
}

// shellMeta are the printable ASCII characters some common shell gives a
// meaning to: sh and bash syntax, expansion and globbing, history ('!'),
// comments, zsh's '^' globbing, and cmd.exe's '%' and '^'. What remains
// (letters, digits, "+,-./:=@_") is literal everywhere, except '=' at the
// start of a word, which zsh expands and CheckString refuses, and '=' in
// the first word, which makes it an assignment.
const shellMeta = "!\"#$%&'()*;<>?[\\]^`{|}~"

// shellUnsafe returns why cmd cannot be given to a shell as it is, or "".
func shellUnsafe(cmd string) string {
	for i, r := range cmd {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(cmd[i:], "\uFFFD"):
			return fmt.Sprintf("it is not valid UTF-8 at offset %d", i)
		case r == ' ' || r == '\t':
		case r == 0:
			return fmt.Sprintf("it has a NUL byte at offset %d", i)
		case r == '\n' || r == '\r':
			return fmt.Sprintf("it has a line break at offset %d, which a shell takes as the end of a command", i)
		case r < utf8.RuneSelf && strings.ContainsRune(shellMeta, r):
			return fmt.Sprintf("%q at offset %d is a shell metacharacter", r, i)
		case r < utf8.RuneSelf && (r < 0x20 || r == 0x7f):
			return fmt.Sprintf("it has the control character %U at offset %d", r, i)
		case r < utf8.RuneSelf:
		case unicode.IsSpace(r): // White_Space holds all of Zs, Zl and Zp
			return fmt.Sprintf("%U at offset %d is a space other than ' ' and tab", r, i)
		case invisible(r):
			return fmt.Sprintf("it has the control or invisible character %U at offset %d", r, i)
		default:
			if reason := lookalike(r); reason != "" {
				return fmt.Sprintf("%U %q at offset %d %s", r, r, i, reason)
			}
		}
	}
	return ""
}

// lookalike refuses a non-ASCII character unless it is a letter, mark or
// digit whose compatibility decomposition holds no ASCII character but
// letters and digits: fullwidth '；', small '﹔', parenthesised '⑴' and
// the like fold to shell syntax under NFKC, which software on the way may
// apply.
func lookalike(r rune) string {
	n := norm.NFKC.String(string(r))
	if !unicode.In(r, unicode.L, unicode.M, unicode.N) {
		if n != string(r) {
			return fmt.Sprintf("is a compatibility form of %q", n)
		}
		return "is punctuation or a symbol, which is not accepted outside ASCII letters and digits"
	}
	for _, d := range n {
		if d < utf8.RuneSelf && !('a' <= d && d <= 'z' || 'A' <= d && d <= 'Z' || '0' <= d && d <= '9') {
			return fmt.Sprintf("is a compatibility form of %q", n)
		}
	}
	return ""
}

// invisible reports control characters, format characters (bidi
// overrides, zero-width characters), line separators and the other
// default-ignorable characters (variation selectors, the combining
// grapheme joiner, the Hangul fillers), which could make an audit record
// or a terminal show something else than is run. The last are letters
// and marks, so the look-alike test alone lets them through.
func invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// shorten keeps error messages readable when a command is huge.
func shorten(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", runecut.Prefix(s, max), len(s))
}
