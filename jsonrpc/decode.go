package jsonrpc

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DefaultMaxDepth bounds the nesting of objects and arrays in a message.
// Tool schemas and structured results nest, but not deeper than this.
const DefaultMaxDepth = 128

// DecodeError explains why a message was refused. When the message's id
// could still be read, ID holds it (with HasMethod telling a request from a
// response) so that the right party can be answered; otherwise ID is zero.
type DecodeError struct {
	ID        ID
	HasMethod bool
	Reason    string
	Err       error
}

func (e *DecodeError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Decoder validates and classifies messages. It keeps scratch space between
// calls and is not safe for concurrent use: give each stream its own.
//
// Decode checks a message against the JSON grammar in one pass over its
// bytes (scan.go), without a tokenizer: a result of many megabytes is
// mostly one string, which is scanned eight bytes at a time, and its long
// runs of plain text by the searches of the bytes package.
type Decoder struct {
	maxDepth int
	names    []*nameSet // one per depth of open object, reused across messages
	folded   []byte     // the folded member names of the message being decoded
	scratch  []byte     // an unquoted top-level name or version

	// SplitBatch's tokenizer, in the Decoder so that no batch allocates one.
	dec  jsontext.Decoder
	in   bytes.Buffer       // the batch being split
	opts []jsontext.Options // the strict options, built once
}

// NewDecoder returns a Decoder that refuses nesting deeper than maxDepth
// (DefaultMaxDepth when maxDepth <= 0).
func NewDecoder(maxDepth int) *Decoder {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	return &Decoder{maxDepth: maxDepth, opts: []jsontext.Options{
		jsontext.AllowDuplicateNames(false),
		jsontext.AllowInvalidUTF8(false),
	}}
}

// reset points the tokenizer at b, in the Decoder's own buffer so that no
// batch allocates one.
func (d *Decoder) reset(b []byte) {
	d.in = *bytes.NewBuffer(b)
	d.dec.Reset(&d.in, d.opts...)
}

// IsBatch reports whether b holds a JSON array, that is a JSON-RPC batch.
func IsBatch(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

// Decode validates b as one JSON-RPC message (not a batch) and classifies
// it. The Message aliases b.
func (d *Decoder) Decode(b []byte) (*Message, error) {
	var env envelope
	m, err := d.decode(b, &env)
	d.release(b)
	if err != nil {
		d.forgetNames()
		de, ok := err.(*DecodeError)
		if !ok {
			de = &DecodeError{Reason: "invalid JSON", Err: err}
		}
		if !env.idValue.IsNull() && env.idComplete(b) {
			de.ID, de.HasMethod = env.idValue, env.method
		}
		return nil, de
	}
	return m, nil
}

// releaseOver is the size of message after which the decoder lets go of
// it at once rather than at the next message: a reference to a result of
// many megabytes must not keep it alive while the next one is read.
const releaseOver = 1 << 20

func (d *Decoder) release(b []byte) {
	if len(b) > releaseOver {
		d.reset(nil)
	}
	// The scratch buffers keep what a large message made them grow to
	// only up to a size that small messages would reach too.
	if cap(d.folded) > 64<<10 {
		d.folded = nil
	}
	if cap(d.scratch) > 64<<10 {
		d.scratch = nil
	}
	// Objects nest past the limit only in a version or an id, which is
	// refused once read: their name sets are not kept.
	if len(d.names) > d.maxDepth+1 {
		clear(d.names[d.maxDepth+1:])
		d.names = d.names[:d.maxDepth+1]
	}
}

func (d *Decoder) decode(b []byte, env *envelope) (*Message, error) {
	d.folded = d.folded[:0]
	i := skipSpace(b, 0)
	if i >= len(b) {
		return nil, errChar(b, i, "(expecting a JSON object)")
	}
	if b[i] != '{' {
		return nil, notObject(b, i)
	}
	m := &Message{Raw: b}
	i, err := d.members(b, skipSpace(b, i+1), m, env)
	if err != nil {
		return nil, err
	}
	if skipSpace(b, i) < len(b) {
		return nil, &DecodeError{Reason: "trailing data after the message"}
	}
	if err := env.classify(m); err != nil {
		return nil, err
	}
	return m, nil
}

// notObject explains why the message at b[i], which does not open an
// object, is refused: the first token decides, as for a tokenizer.
func notObject(b []byte, i int) error {
	if b[i] != '[' {
		if _, err := scanScalar(b, i); err != nil {
			return err
		}
	}
	return &DecodeError{Reason: "message is not a JSON object"}
}

// envelope records which top-level members were present.
type envelope struct {
	version, id, method bool
	idValue             ID
	idEnd               int64 // offset just after the id's value
}

// idComplete reports whether the id was followed by the end of its
// member, so that a syntax error right after it ("id":01) cannot make a
// prefix of what the peer wrote pass for its id.
func (e *envelope) idComplete(b []byte) bool {
	rest := bytes.TrimLeft(b[min(e.idEnd, int64(len(b))):], " \t\r\n")
	return len(rest) > 0 && (rest[0] == ',' || rest[0] == '}')
}

func (e *envelope) classify(m *Message) error {
	m.ID = e.idValue
	switch {
	case !e.version:
		return &DecodeError{Reason: `missing "jsonrpc": "2.0"`}
	case e.method && (m.Result != nil || m.Error != nil):
		return &DecodeError{Reason: "a message with a method cannot carry a result or an error"}
	case e.method && m.ID.IsNull():
		return &DecodeError{Reason: "a request id must not be null"}
	case e.method && e.id:
		m.Kind = Request
	case e.method:
		m.Kind = Notification
	case !e.id:
		return &DecodeError{Reason: "a message needs a method or an id"}
	case (m.Result == nil) == (m.Error == nil):
		return &DecodeError{Reason: "a response needs exactly one of result and error"}
	case m.Params != nil:
		return &DecodeError{Reason: "a response cannot carry params"}
	case m.ID.IsNull() && m.Error == nil:
		return &DecodeError{Reason: "a result needs a non-null id"}
	default:
		m.Kind = Response
	}
	return nil
}

// The members a message may hold, as bits of a set.
const (
	memberVersion = 1 << iota
	memberID
	memberMethod
	memberParams
	memberResult
	memberError
)

func memberOf(name []byte) int {
	switch string(name) {
	case "jsonrpc":
		return memberVersion
	case "id":
		return memberID
	case "method":
		return memberMethod
	case "params":
		return memberParams
	case "result":
		return memberResult
	case "error":
		return memberError
	}
	return 0
}

// members reads the members of the message object from b[i], just after
// its opening brace, and returns the offset after its closing one.
func (d *Decoder) members(b []byte, i int, m *Message, env *envelope) (int, error) {
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	seen := 0
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errChar(b, i, "before object member name (expecting '\"')")
		}
		end, escaped, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		name := b[i+1 : end-1]
		if escaped {
			d.scratch = appendUnquoted(d.scratch[:0], b[i:end])
			name = d.scratch
		}
		which := memberOf(name)
		switch {
		case which == 0:
			return 0, &DecodeError{Reason: fmt.Sprintf("unknown member %q", name)}
		case seen&which != 0:
			return 0, errAt(i, fmt.Sprintf("duplicate member name %q", name))
		}
		seen |= which
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return 0, errChar(b, i, "after object member name (expecting ':')")
		}
		if i, err = d.member(b, skipSpace(b, i+1), which, m, env); err != nil {
			return 0, err
		}
		switch i = skipSpace(b, i); {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return i + 1, nil
		default:
			return 0, errChar(b, i, "after object member value (expecting ',' or '}')")
		}
	}
}

// member reads the value of the top-level member which, at b[i], and
// returns the offset after it.
func (d *Decoder) member(b []byte, i, which int, m *Message, env *envelope) (int, error) {
	if which&(memberParams|memberResult|memberError) != 0 {
		return d.body(b, i, which, m)
	}
	// The version, id and method are read as a tokenizer reads any value:
	// duplicate names refused but no folding, and no depth limit of the
	// message's own, since anything but a string or a number is refused
	// once read.
	end, err := d.walk(b, i, 1, false)
	if err != nil {
		return 0, err
	}
	v := b[i:end]
	switch which {
	case memberVersion:
		if !d.isVersion(v) {
			return 0, &DecodeError{Reason: `"jsonrpc" must be "2.0"`}
		}
		env.version = true
	case memberID:
		id, ok := parseID(v)
		if !ok {
			return 0, &DecodeError{Reason: "id must be a string or an integer"}
		}
		env.id, env.idValue, env.idEnd = true, id, int64(end)
	default:
		if v[0] != '"' {
			return 0, &DecodeError{Reason: "method must be a non-empty string"}
		}
		if m.Method = unquote(v); m.Method == "" {
			return 0, &DecodeError{Reason: "method must be a non-empty string"}
		}
		env.method = true
	}
	return end, nil
}

// body reads the params, result or error at b[i], with the depth limit
// and the folding of names, and returns the offset after it.
func (d *Decoder) body(b []byte, i, which int, m *Message) (int, error) {
	end, err := d.walk(b, i, 1, true)
	if err != nil {
		if c, ok := err.(*collision); ok {
			return 0, c.decodeError(bodyName(which))
		}
		return 0, err
	}
	raw := jsontext.Value(b[i:end])
	switch which {
	case memberParams:
		if k := raw.Kind(); k != '{' && k != '[' {
			return 0, &DecodeError{Reason: "params must be an object or an array"}
		}
		m.Params = raw
	case memberResult:
		m.Result = raw
	default:
		m.Error = new(Error)
		if err := json.Unmarshal(raw, m.Error, json.RejectUnknownMembers(true)); err != nil {
			return 0, &DecodeError{Reason: "malformed error object", Err: err}
		}
	}
	return end, nil
}

func bodyName(which int) string {
	switch which {
	case memberParams:
		return "params"
	case memberResult:
		return "result"
	}
	return "error"
}

// walk checks the value at b[i], whose enclosing objects and arrays
// (the message's included) number depth, and returns the offset after it.
// Duplicate member names are refused in every object and, with fold,
// names that fold alike and nesting past the Decoder's limit too.
func (d *Decoder) walk(b []byte, i, depth int, fold bool) (int, error) {
	if i >= len(b) {
		return 0, errChar(b, i, "(expecting a value)")
	}
	switch b[i] {
	case '{':
		return d.object(b, i, depth, fold)
	case '[':
		return d.array(b, i, depth, fold)
	}
	return scanScalar(b, i)
}

// deeper refuses to open an object or an array at b[i] inside depth
// others.
func (d *Decoder) deeper(i, depth int, fold bool) error {
	if fold && depth >= d.maxDepth {
		return &DecodeError{Reason: fmt.Sprintf("nesting deeper than %d levels", d.maxDepth)}
	}
	if depth >= maxNestingDepth {
		return errAt(i, fmt.Sprintf("nesting deeper than %d levels", maxNestingDepth))
	}
	return nil
}

func (d *Decoder) object(b []byte, i, depth int, fold bool) (int, error) {
	if err := d.deeper(i, depth, fold); err != nil {
		return 0, err
	}
	for len(d.names) <= depth {
		d.names = append(d.names, new(nameSet))
	}
	set := d.names[depth]
	set.small, set.big = set.small[:0], nil
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errChar(b, i, "before object member name (expecting '\"')")
		}
		end, escaped, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		name := walkName(b[i:end], escaped)
		key := name
		if fold {
			key = d.fold(name)
		}
		if prev, ok := set.add(name, key); !ok {
			if prev == name {
				return 0, errAt(i, fmt.Sprintf("duplicate member name %q", name))
			}
			return 0, &collision{name: name, path: []string{name}}
		}
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return 0, errChar(b, i, "after object member name (expecting ':')")
		}
		if i, err = d.walk(b, skipSpace(b, i+1), depth+1, fold); err != nil {
			if c, ok := err.(*collision); ok {
				c.path = append(c.path, name)
			}
			return 0, err
		}
		switch i = skipSpace(b, i); {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			set.reset()
			return i + 1, nil
		default:
			return 0, errChar(b, i, "after object member value (expecting ',' or '}')")
		}
	}
}

func (d *Decoder) array(b []byte, i, depth int, fold bool) (int, error) {
	if err := d.deeper(i, depth, fold); err != nil {
		return 0, err
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for n := 0; ; n++ {
		end, err := d.walk(b, i, depth+1, fold)
		if err != nil {
			if c, ok := err.(*collision); ok {
				c.path = append(c.path, strconv.Itoa(n))
			}
			return 0, err
		}
		switch i = skipSpace(b, end); {
		case i < len(b) && b[i] == ',':
			i = skipSpace(b, i+1)
		case i < len(b) && b[i] == ']':
			return i + 1, nil
		default:
			return 0, errChar(b, i, "after array element (expecting ',' or ']')")
		}
	}
}

// walkName returns the text of the quoted name q. A name without
// escapes is read where it lies, for the walk only: it must not outlive
// the message.
func walkName(q []byte, escaped bool) string {
	if escaped {
		return string(appendUnquoted(nil, q))
	}
	raw := q[1 : len(q)-1]
	return unsafe.String(unsafe.SliceData(raw), len(raw))
}

// fold is the package's fold of s, kept in the Decoder's buffer rather
// than allocated: a name such as "isError" is folded in every result.
func (d *Decoder) fold(s string) string {
	i := foldFrom(s)
	if i == len(s) {
		return s
	}
	start := len(d.folded)
	d.folded = appendFold(d.folded, s, i)
	// Bytes once written are not overwritten before the next message,
	// and a larger buffer leaves the earlier one to the names it holds.
	return unsafe.String(&d.folded[start], len(d.folded)-start)
}

// collision is a member name that folds like another of its object, on
// its way out to the message, collecting the path to it.
type collision struct {
	name string
	path []string // the innermost segment first
}

func (c *collision) Error() string { return "member name " + strconv.Quote(c.name) + " collides" }

// decodeError is the refusal of a collision inside the top-level member
// top, naming it by its JSON pointer (RFC 6901).
func (c *collision) decodeError(top string) error {
	c.path = append(c.path, top)
	var p strings.Builder
	for k := len(c.path) - 1; k >= 0; k-- {
		p.WriteByte('/')
		for _, r := range c.path[k] {
			switch r {
			case '~':
				p.WriteString("~0")
			case '/':
				p.WriteString("~1")
			default:
				p.WriteRune(r)
			}
		}
	}
	return &DecodeError{Reason: fmt.Sprintf("member name %q differs from another only in case (%s)", c.name, p.String())}
}

// forgetNames drops the names that the objects of a refused message left
// in their sets, which alias it.
func (d *Decoder) forgetNames() {
	for _, s := range d.names {
		s.reset()
	}
}

// nameSet holds the member names of one object, by their keys: the names
// themselves or their folded forms.
type nameSet struct {
	small []namedKey
	big   map[string]string // key to name, once there are many
}

type namedKey struct{ key, name string }

// reset empties the set, dropping the names it held.
func (s *nameSet) reset() {
	clear(s.small)
	s.small = s.small[:0]
	s.big = nil
}

// add records name under key and reports false, with the name already
// there, if key was present.
func (s *nameSet) add(name, key string) (string, bool) {
	if s.big != nil {
		if prev, dup := s.big[key]; dup {
			return prev, false
		}
		s.big[key] = name
		return "", true
	}
	for _, o := range s.small {
		if o.key == key {
			return o.name, false
		}
	}
	s.small = append(s.small, namedKey{key: key, name: name})
	if len(s.small) > 16 {
		s.big = make(map[string]string, 32)
		for _, o := range s.small {
			s.big[o.key] = o.name
		}
	}
	return "", true
}

// Fold maps s to the form under which case-insensitive JSON decoders
// consider two names equal: encoding/json folds every rune r to
// unicode.ToLower(unicode.ToUpper(r)), so the long s (U+017F) matches "s"
// and the Kelvin sign (U+212A) matches "k".
func Fold(s string) string { return fold(s) }

func fold(s string) string {
	i := foldFrom(s)
	if i == len(s) {
		return s
	}
	return string(appendFold(make([]byte, 0, len(s)), s, i))
}

// foldFrom returns the offset of the first byte of s that folding may
// change: an upper-case ASCII letter or a byte of a multi-byte rune.
func foldFrom(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return i
		}
	}
	return len(s)
}

// appendFold appends s folded to dst, s[:i] being known to fold to itself.
func appendFold(dst []byte, s string, i int) []byte {
	dst = append(dst, s[:i]...)
	for _, r := range s[i:] {
		dst = utf8.AppendRune(dst, unicode.ToLower(unicode.ToUpper(r)))
	}
	return dst
}

// isVersion reports whether v, a value the scanner accepted, is the JSON
// string "2.0". Nearly every message writes it so, and is compared as
// written; another spelling is unquoted into the Decoder's scratch.
func (d *Decoder) isVersion(v []byte) bool {
	if string(v) == `"`+Version+`"` {
		return true
	}
	if v[0] != '"' {
		return false
	}
	d.scratch = appendUnquoted(d.scratch[:0], v)
	return string(d.scratch) == Version
}

// unquote returns the text of v, a string the scanner accepted.
func unquote(v []byte) string {
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1])
	}
	return string(appendUnquoted(nil, v))
}

// unmarshalString reads v, which need not have been checked, as a JSON
// string (with whitespace around it) into s.
func unmarshalString(v jsontext.Value, s *string) error {
	b := bytes.TrimRight(v, " \t\r\n")
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '"' {
		return errors.New("not a string")
	}
	end, _, err := scanString(b, i)
	if err != nil {
		return err
	}
	if end != len(b) {
		return errAt(end, "data after the string")
	}
	*s = unquote(b[i:end])
	return nil
}
