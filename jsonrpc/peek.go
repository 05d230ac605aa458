package jsonrpc

import (
	"bytes"
	"regexp"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// Envelope is what could be recovered from the head and tail of a message
// too large to read whole. It is used only to address an error answer,
// never to forward anything.
type Envelope struct {
	ID        ID
	HasMethod bool
}

// tailID matches an id member that closes a message, optionally followed
// by the version member, as SDKs that put the result first write it. It is
// compiled on first use: the bounded repetition makes a large program, and
// building it in the package's init cost every start of mcpwarden (and of
// the sandbox's init stage) about half a millisecond for an error path.
var tailID = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`"id"\s*:\s*(-?[0-9]+|"(?:[^"\\]|\\.){0,256}")\s*(?:,\s*"jsonrpc"\s*:\s*"2\.0"\s*)?\}\s*$`)
})

// Recover finds the id of an oversized message, and whether it named a
// method, from the bytes a Reader kept of it.
func Recover(e *TooLargeError) Envelope {
	var env Envelope
	dec := jsontext.NewDecoder(bytes.NewReader(e.Head))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return env
	}
	for {
		tok, err := dec.ReadToken()
		if err != nil || tok.Kind() != '"' {
			break
		}
		name := tok.String()
		v, err := dec.ReadValue()
		if err != nil {
			break // the member runs past the kept head
		}
		switch name {
		case "id":
			if id, ok := parseID(v); ok && !id.IsNull() {
				env.ID = id
			}
		case "method":
			env.HasMethod = true
		}
	}
	if env.ID.IsZero() {
		if m := tailID().FindSubmatch(e.Tail); m != nil {
			if id, ok := parseID(jsontext.Value(m[1])); ok {
				env.ID = id
			}
		}
	}
	return env
}
