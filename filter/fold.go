package filter

import (
	"unicode"
	"unicode/utf8"
)

// fold returns the form of s that deny globs are also matched against:
// compatibility variants mapped to their ASCII letters, digits and
// punctuation, then every rune replaced by one canonical member of its
// case class. Two names that a server could reasonably treat as the same
// (Go's encoding/json v1 field matching, strings.EqualFold, a lower-cased
// map key, NFKC normalisation of fullwidth or mathematical letters) fold
// to the same runes.
func fold(s string) []rune {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		out = appendFolded(out, r)
	}
	return out
}

// appendFolded appends the folded form of r, which may be several runes
// (ligatures, roman numerals).
func appendFolded(dst []rune, r rune) []rune {
	n := len(dst)
	dst = appendCompat(dst, r)
	for i := n; i < len(dst); i++ {
		dst[i] = caseFold(dst[i])
	}
	return dst
}

// caseFold maps r to the representative of its case class.
//
// encoding/json v1 compares names by unicode.ToUpper(unicode.ToLower(r)),
// which also joins 'İ' with 'i'; strings.EqualFold walks the
// unicode.SimpleFold orbit, which joins 'ſ' with 's' and the Kelvin sign
// with 'k'. Taking the smallest rune of the orbit after the upper/lower
// round trip covers both; lower-casing that rune keeps folded names
// readable in audit records.
func caseFold(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	r = unicode.ToLower(unicode.ToUpper(r))
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return unicode.ToLower(m)
}

// appendCompat appends the compatibility decomposition of r where NFKC
// maps it to ASCII, and r itself otherwise. It covers the forms that can
// spell an ASCII identifier or path: fullwidth forms, mathematical
// alphanumerics, letterlike symbols, circled and squared letters,
// super- and subscripts, ligatures, roman numerals, small and vertical
// punctuation, and the compatibility spaces. The table is a subset of
// Unicode's NFKC data, kept in code so that the module needs no Unicode
// normalisation dependency.
func appendCompat(dst []rune, r rune) []rune {
	if r < 0xA0 {
		return append(dst, r)
	}
	if c, ok := compatRune(r); ok {
		return append(dst, c)
	}
	if s := compatString(r); s != "" {
		for _, c := range s {
			dst = append(dst, c)
		}
		return dst
	}
	return append(dst, r)
}

// compatRune handles the contiguous blocks that map one rune to one.
func compatRune(r rune) (rune, bool) {
	switch {
	case 0xFF01 <= r && r <= 0xFF5E: // fullwidth ASCII
		return r - 0xFF01 + '!', true
	case 0x1D400 <= r && r <= 0x1D6A3: // 13 mathematical alphabets of A-Z, a-z
		i := (r - 0x1D400) % 52
		if i < 26 {
			return 'A' + i, true
		}
		return 'a' + i - 26, true
	case 0x1D7CE <= r && r <= 0x1D7FF: // 5 mathematical digit sets
		return '0' + (r-0x1D7CE)%10, true
	case 0x1FBF0 <= r && r <= 0x1FBF9: // segmented digits
		return '0' + r - 0x1FBF0, true
	case 0x24B6 <= r && r <= 0x24CF: // circled capitals
		return 'A' + r - 0x24B6, true
	case 0x24D0 <= r && r <= 0x24E9: // circled small letters
		return 'a' + r - 0x24D0, true
	case 0x1F130 <= r && r <= 0x1F149: // squared capitals
		return 'A' + r - 0x1F130, true
	case 0x2460 <= r && r <= 0x2468: // circled digits
		return '1' + r - 0x2460, true
	case 0x2074 <= r && r <= 0x2079: // superscript digits
		return '4' + r - 0x2074, true
	case 0x2080 <= r && r <= 0x2089: // subscript digits
		return '0' + r - 0x2080, true
	case 0x2000 <= r && r <= 0x200A: // typographic spaces
		return ' ', true
	}
	return 0, false
}

// compatString handles the scattered mappings, some of which expand to
// more than one rune.
func compatString(r rune) string {
	if 0x2160 <= r && r <= 0x217F {
		return romanNumeral(r)
	}
	switch r {
	case 0x00A0, 0x202F, 0x205F, 0x3000:
		return " "
	case 0x00AA, 0x2090:
		return "a"
	case 0x00BA, 0x2092, 0x2134:
		return "o"
	case 0x00B2:
		return "2"
	case 0x00B3:
		return "3"
	case 0x00B9:
		return "1"
	case 0x2070, 0x24EA:
		return "0"
	case 0x017F, 0x209B:
		return "s"
	case 0x0132:
		return "IJ"
	case 0x0133:
		return "ij"
	case 0x01C7:
		return "LJ"
	case 0x01C8:
		return "Lj"
	case 0x01C9:
		return "lj"
	case 0x01CA:
		return "NJ"
	case 0x01CB:
		return "Nj"
	case 0x01CC:
		return "nj"
	case 0x01F1:
		return "DZ"
	case 0x01F2:
		return "Dz"
	case 0x01F3:
		return "dz"
	case 0x2071, 0x2139, 0x2148:
		return "i"
	case 0x207F, 0x2099:
		return "n"
	case 0x2091, 0x212F, 0x2147:
		return "e"
	case 0x2093:
		return "x"
	case 0x2095, 0x210E:
		return "h"
	case 0x2096:
		return "k"
	case 0x2097, 0x2113:
		return "l"
	case 0x2098:
		return "m"
	case 0x209A:
		return "p"
	case 0x209C:
		return "t"
	case 0x210A:
		return "g"
	case 0x2146:
		return "d"
	case 0x2149:
		return "j"
	case 0x2102, 0x212D:
		return "C"
	case 0x210B, 0x210C, 0x210D:
		return "H"
	case 0x2110, 0x2111:
		return "I"
	case 0x2112:
		return "L"
	case 0x2115:
		return "N"
	case 0x2119:
		return "P"
	case 0x211A:
		return "Q"
	case 0x211B, 0x211C, 0x211D:
		return "R"
	case 0x2124, 0x2128:
		return "Z"
	case 0x212A:
		return "K"
	case 0x212C:
		return "B"
	case 0x2130:
		return "E"
	case 0x2131:
		return "F"
	case 0x2133:
		return "M"
	case 0x2145:
		return "D"
	case 0xFB00:
		return "ff"
	case 0xFB01:
		return "fi"
	case 0xFB02:
		return "fl"
	case 0xFB03:
		return "ffi"
	case 0xFB04:
		return "ffl"
	case 0xFB05, 0xFB06:
		return "st"
	}
	if s := compatPunct(r); s != "" {
		return s
	}
	return compatModifier(r)
}

// compatPunct maps the one-dot leaders and the small and vertical
// presentation forms of ASCII punctuation.
func compatPunct(r rune) string {
	switch r {
	case 0x2024, 0xFE52:
		return "."
	case 0x2025, 0xFE30:
		return ".."
	case 0x2026, 0xFE19:
		return "..."
	case 0xFE33, 0xFE34, 0xFE4D, 0xFE4E, 0xFE4F:
		return "_"
	case 0xFE63:
		return "-"
	case 0xFE10, 0xFE50:
		return ","
	case 0xFE13, 0xFE55:
		return ":"
	case 0xFE14, 0xFE54, 0x037E:
		return ";"
	case 0xFE15, 0xFE57:
		return "!"
	case 0xFE16, 0xFE56:
		return "?"
	case 0xFE35, 0xFE59, 0x207D, 0x208D:
		return "("
	case 0xFE36, 0xFE5A, 0x207E, 0x208E:
		return ")"
	case 0xFE37, 0xFE5B:
		return "{"
	case 0xFE38, 0xFE5C:
		return "}"
	case 0xFE47:
		return "["
	case 0xFE48:
		return "]"
	case 0xFE5F:
		return "#"
	case 0xFE60:
		return "&"
	case 0xFE61:
		return "*"
	case 0xFE62, 0x207A, 0x208A, 0xFB29:
		return "+"
	case 0xFE64:
		return "<"
	case 0xFE65:
		return ">"
	case 0xFE66, 0x207C, 0x208C:
		return "="
	case 0xFE68:
		return `\`
	case 0xFE69:
		return "$"
	case 0xFE6A:
		return "%"
	case 0xFE6B:
		return "@"
	case 0x1FEF:
		return "`"
	}
	return ""
}

// compatModifier maps the modifier (superscript) letters and the few
// stray letterlike forms outside the blocks above.
func compatModifier(r rune) string {
	switch r {
	case 0x1D2C:
		return "A"
	case 0x1D2E:
		return "B"
	case 0xA7F2, 0x1F12B:
		return "C"
	case 0x1D30:
		return "D"
	case 0x1D31:
		return "E"
	case 0xA7F3:
		return "F"
	case 0x1D33:
		return "G"
	case 0x1D34:
		return "H"
	case 0x1D35:
		return "I"
	case 0x1D36:
		return "J"
	case 0x1D37:
		return "K"
	case 0x1D38:
		return "L"
	case 0x1D39:
		return "M"
	case 0x1D3A:
		return "N"
	case 0x1D3C:
		return "O"
	case 0x1D3E:
		return "P"
	case 0xA7F4:
		return "Q"
	case 0x1D3F, 0x1F12C:
		return "R"
	case 0x1D40:
		return "T"
	case 0x1D41:
		return "U"
	case 0x2C7D:
		return "V"
	case 0x1D42:
		return "W"
	case 0x1D43:
		return "a"
	case 0x1D47:
		return "b"
	case 0x1D9C:
		return "c"
	case 0x1D48:
		return "d"
	case 0x1D49:
		return "e"
	case 0x1DA0:
		return "f"
	case 0x1D4D:
		return "g"
	case 0x02B0:
		return "h"
	case 0x1D62:
		return "i"
	case 0x02B2, 0x2C7C:
		return "j"
	case 0x1D4F:
		return "k"
	case 0x02E1:
		return "l"
	case 0x1D50:
		return "m"
	case 0x1D52:
		return "o"
	case 0x1D56:
		return "p"
	case 0x107A5:
		return "q"
	case 0x02B3, 0x1D63:
		return "r"
	case 0x02E2:
		return "s"
	case 0x1D57:
		return "t"
	case 0x1D58, 0x1D64:
		return "u"
	case 0x1D5B, 0x1D65:
		return "v"
	case 0x02B7:
		return "w"
	case 0x02E3:
		return "x"
	case 0x02B8:
		return "y"
	case 0x1DBB:
		return "z"
	}
	return ""
}

// romanNumeral maps the number forms U+2160–U+217F, capitals then
// small letters, to their letters.
func romanNumeral(r rune) string {
	upper := [16]string{"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "L", "C", "D", "M"}
	lower := [16]string{"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "l", "c", "d", "m"}
	i := r - 0x2160
	if i < 16 {
		return upper[i]
	}
	return lower[i-16]
}
