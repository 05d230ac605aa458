package jsonrpc

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"
)

// Fields extracts the members named in names from the JSON object obj into
// out (out[i] for names[i], nil when absent). A member whose name is not
// one of names but folds to one of them ("Name", "nam\u212a") is an error:
// a case-insensitive server would read it where mcpwarden read nothing.
// obj must already have been validated by a Decoder.
//
// Because obj is known to be valid, Fields walks its bytes without a
// tokenizer: members are skipped at the speed of a search for quotes and
// brackets, which matters when one of them is a result of many megabytes.
func Fields(obj jsontext.Value, names []string, out []jsontext.Value) error {
	if obj.Kind() != '{' {
		return fmt.Errorf("params must be an object")
	}
	clear(out)
	i := skipSpace(obj, bytes.IndexByte(obj, '{')+1)
	for i < len(obj) && obj[i] == '"' {
		end, escaped := stringEnd(obj, i)
		if end < 0 {
			return errMalformed
		}
		name, err := memberName(obj[i:end], escaped)
		if err != nil {
			return err
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return errMalformed
		}
		start := skipSpace(obj, i+1)
		if i = valueEnd(obj, start); i < 0 {
			return errMalformed
		}
		if k := indexOf(names, name); k >= 0 {
			out[k] = obj[start:i]
		} else {
			f := fold(name)
			for _, n := range names {
				if fold(n) == f {
					return fmt.Errorf("member %q is a case variant of %q", name, n)
				}
			}
		}
		i = skipSpace(obj, i)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	if i >= len(obj) || obj[i] != '}' {
		return errMalformed
	}
	return nil
}

var errMalformed = errors.New("malformed JSON object")

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// memberName returns the text of a quoted member name. A name without
// escapes is read where it lies: it is used only during the walk.
func memberName(q []byte, escaped bool) (string, error) {
	raw := q[1 : len(q)-1]
	if !escaped {
		return unsafe.String(unsafe.SliceData(raw), len(raw)), nil
	}
	b, err := jsontext.AppendUnquote(nil, q)
	return string(b), err
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the offset just past the closing quote of the JSON
// string that opens at b[i], and whether it holds an escape; -1 when it
// does not end.
func stringEnd(b []byte, i int) (int, bool) {
	end := skipString(b, i)
	if end < 0 {
		return -1, false
	}
	return end, bytes.IndexByte(b[i+1:end-1], '\\') >= 0
}

// skipString returns the offset just past the closing quote of the JSON
// string that opens at b[i], or -1 when it does not end.
func skipString(b []byte, i int) int {
	for p := i + 1; ; {
		q := bytes.IndexByte(b[p:], '"')
		if q < 0 {
			return -1
		}
		q += p
		// The quote closes the string unless an odd run of backslashes
		// escapes it.
		bs := 0
		for k := q - 1; k > i && b[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return q + 1
		}
		p = q + 1
	}
}

// valueEnd returns the offset just past the valid JSON value that starts
// at b[i], or -1.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end := skipString(b, i)
				if end < 0 {
					return -1
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	// A number or a literal runs to the next delimiter.
	for i < len(b) && bytes.IndexByte([]byte(",}] \t\r\n"), b[i]) < 0 {
		i++
	}
	return i
}
