package audit

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func TestRedactArguments(t *testing.T) {
	long := strings.Repeat("a", MaxStringBytes+904)
	cutLong := strings.Repeat("a", MaxStringBytes) + "…[904 bytes truncated]"
	// A two-byte rune straddling the limit is dropped whole.
	straddle := strings.Repeat("a", MaxStringBytes-1) + "é" + "bb"
	cutStraddle := strings.Repeat("a", MaxStringBytes-1) + "…[4 bytes truncated]"
	// Escapes make the quoted form long, but the decoded string fits.
	escaped := strings.Repeat(`\u0041`, MaxStringBytes)

	tests := []struct {
		name, in, want string
	}{
		{"object", `{"a":1,"b":"x","c":[true,false,null]}`, `{"a":1,"b":"x","c":[true,false,null]}`},
		{"whitespace", " {\n \"a\" : [ 1 , 2 ] }\n", `{"a":[1,2]}`},
		{"member order", `{"z":1,"a":2,"m":3}`, `{"z":1,"a":2,"m":3}`},
		{"duplicate names", `{"a":1,"a":2}`, `{"a":1,"a":2}`},
		{"top-level string", `"x"`, `"x"`},
		{"top-level number", `-1.5e3`, `-1.5e3`},
		{"top-level null", `null`, `null`},
		{"empty object", `{}`, `{}`},
		{"secret words in values kept", `{"note":"password token"}`, `{"note":"password token"}`},

		{"password", `{"path":"/x","password":"hunter2"}`, `{"path":"/x","password":"[REDACTED]"}`},
		{"object value", `{"credentials":{"user":"u","pass":"p"},"n":1}`, `{"credentials":"[REDACTED]","n":1}`},
		{"array value", `{"tokens":["a","b"]}`, `{"tokens":"[REDACTED]"}`},
		{"number value", `{"pin":1234}`, `{"pin":"[REDACTED]"}`},
		{"null value", `{"secret":null}`, `{"secret":"[REDACTED]"}`},
		{"at depth", `{"a":{"b":{"c":{"apiKey":"k","d":1}}}}`, `{"a":{"b":{"c":{"apiKey":"[REDACTED]","d":1}}}}`},
		{"in arrays", `[{"token":"t"},{"x":[{"Authorization":"Bearer x"}]}]`, `[{"token":"[REDACTED]"},{"x":[{"Authorization":"[REDACTED]"}]}]`},
		{"duplicate secrets", `{"token":"a","token":"b"}`, `{"token":"[REDACTED]","token":"[REDACTED]"}`},

		{"escaped name", `{"pass\u0077ord":"x"}`, `{"password":"[REDACTED]"}`},
		{"escaped upper name", `{"\u0050ASSWORD":"x"}`, `{"PASSWORD":"[REDACTED]"}`},
		{"escaped separator", `{"api\u002dkey":"x"}`, `{"api-key":"[REDACTED]"}`},
		{"escaped slash", `{"client\/secret":"x"}`, `{"client/secret":"[REDACTED]"}`},
		{"kelvin sign", `{"api\u212aey":"x"}`, "{\"api\u212aey\":\"[REDACTED]\"}"},
		{"long s", `{"pa\u017f\u017fword":"x"}`, "{\"pa\u017f\u017fword\":\"[REDACTED]\"}"},

		{"long string", `"` + long + `"`, `"` + cutLong + `"`},
		{"long string member", `{"content":"` + long + `"}`, `{"content":"` + cutLong + `"}`},
		{"long name", `{"` + long + `":1}`, `{"` + cutLong + `":1}`},
		{"string at limit", `"` + long[:MaxStringBytes] + `"`, `"` + long[:MaxStringBytes] + `"`},
		{"rune boundary", `"` + straddle + `"`, `"` + cutStraddle + `"`},
		{"escaped within limit", `"` + escaped + `"`, `"` + strings.Repeat("A", MaxStringBytes) + `"`},

		{"escaped long string", `"` + strings.Repeat(`\u00e9`, 3000) + `"`,
			`"` + strings.Repeat("é", MaxStringBytes/2) + `…[1904 bytes truncated]"`},
		{"surrogate pairs", `"` + strings.Repeat(`\ud83d\ude00`, 1100) + `"`,
			`"` + strings.Repeat("😀", MaxStringBytes/4) + `…[304 bytes truncated]"`},

		{"depth at limit", nest(MaxDepth, "1"), nest(MaxDepth, "1")},
		{"depth over limit", nest(MaxDepth+1, "1"), nest(MaxDepth, `"[nested too deep]"`)},
		{"objects over limit", nestObjects(MaxDepth + 5), nestObjectsMarker(MaxDepth)},
		{"secret after deep value", `{"a":` + nest(MaxDepth+3, "1") + `,"token":1}`,
			`{"a":` + nest(MaxDepth-1, `"[nested too deep]"`) + `,"token":"[REDACTED]"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(RedactArguments([]byte(tt.in)))
			if got != tt.want {
				t.Errorf("RedactArguments(%.200q)\n got %.300q\nwant %.300q", tt.in, got, tt.want)
			}
			if !jsontext.Value(got).IsValid(jsontext.AllowDuplicateNames(true)) {
				t.Errorf("output is not valid JSON: %.300q", got)
			}
		})
	}
}

func nest(n int, inner string) string {
	return strings.Repeat("[", n) + inner + strings.Repeat("]", n)
}

func nestObjects(n int) string {
	return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
}

func nestObjectsMarker(n int) string {
	return strings.Repeat(`{"a":`, n) + `"[nested too deep]"` + strings.Repeat("}", n)
}

func TestRedactSecretNames(t *testing.T) {
	secret := []string{
		"password", "Password", "PASSWORD", "db_password", "passwd", "pwd", "pass",
		"passphrase", "secret", "client_secret", "clientSecret", "token", "access_token",
		"refreshToken", "X-Auth-Token", "apikey", "api_key", "API-KEY", "X-Api-Key",
		"accessKey", "aws_access_key_id", "authorization", "Proxy-Authorization", "auth",
		"credential", "credentials", "privateKey", "private_key", "ssh_privkey", "cookie",
		"Set-Cookie", "session", "session_id", "SessionId", "bearer", "bearer_token",
		"p.a.s.s.w.o.r.d", "pass word",
	}
	plain := []string{
		"path", "content", "author", "compass", "passage", "key", "name", "sessions_dir",
		"authors", "query", "url", "", "tok", "pinned", "description",
	}
	for _, name := range secret {
		in := `{` + strconv.Quote(name) + `:"v"}`
		if got := RedactArguments([]byte(in)); bytes.Contains(got, []byte(`"v"`)) {
			t.Errorf("name %q not redacted: %s", name, got)
		}
	}
	for _, name := range plain {
		in := `{` + strconv.Quote(name) + `:"v"}`
		if got := RedactArguments([]byte(in)); !bytes.Contains(got, []byte(`"v"`)) {
			t.Errorf("name %q redacted: %s", name, got)
		}
	}
}

func TestRedactUnparseable(t *testing.T) {
	for _, in := range []string{
		"", " ", "{", `{"a":}`, `{"a":1}x`, `{} {}`, `{"a":1,}`, `'a'`, "NaN",
		"\"\xff\"", `{"a` + "\xff" + `":1}`, `[1,2`, `{"a":1]`, "\"a\nb\"",
		`"\ud800"`, `"\udc00\ud800"`, // lone surrogates
		nest(20000, "1"), // beyond the decoder's own depth limit
	} {
		want := `"[unparseable arguments, ` + strconv.Itoa(len(in)) + ` bytes]"`
		if got := string(RedactArguments([]byte(in))); got != want {
			t.Errorf("RedactArguments(%.50q) = %.100q, want %s", in, got, want)
		}
	}
}

func TestRedactSizeLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"list":[`)
	for i := range 20000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"i":` + strconv.Itoa(i) + `,"token":"t"}`)
	}
	b.WriteString(`],"after":{"x":1,"y":2},"z":3}`)
	in := b.String()

	out := RedactArguments([]byte(in))
	if len(out) > MaxArgumentsBytes+1024 {
		t.Fatalf("output is %d bytes, want about %d", len(out), MaxArgumentsBytes)
	}
	if !jsontext.Value(out).IsValid(jsontext.AllowDuplicateNames(true)) {
		t.Fatalf("output is not valid JSON: %.200s", out)
	}
	if bytes.Contains(out, []byte(`"t"`)) {
		t.Errorf("secret leaked into truncated output")
	}
	// The array ends with one marker element, the object with one marker
	// member; nothing after the limit is kept.
	if !bytes.Contains(out, []byte(` bytes omitted"],"[omitted]":"`)) || !bytes.HasSuffix(out, []byte(` bytes omitted"}`)) {
		t.Errorf("markers missing: ...%s", out[len(out)-200:])
	}
	if bytes.Contains(out, []byte(`"after"`)) {
		t.Errorf("members after the limit kept")
	}
}

func TestDecodeHead(t *testing.T) {
	for _, s := range []string{
		`""`, `"abc"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u20AC\ud83d\ude00\u0000"`,
		`"` + strings.Repeat(`\ud83d\ude00x\n`, 2000) + `"`,
		`"` + strings.Repeat("€ab", 3000) + `"`,
	} {
		checkDecodeHead(t, []byte(s))
	}
}

func FuzzDecodeHead(f *testing.F) {
	f.Add([]byte(`"a\u00e9\ud83d\ude00\n\"x"`))
	f.Add([]byte(`"` + strings.Repeat("€", 20) + `"`))
	f.Fuzz(func(t *testing.T, s []byte) {
		if jsontext.Value(s).Kind() != jsontext.KindString || !jsontext.Value(s).IsValid() ||
			s[0] != '"' || s[len(s)-1] != '"' {
			return
		}
		checkDecodeHead(t, s)
	})
}

// checkDecodeHead compares decodeHead with jsontext's own unquoting.
func checkDecodeHead(t *testing.T, s []byte) {
	t.Helper()
	want, err := jsontext.AppendUnquote(nil, s)
	if err != nil {
		t.Fatalf("AppendUnquote(%q): %v", s, err)
	}
	if full, n := decodeHead(nil, s, len(s)); n != len(want) || !bytes.Equal(full, want) {
		t.Errorf("decodeHead(%.80q) = %.80q, %d; want %.80q, %d", s, full, n, want, len(want))
	}
	for _, limit := range []int{0, 1, 5, 100} {
		head, n := decodeHead(nil, s, limit)
		if n != len(want) || !bytes.HasPrefix(want, head) || len(head) < min(limit, len(want)) {
			t.Errorf("decodeHead(%.80q, %d) = %.80q, %d; want a prefix of %.80q, %d", s, limit, head, n, want, len(want))
		}
	}
}

func TestTruncateText(t *testing.T) {
	if got := truncateText("short"); got != "short" {
		t.Errorf("truncateText(short) = %q", got)
	}
	s := strings.Repeat("€", MaxStringBytes) // 3 bytes a rune
	got := truncateText(s)
	kept := MaxStringBytes / 3 * 3
	want := s[:kept] + "…[" + strconv.Itoa(len(s)-kept) + " bytes truncated]"
	if got != want {
		t.Errorf("truncateText: got %d bytes ending %q, want ending %q", len(got), got[len(got)-30:], want[len(want)-30:])
	}
}

// FuzzRedactArguments checks that the output is always valid JSON and that
// no member whose name looks secret keeps its value.
func FuzzRedactArguments(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `{"password":"x"}`, `[{"pass\u0077ord":{"a":[1]}}]`, `"x"`, `{`,
		nest(70, "1"), `{"a":{"token":[1,{"b":2}]},"c":"d"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := RedactArguments(in)
		if !jsontext.Value(out).IsValid(jsontext.AllowDuplicateNames(true)) {
			t.Fatalf("invalid output %q for %q", out, in)
		}
		checkRedacted(t, out)
	})
}

func checkRedacted(t *testing.T, out []byte) {
	t.Helper()
	dec := jsontext.NewDecoder(bytes.NewReader(out), jsontext.AllowDuplicateNames(true))
	r := &redactor{}
	for {
		kind, length := dec.StackIndex(dec.StackDepth())
		isName := kind == jsontext.KindBeginObject && length%2 == 0 && dec.PeekKind() == jsontext.KindString
		tok, err := dec.ReadToken()
		if err != nil {
			return
		}
		if !isName || !r.isSecret([]byte(tok.String())) {
			continue
		}
		v, err := dec.ReadValue()
		if err != nil || string(v) != `"`+RedactedMarker+`"` {
			t.Fatalf("member %q kept value %s in %q", tok.String(), v, out)
		}
	}
}

// BenchmarkRedactArguments measures a 1 MiB document of many small members,
// most of which fall beyond MaxArgumentsBytes and are only validated.
func BenchmarkRedactArguments(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"path":"/home/user/project","edits":[`)
	for i := 0; sb.Len() < 1<<20; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"oldText":"func main() {\n\tfmt.Println(\"hello\")\n}","newText":"func main() {\n\tfmt.Println(\"hello, world\")\n}","line":` +
			strconv.Itoa(i) + `,"api_key":"sk-0123456789abcdef","tags":["a","b",null,true,1.5e3]}`)
	}
	sb.WriteString(`],"dryRun":false}`)
	benchmarkRedact(b, []byte(sb.String()))
}

// BenchmarkRedactArgumentsLargeString measures a 1 MiB string member, the
// shape of a file write.
func BenchmarkRedactArgumentsLargeString(b *testing.B) {
	content := strings.Repeat(`line of text with \"quotes\" and \\ escapes\n`, (1<<20)/44)
	benchmarkRedact(b, []byte(`{"path":"/tmp/x","content":"`+content+`"}`))
}

func benchmarkRedact(b *testing.B, in []byte) {
	if !jsontext.Value(in).IsValid() {
		b.Fatal("benchmark input is not valid JSON")
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		RedactArguments(in)
	}
}
