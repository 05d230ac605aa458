package runecut

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefix(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exact", 5, "exact"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"},   // é is two bytes: not split
		{"a€b", 3, "a"},  // € is three bytes
		{"a€b", 4, "a€"}, // ends right after it
		{"😀x", 3, ""},    // nothing fits whole
		{"", 0, ""},
		{"\xff\xfe", 1, "\xff"}, // invalid bytes are each a boundary
	} {
		if got := Prefix(tc.in, tc.max); got != tc.want {
			t.Errorf("Prefix(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if got := string(Prefix([]byte(tc.in), tc.max)); got != tc.want {
			t.Errorf("Prefix([]byte(%q), %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func FuzzPrefix(f *testing.F) {
	f.Add("aé€😀", 5)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max & 0xff
		got := Prefix(s, max)
		if len(got) > max && len(s) > max || !strings.HasPrefix(s, got) {
			t.Fatalf("Prefix(%q, %d) = %q", s, max, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Prefix(%q, %d) = %q splits a character", s, max, got)
		}
		if len(s) > max && max-len(got) >= utf8.UTFMax {
			t.Fatalf("Prefix(%q, %d) = %q cut more than one character", s, max, got)
		}
	})
}
