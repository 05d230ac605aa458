// Package sanitize removes from text that an MCP server sends towards the
// model everything that a reader of the same text cannot see.
//
// A tool result, a tool description or a resource is shown to a person in a
// terminal or a chat window, and read in full by the model. Whatever renders
// as nothing (or rewrites the screen) lets a server tell the model one thing
// while the person sees another: terminal escape sequences that recolour,
// retitle or hide text and plant hyperlinks; control characters; Unicode tag
// characters and variation selectors that carry whole ASCII messages
// invisibly ("ASCII smuggling"); zero-width characters that split words so
// that filters miss them; and bidirectional controls that reorder what is
// displayed ("Trojan Source"). [String] removes all of these and replaces
// invalid UTF-8 with U+FFFD, so that what is forwarded is what a person
// would read, and [TagPayload] decodes what tag characters carried, for the
// audit log.
//
// # What is removed
//
//   - "ansi": escape sequences, in their 7-bit (ESC) and 8-bit (C1) forms:
//     CSI (ESC [ … final byte), OSC (ESC ] … BEL or ST), DCS, SOS, PM and APC
//     strings (ESC P, X, ^, _ … ST), and the other ESC sequences (ESC, any
//     intermediate bytes, a final byte). A string that is never terminated
//     runs to the end of the text, as it would on a terminal.
//   - "c0": every C0 control except TAB, LF and CR, and DEL. DEL is removed
//     although it is not a C0 control: it displays as nothing, so keeping it
//     would only keep a place to hide bytes. CR is kept because tool output
//     legitimately holds CRLF line ends, though a lone CR can make a terminal
//     overwrite a line.
//   - "c1": the C1 controls U+0080–U+009F that do not introduce a sequence.
//   - "tag": tag characters U+E0000–U+E007F, except inside the three
//     recommended emoji subdivision flags (England, Scotland, Wales), which
//     are made of them and carry at most five fixed letters.
//   - "zero-width": U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER, U+FEFF ZERO
//     WIDTH NO-BREAK SPACE (byte order mark), U+180E MONGOLIAN VOWEL
//     SEPARATOR, and U+200C ZWNJ and U+200D ZWJ where they join nothing (see
//     below).
//   - "bidi": U+202A–U+202E, U+2066–U+2069, U+200E LRM, U+200F RLM and
//     U+061C ALM. Even the marks, which have honest uses in mixed-direction
//     text, are removed: without them such text may display in a less
//     natural order, but it can no longer display in an order other than
//     the one the model reads.
//   - "invisible": other characters that display as nothing: U+00AD SOFT
//     HYPHEN, the invisible operators U+2061–U+2064, the deprecated format
//     characters U+206A–U+206F, the Hangul fillers U+115F, U+1160, U+3164 and
//     U+FFA0, the interlinear annotation characters U+FFF9–U+FFFB, the
//     shorthand format controls U+1BCA0–U+1BCA3 and the musical symbol format
//     characters U+1D173–U+1D17A.
//   - "variation-selector": all of U+E0100–U+E01EF, and U+FE00–U+FE0F where
//     they select nothing (see below).
//   - "invalid-utf8": each byte that is not part of valid UTF-8 is replaced
//     by U+FFFD.
//
// # Characters that depend on their neighbours
//
// ZWJ and ZWNJ are needed inside emoji sequences (👩‍💻, 🏳️‍🌈) and in the
// scripts that use them for shaping (Persian, Devanagari, Malayalam, …).
// One of them is kept when the character kept before it is a non-ASCII
// letter, mark, number or symbol (or a variation selector that was kept)
// and the character after it is a non-ASCII letter, mark, number or symbol
// that is never removed. Anywhere else, and in particular next to ASCII or
// next to another zero-width character, it is removed: that is where it is
// used to split keywords or to encode bits. A patient server can still hide
// about one bit per gap between two non-ASCII characters.
//
// U+FE0E and U+FE0F choose text or emoji presentation and follow emoji,
// symbols and the keycap bases (#, *, digits); U+FE00–U+FE0D select glyph
// variants of non-ASCII characters (mathematical symbols, CJK, Mongolian,
// Phags-pa). One selector is kept directly after a visible character (for
// U+FE00–U+FE0D a non-ASCII one); a second selector in a row, or one after a
// space, a control or the start of the text, is removed, because runs of
// selectors are how bytes are smuggled. The supplementary selectors
// U+E0100–U+E01EF are always removed: their honest use, Japanese
// ideographic variation sequences, only changes the glyph of the ideograph
// before them, and they are the 240-value alphabet of ASCII smuggling.
//
// Left context is always the last character kept, and right context a
// character that is never removed, so that sanitising twice gives the same
// text as sanitising once.
package sanitize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Report says what [String] removed, for the audit log.
type Report struct {
	// Removed counts what was removed: each escape sequence once, each other
	// character once, and each invalid byte replaced by U+FFFD once.
	Removed int
	// Kinds names the classes found, each once, in the order of the list in
	// the package documentation: "ansi", "c0", "c1", "tag", "zero-width",
	// "bidi", "invisible", "variation-selector", "invalid-utf8". It is nil
	// when Removed is 0.
	Kinds []string
}

// Clean reports whether nothing was found.
func (r Report) Clean() bool { return r.Removed == 0 }

type kind uint16

const (
	kindANSI kind = 1 << iota
	kindC0
	kindC1
	kindTag
	kindZeroWidth
	kindBidi
	kindInvisible
	kindSelector
	kindInvalid
	kindCount = iota
)

// kindNames is indexed by the bit number of a kind.
var kindNames = [kindCount]string{
	"ansi", "c0", "c1", "tag", "zero-width", "bidi", "invisible",
	"variation-selector", "invalid-utf8",
}

func (k kind) names() []string {
	if k == 0 {
		return nil
	}
	var names []string
	for i, name := range kindNames {
		if k&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return names
}

const (
	esc = 0x1b
	bel = 0x07
	can = 0x18
	sub = 0x1a
	del = 0x7f

	zwnj = '\u200c'
	zwj  = '\u200d'

	blackFlag = '\U0001F3F4'
	tagCancel = '\U000E007F'
)

// String returns s with everything invisible removed, as described in the
// package documentation, and what was removed. When nothing is, it returns
// s itself and allocates nothing.
func String(s string) (string, Report) {
	i := plainPrefix(s)
	if i == len(s) {
		return s, Report{}
	}
	c := cleaner{s: s}
	c.run(i)
	if c.removed == 0 {
		return s, Report{}
	}
	c.out.WriteString(s[c.last:])
	return c.out.String(), Report{Removed: c.removed, Kinds: c.kinds.names()}
}

// TagPayload returns the ASCII text that the tag characters in s spell,
// U+E0020–U+E007E standing for ' '–'~', in order and joined. The other tag
// characters (U+E0001 LANGUAGE TAG, U+E007F CANCEL TAG and the unassigned
// ones) spell nothing. It returns "" when s holds none.
func TagPayload(s string) string {
	// Every tag character is encoded as F3 A0 8x–81 xx, so a text without
	// that lead pair cannot hold one.
	i := strings.Index(s, "\xf3\xa0")
	if i < 0 {
		return ""
	}
	var b strings.Builder
	for _, r := range s[i:] {
		if r >= 0xE0020 && r <= 0xE007E {
			b.WriteByte(byte(r - 0xE0000))
		}
	}
	return b.String()
}

// plainPrefix returns the length of the longest prefix of s made of
// printable ASCII, TAB, LF and CR: text that needs no further look.
func plainPrefix(s string) int {
	i := 0
	// Eight bytes at a time: a word is plain when no byte has its high bit
	// set, none is below 0x20 and none is DEL. Words holding a TAB, LF or CR
	// fall through to the byte loop, which accepts them.
	for i+8 <= len(s) {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		const lsb, msb = 0x0101010101010101, 0x8080808080808080
		below := (x - 0x20*lsb) &^ x
		y := x ^ del*lsb
		isDel := (y - lsb) &^ y
		if (x|below|isDel)&msb == 0 {
			i += 8
			continue
		}
		for end := i + 8; i < end; i++ {
			if !plainByte(s[i]) {
				return i
			}
		}
	}
	for ; i < len(s); i++ {
		if !plainByte(s[i]) {
			return i
		}
	}
	return i
}

func plainByte(b byte) bool {
	return (b >= 0x20 && b < del) || b == '\n' || b == '\t' || b == '\r'
}

// cleaner walks a text once, building the sanitised text from the first
// piece it removes.
type cleaner struct {
	s   string
	out strings.Builder
	// last is where the run of kept input not yet copied to out begins: the
	// end of the last removed piece.
	last int
	// prevKept is the last character kept before s[last:], or 0 at the
	// start.
	prevKept rune

	removed int
	kinds   kind
}

// drop removes s[a:b] as one piece of kind k.
func (c *cleaner) drop(a, b int, k kind) {
	c.removed++
	c.kinds |= k
	if c.last < a {
		c.prevKept, _ = utf8.DecodeLastRuneInString(c.s[c.last:a])
	}
	if c.out.Cap() == 0 {
		c.out.Grow(len(c.s))
	}
	c.out.WriteString(c.s[c.last:a])
	c.last = b
}

// replace drops the invalid byte at i and puts U+FFFD in its place.
func (c *cleaner) replace(i int) {
	c.drop(i, i+1, kindInvalid)
	c.prevKept = utf8.RuneError
	c.out.WriteRune(utf8.RuneError)
}

// before returns the last character kept before position i.
func (c *cleaner) before(i int) rune {
	if c.last < i {
		r, _ := utf8.DecodeLastRuneInString(c.s[c.last:i])
		return r
	}
	return c.prevKept
}

// run processes s from i, where the plain prefix ends.
func (c *cleaner) run(i int) {
	s := c.s
	for i < len(s) {
		b := s[i]
		if b < utf8.RuneSelf {
			if plainByte(b) {
				i += 1 + plainPrefix(s[i+1:])
				continue
			}
			if b == esc {
				n := escLen(s, i)
				c.drop(i, i+n, kindANSI)
				i += n
				continue
			}
			c.drop(i, i+1, kindC0)
			i++
			continue
		}
		r, size := decodeRune(s, i)
		if r == utf8.RuneError && size == 1 {
			c.replace(i)
			i++
			continue
		}
		if ordinary(r) {
			i += size
			continue
		}
		if r <= 0x9f {
			if n := c1SeqLen(s, i, r); n > 0 {
				c.drop(i, i+n, kindANSI)
				i += n
			} else {
				c.drop(i, i+size, kindC1)
				i += size
			}
			continue
		}
		if k := alwaysRemoved(r); k != 0 {
			c.drop(i, i+size, k)
			i += size
			continue
		}
		switch {
		case r == zwj || r == zwnj:
			if !joins(c.before(i), s[i+size:]) {
				c.drop(i, i+size, kindZeroWidth)
			}
		case r >= 0xfe00 && r <= 0xfe0f:
			if !selects(c.before(i), r) {
				c.drop(i, i+size, kindSelector)
			}
		case r >= 0xe0000 && r <= 0xe007f:
			if n := flagTags(c.before(i), s[i:]); n > 0 {
				i += n
				continue
			}
			c.drop(i, i+size, kindTag)
		}
		i += size
	}
}

// decodeRune decodes the non-ASCII character at s[i] like
// utf8.DecodeRuneInString, with the two- and three-byte forms, which most
// scripts use, inline.
func decodeRune(s string, i int) (rune, int) {
	b := s[i]
	switch {
	case b >= 0xc2 && b <= 0xdf && i+1 < len(s):
		if c := s[i+1]; c&0xc0 == 0x80 {
			return rune(b&0x1f)<<6 | rune(c&0x3f), 2
		}
	case b >= 0xe1 && b <= 0xef && b != 0xed && i+2 < len(s):
		// E0 and ED need a narrower second byte and are left to the
		// library.
		if c, d := s[i+1], s[i+2]; c&0xc0 == 0x80 && d&0xc0 == 0x80 {
			return rune(b&0x0f)<<12 | rune(c&0x3f)<<6 | rune(d&0x3f), 3
		}
	}
	return utf8.DecodeRuneInString(s[i:])
}

// ordinary reports, cheaply, whether r is far from every character that may
// be removed: most letters of most scripts, CJK and emoji.
func ordinary(r rune) bool {
	switch {
	case r < 0xa0:
		return false
	case r < 0x200b:
		return r != 0xad && r != 0x61c && r != 0x115f && r != 0x1160 && r != 0x180e
	case r < 0x2070:
		return false
	case r < 0xfe00:
		return r != 0x3164
	case r < 0x1bca0:
		return r > 0xfe0f && r != 0xfeff && r != 0xffa0 && (r < 0xfff9 || r > 0xfffb)
	case r < 0xe0000:
		return r > 0x1d17a || (r > 0x1bca3 && r < 0x1d173)
	}
	return false
}

// alwaysRemoved returns the kind of r when r is removed whatever surrounds
// it, and 0 otherwise. It is called only for r >= 0xA0.
func alwaysRemoved(r rune) kind {
	if r < 0x200b {
		switch r {
		case 0xad, 0x115f, 0x1160:
			return kindInvisible
		case 0x61c:
			return kindBidi
		case 0x180e:
			return kindZeroWidth
		}
		return 0
	}
	switch {
	case r == 0x200b, r == 0x2060, r == 0xfeff:
		return kindZeroWidth
	case r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return kindBidi
	case r >= 0x2061 && r <= 0x2064, r >= 0x206a && r <= 0x206f,
		r == 0x3164, r == 0xffa0, r >= 0xfff9 && r <= 0xfffb,
		r >= 0x1bca0 && r <= 0x1bca3, r >= 0x1d173 && r <= 0x1d17a:
		return kindInvisible
	case r >= 0xe0100 && r <= 0xe01ef:
		return kindSelector
	}
	return 0
}

// contextual reports whether keeping r depends on its neighbours.
func contextual(r rune) bool {
	return r == zwj || r == zwnj || (r >= 0xfe00 && r <= 0xfe0f) || (r >= 0xe0000 && r <= 0xe007f)
}

// stable reports whether r is a non-ASCII letter, mark, number or symbol
// that is never removed: a character a joiner may join.
func stable(r rune) bool {
	if r < 0xa0 || contextual(r) || alwaysRemoved(r) != 0 {
		return false
	}
	if r >= 0x1f000 && r <= 0x1faff {
		// Emoji and other symbols, the usual neighbours of ZWJ.
		return true
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.S)
}

// joins reports whether a ZWJ or ZWNJ between prev, the last character
// kept, and the start of rest joins something.
func joins(prev rune, rest string) bool {
	if !stable(prev) && !(prev >= 0xfe00 && prev <= 0xfe0f) {
		return false
	}
	next, _ := utf8.DecodeRuneInString(rest)
	return stable(next)
}

// selects reports whether the variation selector vs, after prev, the last
// character kept, selects a variant of prev.
func selects(prev, vs rune) bool {
	if prev == 0 || prev == ' ' || contextual(prev) || !unicode.IsGraphic(prev) {
		return false
	}
	return vs >= 0xfe0e || prev >= 0x80
}

// flagTags returns the length of the tag characters at the start of s when
// they, after prev, complete one of the recommended subdivision flags, and 0
// otherwise.
func flagTags(prev rune, s string) int {
	if prev != blackFlag {
		return 0
	}
	for _, sub := range [...]string{"gbeng", "gbsct", "gbwls"} {
		if n := tagSequenceLen(s, sub); n > 0 {
			return n
		}
	}
	return 0
}

// tagSequenceLen returns the length of the tag spelling of letters followed
// by CANCEL TAG at the start of s, or 0 when s does not start with it.
func tagSequenceLen(s, letters string) int {
	i := 0
	for j := 0; j < len(letters); j++ {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != 0xe0000+rune(letters[j]) {
			return 0
		}
		i += size
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r != tagCancel {
		return 0
	}
	return i + size
}

// escLen returns the length of the escape sequence that starts with the ESC
// at s[i]; at least 1.
func escLen(s string, i int) int {
	j := i + 1
	if j == len(s) {
		return 1
	}
	switch b := s[j]; {
	case b == '[':
		return csiEnd(s, j+1) - i
	case b == ']':
		return stringEnd(s, j+1, true) - i
	case b == 'P' || b == 'X' || b == '^' || b == '_':
		return stringEnd(s, j+1, false) - i
	case b >= 0x20 && b <= 0x2f:
		// Intermediate bytes, then a final byte, as in ESC ( B.
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
			j++
		}
		if j < len(s) && s[j] >= 0x30 && s[j] <= 0x7e {
			j++
		}
		return j - i
	case b >= 0x30 && b <= 0x7e:
		return 2
	}
	// ESC before a control, a non-ASCII byte or DEL stands alone.
	return 1
}

// c1SeqLen returns the length of the sequence that the C1 control r at s[i]
// introduces in its 8-bit form, or 0 when r introduces none.
func c1SeqLen(s string, i int, r rune) int {
	const size = 2 // every C1 control takes two bytes in UTF-8
	switch r {
	case 0x9b: // CSI
		return csiEnd(s, i+size) - i
	case 0x9d: // OSC
		return stringEnd(s, i+size, true) - i
	case 0x90, 0x98, 0x9e, 0x9f: // DCS, SOS, PM, APC
		return stringEnd(s, i+size, false) - i
	}
	return 0
}

// csiEnd returns the end of a control sequence whose parameters start at
// s[j]: parameter and intermediate bytes, then a final byte. A sequence cut
// short by any other byte ends before that byte, which is then dealt with
// on its own; CAN and SUB, which abort a sequence on a terminal, are taken
// with it.
func csiEnd(s string, j int) int {
	for ; j < len(s); j++ {
		b := s[j]
		switch {
		case b >= 0x20 && b <= 0x3f:
			continue
		case b >= 0x40 && b <= 0x7e, b == can, b == sub:
			return j + 1
		}
		return j
	}
	return j
}

// stringEnd returns the end of a control string whose content starts at
// s[j]: after its string terminator (ESC \ or U+009C, and for OSC also BEL),
// after a CAN or SUB that aborts it, or before an ESC that starts another
// sequence. An unterminated string runs to the end of s, as on a terminal.
func stringEnd(s string, j int, osc bool) int {
	for ; j < len(s); j++ {
		switch s[j] {
		case esc:
			if j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
			return j
		case bel:
			if osc {
				return j + 1
			}
		case can, sub:
			return j + 1
		case 0xc2:
			if j+1 < len(s) && s[j+1] == 0x9c {
				return j + 2
			}
		}
	}
	return j
}
