package filter

import (
	"bytes"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
)

// StringFunc rewrites one string value of a JSON document. member is the
// name of the object member that holds it ("" inside arrays and at the
// top). It returns the replacement and whether it differs.
type StringFunc func(member, s string) (string, bool)

// RewriteStrings applies f to every string value in v (member names are
// kept) and returns the document with the replacements. When f changes
// nothing, v itself is returned, so that the common case forwards the
// bytes that were validated without re-encoding them. v must already
// have passed the strict decoder.
func RewriteStrings(v jsontext.Value, f StringFunc) (jsontext.Value, bool, error) {
	if !hasString(v) {
		return v, false, nil
	}
	dec := jsontext.NewDecoder(bytes.NewReader(v), jsontext.AllowDuplicateNames(false))
	var out bytes.Buffer
	out.Grow(len(v))
	enc := jsontext.NewEncoder(&out, jsontext.EscapeForHTML(false), jsontext.EscapeForJS(false))
	changed := false
	// names[i] is the member name last read at depth i+1; "" for arrays.
	var names []string
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, false, fmt.Errorf("rewriting strings: %w", err)
		}
		depth := dec.StackDepth()
		kind, length := dec.StackIndex(depth)
		switch tok.Kind() {
		case '{', '[':
			names = append(names, "")
		case '}', ']':
			names = names[:len(names)-1]
		case '"':
			if kind == '{' && length%2 == 1 { // a member name
				names[len(names)-1] = tok.String()
				break
			}
			member := ""
			if kind == '{' {
				member = names[len(names)-1]
			}
			if s, ok := f(member, tok.String()); ok {
				changed = true
				tok = jsontext.String(s)
			}
		}
		if err := enc.WriteToken(tok); err != nil {
			return nil, false, fmt.Errorf("rewriting strings: %w", err)
		}
		if depth == 0 {
			break
		}
	}
	if !changed {
		return v, false, nil
	}
	return bytes.TrimRight(out.Bytes(), "\n"), true, nil
}

// hasString reports whether v can hold a string value at all; most
// results do, but the check keeps numbers and empty objects cheap.
func hasString(v jsontext.Value) bool {
	return bytes.IndexByte(v, '"') >= 0
}
