package jsonrpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"

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
type Decoder struct {
	maxDepth int
	dec      jsontext.Decoder
	in       bytes.Buffer       // the message being decoded
	opts     []jsontext.Options // the strict options, built once
	names    []nameSet          // one per open object, reused across messages
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
// message allocates one.
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
}

func (d *Decoder) decode(b []byte, env *envelope) (*Message, error) {
	d.reset(b)
	tok, err := d.dec.ReadToken()
	if err != nil {
		return nil, err
	}
	if tok.Kind() != '{' {
		return nil, &DecodeError{Reason: "message is not a JSON object"}
	}
	m := &Message{Raw: b}
	for d.dec.PeekKind() != '}' {
		if err := d.member(b, m, env); err != nil {
			return nil, err
		}
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	if _, err := d.dec.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, &DecodeError{Reason: "trailing data after the message"}
	}
	if err := env.classify(m); err != nil {
		return nil, err
	}
	return m, nil
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

func (d *Decoder) member(b []byte, m *Message, env *envelope) error {
	tok, err := d.dec.ReadToken()
	if err != nil {
		return err
	}
	name := tok.String()
	start := d.dec.InputOffset()
	switch name {
	case "jsonrpc":
		v, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		if !isVersion(v) {
			return &DecodeError{Reason: `"jsonrpc" must be "2.0"`}
		}
		env.version = true
	case "id":
		v, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		id, ok := parseID(v)
		if !ok {
			return &DecodeError{Reason: "id must be a string or an integer"}
		}
		env.id, env.idValue, env.idEnd = true, id, d.dec.InputOffset()
	case "method":
		v, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		if unmarshalString(v, &m.Method) != nil || m.Method == "" {
			return &DecodeError{Reason: "method must be a non-empty string"}
		}
		env.method = true
	case "params", "result", "error":
		if err := d.walk(); err != nil {
			return err
		}
		raw := jsontext.Value(bytes.TrimLeft(b[start:d.dec.InputOffset()], " \t\r\n:"))
		switch name {
		case "params":
			if k := raw.Kind(); k != '{' && k != '[' {
				return &DecodeError{Reason: "params must be an object or an array"}
			}
			m.Params = raw
		case "result":
			m.Result = raw
		default:
			m.Error = new(Error)
			if err := json.Unmarshal(raw, m.Error, json.RejectUnknownMembers(true)); err != nil {
				return &DecodeError{Reason: "malformed error object", Err: err}
			}
		}
	default:
		return &DecodeError{Reason: fmt.Sprintf("unknown member %q", name)}
	}
	return nil
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

// walk consumes one value, rejecting nesting deeper than the limit and
// objects whose member names collide under case folding. jsontext already
// rejects exact duplicates and invalid UTF-8.
func (d *Decoder) walk() error {
	k := d.dec.PeekKind()
	if (k == '{' || k == '[') && d.dec.StackDepth() >= d.maxDepth {
		return &DecodeError{Reason: fmt.Sprintf("nesting deeper than %d levels", d.maxDepth)}
	}
	switch k {
	case '{':
		if _, err := d.dec.ReadToken(); err != nil {
			return err
		}
		depth := d.dec.StackDepth()
		for len(d.names) < depth {
			d.names = append(d.names, nameSet{})
		}
		set := &d.names[depth-1]
		set.reset()
		for d.dec.PeekKind() != '}' {
			tok, err := d.dec.ReadToken()
			if err != nil {
				return err
			}
			if name := tok.String(); !set.add(name) {
				return &DecodeError{Reason: fmt.Sprintf("member name %q differs from another only in case (%s)",
					name, d.dec.StackPointer())}
			}
			if err := d.walk(); err != nil {
				return err
			}
		}
		_, err := d.dec.ReadToken()
		return err
	case '[':
		if _, err := d.dec.ReadToken(); err != nil {
			return err
		}
		for d.dec.PeekKind() != ']' {
			if err := d.walk(); err != nil {
				return err
			}
		}
		_, err := d.dec.ReadToken()
		return err
	default:
		// PeekKind reports 0 on a syntax error; SkipValue then returns it.
		return d.dec.SkipValue()
	}
}

// nameSet holds the folded member names of one object.
type nameSet struct {
	small []string
	big   map[string]struct{}
}

func (s *nameSet) reset() {
	s.small = s.small[:0]
	s.big = nil
}

// add records name and reports false if a name that folds the same way
// was already present.
func (s *nameSet) add(name string) bool {
	f := fold(name)
	if s.big != nil {
		if _, dup := s.big[f]; dup {
			return false
		}
		s.big[f] = struct{}{}
		return true
	}
	for _, o := range s.small {
		if o == f {
			return false
		}
	}
	s.small = append(s.small, f)
	if len(s.small) > 16 {
		s.big = make(map[string]struct{}, 32)
		for _, o := range s.small {
			s.big[o] = struct{}{}
		}
	}
	return true
}

// Fold maps s to the form under which case-insensitive JSON decoders
// consider two names equal: encoding/json folds every rune r to
// unicode.ToLower(unicode.ToUpper(r)), so the long s (U+017F) matches "s"
// and the Kelvin sign (U+212A) matches "k".
func Fold(s string) string { return fold(s) }

func fold(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			break
		}
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for _, r := range s[i:] {
		b = utf8.AppendRune(b, unicode.ToLower(unicode.ToUpper(r)))
	}
	return string(b)
}

// isVersion reports whether v is the JSON string "2.0". Nearly every
// message writes it so, and is compared as written; only another
// spelling is unquoted, which costs an allocation.
func isVersion(v jsontext.Value) bool {
	if string(v) == `"`+Version+`"` {
		return true
	}
	var s string
	return unmarshalString(v, &s) == nil && s == Version
}

func unmarshalString(v jsontext.Value, s *string) error {
	if v.Kind() != '"' {
		return errors.New("not a string")
	}
	return json.Unmarshal(v, s)
}
