package filter

import (
	"testing"
	"unicode"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"write_file", "write_file"},
		{"WRITE_FILE", "write_file"},
		{"Write_File", "write_file"},
		{"ſearch", "search"},                   // U+017F LATIN SMALL LETTER LONG S
		{"\u212Aill", "kill"},                  // KELVIN SIGN
		{"ｗｒｉｔｅ＿ｆｉｌｅ", "write_file"},           // fullwidth
		{"ＷＲＩＴＥ_FILE", "write_file"},           // fullwidth capitals
		{"𝐰𝐫𝐢𝐭𝐞_𝐟𝐢𝐥𝐞", "write_file"},           // mathematical bold
		{"𝚠𝚛𝚒𝚝𝚎_𝚏𝚒𝚕𝚎", "write_file"},           // mathematical monospace
		{"ⓦⓡⓘⓣⓔ_ⓕⓘⓛⓔ", "write_file"},           // circled
		{"write_ﬁle", "write_file"},            // U+FB01 ligature
		{"wrİte_file", "write_file"},           // U+0130, joined with 'i' by ToLower
		{"wrıte_file", "write_file"},           // U+0131 dotless i, joined by ToUpper
		{"write﹍file", "write_file"},           // U+FE4D dashed low line
		{"file²", "file2"},                     // superscript two
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"},                 // final and medial sigma agree
		{"ⅻ", "xii"},                           // small roman numeral twelve
		{"\u00A0x\u3000", " x "},               // compatibility spaces
		{"日本語", "日本語"},                         // no case, no compatibility form
		{"\u212B", string(caseFold('\u00E5'))}, // ANGSTROM SIGN joins Å and å
	}
	for _, tt := range tests {
		if got := string(fold(tt.in)); got != tt.want {
			t.Errorf("fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCaseFoldClasses checks, for every rune, that caseFold treats alike
// whatever encoding/json v1 (upper of lower), strings.EqualFold (the
// SimpleFold orbit) or a lower- or upper-casing server would treat alike.
func TestCaseFoldClasses(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		f := caseFold(r)
		related := []rune{
			unicode.SimpleFold(r),
			unicode.ToUpper(r),
			unicode.ToLower(r),
			unicode.ToTitle(r),
			unicode.ToUpper(unicode.ToLower(r)),
			f,
		}
		for _, s := range related {
			if g := caseFold(s); g != f {
				t.Fatalf("caseFold(%U) = %U but caseFold(%U) = %U", r, f, s, g)
			}
		}
	}
}

// TestCompatIsASCIIOrSelf checks that the compatibility table only ever
// produces ASCII, so that folding cannot map one non-ASCII spelling onto
// another that the deny glob does not expect.
func TestCompatIsASCIIOrSelf(t *testing.T) {
	for r := rune(0xA0); r <= unicode.MaxRune; r++ {
		out := appendCompat(nil, r)
		if len(out) == 1 && out[0] == r {
			continue
		}
		for _, c := range out {
			if c >= 0x80 {
				t.Fatalf("appendCompat(%U) = %q, not ASCII", r, string(out))
			}
		}
	}
}

func TestFoldedGlobKeepsWildcards(t *testing.T) {
	// A fullwidth asterisk or question mark in a pattern is a literal: it
	// folds to '*' or '?', which must not become a wildcard.
	g := compileGlob("a＊b").folded()
	if g.match(fold("axyzb")) {
		t.Error(`folded "a＊b" matched "axyzb"`)
	}
	if !g.match(fold("A*B")) {
		t.Error(`folded "a＊b" did not match "A*B"`)
	}
	q := compileGlob("a？").folded()
	if q.match(fold("ax")) {
		t.Error(`folded "a？" matched "ax"`)
	}
}
