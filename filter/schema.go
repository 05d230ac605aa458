package filter

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Schema is a compiled JSON Schema that tool-call arguments are validated
// against.
type Schema struct {
	s *jsonschema.Schema
}

// maxSchemaSize bounds the schema text compiled, so that a server cannot
// make mcpwarden spend unbounded memory compiling what it declares.
const maxSchemaSize = 1 << 20

// CompileSchema compiles a JSON Schema. A schema that names no draft is
// read as 2020-12, the draft MCP specifies for inputSchema; draft 7 is
// honoured when $schema says so. References are resolved only inside the
// schema itself: loading a remote or local document would let a server
// make mcpwarden fetch or read what it chooses.
func CompileSchema(raw jsontext.Value) (*Schema, error) {
	if len(raw) > maxSchemaSize {
		return nil, fmt.Errorf("schema of %d bytes is larger than %d", len(raw), maxSchemaSize)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(jsonschema.SchemeURLLoader{}) // no scheme loads anything
	const url = "mcpwarden:schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema does not compile: %s", oneLine(err.Error()))
	}
	return &Schema{s: s}, nil
}

// Validate reports why v, arguments decoded with DecodeArgs, does not
// satisfy the schema, in words the model can act on.
func (s *Schema) Validate(v any) error {
	err := s.s.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return errors.New(validationMessage(ve))
	}
	return err
}

// validationMessage flattens a validation error to its leaf causes: the
// top of the tree only says "doesn't validate with schema.json".
func validationMessage(ve *jsonschema.ValidationError) string {
	p := message.NewPrinter(language.English)
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			where := "/" + strings.Join(e.InstanceLocation, "/")
			leaves = append(leaves, fmt.Sprintf("at %s: %s", where, e.ErrorKind.LocalizedString(p)))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	const most = 5
	if len(leaves) > most {
		leaves = append(leaves[:most], fmt.Sprintf("and %d more", len(leaves)-most))
	}
	return strings.Join(leaves, "; ")
}

// DecodeArgs decodes tool-call arguments for validation, keeping numbers
// exact. args must already have passed the strict decoder; nil (absent)
// decodes as an empty object, which is what a server sees.
func DecodeArgs(args jsontext.Value) (any, error) {
	if args == nil {
		return map[string]any{}, nil
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(args))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
