package pin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// pinnedMembers are the members of a tool object that are pinned: what the
// model reads and what decides the shape of a call and of its result. Other
// members (icons, execution, _meta) may change without notice.
var pinnedMembers = [...]string{"name", "title", "description", "inputSchema", "outputSchema", "annotations"}

func isPinnedMember(name string) bool {
	for _, m := range pinnedMembers {
		// A member that differs from a pinned one only in case is pinned
		// too, because a lenient client may read it in place of the real
		// one; a server could otherwise slip a second description past the
		// comparison.
		if strings.EqualFold(name, m) {
			return true
		}
	}
	return false
}

// canonicalize puts v in the canonical form of RFC 8785 (sorted member
// names, no insignificant whitespace, minimal string escapes, floats
// spelled the ECMAScript way) except that integers keep their digits: JCS
// would round integers beyond 2⁵³ to a float, and two different limits in
// a schema must not look the same.
func canonicalize(v *jsontext.Value) error {
	return v.Canonicalize(jsontext.CanonicalizeRawInts(false))
}

// Canonical returns the canonical form of a tool definition: a JSON object
// holding the members name, title, description, inputSchema, outputSchema
// and annotations of def (and any member whose name equals one of those up
// to case), with members sorted by name at every level, no insignificant
// whitespace, strings with minimal escapes and numbers in one spelling, so
// that 1, 1.0 and 1e0 compare equal. Two definitions that mean the same to
// a JSON reader have the same canonical form, whatever the server's member
// order or formatting.
//
// def must be a single JSON object with valid UTF-8 and no duplicate member
// names; anything else is an error.
func Canonical(def []byte) ([]byte, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(def))
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, fmt.Errorf("pin: tool definition: %w", err)
	}
	if tok.Kind() != '{' {
		return nil, errors.New("pin: tool definition is not a JSON object")
	}
	var out bytes.Buffer
	enc := jsontext.NewEncoder(&out)
	if err := enc.WriteToken(jsontext.BeginObject); err != nil {
		return nil, fmt.Errorf("pin: tool definition: %w", err)
	}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, fmt.Errorf("pin: tool definition: %w", err)
		}
		name := tok.String() // before ReadValue reuses the buffer
		val, err := dec.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("pin: tool definition: %w", err)
		}
		if !isPinnedMember(name) {
			continue
		}
		if err := enc.WriteToken(jsontext.String(name)); err != nil {
			return nil, fmt.Errorf("pin: tool definition: %w", err)
		}
		if err := enc.WriteValue(val); err != nil {
			return nil, fmt.Errorf("pin: tool definition: %w", err)
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, fmt.Errorf("pin: tool definition: %w", err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, errors.New("pin: tool definition: data after the object")
	}
	if err := enc.WriteToken(jsontext.EndObject); err != nil {
		return nil, fmt.Errorf("pin: tool definition: %w", err)
	}
	v := jsontext.Value(bytes.TrimSpace(out.Bytes()))
	if err := canonicalize(&v); err != nil {
		return nil, fmt.Errorf("pin: canonicalize tool definition: %w", err)
	}
	return v, nil
}

// Digest returns the SHA-256 digest of a canonical definition as
// "sha256:" followed by 64 lower-case hexadecimal digits.
func Digest(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// isDigest reports whether s has the form [Digest] returns.
func isDigest(s string) bool {
	h, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(h) != 2*sha256.Size {
		return false
	}
	for _, c := range []byte(h) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// nameOf returns the string member "name" of a canonical definition.
func nameOf(canonical []byte) (string, bool) {
	dec := jsontext.NewDecoder(bytes.NewReader(canonical))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return "", false
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return "", false
		}
		if name.String() != "name" {
			if err := dec.SkipValue(); err != nil {
				return "", false
			}
			continue
		}
		tok, err := dec.ReadToken()
		if err != nil || tok.Kind() != '"' {
			return "", false
		}
		return tok.String(), true
	}
	return "", false
}

// ToolsFromList returns the tools of a tools/list result (the JSON-RPC
// result object, not the whole response), each with its name and its
// definition as it appeared. It is an error when the result is not an
// object, its "tools" member is not an array, or an entry is not an object
// with a string "name"; a list that the proxy forwards has passed the same
// checks in the filter already.
func ToolsFromList(result []byte) ([]Tool, error) {
	var r struct {
		Tools []jsontext.Value `json:"tools"`
	}
	if err := unmarshalStrict(result, &r, false); err != nil {
		return nil, fmt.Errorf("pin: tools/list result: %w", err)
	}
	tools := make([]Tool, 0, len(r.Tools))
	for i, v := range r.Tools {
		var t struct {
			Name *string `json:"name"`
		}
		if err := unmarshalStrict(v, &t, false); err != nil {
			return nil, fmt.Errorf("pin: tools/list result: tools[%d]: %w", i, err)
		}
		if t.Name == nil {
			return nil, fmt.Errorf("pin: tools/list result: tools[%d]: no name", i)
		}
		tools = append(tools, Tool{Name: *t.Name, Definition: v})
	}
	return tools, nil
}
