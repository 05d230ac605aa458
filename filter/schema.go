package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/jsonschema-go/jsonschema"
)

// Schema is a compiled JSON Schema that tool-call arguments are validated
// against.
//
// The validator is github.com/google/jsonschema-go, the one the official
// MCP Go SDK validates tool input with: it knows the two drafts MCP
// servers write (2020-12, which MCP specifies for inputSchema, and draft
// 7, which most generators still emit), and its package costs nothing at
// start-up, where a validator that compiles every meta-schema in its init
// added milliseconds to every start of mcpwarden.
type Schema struct {
	r *jsonschema.Resolved
}

// maxSchemaSize bounds the schema text compiled, so that a server cannot
// make mcpwarden spend unbounded memory compiling what it declares.
const maxSchemaSize = 1 << 20

// maxReasonBytes bounds a validation message: the validator quotes the
// offending value, which may be megabytes of the model's own arguments.
const maxReasonBytes = 400

// errRemoteRef is what every reference outside the schema resolves to.
var errRemoteRef = errors.New("references outside the schema are not loaded")

// CompileSchema compiles a JSON Schema. A schema that names no draft is
// read as 2020-12; draft 7 is honoured when $schema says so, and any other
// draft is an error rather than a guess. References are resolved only
// inside the schema itself: loading a remote or local document would let a
// server make mcpwarden fetch or read what it chooses.
func CompileSchema(raw jsontext.Value) (*Schema, error) {
	if len(raw) > maxSchemaSize {
		return nil, fmt.Errorf("schema of %d bytes is larger than %d", len(raw), maxSchemaSize)
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("schema is not a JSON Schema: %s", oneLine(err.Error()))
	}
	if !knownDraft(s.Schema) {
		return nil, fmt.Errorf("schema declares $schema %q: only draft 2020-12 and draft 7 are supported", s.Schema)
	}
	r, err := s.Resolve(&jsonschema.ResolveOptions{
		BaseURI: "mcpwarden:schema.json",
		Loader:  func(*url.URL) (*jsonschema.Schema, error) { return nil, errRemoteRef },
	})
	if err != nil {
		return nil, fmt.Errorf("schema does not compile: %s", clip(oneLine(err.Error())))
	}
	return &Schema{r: r}, nil
}

// knownDraft reports whether a $schema value names a draft the validator
// implements (the spellings the meta-schemas themselves use).
func knownDraft(s string) bool {
	switch strings.TrimSuffix(s, "#") {
	case "", "https://json-schema.org/draft/2020-12/schema",
		"http://json-schema.org/draft-07/schema", "https://json-schema.org/draft-07/schema":
		return true
	}
	return false
}

// Validate reports why v, arguments decoded with DecodeArgs, does not
// satisfy the schema, in words the model can act on.
func (s *Schema) Validate(v any) error {
	err := s.r.Validate(v)
	if err == nil {
		return nil
	}
	return errors.New(validationMessage(err.Error()))
}

// validationMessage turns the validator's chain "validating root:
// validating /properties/a: type: ..." into "at /properties/a: type: ...",
// naming the innermost schema location, on one bounded line.
func validationMessage(msg string) string {
	msg = oneLine(msg)
	where := "/"
	for {
		rest, ok := strings.CutPrefix(msg, "validating ")
		if !ok {
			break
		}
		loc, tail, ok := strings.Cut(rest, ": ")
		if !ok {
			break
		}
		if loc != "root" {
			where = loc
		}
		msg = tail
	}
	return clip("at " + where + ": " + msg)
}

// clip bounds s to maxReasonBytes without cutting a UTF-8 sequence.
func clip(s string) string {
	if len(s) <= maxReasonBytes {
		return s
	}
	cut := maxReasonBytes
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// DecodeArgs decodes tool-call arguments for validation. args must
// already have passed the strict decoder; nil (absent) decodes as an empty
// object, which is what a server sees. An integer keeps its exact value
// when it fits 64 bits, so that a bound such as maximum is not passed by
// rounding; other numbers are float64, as the servers' own JSON readers
// mostly see them.
func DecodeArgs(args jsontext.Value) (any, error) {
	if args == nil {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	// Nothing can follow the value: args passed the strict decoder whole.
	return numbers(v)
}

// numbers replaces every json.Number in v, which the validator would take
// for a string, by int64, uint64 or float64. A number beyond float64's
// range is an error: no bound can be checked against it.
func numbers(v any) (any, error) {
	var err error
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("number %s is out of range", clip(s))
		}
		return f, nil
	case map[string]any:
		for k, e := range x {
			if x[k], err = numbers(e); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, e := range x {
			if x[i], err = numbers(e); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
