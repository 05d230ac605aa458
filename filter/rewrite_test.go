package filter

import (
	"bytes"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// rewriteByTokens is RewriteStrings done with the tokenizer, token by
// token, as it was before the byte walk: the reference the walk must
// agree with.
func rewriteByTokens(v jsontext.Value, f StringFunc) (jsontext.Value, bool, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(v))
	var out bytes.Buffer
	enc := jsontext.NewEncoder(&out, jsontext.EscapeForHTML(false), jsontext.EscapeForJS(false))
	changed := false
	var names []string
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, false, err
		}
		depth := dec.StackDepth()
		kind, length := dec.StackIndex(depth)
		switch tok.Kind() {
		case '{', '[':
			names = append(names, "")
		case '}', ']':
			names = names[:len(names)-1]
		case '"':
			if kind == '{' && length%2 == 1 {
				names[len(names)-1] = tok.String()
				break
			}
			member := ""
			if kind == '{' {
				member = names[len(names)-1]
			}
			if s, ok := f(member, tok.String()); ok {
				changed = true
				tok = jsontext.String(s)
			}
		}
		if err := enc.WriteToken(tok); err != nil {
			return nil, false, err
		}
		if depth == 0 {
			break
		}
	}
	return bytes.TrimRight(out.Bytes(), "\n"), changed, nil
}

// upperSeen upper-cases strings and records what it saw, copied.
func upperSeen(seen *[]string) StringFunc {
	return func(member, s string) (string, bool) {
		*seen = append(*seen, member+"="+s)
		u := strings.ToUpper(s)
		return u, u != s
	}
}

func canonical(t testing.TB, v []byte) string {
	t.Helper()
	c := jsontext.Value(bytes.Clone(v))
	if err := c.Canonicalize(); err != nil {
		t.Fatalf("not JSON: %q: %v", v, err)
	}
	return string(c)
}

func TestRewriteStringsEscapesAndLayout(t *testing.T) {
	for in, want := range map[string]string{
		// escaped quotes and backslashes do not end a string early
		`{"a":"x\"y\\","b":"\\\\"}`: `{"a":"X\"Y\\","b":"\\\\"}`,
		// an escaped member name is still the member
		`{"t\u0065xt":"v"}`: `{"t\u0065xt":"V"}`,
		// layout and unchanged strings keep their bytes; only changed
		// strings are encoded again
		"{ \"a\" : [ \"\\u0031\", \"q\" ] ,\n\"n\": 1e3 }": "{ \"a\" : [ \"\\u0031\", \"Q\" ] ,\n\"n\": 1e3 }",
		`["é", "\u00e9"]`: `["É", "É"]`,
	} {
		var seen []string
		out, changed, err := RewriteStrings(jsontext.Value(in), upperSeen(&seen))
		if err != nil || !changed || string(out) != want {
			t.Errorf("RewriteStrings(%s) = %s, %v, %v; want %s", in, out, changed, err, want)
		}
	}
	var seen []string
	in := jsontext.Value(`{"a\u0062":"1","c":{"d\u0065":"2","f":["3"]},"g":"4"}`)
	if out, changed, err := RewriteStrings(in, func(m, s string) (string, bool) {
		seen = append(seen, m+"="+s)
		return s, false
	}); err != nil || changed || &out[0] != &in[0] {
		t.Errorf("unchanged document: %s, %v, %v", out, changed, err)
	}
	if got := strings.Join(seen, " "); got != "ab=1 de=2 =3 g=4" {
		t.Errorf("members seen: %s", got)
	}
}

func TestRewriteStringsMalformed(t *testing.T) {
	f := func(_, s string) (string, bool) { return s + "!", true }
	for _, in := range []string{`{"a":"b`, `{"a":"b"`, `["x"]]`, `"\u12"`} {
		if out, _, err := RewriteStrings(jsontext.Value(in), f); err == nil {
			t.Errorf("RewriteStrings(%s) = %s, want an error", in, out)
		}
	}
	// Invalid UTF-8 from f is refused, never forwarded.
	if _, _, err := RewriteStrings(jsontext.Value(`["a"]`), func(_, s string) (string, bool) { return "\xff", true }); err == nil {
		t.Error("invalid UTF-8 replacement accepted")
	}
}

// FuzzRewriteStrings holds the byte walk to the tokenizer: on every
// document the strict decoder accepts, both see the same strings under
// the same member names in the same order and produce the same value.
func FuzzRewriteStrings(f *testing.F) {
	for _, s := range []string{`{"a":"x\"y\\"}`, `[1,"a",{"b":["c",{"d":"é"}]}]`, `"\u00e9"`, `{"t\u0065xt":"v","n":null}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !jsontext.Value(in).IsValid() {
			return
		}
		var seenWalk, seenTok []string
		got, gotChanged, err := RewriteStrings(jsontext.Value(in), upperSeen(&seenWalk))
		if err != nil {
			t.Fatalf("RewriteStrings(%q): %v", in, err)
		}
		want, wantChanged, err := rewriteByTokens(jsontext.Value(in), upperSeen(&seenTok))
		if err != nil {
			t.Fatalf("reference on %q: %v", in, err)
		}
		if strings.Join(seenWalk, "\x00") != strings.Join(seenTok, "\x00") {
			t.Fatalf("on %q the walk saw %q, the tokenizer %q", in, seenWalk, seenTok)
		}
		if gotChanged != wantChanged || canonical(t, got) != canonical(t, want) {
			t.Fatalf("on %q: walk %q (%v), tokenizer %q (%v)", in, got, gotChanged, want, wantChanged)
		}
		if !gotChanged && !bytes.Equal(got, in) {
			t.Fatalf("unchanged document %q came back as %q", in, got)
		}
	})
}

// TestScratchKeptAcrossSmallDocuments holds the cache to its purpose: a
// large result's buffer survives the small arguments checked between two
// large results (each call's RedactArgs), so the next large result does
// not fault in a fresh buffer of its size. Without it, peak memory with
// 64 MiB results and guards on went from 2.1 to 3.7 times the limit.
func TestScratchKeptAcrossSmallDocuments(t *testing.T) {
	c := newScratchCache()
	large := make([]byte, 0, 4*keepScratch)
	c.put(large, cap(large))
	for range 3 {
		small := c.get(100)
		if cap(small) > keepScratch {
			t.Fatalf("a 100-byte document got the %d-byte buffer", cap(small))
		}
		c.put(small, 100)
	}
	if got := c.get(3 * keepScratch); cap(got) != cap(large) {
		t.Fatalf("large document got a buffer of %d bytes, want the kept one of %d", cap(got), cap(large))
	}
}
