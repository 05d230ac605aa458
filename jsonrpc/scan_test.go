package jsonrpc

import (
	"errors"
	"strings"
	"testing"
)

// TestDecoderForgetsNames holds the reuse of a Decoder's name sets: names
// of a refused message, or of an earlier object at the same depth, must
// not count against the next one.
func TestDecoderForgetsNames(t *testing.T) {
	d := NewDecoder(0)
	refused := []string{
		`{"jsonrpc":"2.0","id":1,"method":"m","params":{"x":{"a":1,"b":2,"A":3}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"m","params":{"x":{"a":1,"b":2,` + strings.Repeat(" ", 10) + `}}`,
		`{"jsonrpc":"2.0","id":1,"method":"m","params":{"x":{"a":1,"b":2,"c":[1,}}}`,
	}
	for _, msg := range refused {
		if _, err := d.Decode([]byte(msg)); err == nil {
			t.Fatalf("Decode(%s) accepted", msg)
		}
		next := `{"jsonrpc":"2.0","id":2,"method":"m","params":{"y":{"A":1,"B":2},"z":{"a":1,"b":2}}}`
		if _, err := d.Decode([]byte(next)); err != nil {
			t.Fatalf("after %s: Decode(%s): %v", msg, next, err)
		}
	}
}

// TestDecoderDropsDeepNameSets checks that the name sets of objects
// nested past the limit, which only an id or a version can hold before
// it is refused, are not kept for the rest of the stream.
func TestDecoderDropsDeepNameSets(t *testing.T) {
	d := NewDecoder(8)
	deep := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	_, err := d.Decode([]byte(`{"jsonrpc":"2.0","id":` + deep + `,"method":"m"}`))
	var de *DecodeError
	if !errors.As(err, &de) || de.Reason != "id must be a string or an integer" {
		t.Fatalf("err = %v, want the id refused", err)
	}
	if len(d.names) > 9 {
		t.Errorf("%d name sets kept, want at most 9", len(d.names))
	}
}

// TestSyntaxErrorSaysWhere checks that a break of the grammar is
// reported as invalid JSON with the offset of the byte at fault.
func TestSyntaxErrorSaysWhere(t *testing.T) {
	// The params value opens at offset 46.
	for _, tc := range []struct {
		in     string
		offset int
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"m","params":[1,]}`, 49},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[\"ab\x01\"]}", 50},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[\"" + strings.Repeat("é", 100) + "\xff\"]}", 48 + 200},
		{`{"jsonrpc":"2.0","id":1,"method":"m","params":["\q"]}`, 48},
		{`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,"a":2}}`, 53},
	} {
		_, err := NewDecoder(0).Decode([]byte(tc.in))
		var de *DecodeError
		var se *syntaxError
		if !errors.As(err, &de) || de.Reason != "invalid JSON" || !errors.As(err, &se) {
			t.Errorf("Decode(%q) = %v, want invalid JSON with a syntax error", tc.in, err)
			continue
		}
		if se.offset != tc.offset {
			t.Errorf("Decode(%q): %v, want offset %d", tc.in, err, tc.offset)
		}
	}
}
