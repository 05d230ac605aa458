package jsonrpc

import (
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// ID is a JSON-RPC request id as it appeared on the wire: a string or an
// integer. The zero ID means "no id" and Null the JSON null that error
// responses carry when the request could not be read.
type ID struct {
	raw string // the JSON text, e.g. `"abc"` or `42` or `null`
	key string // canonical form for lookups: "s:" + value or "n:" + digits
}

// Null is the id of an error response to a message whose id is unknown.
var Null = ID{raw: "null"}

// IsZero reports whether the id is absent.
func (id ID) IsZero() bool { return id.raw == "" }

// IsNull reports whether the id is the JSON null.
func (id ID) IsNull() bool { return id.raw == "null" }

// Raw returns the id's JSON text exactly as received, so that an answer
// carries the very id the peer sent.
func (id ID) Raw() string { return id.raw }

// Key returns a canonical form, equal for ids the peer would consider
// equal. It is empty for the zero and null ids.
func (id ID) Key() string { return id.key }

func (id ID) String() string { return id.raw }

// StringID returns the id for a string value.
func StringID(s string) ID {
	b, err := jsontext.AppendQuote(nil, s)
	if err != nil { // invalid UTF-8: quote what can be quoted
		b, _ = jsontext.AppendQuote(nil, string([]rune(s)))
	}
	return ID{raw: string(b), key: "s:" + s}
}

// ParseID validates a JSON value as a request id, as found for example in
// the requestId of a cancellation.
func ParseID(v jsontext.Value) (ID, bool) {
	id, ok := parseID(v)
	if !ok || id.IsNull() {
		return ID{}, false
	}
	return id, true
}

// parseID validates an id value. Only strings and integers in canonical
// form are accepted: MCP forbids null ids on requests, and fractions,
// exponents or leading zeros invite disagreement about which request an
// answer belongs to.
func parseID(v jsontext.Value) (ID, bool) {
	switch v.Kind() {
	case '"':
		if plainString(v) {
			return ID{raw: string(v), key: "s:" + string(v[1:len(v)-1])}, true
		}
		var s string // on the heap (unmarshalString keeps &s): only here
		if err := unmarshalString(v, &s); err != nil {
			return ID{}, false
		}
		return ID{raw: string(v), key: "s:" + s}, true
	case '0':
		if !isCanonicalInt(v) {
			return ID{}, false
		}
		key := "n:" + string(v)
		return ID{raw: key[2:], key: key}, true
	case 'n':
		return Null, true
	}
	return ID{}, false
}

// isCanonicalInt accepts -?(0|[1-9][0-9]*) of at most 18 digits (within
// both int64 and, nearly, the doubles that JavaScript peers use), and not -0.
func isCanonicalInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
		if len(b) == 1 && b[0] == '0' {
			return false
		}
	}
	if len(b) == 0 || len(b) > 18 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// plainString reports whether v is a quoted JSON string without escapes,
// control characters or invalid UTF-8, whose text is then what lies
// between its quotes: ids are nearly always such, and need no decoder.
func plainString(v []byte) bool {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	in := v[1 : len(v)-1]
	for _, c := range in {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(in)
}
