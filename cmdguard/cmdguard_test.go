package cmdguard

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func testChecker(t testing.TB) *Checker {
	t.Helper()
	c, err := New(Rule{Allow: []string{
		"git status",
		"git log **",
		"git diff *",
		"git show --stat *",
		"ls",
		"ls *",
		"ls -l *",
		"cat *",
		"rm -- *",
		"/usr/bin/git status",
		"grep -e * *",
		"echo --format=* *.txt",
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckStringAllowed(t *testing.T) {
	c := testChecker(t)
	for _, cmd := range []string{
		"git status",
		"  git \t status  ",
		"git log",
		"git log --oneline -n 5",
		"git diff HEAD",
		"git show --stat abc123",
		"ls",
		"ls src/main.go",
		"ls -l /usr",
		"cat notes.txt",
		"cat café.txt",
		"cat ｎｏｔｅｓ", // fullwidth letters fold to letters, not to syntax
		"rm -- -rf", // after "--" it is a file name
		"/usr/bin/git status",
		"grep -e foo main.go",
		"echo --format=x a.txt",
		"cat a,b:c@d+e=f_g.h",
	} {
		if err := c.CheckString(cmd); err != nil {
			t.Errorf("CheckString(%q) = %v; want allowed", cmd, err)
		}
	}
}

func TestCheckStringRefused(t *testing.T) {
	c := testChecker(t)
	tests := []struct{ cmd, reason string }{
		{"ls; rm -rf /", `';' at offset 2 is a shell metacharacter`},
		{"ls $(id)", `'$'`},
		{"ls `id`", "'`'"},
		{"ls | sh", `'|'`},
		{"ls && x", `'&'`},
		{"ls &", `'&'`},
		{"ls\nrm -rf /", "line break"},
		{"ls\rrm", "line break"},
		{"ls > /etc/x", `'>'`},
		{"ls < /etc/shadow", `'<'`},
		{"cat /etc/*", `'*'`},
		{"cat ?", `'?'`},
		{"cat [ab]", `'['`},
		{"cat {a,b}", `'{'`},
		{"cat ~/.ssh/id_rsa", `'~'`},
		{"ls !!", `'!'`},
		{"ls # comment", `'#'`},
		{`cat "a b"`, `'"'`},
		{"cat 'a'", `'\''`},
		{`cat a\ b`, `'\\'`},
		{"cat %PATH%", `'%'`},
		{"cat ^x", `'^'`},
		{"cat (x)", `'('`},
		{"git -c core.sshCommand=touch%20x status", `'%'`},
		{"git -c core.sshCommand=id status", "matches no allowed pattern"},
		{"git status -c x", "matches no allowed pattern"},
		{"git --upload-pack=x status", "matches no allowed pattern"},
		{"git diff --output=/etc/passwd", "'*' does not match an option"},
		{"cat --help", "'*' does not match an option"},
		{"ls -la /", "matches no allowed pattern"},
		{"rm -rf x", "matches no allowed pattern"},
		{"git", "matches no allowed pattern"},
		{"ls a b", "matches no allowed pattern"},
		{"git.exe status", `"git.exe" is not an allowed program`},
		{"usr/bin/git status", "not an allowed program"},
		{"/bin/git status", "not an allowed program"},
		{"FOO=bar git status", "environment assignment"},
		{"LD_PRELOAD=/tmp/x.so ls", "environment assignment"},
		{"ls =ls", "zsh"},
		{"ls\uFF1B rm -rf /", `U+FF1B '；' at offset 2 is a compatibility form of ";"`},
		{"ls \uFE54 id", "compatibility form"},
		{"ls \uFF04(id)", "compatibility form"},
		{"ls \uFF5C sh", "compatibility form"},
		{"cat \u2474", `compatibility form of "(1)"`},
		{"ls\u00A0-la", "space other than"},
		{"ls\u3000x", "space other than"},
		{"ls\u2028x", "space other than"},
		{"ls\x00; id", "NUL"},
		{"ls\x1b[2J", "control character"},
		{"ls \u202Etxt.exe", "invisible"},
		{"ls a\u200Bb", "invisible"},
		{"ls \xff", "UTF-8"},
		{"cat a—b", "punctuation or a symbol"},
		// Default-ignorable letters and marks: they pass as letters, and
		// display as nothing, so "a\u3164b" shows as "a b" in a log.
		{"cat a\u3164b", "invisible character U+3164"},
		{"cat a\uFFA0b", "invisible character U+FFA0"},
		{"cat a\u115Fb", "invisible character U+115F"},
		{"cat a\u034Fb", "invisible character U+034F"},
		{"cat a\uFE0Fb", "invisible character U+FE0F"},
		{"cat a\U000E0100b", "invisible character U+E0100"},
		{"cat a\u180Bb", "invisible character U+180B"},
		// An option where the pattern has '*', in every position.
		{"cat -", "'*' does not match an option"},
		{"ls -l --color=always", "'*' does not match an option"},
		{"git show --stat --output=/tmp/x", "'*' does not match an option"},
		{"grep -e -f /etc/shadow", "'*' does not match an option"},
		{"grep -e x --pre=sh", "'*' does not match an option"},
		{"echo --format=x -x.txt", "'*' does not match an option"},
		{"rm -rf -- x", "matches no allowed pattern"},
		{"", "empty"},
		{"   ", "empty"},
		{"rmdir x", "not an allowed program"},
		{strings.Repeat("a", MaxCommandLen+1), "bytes long"},
	}
	for _, tt := range tests {
		err := c.CheckString(tt.cmd)
		if err == nil {
			t.Errorf("CheckString(%q) allowed; want refused (%s)", tt.cmd, tt.reason)
			continue
		}
		var ce *Error
		if !errors.As(err, &ce) || ce.Command != tt.cmd {
			t.Errorf("CheckString(%q) error %v is not an *Error naming the command", tt.cmd, err)
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("CheckString(%q) = %q; want it to say %q", tt.cmd, err, tt.reason)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	c := testChecker(t)
	err := c.CheckString("git -c x=y status")
	want := `refused command "git -c x=y status": ["git" "-c" "x=y" "status"] matches no allowed pattern; allowed for "git": "git status", "git log **", "git diff *", "git show --stat *"`
	if err == nil || err.Error() != want {
		t.Errorf("message\n got %v\nwant %s", err, want)
	}
}

func TestCheckArgv(t *testing.T) {
	c := testChecker(t)
	for _, argv := range [][]string{
		{"git", "status"},
		{"git", "log", "--format=%H;$(x)"}, // no shell: the characters are literal, and "**" allows options
		{"cat", "a b; c"},
		{"cat", ""},
		{"rm", "--", "-rf"},
		{"ls", "-l", "*"},
	} {
		if err := c.CheckArgv(argv); err != nil {
			t.Errorf("CheckArgv(%q) = %v; want allowed", argv, err)
		}
	}
	for _, tt := range []struct {
		argv   []string
		reason string
	}{
		{nil, "empty"},
		{[]string{"git", "-c", "core.sshCommand=id", "status"}, "matches no allowed pattern"},
		{[]string{"git", "status", "--porcelain"}, "matches no allowed pattern"},
		{[]string{"cat", "-n"}, "does not match an option"},
		{[]string{"cat", "a\x00b"}, "NUL"},
		{[]string{"cat", "a\nb"}, "line break"},
		{[]string{"cat", "a\tb"}, "control or invisible character U+0009"},
		{[]string{"cat", "\u202E"}, "invisible"},
		{[]string{"cat", "a\u3164b"}, "invisible"},
		{[]string{"cat", "a\uFE0F"}, "invisible"},
		{[]string{"cat", "\xff"}, "UTF-8"},
		{[]string{"FOO=bar", "git", "status"}, "environment assignment"},
		{[]string{"git status"}, "not an allowed program"},
		{[]string{"/usr/bin/git", "log"}, "matches no allowed pattern"},
		{[]string{"cat", strings.Repeat("a", MaxWordLen+1)}, "bytes long"},
		{make([]string, MaxWords+1), "words"},
	} {
		err := c.CheckArgv(tt.argv)
		if err == nil || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("CheckArgv(%.40q) = %v; want refused saying %q", tt.argv, err, tt.reason)
		}
	}
}

func TestNew(t *testing.T) {
	for _, bad := range []string{
		"", "   ", "**", "* x", "g*t status", "FOO=1 ls", "ls ** x", "ls a**b",
		"ls\nrm", "ls \u200B", "ls\u00A0x", "ls \xff",
	} {
		if _, err := New(Rule{Allow: []string{bad}}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	c, err := New(Rule{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckString("ls"); err == nil {
		t.Error("an empty rule allowed ls")
	}
}

func TestGlob(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "abc", true},
		{"a*c", "abc", true},
		{"a*c", "ac", true},
		{"a*c", "abd", false},
		{"*.txt", "a.txt", true},
		{"*.txt", "a.txt.sh", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"abc", "abc", true},
		{"abc", "ab", false},
		{"**", "x", true},
		{strings.Repeat("*a", 50) + "b", strings.Repeat("a", 5000), false},
	} {
		if got := glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("glob(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}

// FuzzCheckString holds CheckString to its promise: what it accepts has
// no shell metacharacter, control, invisible or non-ASCII space
// character, nothing that folds to one under NFKC, no word a shell
// would expand or read as an assignment, and its space-separated words
// match an allowed pattern. The Unicode space and NFKC checks use the
// standard definitions on the whole string, not the checker's per
// character code.
func FuzzCheckString(f *testing.F) {
	c := testChecker(f)
	for _, s := range []string{
		"git status", "ls; id", "ls $(id)", "git log --oneline", "cat ｎｏｔｅｓ", "cat \uFF1B", "rm -- -rf",
		"FOO=1 ls", "ls\u00A0x", "cat \u2474", "echo --format=x a.txt", "ls =x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if c.CheckString(s) != nil {
			return
		}
		if strings.ContainsAny(s, shellMeta+"\x00\n\r") {
			t.Fatalf("accepted %q with a shell metacharacter", s)
		}
		for _, r := range s {
			if r != ' ' && r != '\t' && (invisible(r) || r > 0x7f && lookalike(r) != "") {
				t.Fatalf("accepted %q with %U", s, r)
			}
		}
		if n := norm.NFKC.String(s); strings.ContainsAny(n, shellMeta+"\x00\n\r") {
			t.Fatalf("accepted %q, which NFKC folds to %q with a shell metacharacter", s, n)
		}
		argv := split(s)
		if f := strings.Fields(s); !slices.Equal(f, argv) {
			t.Fatalf("accepted %q, whose words at Unicode spaces are %q, not %q", s, f, argv)
		}
		if strings.Contains(argv[0], "=") {
			t.Fatalf("accepted %q, whose first word is an assignment", s)
		}
		for _, w := range argv {
			if strings.HasPrefix(w, "=") {
				t.Fatalf("accepted %q with the zsh expansion %q", s, w)
			}
		}
		ok := false
		for _, p := range c.patterns {
			if p.match(argv, true) {
				ok = true
			}
		}
		if !ok || c.CheckArgv(argv) != nil {
			t.Fatalf("accepted %q whose words %q match no pattern as argv", s, argv)
		}
	})
}

func BenchmarkCheckString(b *testing.B) {
	c := testChecker(b)
	for b.Loop() {
		_ = c.CheckString("git log --oneline -n 5 main")
	}
}
