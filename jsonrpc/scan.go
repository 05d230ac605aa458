package jsonrpc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the strict JSON grammar (RFC 8259) that Decoder checks
// messages against, written for the decoder's one hot spot: a string of
// many megabytes, scanned eight bytes at a time.

// maxNestingDepth is the nesting beyond which no value is read, whatever
// limit a Decoder was given: the bound the JSON tokenizer that Decoder
// agrees with also holds to.
const maxNestingDepth = 10000

// syntaxError is a break of the JSON grammar at a byte offset of the
// message.
type syntaxError struct {
	offset int
	what   string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("%s at byte offset %d", e.what, e.offset)
}

func errAt(offset int, what string) error {
	return &syntaxError{offset: offset, what: what}
}

// errChar reports the unexpected byte at b[i], or the end of the input.
func errChar(b []byte, i int, where string) error {
	if i >= len(b) {
		return errAt(i, "unexpected end of input "+where)
	}
	return errAt(i, fmt.Sprintf("invalid character %q %s", b[i], where))
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specials returns w with the high bit set in its first byte (in memory
// order) that is a quote, a backslash or a control character, and zero
// when there is none. Bytes after the first may be marked falsely (a
// borrow runs on from it), so only the lowest mark is to be used.
func specials(w uint64) uint64 {
	// Flipping bit 1 takes the quote (0x22) to 0x20 and keeps the
	// control characters below 0x20, so that one comparison, x < 0x21,
	// finds both; the backslash is the byte that s holds as zero.
	x := w ^ (ones * 0x02)
	s := w ^ (ones * '\\')
	// In a byte below 0x80, subtracting n sets its high bit when it was
	// below n (or was borrowed from, which only a byte below it that was
	// a match does); masking with ^w drops the bytes >= 0x80.
	return ((x - ones*0x21) | (s - ones)) &^ w & highs
}

// scanString checks the JSON string that opens at b[i] and returns the
// offset just past its closing quote, and whether it holds an escape.
//
// Plain text is read a word at a time up to the next quote, backslash or
// control character, and the common escapes are stepped over in the same
// loop; a run of text longer than 128 bytes goes on in longRun. Whether
// a byte >= 0x80 was seen is all that the loop keeps; UTF-8 is checked
// once, at the end, from the first run between escapes that had one:
// escapes are ASCII, so no multi-byte sequence can span them.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	i++         // the opening quote
	seg := i    // where the run of text since the last escape starts
	utf := -1   // where the UTF-8 check starts
	quote := -1 // the next quote at or after i, once a long run looked
	var high uint64
	for {
		// The first words of a run are read one at a time, since most
		// runs between escapes are short (a search has a cost to start).
		for limit := min(i+128, len(b)); i+8 <= limit; i += 8 {
			w := binary.LittleEndian.Uint64(b[i:])
			if m := specials(w); m != 0 {
				high |= w & (m&-m - 1) // the bytes before the first match
				i += bits.TrailingZeros64(m) >> 3
				goto stop
			}
			high |= w
		}
		if i+8 <= len(b) {
			var h uint64
			i, h = longRun(b, i, &quote)
			high |= h
		} else {
			for i < len(b) && !isSpecial(b[i]) {
				high |= uint64(b[i])
				i++
			}
		}
	stop:
		if utf < 0 && high&highs != 0 {
			utf = seg
		}
		if i+1 >= len(b) || b[i] != '\\' {
			break
		}
		escaped = true
		if n := plainEscape(b, i); n > 0 {
			i += n
		} else if i, err = scanEscape(b, i); err != nil {
			return 0, false, err
		}
		seg = i
	}
	switch {
	case i >= len(b):
		return 0, false, errAt(i, "unexpected end of input in string")
	case b[i] == '"':
		if utf >= 0 && !utf8.Valid(b[utf:i]) {
			return 0, false, errAt(utf+invalidUTF8At(b[utf:i]), "invalid UTF-8 in string")
		}
		return i + 1, escaped, nil
	case b[i] == '\\':
		return 0, false, errAt(i, "unexpected end of input in string escape")
	}
	return 0, false, errAt(i, fmt.Sprintf("invalid control character %q in string", b[i]))
}

// longRun returns the offset of the first quote, backslash or control
// character at or after b[i], and the OR of the bytes before it, by the
// searches of the bytes package, which read many bytes an instruction:
// the next quote (kept in *quote while no escape passes it), the next
// backslash before it, and a pass without branches for control bytes.
func longRun(b []byte, i int, quote *int) (int, uint64) {
	if *quote < i {
		*quote = len(b)
		if q := bytes.IndexByte(b[i:], '"'); q >= 0 {
			*quote = i + q
		}
	}
	end := *quote
	if k := bytes.IndexByte(b[i:end], '\\'); k >= 0 {
		end = i + k
	}
	ctl, high := controls(b[i:end])
	if ctl == 0 {
		return end, high
	}
	for b[i] >= 0x20 {
		i++
	}
	return i, high
}

// controls returns, in the high bits, whether s holds a byte below 0x20
// and whether it holds one >= 0x80.
func controls(s []byte) (ctl, high uint64) {
	for len(s) >= 32 {
		w0 := binary.LittleEndian.Uint64(s)
		w1 := binary.LittleEndian.Uint64(s[8:])
		w2 := binary.LittleEndian.Uint64(s[16:])
		w3 := binary.LittleEndian.Uint64(s[24:])
		ctl |= (w0-ones*0x20)&^w0 | (w1-ones*0x20)&^w1 | (w2-ones*0x20)&^w2 | (w3-ones*0x20)&^w3
		high |= w0 | w1 | w2 | w3
		s = s[32:]
	}
	for _, c := range s {
		ctl |= uint64(c-0x20) &^ uint64(c)
		high |= uint64(c)
	}
	return ctl & highs, high
}

// isSpecial reports whether c ends a run of plain text in a string.
func isSpecial(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }

// plainEscape returns the length of the escape sequence at b[i] when it
// is a two-byte one or the \u escape of a character outside the UTF-16
// surrogates, and 0 for scanEscape to judge otherwise. It is written to
// branch little, since text with escapes meets one every few words.
func plainEscape(b []byte, i int) int {
	c := b[i+1]
	if isShortEscape(c) {
		return 2
	}
	if c == 'u' && i+6 <= len(b) && isHex4(binary.LittleEndian.Uint32(b[i+2:])) &&
		!(b[i+2]|0x20 == 'd' && b[i+3] >= '8') { // D800-DFFF
		return 6
	}
	return 0
}

// isHex4 reports whether the four bytes of x are all hexadecimal digits.
func isHex4(x uint32) bool {
	const (
		ones = 0x01010101
		high = 0x80808080
	)
	// In each byte below 0x80, (0x80|x) - lo keeps its high bit when
	// x >= lo, and (0x80|hi) - x when x <= hi, without borrowing from
	// the next byte.
	l := x | 0x20202020
	digit := ((x | high) - ones*'0') & ((high | ones*'9') - x)
	letter := ((l | high) - ones*'a') & ((high | ones*'f') - l)
	return x&high == 0 && (digit|letter)&high == high
}

// isShortEscape reports whether c ends a two-byte escape sequence: a
// bit of one of two masks, for c below 0x40 and from 0x40 to 0x7f.
func isShortEscape(c byte) bool {
	const (
		lo = 1<<'"' | 1<<'/'
		hi = 1<<('\\'-64) | 1<<('b'-64) | 1<<('f'-64) | 1<<('n'-64) | 1<<('r'-64) | 1<<('t'-64)
	)
	mask := uint64(lo)
	if c >= 64 {
		mask = hi
	}
	return c < 128 && mask>>(c&63)&1 != 0
}

// invalidUTF8At returns the offset of the first byte of b that does not
// begin a valid UTF-8 sequence.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// scanEscape checks the escape sequence at b[i] (a backslash) and returns
// the offset after it. A \u escape of a UTF-16 surrogate must be a high
// one followed at once by an escaped low one: a lone half is no character,
// and parsers that let it through disagree about what it becomes.
func scanEscape(b []byte, i int) (int, error) {
	if i+1 >= len(b) {
		return 0, errAt(i, "unexpected end of input in string escape")
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2, nil
	case 'u':
		r, ok := hex4(b, i+2)
		if !ok {
			return 0, errAt(i, "invalid \\u escape in string")
		}
		if !utf16.IsSurrogate(r) {
			return i + 6, nil
		}
		if i+8 > len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
			return 0, errAt(i, "unpaired UTF-16 surrogate escape in string")
		}
		if r2, ok := hex4(b, i+8); !ok || utf16.DecodeRune(r, r2) == utf8.RuneError {
			return 0, errAt(i, "invalid UTF-16 surrogate pair escape in string")
		}
		return i + 12, nil
	}
	return 0, errAt(i, fmt.Sprintf("invalid escape %q in string", b[i:i+2]))
}

// hex4 reads four hexadecimal digits at b[i].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendUnquoted appends the text of q, a quoted JSON string that
// scanString accepted, to dst.
func appendUnquoted(dst, q []byte) []byte {
	q = q[1 : len(q)-1]
	for len(q) > 0 {
		k := bytes.IndexByte(q, '\\')
		if k < 0 {
			return append(dst, q...)
		}
		dst = append(dst, q[:k]...)
		q = q[k:]
		n := 2
		switch q[1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(q, 2)
			n = 6
			if utf16.IsSurrogate(r) {
				r2, _ := hex4(q, 8)
				r, n = utf16.DecodeRune(r, r2), 12
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, q[1])
		}
		q = q[n:]
	}
	return dst
}

// scanNumber checks the number that starts at b[i] against
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and returns the offset
// after it. What follows is for the caller to judge.
func scanNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return 0, errChar(b, i, "in number (expecting a digit)")
	}
	if i < len(b) && b[i] == '.' {
		if i++; i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, errChar(b, i, "in number (expecting a digit)")
		}
		i = digits(b, i)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		if i++; i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return 0, errChar(b, i, "in number (expecting a digit)")
		}
		i = digits(b, i)
	}
	return i, nil
}

func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// scanLiteral checks that lit (true, false or null) is written at b[i]
// and returns the offset after it.
func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), nil
	}
	return 0, errAt(i, "invalid literal (expecting "+lit+")")
}

// scanScalar checks the string, number or literal at b[i] and returns
// the offset after it.
func scanScalar(b []byte, i int) (int, error) {
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, err
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || ('0' <= c && c <= '9'):
		return scanNumber(b, i)
	}
	return 0, errChar(b, i, "at start of value")
}
