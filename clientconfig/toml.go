package clientconfig

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// tomlSyntax reads Codex's config.toml. The values come from the TOML
// decoder; a small scanner of the same text finds where each value is, so
// that only the command and args values are rewritten in place. The
// scanner runs only on text the decoder accepted.
type tomlSyntax struct{}

// quote writes s as a TOML basic string.
func (tomlSyntax) quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (tomlSyntax) decode(data []byte) (map[string]any, error) {
	var root map[string]any
	if _, err := toml.Decode(string(data), &root); err != nil {
		return nil, fmt.Errorf("not valid TOML: %s", strings.TrimPrefix(err.Error(), "toml: "))
	}
	return root, nil
}

func (sx tomlSyntax) entries(data []byte, _ [][]string) ([]entry, error) {
	root, err := sx.decode(data)
	if err != nil {
		return nil, err
	}
	vals, err := scanTOML(data)
	if err != nil {
		return nil, fmt.Errorf("internal error: reading the layout of the TOML file: %w", err)
	}
	at := map[string]*tval{}
	var names []string
	for i := range vals {
		v := &vals[i]
		at[strings.Join(v.path, "\x00")] = v
		if len(v.path) >= 2 && v.path[0] == "mcp_servers" && !slices.Contains(names, v.path[1]) {
			names = append(names, v.path[1])
		}
	}
	servers, _ := root["mcp_servers"].(map[string]any)
	var out []entry
	for _, name := range names {
		e := tomlEntry(data, servers[name], name, func(key string) *tval {
			return at["mcp_servers\x00"+name+"\x00"+key]
		})
		e.path, e.where = []string{"mcp_servers", name}, "mcp_servers"
		out = append(out, e)
	}
	return out, nil
}

// tomlEntry reads one server table; m is its decoded value and val finds
// the layout of one of its keys.
func tomlEntry(data []byte, decoded any, name string, val func(key string) *tval) entry {
	e := entry{name: name}
	m, ok := decoded.(map[string]any)
	if !ok {
		e.skip = "its entry is not a table"
		return e
	}
	if _, hasURL := m["url"]; hasURL {
		e.skip = remoteDetail("http")
		return e
	}
	cmd, ok := m["command"].(string)
	cv := val("command")
	switch {
	case m["command"] == nil:
		e.skip = "it has no command"
		return e
	case !ok || cv == nil || cv.kind != '"':
		e.skip = "its command is not a string"
		return e
	case cmd == "":
		e.skip = "its command is empty"
		return e
	}
	e.command, e.cmd = cmd, span{cv.start, cv.end}
	if raw, present := m["args"]; present {
		list, ok := raw.([]any)
		av := val("args")
		if !ok || av == nil || av.kind != '[' || len(av.arr.elems) != len(list) {
			e.skip = "its args is not a list of strings"
			return e
		}
		for _, a := range list {
			s, ok := a.(string)
			if !ok {
				e.skip = "its args is not a list of strings"
				return e
			}
			e.args = append(e.args, s)
		}
		e.hasArgs, e.arr = true, av.arr
	}
	if env, ok := m["env"].(map[string]any); ok {
		for k := range env {
			e.env = append(e.env, k)
		}
		slices.Sort(e.env)
	}
	e.addArgs = func(arrayText string) edit {
		key := cv.keyRaw[:cv.lastKey] + "args = " + arrayText
		if cv.inline {
			return edit{cv.end, cv.end, ", " + key}
		}
		nl := "\n"
		if cv.lineEnd < len(data) && data[cv.lineEnd] == '\r' {
			nl = "\r\n"
		}
		return edit{cv.lineEnd, cv.lineEnd, nl + cv.indent + key}
	}
	return e
}

// tval is where one key's value is in a TOML file.
type tval struct {
	path       []string // the full key path, table headers included
	start, end int      // the value
	kind       byte     // '"' a string, '[' an array, '{' an inline table, '0' anything else
	arr        array    // for an array
	keyRaw     string   // the key as written
	lastKey    int      // offset in keyRaw of its last part
	inline     bool     // inside an inline table
	indent     string   // white space before the key on its line
	lineEnd    int      // offset of the end of the line where the value ends
}

// tscan scans TOML text that a decoder has accepted.
type tscan struct {
	b    []byte
	i    int
	vals []tval
}

func scanTOML(b []byte) ([]tval, error) {
	s := &tscan{b: b}
	// A byte order mark, which the decoder accepts, starts no key.
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		s.i = 3
	}
	var table []string
	for {
		s.skipSpace(true)
		if s.i >= len(b) {
			return s.vals, nil
		}
		if b[s.i] == '[' {
			arrayTable := s.i+1 < len(b) && b[s.i+1] == '['
			s.i++
			if arrayTable {
				s.i++
			}
			key, _, err := s.key()
			if err != nil {
				return nil, err
			}
			table = key
			if arrayTable {
				// Elements of an array of tables never hold servers.
				table = append([]string{"[[]]"}, key...)
			}
			s.skipLine()
			continue
		}
		if err := s.keyValue(table, false); err != nil {
			return nil, err
		}
		s.skipLine()
	}
}

// skipSpace skips blanks, and with lines also newlines and comments.
func (s *tscan) skipSpace(lines bool) {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == ' ' || c == '\t':
			s.i++
		case lines && (c == '\n' || c == '\r'):
			s.i++
		case lines && c == '#':
			for s.i < len(s.b) && s.b[s.i] != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}

// skipLine skips to the end of the line: blanks, a closing bracket of a
// header, a comment.
func (s *tscan) skipLine() {
	for s.i < len(s.b) && s.b[s.i] != '\n' {
		s.i++
	}
}

// lineEnd returns the offset of the end of the current line after the
// value just read: past blanks and a comment.
func (s *tscan) lineEnd() int {
	j := s.i
	for j < len(s.b) && (s.b[j] == ' ' || s.b[j] == '\t') {
		j++
	}
	if j < len(s.b) && s.b[j] == '#' {
		for j < len(s.b) && s.b[j] != '\n' && s.b[j] != '\r' {
			j++
		}
	}
	return j
}

// key reads a dotted key and returns its parts and the offset of the last
// part.
func (s *tscan) key() (parts []string, last int, err error) {
	for {
		s.skipSpace(false)
		last = s.i
		part, err := s.simpleKey()
		if err != nil {
			return nil, 0, err
		}
		parts = append(parts, part)
		s.skipSpace(false)
		if s.i < len(s.b) && s.b[s.i] == '.' {
			s.i++
			continue
		}
		return parts, last, nil
	}
}

func (s *tscan) simpleKey() (string, error) {
	start := s.i
	if s.i >= len(s.b) {
		return "", errors.New("key expected at end of file")
	}
	switch s.b[s.i] {
	case '"':
		if err := s.basicString(); err != nil {
			return "", err
		}
		return strconv.Unquote(string(s.b[start:s.i]))
	case '\'':
		if err := s.literalString(); err != nil {
			return "", err
		}
		return string(s.b[start+1 : s.i-1]), nil
	}
	for s.i < len(s.b) && isBare(s.b[s.i]) {
		s.i++
	}
	if s.i == start {
		return "", fmt.Errorf("key expected at offset %d", start)
	}
	return string(s.b[start:s.i]), nil
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// keyValue reads "key = value" below the key path prefix.
func (s *tscan) keyValue(prefix []string, inline bool) error {
	lineStart := s.i
	for lineStart > 0 && s.b[lineStart-1] != '\n' {
		lineStart--
	}
	keyStart := s.i
	parts, last, err := s.key()
	if err != nil {
		return err
	}
	keyEnd := s.i
	for keyEnd > keyStart && (s.b[keyEnd-1] == ' ' || s.b[keyEnd-1] == '\t') {
		keyEnd--
	}
	if s.i >= len(s.b) || s.b[s.i] != '=' {
		return fmt.Errorf("'=' expected at offset %d", s.i)
	}
	s.i++
	s.skipSpace(false)
	path := append(slices.Clone(prefix), parts...)
	v := tval{path: path, keyRaw: string(s.b[keyStart:keyEnd]), lastKey: last - keyStart, inline: inline}
	indent := s.b[lineStart:keyStart]
	v.indent = string(indent[:len(indent)-len(strings.TrimLeft(string(indent), " \t"))])
	if err := s.value(&v); err != nil {
		return err
	}
	v.lineEnd = s.lineEnd()
	s.vals = append(s.vals, v)
	return nil
}

// value reads the value at the current offset into v.
func (s *tscan) value(v *tval) error {
	v.start = s.i
	if s.i >= len(s.b) {
		return errors.New("value expected at end of file")
	}
	var err error
	switch s.b[s.i] {
	case '"':
		v.kind = '"'
		err = s.basicString()
	case '\'':
		v.kind = '"'
		err = s.literalString()
	case '[':
		v.kind = '['
		err = s.array(v)
	case '{':
		v.kind = '{'
		err = s.inlineTable(v.path)
	default:
		v.kind = '0'
		s.scalar()
	}
	v.end = s.i
	return err
}

func (s *tscan) basicString() error {
	if s.hasPrefix(`"""`) {
		return s.multiline(`"""`, true)
	}
	s.i++
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return nil
		default:
			s.i++
		}
	}
	return errors.New("unterminated string")
}

func (s *tscan) literalString() error {
	if s.hasPrefix(`'''`) {
		return s.multiline(`'''`, false)
	}
	s.i++
	for s.i < len(s.b) {
		s.i++
		if s.b[s.i-1] == '\'' {
			return nil
		}
	}
	return errors.New("unterminated string")
}

// multiline reads a multi-line string delimited by delim; up to two more
// quotes before the closing delimiter belong to the string.
func (s *tscan) multiline(delim string, escapes bool) error {
	s.i += 3
	for s.i < len(s.b) {
		if escapes && s.b[s.i] == '\\' {
			s.i += 2
			continue
		}
		if s.hasPrefix(delim) {
			n := 0
			for s.i+n < len(s.b) && s.b[s.i+n] == delim[0] && n < 5 {
				n++
			}
			s.i += n
			return nil
		}
		s.i++
	}
	return errors.New("unterminated multi-line string")
}

func (s *tscan) hasPrefix(p string) bool {
	return strings.HasPrefix(string(s.b[s.i:min(len(s.b), s.i+len(p))]), p)
}

// scalar reads a number, boolean or date; a date and a time may be
// separated by a space.
func (s *tscan) scalar() {
	start := s.i
	for s.i < len(s.b) && !strings.ContainsRune(" \t,]}#\r\n", rune(s.b[s.i])) {
		s.i++
	}
	if s.i-start == 10 && s.b[start+4] == '-' && s.i+1 < len(s.b) && s.b[s.i] == ' ' && s.b[s.i+1] >= '0' && s.b[s.i+1] <= '9' {
		s.i++
		s.scalar()
	}
}

func (s *tscan) array(v *tval) error {
	v.arr.open = s.i
	s.i++
	for {
		s.skipSpace(true)
		if s.i >= len(s.b) {
			return errors.New("unterminated array")
		}
		if s.b[s.i] == ']' {
			v.arr.close = s.i
			s.i++
			return nil
		}
		var el tval
		if err := s.value(&el); err != nil {
			return err
		}
		e := elem{start: el.start, end: el.end, next: -1}
		s.skipSpace(true)
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
			e.next = s.i
		}
		v.arr.elems = append(v.arr.elems, e)
	}
}

func (s *tscan) inlineTable(path []string) error {
	s.i++
	for {
		s.skipSpace(true)
		if s.i >= len(s.b) {
			return errors.New("unterminated inline table")
		}
		switch s.b[s.i] {
		case '}':
			s.i++
			return nil
		case ',':
			s.i++
			continue
		}
		if err := s.keyValue(path, true); err != nil {
			return err
		}
	}
}
