package filter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// listSpec says where a list result keeps its items and how to judge one.
type listSpec struct {
	member string // array member of the result
	key    string // string member of each entry that names it
	decide func(*Policy, string) verdict
}

func listSpecFor(method string) (listSpec, bool) {
	switch method {
	case "tools/list":
		return listSpec{"tools", "name", (*Policy).tool}, true
	case "prompts/list":
		return listSpec{"prompts", "name", (*Policy).prompt}, true
	case "resources/list":
		return listSpec{"resources", "uri", (*Policy).resource}, true
	case "resources/templates/list":
		return listSpec{"resourceTemplates", "uriTemplate", (*Policy).resource}, true
	}
	return listSpec{}, false
}

// ListMethod reports whether method is one whose result FilterList
// filters: tools/list, prompts/list, resources/list or
// resources/templates/list.
func ListMethod(method string) bool {
	_, ok := listSpecFor(method)
	return ok
}

// FilterList removes the items the policy denies from the result of the
// list method. It returns the result with the denied entries removed and
// the names (or URIs, or URI templates) of those entries; an entry that
// is not an object, or has no string name, or also has a member whose
// name differs from the key only in case, is removed as well and
// reported as "member[index]: problem". The hidden strings come from
// the server unchecked: they may hold any character and need escaping
// before they are logged.
//
// Everything kept is copied byte for byte: other members of the result
// (nextCursor, _meta, anything unknown), and each kept entry. Only the
// separators inside a filtered array are rewritten. When nothing is
// removed, result itself is returned. A member whose name equals the
// array's only up to case is filtered too, since a lenient client would
// read it as the list.
//
// Entries whose name (or URI) hide reports are removed too, such as tools
// whose definitions changed since they were pinned; hide may be nil.
//
// A result with no such array (or with null in its place) is returned
// unchanged. Invalid JSON (including duplicate member names), a result
// that is not an object, or a list member that is neither an array nor
// null is an error, and the caller must not forward the result.
func (p *Policy) FilterList(method string, result []byte, hide func(key string) bool) (filtered []byte, hidden []string, err error) {
	spec, ok := listSpecFor(method)
	if !ok {
		return nil, nil, fmt.Errorf("filter: %q is not a list method", method)
	}
	f := listFilter{p: p, spec: spec, src: result, hide: hide}
	if err := f.scan(); err != nil {
		return nil, nil, fmt.Errorf("filter: %s result: %w", method, err)
	}
	if len(f.splices) == 0 {
		return result, f.hidden, nil
	}
	return f.output(), f.hidden, nil
}

// listFilter holds the state of one FilterList call.
type listFilter struct {
	p       *Policy
	spec    listSpec
	src     []byte
	dec     *jsontext.Decoder
	entry   jsontext.Decoder // reused to read one entry's members
	buf     bytes.Buffer     // holds the entry that entry reads
	splices []splice
	hidden  []string
	hide    func(key string) bool // further entries to drop; may be nil
}

// splice replaces src[start:end], a list array, with the kept entries.
type splice struct {
	start, end int64
	kept       []span
}

type span struct{ start, end int64 }

// scan walks the top-level object, filtering each list array it meets.
func (f *listFilter) scan() error {
	f.dec = jsontext.NewDecoder(bytes.NewBuffer(f.src))
	tok, err := f.dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '{' {
		return fmt.Errorf("result is %s, not an object", kindName(tok.Kind()))
	}
	for f.dec.PeekKind() != '}' {
		name, err := f.dec.ReadToken()
		if err != nil {
			return err
		}
		if err := f.member(name.String()); err != nil {
			return err
		}
	}
	if _, err := f.dec.ReadToken(); err != nil {
		return err
	}
	if _, err := f.dec.ReadToken(); err != io.EOF {
		return errors.New("data after the result object")
	}
	return nil
}

// member handles the value of one top-level member.
func (f *listFilter) member(name string) error {
	if !sameFolded(name, f.spec.member) {
		return f.dec.SkipValue()
	}
	switch f.dec.PeekKind() {
	case '[':
		return f.array(name)
	case 'n':
		return f.dec.SkipValue()
	case 0:
		_, err := f.dec.ReadValue()
		return err
	}
	return fmt.Errorf("member %q is %s, not an array", name, kindName(f.dec.PeekKind()))
}

// kindName names a JSON kind for error messages.
func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "invalid"
}

// array filters one list array, recording a splice if anything goes.
func (f *listFilter) array(member string) error {
	if _, err := f.dec.ReadToken(); err != nil {
		return err
	}
	s := splice{start: f.dec.InputOffset() - 1}
	removed := false
	for i := 0; f.dec.PeekKind() != ']'; i++ {
		v, err := f.dec.ReadValue()
		if err != nil {
			return err
		}
		end := f.dec.InputOffset()
		if h, drop := f.judge(v, member, i); drop {
			f.hidden = append(f.hidden, h)
			removed = true
			continue
		}
		s.kept = append(s.kept, span{end - int64(len(v)), end})
	}
	if _, err := f.dec.ReadToken(); err != nil {
		return err
	}
	s.end = f.dec.InputOffset()
	if removed {
		f.splices = append(f.splices, s)
	}
	return nil
}

// judge decides on one entry of a list array. It returns whether to drop
// the entry and what to report for it.
func (f *listFilter) judge(v jsontext.Value, member string, i int) (hidden string, drop bool) {
	if v.Kind() != '{' {
		return fmt.Sprintf("%s[%d]: not an object", member, i), true
	}
	key, problem := f.entryKey(v)
	if problem != "" {
		return fmt.Sprintf("%s[%d]: %s", member, i, problem), true
	}
	if !f.spec.decide(f.p, key).allow() || f.hide != nil && f.hide(key) {
		return key, true
	}
	return "", false
}

// entryKey returns the string value of the key member of an entry, or
// what is wrong with it. A second member whose name folds to the key's is
// a problem: a client matching names case-insensitively might read the
// item's name from it instead.
func (f *listFilter) entryKey(v jsontext.Value) (key, problem string) {
	const unreadable = "unreadable entry" // v was validated; not expected
	f.buf.Reset()
	f.buf.Write(v)
	d := &f.entry
	d.Reset(&f.buf)
	if _, err := d.ReadToken(); err != nil {
		return "", unreadable
	}
	found := false
	for d.PeekKind() != '}' {
		raw, err := d.ReadValue()
		if err != nil {
			return "", unreadable
		}
		name, err := unquote(raw)
		switch {
		case err != nil:
		case string(name) == f.spec.key:
			if d.PeekKind() != '"' {
				return "", fmt.Sprintf("%q is not a string", f.spec.key)
			}
			var tok jsontext.Token
			tok, err = d.ReadToken()
			key, found = tok.String(), err == nil
		case sameFolded(string(name), f.spec.key):
			return "", fmt.Sprintf("member %q could be read as %q", name, f.spec.key)
		default:
			err = d.SkipValue()
		}
		if err != nil {
			return "", unreadable
		}
	}
	if !found {
		return "", fmt.Sprintf("no %q member", f.spec.key)
	}
	return key, ""
}

// unquote returns the contents of a JSON string, without copying when it
// has no escapes, which member names rarely do.
func unquote(raw jsontext.Value) ([]byte, error) {
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	return jsontext.AppendUnquote(nil, raw)
}

// output assembles the filtered result from the recorded splices.
func (f *listFilter) output() []byte {
	out := make([]byte, 0, len(f.src))
	var prev int64
	for _, s := range f.splices {
		out = append(out, f.src[prev:s.start]...)
		out = append(out, '[')
		for i, k := range s.kept {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, f.src[k.start:k.end]...)
		}
		out = append(out, ']')
		prev = s.end
	}
	return append(out, f.src[prev:]...)
}

// sameFolded reports whether a server or client comparing names without
// regard to case or compatibility forms could take a for b.
func sameFolded(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		return strings.EqualFold(a, b) // what fold does to ASCII
	}
	return slices.Equal(fold(a), fold(b))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// CompletionRef decides on the ref object of completion/complete params:
// {"type":"ref/prompt","name":...} as a prompt, {"type":"ref/resource",
// "uri":...} as a resource (the URI may be a template). Anything else,
// including an unknown type, a missing or non-string member, or a member
// whose name equals "type", "name" or "uri" only up to case, is denied.
func (p *Policy) CompletionRef(ref []byte) Decision {
	m, err := refMembers(ref)
	if err != nil {
		return deny(fmt.Sprintf("invalid completion reference: %v", err))
	}
	switch m["type"] {
	case "ref/prompt":
		name, ok := m["name"]
		if !ok {
			return deny(`invalid completion reference: no "name"`)
		}
		return p.Prompt(name)
	case "ref/resource":
		uri, ok := m["uri"]
		if !ok {
			return deny(`invalid completion reference: no "uri"`)
		}
		return p.Resource(uri)
	}
	return deny(fmt.Sprintf("unknown completion reference type %q", m["type"]))
}

// refMembers reads the "type", "name" and "uri" members of a reference
// object, which must be strings, and skips any other.
func refMembers(ref []byte) (map[string]string, error) {
	d := jsontext.NewDecoder(bytes.NewBuffer(ref))
	tok, err := d.ReadToken()
	if err != nil {
		return nil, err
	}
	if tok.Kind() != '{' {
		return nil, fmt.Errorf("%s, not an object", kindName(tok.Kind()))
	}
	m := make(map[string]string, 2)
	for d.PeekKind() != '}' {
		if tok, err = d.ReadToken(); err != nil {
			return nil, err
		}
		if err := refMember(d, tok.String(), m); err != nil {
			return nil, err
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return nil, err
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	return m, nil
}

// refMember stores one member's value in m if it is one of interest.
func refMember(d *jsontext.Decoder, name string, m map[string]string) error {
	for _, want := range []string{"type", "name", "uri"} {
		switch {
		case name == want:
			if d.PeekKind() != '"' {
				return fmt.Errorf("%q is not a string", name)
			}
			tok, err := d.ReadToken()
			if err != nil {
				return err
			}
			m[name] = tok.String()
			return nil
		case sameFolded(name, want):
			return fmt.Errorf("member %q could be read as %q", name, want)
		}
	}
	return d.SkipValue()
}
