package filter

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"", "", true},
		{"", "a", false},
		{"read_file", "read_file", true},
		{"read_file", "read_file2", false},
		{"read_file", "xread_file", false},
		{"read_file", "READ_FILE", false},
		{"write_*", "write_file", true},
		{"write_*", "write_", true},
		{"write_*", "write", false},
		{"write_*", "rewrite_file", false},
		{"*_file", "write_file", true},
		{"*_file", "write_files", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "a-b-c", true},
		{"a*b*c", "acb", false},
		{"a*b*c", "abcbc", true},
		{"a*bc", "abcbc", true},
		{"a*b", "ab_b", true},
		{"ab*ba", "aba", false},
		{"ab*ba", "abba", true},
		{"?", "x", true},
		{"?", "ſ", true},
		{"?", "", false},
		{"?", "xy", false},
		{"?x", "éx", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*?", "", false},
		{"*?", "a", true},
		{"?*?", "a", false},
		{"?*?", "ab", true},
		{"file:///home/*", "file:///home/u/.ssh/id_rsa", true},
		{"file:///home/*/x", "file:///home/a/b/x", true},
		{"**", "abc", true},
		{"*a*a*a*a*a*a*b", strings.Repeat("a", 50), false},
		{"*a*a*a*a*a*a*b", strings.Repeat("a", 50) + "b", true},
		{`\*`, `\x`, true},
		{"[a]", "a", false},
		{"[a]", "[a]", true},
	}
	for _, tt := range tests {
		g := compileGlob(tt.pattern)
		if got := g.match([]rune(tt.name)); got != tt.want {
			t.Errorf("glob %q match %q = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

// TestGlobPathological would not finish with a backtracking matcher:
// the classic recursive algorithm tries every split of the input among
// the stars.
func TestGlobPathological(t *testing.T) {
	name := []rune(strings.Repeat("a", 100_000))
	for _, pattern := range []string{
		"*a*a*a*a*a*a*b",
		"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
		strings.Repeat("*a", 50) + "*b*",
		"*aaaaaaaaab*",
		strings.Repeat("?", 50) + "*b",
	} {
		if compileGlob(pattern).match(name) {
			t.Errorf("%q matched a string of a's", pattern)
		}
	}
}

// matchRef is a plain dynamic-programming matcher to check glob.match
// against.
func matchRef(pattern, name []rune) bool {
	// m[j] reports whether pattern[:i] matches name[:j].
	m := make([]bool, len(name)+1)
	m[0] = true
	for _, p := range pattern {
		next := make([]bool, len(name)+1)
		for j := 0; j <= len(name); j++ {
			switch {
			case p == '*':
				next[j] = m[j] || j > 0 && next[j-1]
			case j > 0:
				next[j] = m[j-1] && (p == '?' || p == name[j-1])
			}
		}
		m = next
	}
	return m[len(name)]
}

func FuzzGlob(f *testing.F) {
	f.Add("a*b?c", "axxbyc")
	f.Add("*a*a*b", "aaaa")
	f.Add("?*", "")
	f.Add("ab*ba", "aba")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(name) {
			t.Skip()
		}
		got := compileGlob(pattern).match([]rune(name))
		if want := matchRef([]rune(pattern), []rune(name)); got != want {
			t.Fatalf("glob %q match %q = %v, want %v", pattern, name, got, want)
		}
	})
}

func BenchmarkGlobPathological(b *testing.B) {
	// The trailing star makes the matcher search the whole name for "b".
	g := compileGlob("*a*a*a*a*a*a*b*")
	name := []rune(strings.Repeat("a", 10_000))
	for b.Loop() {
		g.match(name)
	}
}
