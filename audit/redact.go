package audit

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/runecut"
)

// Limits that keep audit records small whatever a client sends.
const (
	// MaxStringBytes is the longest string, after decoding escapes, that a
	// record holds unchanged; longer ones are cut at a UTF-8 boundary and
	// end with a marker giving the number of bytes dropped.
	MaxStringBytes = 4096
	// MaxDepth is the deepest nesting of objects and arrays kept in
	// recorded arguments; a deeper object or array is replaced by
	// [DeepMarker].
	MaxDepth = 64
	// MaxArgumentsBytes is the size of recorded arguments beyond which the
	// remaining members and elements of every open object and array are
	// replaced by one marker each.
	MaxArgumentsBytes = 64 << 10
)

// Markers that stand in for what an audit record leaves out.
const (
	// RedactedMarker replaces the value of a member whose name looks secret.
	RedactedMarker = "[REDACTED]"
	// DeepMarker replaces an object or array nested deeper than MaxDepth.
	DeepMarker = "[nested too deep]"
	// OmittedName is the member name of the marker that ends an object cut
	// short by MaxArgumentsBytes.
	OmittedName = "[omitted]"
)

// secretParts and secretNames are read-only tables.
//
// secretParts are markers that make a member name secret wherever they occur
// in it, once it is folded to lower case and stripped of everything but
// letters and digits ("X-Api-Key", "db_password", "refreshToken").
var secretParts = [][]byte{
	[]byte("password"), []byte("passwd"), []byte("passphrase"),
	[]byte("secret"), []byte("token"), []byte("apikey"), []byte("accesskey"),
	[]byte("privatekey"), []byte("privkey"), []byte("credential"),
	[]byte("authorization"), []byte("cookie"), []byte("bearer"),
}

// secretNames are secret only as whole names: as parts they would catch
// ordinary names such as "author" or "compass".
var secretNames = [][]byte{
	[]byte("pwd"), []byte("pass"), []byte("auth"), []byte("session"),
	[]byte("sessionid"), []byte("sid"), []byte("otp"), []byte("pin"),
}

// RedactArguments returns raw, a JSON value, made fit for an audit record:
//
//   - the value of every object member whose name looks secret, at any depth,
//     becomes the string [RedactedMarker]. Names are compared after decoding
//     escapes and case folding, ignoring everything but letters and digits,
//     so "pass\u0077ord", "PASS_WORD" and "Api-Key" are all caught;
//   - strings, names included, longer than [MaxStringBytes] are truncated;
//   - objects and arrays nested deeper than [MaxDepth] become [DeepMarker];
//   - past [MaxArgumentsBytes] of output, the rest of each open object and
//     array is replaced by a marker giving the number of input bytes left
//     out;
//   - whitespace is removed and strings are re-escaped minimally; member
//     order is kept.
//
// Input that is not exactly one valid JSON value (including invalid UTF-8)
// yields the JSON string "[unparseable arguments, N bytes]". The result is
// always valid JSON. The work is one streaming pass over raw.
func RedactArguments(raw []byte) []byte {
	r := newRedactor(raw)
	if err := r.run(); err != nil {
		return unparseable(len(raw))
	}
	return bytes.TrimSuffix(r.out.Bytes(), []byte("\n"))
}

func unparseable(n int) []byte {
	b := append([]byte(nil), `"[unparseable arguments, `...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, ` bytes]"`...)
}

// redactor copies one JSON value token by token from dec to enc, rewriting
// what an audit record must not hold.
type redactor struct {
	dec *jsontext.Decoder
	enc *jsontext.Encoder
	out bytes.Buffer
	// Scratch space reused across names and strings.
	unquoted, folded, quoted []byte
}

func newRedactor(raw []byte) *redactor {
	r := &redactor{}
	// A slack of a few markers is enough for the output of a typical input.
	r.out.Grow(min(len(raw), MaxArgumentsBytes) + 64)
	// Duplicate names are allowed on both sides: they are worth recording,
	// and truncated names may collide.
	r.dec = jsontext.NewDecoder(bytes.NewBuffer(raw), jsontext.AllowDuplicateNames(true))
	r.enc = jsontext.NewEncoder(&r.out, jsontext.AllowDuplicateNames(true))
	return r
}

var errTrailingData = errors.New("data after the top-level value")

func (r *redactor) run() error {
	for {
		if err := r.step(); err != nil {
			return err
		}
		if r.dec.StackDepth() == 0 {
			break
		}
	}
	if _, err := r.dec.ReadToken(); !errors.Is(err, io.EOF) {
		return errTrailingData
	}
	return nil
}

// step copies one item: an end of object or array, an object member's name
// (and its value if that must be redacted), or a value.
func (r *redactor) step() error {
	kind := r.dec.PeekKind()
	if kind == jsontext.KindEndObject || kind == jsontext.KindEndArray {
		return r.copyToken()
	}
	depth := r.dec.StackDepth()
	parent, length := r.dec.StackIndex(depth)
	// An object's length counts names and values, so it is even before a name.
	atName := parent == jsontext.KindBeginObject && length%2 == 0
	if (atName || parent == jsontext.KindBeginArray) && r.enc.OutputOffset() > MaxArgumentsBytes {
		return r.omitRest(parent)
	}
	if atName {
		return r.member()
	}
	switch kind {
	case jsontext.KindBeginObject, jsontext.KindBeginArray:
		if depth >= MaxDepth {
			if err := r.dec.SkipValue(); err != nil {
				return err
			}
			return r.enc.WriteToken(jsontext.String(DeepMarker))
		}
		return r.copyToken()
	case jsontext.KindString:
		v, err := r.dec.ReadValue()
		if err != nil {
			return err
		}
		return r.writeString(v)
	default:
		// Literals, numbers, and KindInvalid, whose error ReadValue reports.
		v, err := r.dec.ReadValue()
		if err != nil {
			return err
		}
		return r.enc.WriteValue(v)
	}
}

func (r *redactor) copyToken() error {
	tok, err := r.dec.ReadToken()
	if err != nil {
		return err
	}
	return r.enc.WriteToken(tok)
}

// member copies a name and, when the name looks secret, replaces its value.
func (r *redactor) member() error {
	name, err := r.dec.ReadValue()
	if err != nil {
		return err
	}
	decoded, err := r.unquote(name)
	if err != nil {
		return err
	}
	secret := r.isSecret(decoded)
	if err := r.writeString(name); err != nil {
		return err
	}
	if !secret {
		return nil
	}
	if err := r.dec.SkipValue(); err != nil {
		return err
	}
	return r.enc.WriteToken(jsontext.String(RedactedMarker))
}

// omitRest skips what is left of the current object or array and writes one
// marker in its place.
func (r *redactor) omitRest(parent jsontext.Kind) error {
	start := r.dec.InputOffset()
	for {
		k := r.dec.PeekKind()
		if k == jsontext.KindEndObject || k == jsontext.KindEndArray {
			break
		}
		if err := r.dec.SkipValue(); err != nil {
			return err
		}
	}
	msg := strconv.FormatInt(r.dec.InputOffset()-start, 10) + " bytes omitted"
	if parent == jsontext.KindBeginObject {
		if err := r.enc.WriteToken(jsontext.String(OmittedName)); err != nil {
			return err
		}
	}
	return r.enc.WriteToken(jsontext.String(msg))
}

// writeString writes the quoted JSON string v, truncated if it is too long.
func (r *redactor) writeString(v jsontext.Value) error {
	// Decoding never lengthens a string, so a short quoted form needs no
	// decoding at all.
	if len(v)-2 <= MaxStringBytes {
		return r.enc.WriteValue(v)
	}
	head, n := decodeHead(r.unquoted[:0], v, MaxStringBytes+utf8.UTFMax)
	r.unquoted = head
	if n <= MaxStringBytes {
		return r.enc.WriteValue(v)
	}
	var err error
	r.quoted, err = jsontext.AppendQuote(r.quoted[:0], appendTruncated(r.folded[:0], head, n))
	if err != nil {
		return err
	}
	return r.enc.WriteValue(r.quoted)
}

// unquote returns the decoded content of the JSON string v, which is valid
// only until the next call.
func (r *redactor) unquote(v jsontext.Value) ([]byte, error) {
	if bytes.IndexByte(v, '\\') < 0 {
		return v[1 : len(v)-1], nil
	}
	var err error
	r.unquoted, err = jsontext.AppendUnquote(r.unquoted[:0], v)
	return r.unquoted, err
}

// isSecret reports whether the decoded member name looks like it holds a
// secret.
func (r *redactor) isSecret(name []byte) bool {
	f := r.folded[:0]
	for len(name) > 0 {
		c, size := rune(name[0]), 1
		if c >= utf8.RuneSelf {
			c, size = utf8.DecodeRune(name)
		}
		name = name[size:]
		if b, ok := foldAlnum(c); ok {
			f = append(f, b)
		}
	}
	r.folded = f
	for _, s := range secretNames {
		if bytes.Equal(f, s) {
			return true
		}
	}
	for _, s := range secretParts {
		if bytes.Contains(f, s) {
			return true
		}
	}
	return false
}

// foldAlnum maps c to a lower-case ASCII letter or digit, reporting false for
// anything else. A non-ASCII rune that case-folds to an ASCII letter, such as
// KELVIN SIGN or LONG S, maps to that letter: servers that match names
// case-insensitively treat it as one.
func foldAlnum(c rune) (byte, bool) {
	if c >= utf8.RuneSelf {
		f := unicode.SimpleFold(c)
		for f != c && f >= utf8.RuneSelf {
			f = unicode.SimpleFold(f)
		}
		if f >= utf8.RuneSelf {
			return 0, false
		}
		c = f
	}
	b := byte(c)
	switch {
	case 'a' <= b && b <= 'z', '0' <= b && b <= '9':
		return b, true
	case 'A' <= b && b <= 'Z':
		return b + ('a' - 'A'), true
	}
	return 0, false
}

// appendTruncated appends to dst the start of a string of n bytes, cut at a
// UTF-8 boundary to at most MaxStringBytes and followed by a marker. head
// holds at least the first MaxStringBytes+1 bytes of the string, or all of
// it.
func appendTruncated[S ~[]byte | ~string](dst []byte, head S, n int) []byte {
	if n <= MaxStringBytes {
		return append(dst, head...)
	}
	kept := runecut.Prefix(head, MaxStringBytes)
	dst = append(dst, kept...)
	dst = append(dst, "…["...)
	dst = strconv.AppendInt(dst, int64(n-len(kept)), 10)
	return append(dst, " bytes truncated]"...)
}

// truncateText limits a free-text field of a record to MaxStringBytes.
func truncateText(s string) string {
	if len(s) <= MaxStringBytes {
		return s
	}
	return string(appendTruncated(nil, s, len(s)))
}

// decodeHead appends to dst the decoded content of the quoted JSON string v
// up to about limit bytes, and returns the decoded length of all of v. It
// lets a long string be truncated without decoding all of it into memory.
// v must have been validated by a jsontext decoder; a lone surrogate escape,
// which that rejects, would count as U+FFFD.
func decodeHead(dst []byte, v []byte, limit int) ([]byte, int) {
	n := 0
	for i := 1; i < len(v)-1; {
		c := v[i]
		if c != '\\' {
			// Copy the run of plain bytes up to the next escape at once.
			j := bytes.IndexByte(v[i:len(v)-1], '\\')
			if j < 0 {
				j = len(v) - 1 - i
			}
			if room := limit - len(dst); room > 0 {
				dst = append(dst, v[i:i+min(j, room)]...)
			}
			n += j
			i += j
			continue
		}
		var r rune
		r, i = decodeEscape(v, i)
		if len(dst) < limit {
			dst = utf8.AppendRune(dst, r)
		}
		n += utf8.RuneLen(r)
	}
	return dst, n
}

// decodeEscape decodes the escape sequence at v[i], joining a surrogate
// pair, and returns the rune and the index after the sequence.
func decodeEscape(v []byte, i int) (rune, int) {
	if v[i+1] != 'u' {
		return simpleEscape(v[i+1]), i + 2
	}
	r := hex4(v[i+2 : i+6])
	i += 6
	if !utf16.IsSurrogate(r) {
		return r, i
	}
	if i+6 <= len(v) && v[i] == '\\' && v[i+1] == 'u' {
		if pair := utf16.DecodeRune(r, hex4(v[i+2:i+6])); pair != utf8.RuneError {
			return pair, i + 6
		}
	}
	return utf8.RuneError, i
}

// simpleEscape returns the byte that the letter c after a backslash stands
// for: one of b, f, n, r, t, or '"', '\\' and '/' themselves.
func simpleEscape(c byte) rune {
	switch c {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return rune(c)
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
