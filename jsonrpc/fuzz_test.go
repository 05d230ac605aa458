package jsonrpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

var seeds = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":[1,2,{"b":null}]}}}`,
	`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}`,
	`{"result":{"content":[{"type":"text","text":"hi"}]},"jsonrpc":"2.0","id":"7"}`,
	`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}`,
	`[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"}]`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Name":"b"}}`,
}

// FuzzDecode checks that the decoder never panics, and that whatever it
// accepts is a single valid JSON object that Go's own strict-enough parser
// reads with the same method and without merging any names.
func FuzzDecode(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	d := NewDecoder(32)
	f.Fuzz(func(t *testing.T, b []byte) {
		if IsBatch(b) {
			elems, err := d.SplitBatch(b)
			if err == nil && len(elems) == 0 {
				t.Fatal("empty batch accepted")
			}
			return
		}
		m, err := d.Decode(b)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if m.Kind == Invalid {
			t.Fatal("accepted message classified invalid")
		}
		var v map[string]json.RawMessage
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("accepted input that encoding/json rejects: %v", err)
		}
		if m.Method != "" {
			var got struct{ Method string }
			if err := json.Unmarshal(b, &got); err != nil || got.Method != m.Method {
				t.Fatalf("encoding/json reads method %q, decoder %q", got.Method, m.Method)
			}
		}
		if m.Kind == Request && m.Params != nil && m.Params.Kind() == '{' {
			// A case-insensitive decoder must see the same name whenever
			// the exact name is present. (A lone variant such as "Name"
			// is refused by the proxy, which requires the exact member.)
			var strict struct {
				Name string `json:"name"`
			}
			var params map[string]json.RawMessage
			_ = json.Unmarshal(m.Params, &params)
			raw, ok := params["name"]
			if !ok {
				return
			}
			_ = json.Unmarshal(raw, &strict.Name)
			var lenient struct{ Name string }
			if err := json.Unmarshal(m.Params, &lenient); err == nil && lenient.Name != strict.Name {
				t.Fatalf("name read as %q case-insensitively, %q exactly", lenient.Name, strict.Name)
			}
		}
	})
}

// FuzzReader checks that framing never panics, never returns a line over
// the limit or one containing a newline, and always makes progress.
func FuzzReader(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s+"\n"+s), 64)
	}
	f.Fuzz(func(t *testing.T, b []byte, limit int) {
		limit = 1 + (limit&0xffff)%4096
		r := NewReader(bytes.NewReader(b), limit)
		for i := 0; ; i++ {
			if i > len(b)+1 {
				t.Fatal("reader made no progress")
			}
			line, err := r.Next()
			var tle *TooLargeError
			switch {
			case errors.Is(err, io.EOF):
				return
			case errors.As(err, &tle):
				Recover(tle)
				continue
			case err != nil:
				t.Fatal(err)
			}
			if len(line) > limit || strings.ContainsRune(string(line), '\n') {
				t.Fatalf("line of %d bytes (limit %d): %q", len(line), limit, line)
			}
		}
	})
}

// fieldsByTokens is Fields done with the tokenizer, the reference that
// the byte walk must agree with.
func fieldsByTokens(obj jsontext.Value, names []string, out []jsontext.Value) error {
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
		for _, n := range names {
			if fold(n) == fold(name) {
				return errors.New("case variant")
			}
		}
	}
	return nil
}

// FuzzFields holds Fields to the tokenizer on every object the decoder
// accepts: the same members found, byte for byte, and the same refusals.
func FuzzFields(f *testing.F) {
	for _, s := range []string{`{"name":"x","arguments":{"a":[1,"}"]}}`, `{"Name":1}`, `{"nam\u212a":"k"}`, `{ "name" : "a\"b" , "x":-1.5e3 }`, `{"isError":true}`} {
		f.Add([]byte(s))
	}
	names := []string{"name", "arguments", "isError"}
	f.Fuzz(func(t *testing.T, in []byte) {
		var env envelope
		if !jsontext.Value(in).IsValid() || jsontext.Value(in).Kind() != '{' {
			return
		}
		d := NewDecoder(0)
		if _, err := d.decode(append([]byte(`{"jsonrpc":"2.0","id":1,"result":`), append(in, '}')...), &env); err != nil {
			return // not what the decoder lets through
		}
		got, want := make([]jsontext.Value, 3), make([]jsontext.Value, 3)
		gerr, werr := Fields(in, names, got), fieldsByTokens(in, names, want)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("Fields(%q): %v, tokenizer: %v", in, gerr, werr)
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("Fields(%q)[%s] = %q, tokenizer %q", in, names[i], got[i], want[i])
			}
		}
	})
}
