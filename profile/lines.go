package profile

import (
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// positions records where the keys of a TOML document appear. The toml
// package tracks key positions internally but does not export them, and
// every error about a key must name its line, so the document is scanned a
// second time here.
//
// The scanner only sees documents toml has accepted, so it does not diagnose
// syntax; it only has to step over values correctly (strings may hold
// brackets, '#', '=' and newlines). It stays within bounds and always makes
// progress on any input.
type positions struct {
	keys  map[string]int   // toml.Key.String() → line of first appearance
	elems map[string][]int // array-valued key → line of each element
}

// line returns the line where k first appears, or 0 if unknown.
func (p positions) line(k toml.Key) int { return p.keys[k.String()] }

// elemLine returns the line of element i of the array at k, falling back to
// the line of k.
func (p positions) elemLine(k toml.Key, i int) int {
	if ls := p.elems[k.String()]; i < len(ls) {
		return ls[i]
	}
	return p.line(k)
}

type scanner struct {
	src      string
	i        int
	newlines []int // offsets of '\n', to turn offsets into lines
	pos      positions
}

// scanPositions returns the positions of the keys of the TOML document src.
// Keys are recorded with every prefix (for "[a.b]", both "a" and "a.b") and
// without array indices: the keys of every element of an array of tables
// share one entry, holding the first line.
func scanPositions(src string) positions {
	s := &scanner{src: src, pos: positions{keys: map[string]int{}, elems: map[string][]int{}}}
	for i := range len(src) {
		if src[i] == '\n' {
			s.newlines = append(s.newlines, i)
		}
	}
	s.i = bomLen(src)
	s.document()
	return s.pos
}

// bomLen returns the length of the byte order mark that src starts with,
// which toml skips: UTF-8, or UTF-16 in either byte order.
func bomLen(src string) int {
	for _, bom := range []string{"\xef\xbb\xbf", "\xff\xfe", "\xfe\xff"} {
		if strings.HasPrefix(src, bom) {
			return len(bom)
		}
	}
	return 0
}

func (s *scanner) lineAt(off int) int { return sort.SearchInts(s.newlines, off) + 1 }

func (s *scanner) peek() byte {
	if s.i < len(s.src) {
		return s.src[s.i]
	}
	return 0
}

func (s *scanner) has(prefix string) bool {
	return s.i < len(s.src) && strings.HasPrefix(s.src[s.i:], prefix)
}

// record notes the line of key and of each of its prefixes, keeping the
// first line seen for each.
func (s *scanner) record(key toml.Key, off int) {
	line := s.lineAt(off)
	for n := 1; n <= len(key); n++ {
		k := key[:n].String()
		if _, ok := s.pos.keys[k]; !ok {
			s.pos.keys[k] = line
		}
	}
}

func (s *scanner) document() {
	var table toml.Key
	for {
		s.skipSpace()
		if s.i >= len(s.src) {
			return
		}
		start := s.i
		if s.peek() == '[' {
			table = s.header()
		} else {
			s.keyValue(table)
		}
		if s.i == start {
			s.i++ // never loop forever on input toml would have rejected
		}
	}
}

// skipSpace steps over blanks, newlines and comments.
func (s *scanner) skipSpace() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		case '#':
			if n := strings.IndexByte(s.src[s.i:], '\n'); n >= 0 {
				s.i += n
			} else {
				s.i = len(s.src)
			}
		default:
			return
		}
	}
}

func (s *scanner) skipBlank() {
	for s.i < len(s.src) && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.i++
	}
}

// header reads "[a.b]" or "[[a.b]]" and returns the table's key.
func (s *scanner) header() toml.Key {
	off := s.i
	s.i++
	if s.peek() == '[' {
		s.i++
	}
	key := s.key()
	s.skipBlank()
	for s.peek() == ']' {
		s.i++
	}
	s.record(key, off)
	return key
}

// keyValue reads "key = value" inside the table at ctx.
func (s *scanner) keyValue(ctx toml.Key) {
	off := s.i
	key := s.key()
	if len(key) == 0 {
		return
	}
	full := append(append(toml.Key{}, ctx...), key...)
	s.record(full, off)
	s.skipBlank()
	if s.peek() != '=' {
		return
	}
	s.i++
	s.skipBlank()
	s.value(full, true)
}

// key reads a dotted key of bare and quoted parts.
func (s *scanner) key() toml.Key {
	var key toml.Key
	for {
		s.skipBlank()
		part, ok := s.keyPart()
		if !ok {
			return key
		}
		key = append(key, part)
		s.skipBlank()
		if s.peek() != '.' {
			return key
		}
		s.i++
	}
}

func (s *scanner) keyPart() (string, bool) {
	start := s.i
	switch s.peek() {
	case '"':
		s.basicString()
		return unquoteBasic(s.src[start:s.i]), true
	case '\'':
		s.literalString()
		return strings.Trim(s.src[start:s.i], "'"), true
	}
	for s.i < len(s.src) && isBareKeyByte(s.src[s.i]) {
		s.i++
	}
	return s.src[start:s.i], s.i > start
}

func isBareKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// unquoteBasic decodes a quoted key with toml itself, so that escapes mean
// exactly what they meant to the parser.
func unquoteBasic(quoted string) string {
	if !strings.Contains(quoted, `\`) {
		return strings.Trim(quoted, `"`)
	}
	var v struct{ K string }
	if _, err := toml.Decode("K = "+quoted, &v); err != nil {
		return strings.Trim(quoted, `"`)
	}
	return v.K
}

// value steps over one value of key, recording the keys of inline tables
// and, when elems is set, the lines of the elements of an array.
func (s *scanner) value(key toml.Key, elems bool) {
	switch {
	case s.has(`"""`):
		s.multiline(`"""`, true)
	case s.has(`'''`):
		s.multiline(`'''`, false)
	case s.peek() == '"':
		s.basicString()
	case s.peek() == '\'':
		s.literalString()
	case s.peek() == '[':
		s.array(key, elems)
	case s.peek() == '{':
		s.inlineTable(key)
	default:
		for s.i < len(s.src) && !strings.ContainsRune(",]}#\r\n", rune(s.src[s.i])) {
			s.i++
		}
	}
}

func (s *scanner) basicString() {
	s.i++ // opening quote
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return
		case '\n':
			return
		default:
			s.i++
		}
	}
	s.i = min(s.i, len(s.src))
}

func (s *scanner) literalString() {
	s.i++ // opening quote
	if n := strings.IndexAny(s.src[s.i:], "'\n"); n >= 0 && s.src[s.i+n] == '\'' {
		s.i += n + 1
		return
	}
	s.i = len(s.src)
}

// multiline steps over a multi-line string delimited by delim. Up to two
// quotes may precede the closing delimiter as part of the content.
func (s *scanner) multiline(delim string, escapes bool) {
	s.i += len(delim)
	for s.i < len(s.src) {
		switch {
		case escapes && s.src[s.i] == '\\':
			s.i += 2
		case s.has(delim):
			run := 0
			for s.i+run < len(s.src) && s.src[s.i+run] == delim[0] && run < len(delim)+2 {
				run++
			}
			s.i += run
			return
		default:
			s.i++
		}
	}
	s.i = min(s.i, len(s.src))
}

func (s *scanner) array(key toml.Key, elems bool) {
	k := key.String()
	_, seen := s.pos.elems[k]
	record := elems && !seen
	var lines []int
	s.i++ // '['
	for s.i < len(s.src) {
		s.skipSpace()
		switch s.peek() {
		case ']':
			s.i++
			if record {
				s.pos.elems[k] = lines
			}
			return
		case ',':
			s.i++
			continue
		}
		start := s.i
		if record {
			lines = append(lines, s.lineAt(start))
		}
		s.value(key, false)
		if s.i == start {
			s.i++
		}
	}
}

func (s *scanner) inlineTable(key toml.Key) {
	s.i++ // '{'
	for s.i < len(s.src) {
		s.skipSpace()
		switch s.peek() {
		case '}':
			s.i++
			return
		case ',':
			s.i++
			continue
		}
		start := s.i
		s.keyValue(key)
		if s.i == start {
			s.i++
		}
	}
}
