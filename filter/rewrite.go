package filter

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"
)

// StringFunc rewrites one string value of a JSON document. member is the
// name of the object member that holds it ("" inside arrays and at the
// top). It returns the replacement and whether it differs.
//
// member and s are valid only during the call: they may share memory
// with the document or with scratch space that the next string reuses,
// so f must copy what it keeps (a string built from them is a copy).
type StringFunc func(member, s string) (string, bool)

// RewriteStrings applies f to every string value in v (member names are
// kept) and returns the document with the replacements. When f changes
// nothing, v itself is returned, so that the common case forwards the
// bytes that were validated without re-encoding them; when it changes
// some strings, only those are encoded again and every other byte of v
// is kept as it was. v must already have passed the strict decoder.
//
// The walk is over v's bytes, without a tokenizer: a string without
// escapes is handed to f where it lies, one with escapes is unquoted into
// a buffer reused from string to string, and nothing is copied unless f
// changes something. A result of many megabytes costs a pass over its
// bytes, not several copies of it.
func RewriteStrings(v jsontext.Value, f StringFunc) (jsontext.Value, bool, error) {
	return rewriteStrings(v, f, nil)
}

// rewriteStrings is RewriteStrings with the unquote buffer taken from,
// and given back to, cache (none when nil).
func rewriteStrings(v jsontext.Value, f StringFunc, cache *scratchCache) (jsontext.Value, bool, error) {
	if !hasString(v) {
		return v, false, nil
	}
	w := rewriter{v: v, f: f, scratch: cache.get(len(v))}
	defer func() { cache.put(w.scratch, len(v)) }()
	if err := w.run(); err != nil {
		return nil, false, fmt.Errorf("rewriting strings: %w", err)
	}
	if w.out == nil {
		return v, false, nil
	}
	return append(w.out, v[w.last:]...), true, nil
}

// scratchCache holds one unquote buffer between documents, so that a run
// of large results reuses it instead of faulting in fresh pages for each.
// A large buffer is kept while large documents keep coming and let go
// after the first that did not need it, as jsonrpc.Reader does with its
// line buffer: at most one such buffer, and none once results are small.
type scratchCache struct{ slot chan []byte }

// keepScratch is the size of document up to which a large buffer is not
// kept for the next.
const keepScratch = 1 << 20

func newScratchCache() *scratchCache { return &scratchCache{slot: make(chan []byte, 1)} }

// get takes the buffer for a document of docSize bytes. A large buffer
// stays in the cache for the next large document instead of going to a
// small one, whose put would let it go: small arguments checked between
// large results must not cost each result a fresh buffer.
func (c *scratchCache) get(docSize int) []byte {
	if c == nil {
		return nil
	}
	select {
	case b := <-c.slot:
		if cap(b) > keepScratch && docSize <= keepScratch {
			c.put(b, cap(b))
			return nil
		}
		return b
	default:
		return nil
	}
}

func (c *scratchCache) put(b []byte, docSize int) {
	if c == nil || (cap(b) > keepScratch && docSize <= keepScratch) {
		return
	}
	select {
	case c.slot <- b:
	default:
	}
}

// rewriter is the state of one RewriteStrings walk.
type rewriter struct {
	v       []byte
	f       StringFunc
	out     []byte // nil until f changes a string
	last    int    // v[:last] is in out
	scratch []byte // unquoted strings with escapes
	names   []byte // unquoted member names with escapes
}

// frame is an open object or array; member is the name last read in an
// object.
type frame struct {
	object   bool
	wantName bool
	member   string
}

var errMalformed = errors.New("malformed JSON")

func (w *rewriter) run() error {
	v := w.v
	var stack []frame
	for i := 0; i < len(v); {
		switch v[i] {
		case '{':
			stack = append(stack, frame{object: true, wantName: true})
			i++
		case '[':
			stack = append(stack, frame{})
			i++
		case '}', ']':
			if len(stack) == 0 {
				return errMalformed
			}
			stack = stack[:len(stack)-1]
			i++
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].wantName = true
			}
			i++
		case '"':
			end, escaped := stringEnd(v, i)
			if end < 0 {
				return errMalformed
			}
			top := (*frame)(nil)
			if n := len(stack); n > 0 {
				top = &stack[n-1]
			}
			if top != nil && top.object && top.wantName {
				name, err := w.unquote(v[i:end], escaped, &w.names)
				if err != nil {
					return err
				}
				if escaped {
					name = strings.Clone(name) // outlives the next name
				}
				top.member, top.wantName = name, false
			} else {
				member := ""
				if top != nil && top.object {
					member = top.member
				}
				if err := w.value(i, end, escaped, member); err != nil {
					return err
				}
			}
			i = end
		default:
			i++
		}
	}
	if len(stack) != 0 {
		return errMalformed
	}
	return nil
}

// value hands the string v[start:end] (with its quotes) to f and, when f
// changes it, encodes the replacement into out.
func (w *rewriter) value(start, end int, escaped bool, member string) error {
	s, err := w.unquote(w.v[start:end], escaped, &w.scratch)
	if err != nil {
		return err
	}
	repl, changed := w.f(member, s)
	if !changed {
		return nil
	}
	if w.out == nil {
		w.out = make([]byte, 0, len(w.v)+len(repl)-len(s)+64)
	}
	w.out = append(w.out, w.v[w.last:start]...)
	if w.out, err = jsontext.AppendQuote(w.out, repl); err != nil {
		return err
	}
	w.last = end
	return nil
}

// unquote returns the text of the quoted JSON string q: the bytes of q
// themselves when it has no escapes, else unquoted into buf. The result
// is valid until buf is next used.
func (w *rewriter) unquote(q []byte, escaped bool, buf *[]byte) (string, error) {
	raw := q[1 : len(q)-1]
	if !escaped {
		return unsafe.String(unsafe.SliceData(raw), len(raw)), nil
	}
	if cap(*buf) < len(q) {
		// Unquoted text is never longer than its quoted form: one
		// allocation, not a trail of growing copies.
		*buf = make([]byte, 0, len(q))
	}
	b, err := jsontext.AppendUnquote((*buf)[:0], q)
	if err != nil {
		return "", err
	}
	*buf = b
	return unsafe.String(unsafe.SliceData(b), len(b)), nil
}

// stringEnd returns the offset just past the closing quote of the JSON
// string that opens at v[i], and whether it holds an escape; -1 when it
// does not end.
func stringEnd(v []byte, i int) (int, bool) {
	escaped := false
	for p := i + 1; ; {
		q := bytes.IndexByte(v[p:], '"')
		if q < 0 {
			return -1, escaped
		}
		q += p
		// The quote closes the string unless an odd run of backslashes
		// escapes it.
		bs := 0
		for k := q - 1; k > i && v[k] == '\\'; k-- {
			bs++
		}
		if !escaped && bytes.IndexByte(v[p:q], '\\') >= 0 {
			escaped = true
		}
		if bs%2 == 0 {
			return q + 1, escaped
		}
		p = q + 1
	}
}

// hasString reports whether v can hold a string value at all; most
// results do, but the check keeps numbers and empty objects cheap.
func hasString(v jsontext.Value) bool {
	return bytes.IndexByte(v, '"') >= 0
}
