package jsonrpc

import (
	"bytes"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
)

// Fields extracts the members named in names from the JSON object obj into
// out (out[i] for names[i], nil when absent). A member whose name is not
// one of names but folds to one of them ("Name", "nam\u212a") is an error:
// a case-insensitive server would read it where mcpwarden read nothing.
// obj must already have been validated by a Decoder.
func Fields(obj jsontext.Value, names []string, out []jsontext.Value) error {
	if obj.Kind() != '{' {
		return fmt.Errorf("params must be an object")
	}
	clear(out)
	dec := jsontext.NewDecoder(bytes.NewBuffer(obj))
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String()
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if i := indexOf(names, name); i >= 0 {
			out[i] = v
			continue
		}
		f := fold(name)
		for _, n := range names {
			if fold(n) == f {
				return fmt.Errorf("member %q is a case variant of %q", name, n)
			}
		}
	}
	return nil
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}
