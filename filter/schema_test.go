package filter

import (
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func mustSchema(t *testing.T, src string) *Schema {
	t.Helper()
	s, err := CompileSchema(jsontext.Value(src))
	if err != nil {
		t.Fatalf("CompileSchema(%s): %v", src, err)
	}
	return s
}

// Each case validates arguments against a schema the way CheckArgs does:
// decoded by DecodeArgs. want is "" for valid arguments, else a part of
// the refusal.
func TestSchemaValidate(t *testing.T) {
	tests := []struct {
		name, schema, args, want string
	}{
		{"2020 default", `{"type":"object","properties":{"n":{"type":"integer"}}}`, `{"n":1}`, ""},
		{"integral float is an integer", `{"properties":{"n":{"type":"integer"}}}`, `{"n":1.0}`, ""},
		{"fraction is not an integer", `{"properties":{"n":{"type":"integer"}}}`, `{"n":1.5}`, "at /properties/n: type"},
		// Rounding through float64 would make 2^53+1 equal to the bound.
		{"exact big integer over maximum", `{"properties":{"n":{"maximum":9007199254740992}}}`, `{"n":9007199254740993}`, "maximum"},
		{"uint64", `{"properties":{"n":{"type":"integer","minimum":0}}}`, `{"n":18446744073709551615}`, ""},
		{"draft 7", `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","required":["a"]}`, `{}`, "required"},
		{"local ref", `{"$defs":{"s":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/s"}}}`, `{"a":3}`, "type"},
		{"recursive ref", `{"$defs":{"t":{"type":"object","properties":{"c":{"$ref":"#/$defs/t"}},"additionalProperties":false}},"$ref":"#/$defs/t"}`, `{"c":{"c":{"x":1}}}`, "additional"},
		{"additionalProperties", `{"properties":{"a":{}},"additionalProperties":false}`, `{"a":1,"b":2}`, "additional"},
		{"number as string is not a number", `{"properties":{"n":{"type":"number"}}}`, `{"n":"1"}`, "type"},
		{"absent arguments are an empty object", `{"type":"object","required":["a"]}`, ``, "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSchema(t, tt.schema)
			var args jsontext.Value
			if tt.args != "" {
				args = jsontext.Value(tt.args)
			}
			v, err := DecodeArgs(args)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate(v)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate(%s) = %v, want %q", tt.args, err, tt.want)
			}
		})
	}
}

// A value the validator quotes back may be large: the refusal stays short.
func TestSchemaMessageBounded(t *testing.T) {
	s := mustSchema(t, `{"properties":{"a":{"type":"string","pattern":"^x$"}}}`)
	v, err := DecodeArgs(jsontext.Value(`{"a":"` + strings.Repeat("é", 1<<16) + `"}`))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Validate(v)
	if err == nil || len(err.Error()) > maxReasonBytes+len("…") || !strings.Contains(err.Error(), "pattern") {
		t.Fatalf("Validate = %d bytes %q", len(err.Error()), err)
	}
}

// Schemas mcpwarden cannot honour are errors, so that the tool's calls are
// refused rather than checked against a schema read wrongly.
func TestCompileSchemaRefuses(t *testing.T) {
	for name, src := range map[string]string{
		"draft 4":          `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object"}`,
		"draft 2019-09":    `{"$schema":"https://json-schema.org/draft/2019-09/schema"}`,
		"wrong type":       `{"type":5}`,
		"draft 4 boolean":  `{"properties":{"n":{"exclusiveMinimum":true}}}`,
		"dangling pointer": `{"$ref":"#/$defs/missing"}`,
		"too large":        `{"description":"` + strings.Repeat("a", maxSchemaSize) + `"}`,
	} {
		if _, err := CompileSchema(jsontext.Value(src)); err == nil {
			t.Errorf("%s: compiled", name)
		}
	}
}

// A number beyond float64 cannot be compared with any bound: refused.
func TestDecodeArgsOutOfRange(t *testing.T) {
	if _, err := DecodeArgs(jsontext.Value(`{"n":1e400}`)); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("DecodeArgs(1e400) = %v", err)
	}
}
