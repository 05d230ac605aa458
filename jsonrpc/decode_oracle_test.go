package jsonrpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// oracleDecoder is the decoder as it was built on the jsontext tokenizer,
// kept as the reference that Decoder must agree with on every input: the
// same messages accepted, read the same way, and the same refusals with
// the same reasons and recovered ids. It is slow on large strings, which
// is why Decoder no longer uses it.
type oracleDecoder struct {
	maxDepth int
	dec      jsontext.Decoder
	in       bytes.Buffer
	opts     []jsontext.Options
	names    []oracleNames
}

func newOracleDecoder(maxDepth int) *oracleDecoder {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	return &oracleDecoder{maxDepth: maxDepth, opts: []jsontext.Options{
		jsontext.AllowDuplicateNames(false),
		jsontext.AllowInvalidUTF8(false),
	}}
}

func (d *oracleDecoder) Decode(b []byte) (*Message, error) {
	var env envelope
	m, err := d.decode(b, &env)
	if err != nil {
		de, ok := err.(*DecodeError)
		if !ok {
			de = &DecodeError{Reason: "invalid JSON", Err: err}
		}
		if !env.idValue.IsNull() && env.idComplete(b) {
			de.ID, de.HasMethod = env.idValue, env.method
		}
		return nil, de
	}
	return m, nil
}

func (d *oracleDecoder) decode(b []byte, env *envelope) (*Message, error) {
	d.in = *bytes.NewBuffer(b)
	d.dec.Reset(&d.in, d.opts...)
	tok, err := d.dec.ReadToken()
	if err != nil {
		return nil, err
	}
	if tok.Kind() != '{' {
		return nil, &DecodeError{Reason: "message is not a JSON object"}
	}
	m := &Message{Raw: b}
	for d.dec.PeekKind() != '}' {
		if err := d.member(b, m, env); err != nil {
			return nil, err
		}
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	if _, err := d.dec.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, &DecodeError{Reason: "trailing data after the message"}
	}
	if err := env.classify(m); err != nil {
		return nil, err
	}
	return m, nil
}

func (d *oracleDecoder) member(b []byte, m *Message, env *envelope) error {
	tok, err := d.dec.ReadToken()
	if err != nil {
		return err
	}
	name := tok.String()
	start := d.dec.InputOffset()
	switch name {
	case "jsonrpc":
		v, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		if !oracleIsVersion(v) {
			return &DecodeError{Reason: `"jsonrpc" must be "2.0"`}
		}
		env.version = true
	case "id":
		v, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		id, ok := parseID(v)
		if !ok {
			return &DecodeError{Reason: "id must be a string or an integer"}
		}
		env.id, env.idValue, env.idEnd = true, id, d.dec.InputOffset()
	case "method":
		v, err := d.dec.ReadValue()
		if err != nil {
			return err
		}
		if oracleUnmarshalString(v, &m.Method) != nil || m.Method == "" {
			return &DecodeError{Reason: "method must be a non-empty string"}
		}
		env.method = true
	case "params", "result", "error":
		if err := d.walk(); err != nil {
			return err
		}
		raw := jsontext.Value(bytes.TrimLeft(b[start:d.dec.InputOffset()], " \t\r\n:"))
		switch name {
		case "params":
			if k := raw.Kind(); k != '{' && k != '[' {
				return &DecodeError{Reason: "params must be an object or an array"}
			}
			m.Params = raw
		case "result":
			m.Result = raw
		default:
			m.Error = new(Error)
			if err := json.Unmarshal(raw, m.Error, json.RejectUnknownMembers(true)); err != nil {
				return &DecodeError{Reason: "malformed error object", Err: err}
			}
		}
	default:
		return &DecodeError{Reason: fmt.Sprintf("unknown member %q", name)}
	}
	return nil
}

func (d *oracleDecoder) walk() error {
	k := d.dec.PeekKind()
	if (k == '{' || k == '[') && d.dec.StackDepth() >= d.maxDepth {
		return &DecodeError{Reason: fmt.Sprintf("nesting deeper than %d levels", d.maxDepth)}
	}
	switch k {
	case '{':
		if _, err := d.dec.ReadToken(); err != nil {
			return err
		}
		depth := d.dec.StackDepth()
		for len(d.names) < depth {
			d.names = append(d.names, oracleNames{})
		}
		set := &d.names[depth-1]
		set.small = set.small[:0]
		for d.dec.PeekKind() != '}' {
			tok, err := d.dec.ReadToken()
			if err != nil {
				return err
			}
			if name := tok.String(); !set.add(name) {
				return &DecodeError{Reason: fmt.Sprintf("member name %q differs from another only in case (%s)",
					name, d.dec.StackPointer())}
			}
			if err := d.walk(); err != nil {
				return err
			}
		}
		_, err := d.dec.ReadToken()
		return err
	case '[':
		if _, err := d.dec.ReadToken(); err != nil {
			return err
		}
		for d.dec.PeekKind() != ']' {
			if err := d.walk(); err != nil {
				return err
			}
		}
		_, err := d.dec.ReadToken()
		return err
	default:
		return d.dec.SkipValue()
	}
}

// oracleNames holds the folded member names of one object.
type oracleNames struct{ small []string }

func (s *oracleNames) add(name string) bool {
	f := fold(name)
	for _, o := range s.small {
		if o == f {
			return false
		}
	}
	s.small = append(s.small, f)
	return true
}

func oracleIsVersion(v jsontext.Value) bool {
	var s string
	return oracleUnmarshalString(v, &s) == nil && s == Version
}

func oracleUnmarshalString(v jsontext.Value, s *string) error {
	if v.Kind() != '"' {
		return errors.New("not a string")
	}
	return json.Unmarshal(v, s)
}

// agreementSeeds are the inputs where a hand-written scanner is most
// likely to part from the tokenizer.
var agreementSeeds = []string{
	`{"jsonrpc":"2.0","id":1,"\u006dethod":"tools/call"}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","\u006dethod":"x"}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,"\u0061":2}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,"\u0041":2}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a/b~c":{"x":[0,{"k":1,"K":2}]}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\ud83d\ude00"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\uD83D\uDE00"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\ud83d"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\ude00"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\ude00\ud83d"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\ud83d\u0041"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\ud83d\n"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\ud83d\ud83d\ude00"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\u00"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\u00g0"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\x"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\/\b\f\n\r\t\"\\"]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":["\u0000"]}`,
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[\"\xc0\xaf\"]}",         // overlong '/'
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[\"\xed\xa0\x80\"]}",     // a surrogate in UTF-8
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[\"\xf4\x90\x80\x80\"]}", // past U+10FFFF
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[\"\xe2\x82\"]}",         // truncated
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[\"\x7f\"]}",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[\"\x1f\"]}",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[\"a\x00b\"]}",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[\"caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80\"]}",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[\"caf\xc3\\n\xa9\"]}",
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[-0,0,1e5,1E+5,1e-5,-1.5e3,0.0]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[01]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[1.]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[.5]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[-]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[1e]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[+1]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[true,false,null]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[tru]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[nulll]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[1,]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a" 1}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{1:1}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[1 2]}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":[}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{]}`,
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[1,\f2]}",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":[1,\xc2\xa02]}",
	"\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}\x00",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\"}\r\n\t ",
	`{"jsonrpc":"2.0","id":1,"method":"m"}x`,
	`{"jsonrpc":"2.0","id":1,"method":"m"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m"}{}`,
	`{"jsonrpc":"2.0","id":1,"method":"m"`,
	`{"jsonrpc":"2.0","id":1,"method":"m",`,
	`{"jsonrpc":"2.0","id":"q","method":"m","params":{"a":"\ud800"}}`,
	`{"jsonrpc":"2.0","id":"q","method":"m","params":{"a":1}`,
	`{"jsonrpc":"2.0","id":"q"x,"method":"m"}`,
	`{"jsonrpc":"2.0","id":01,"method":"m"}`,
	`{"jsonrpc":"2.0","id":7,"id":8,"method":"m"}`,
	`{"jsonrpc":"2.0","id":7,"\u0069d":8,"method":"m"}`,
	`{"jsonrpc":"2.0","id":"\u0031","method":"m"}`,
	`{"jsonrpc":"2.0","id":"\ud800","method":"m"}`,
	`{"jsonrpc":"2.0","id":{"a":1,"a":2},"method":"m"}`,
	`{"jsonrpc":"2.0","id":{"a":1,"A":2},"method":"m"}`,
	`{"jsonrpc":{"a":[1,{"b":2}]},"id":1,"method":"m"}`,
	`{"jsonrpc":"\u0032.0","id":1,"method":"m"}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools\/call"}`,
	`{"jsonrpc":"2.0","id":1,"method":"\ud83d\ude00"}`,
	`{"jsonrpc":"2.0","id":1,"method":["m"]}`,
	`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"a\"b\\"}]}}`,
	`{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"x","data":[1,{"z":null}]}}`,
	`{"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"x"}}`,
	`{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"x","data":{"a":1,"A":2}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{"":1,"":2}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{"\u017f":1,"S":2}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{"\u212a":1,"k":2}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":[{"b":{"c":[[{"d":1,"D":2}]]}}]}}`,
	`{"jsonrpc":"2.0","id":1,"method":"m","params":{"~0/1":{"x":1,"X":1}}}`,
	`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"` + strings.Repeat("plain text ", 14) + `\"quoted\"` +
		strings.Repeat("more text ", 14) + `\n\tend \u00e9 caf\u00e9"}]}}`,
	`{}`, `[]`, `[1]`, `1`, `-`, `1x`, `"a"`, `"a`, `null`, `nul`, `}`, `]`, `:`, `,`, ``, ` `, `x`,
}

// deepSeeds nest params around the limits the fuzz test picks from.
func deepSeeds() []string {
	var out []string
	for _, n := range []int{3, 4, 5, 127, 128, 129} {
		out = append(out,
			`{"jsonrpc":"2.0","id":1,"method":"m","params":`+strings.Repeat("[", n)+strings.Repeat("]", n)+`}`,
			`{"jsonrpc":"2.0","id":1,"method":"m","params":`+strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n)+`}`)
	}
	return out
}

// FuzzDecodeAgrees holds Decoder to the tokenizer-based oracle: for any
// input and depth limit, the same verdict, the same message read, and on
// refusal the same reason and the same id recovered for the answer. A
// message that Decoder accepts and the oracle refuses would let bytes
// through that a strict parser reads differently.
func FuzzDecodeAgrees(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s), 0)
	}
	for _, s := range agreementSeeds {
		f.Add([]byte(s), 0)
		f.Add([]byte(s), 3)
	}
	for _, s := range deepSeeds() {
		for _, depth := range []int{0, 4, 5, 128, 129} {
			f.Add([]byte(s), depth)
		}
	}
	for _, s := range corpusSeeds(f, "testdata/fuzz/FuzzDecode") {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, b []byte, depth int) {
		depth %= 200
		d, o := NewDecoder(depth), newOracleDecoder(depth)
		checkAgrees(t, d, o, b)
		checkAgrees(t, d, o, b) // again, after what the first left in the Decoder
	})
}

// TestDecodeAgreesOnSeeds runs the agreement check on the seeds without
// fuzzing, with a decoder reused across messages as the proxy reuses it.
func TestDecodeAgreesOnSeeds(t *testing.T) {
	for _, depth := range []int{0, 3, 4, 5, 128, 129} {
		d, o := NewDecoder(depth), newOracleDecoder(depth)
		all := append(append(append([]string{}, seeds...), agreementSeeds...), deepSeeds()...)
		for _, s := range all {
			checkAgrees(t, d, o, []byte(s))
		}
	}
}

// corpusSeeds reads the inputs of a go-fuzz corpus directory.
func corpusSeeds(tb testing.TB, dir string) [][]byte {
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		if len(lines) < 2 || lines[0] != "go test fuzz v1" {
			tb.Fatalf("%s: not a corpus file", e.Name())
		}
		arg := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		s, err := strconv.Unquote(arg)
		if err != nil {
			tb.Fatalf("%s: %v", e.Name(), err)
		}
		out = append(out, []byte(s))
	}
	return out
}

// decoder is what Decoder and the oracle have in common.
type decoder interface {
	Decode([]byte) (*Message, error)
}

func checkAgrees(t *testing.T, d, o decoder, b []byte) {
	t.Helper()
	in := bytes.Clone(b)
	got, gerr := d.Decode(in)
	want, werr := o.Decode(b)
	if !bytes.Equal(in, b) {
		t.Fatalf("Decode(%q) changed its input", b)
	}
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("Decode(%q): %v; oracle: %v", b, gerr, werr)
	}
	if gerr != nil {
		var gde, wde *DecodeError
		if !errors.As(gerr, &gde) || !errors.As(werr, &wde) {
			t.Fatalf("Decode(%q): errors %T, %T, want *DecodeError", b, gerr, werr)
		}
		if gde.Reason != wde.Reason {
			t.Fatalf("Decode(%q): reason %q (%v); oracle %q (%v)", b, gde.Reason, gde.Err, wde.Reason, wde.Err)
		}
		if gde.ID != wde.ID || gde.HasMethod != wde.HasMethod {
			t.Fatalf("Decode(%q): recovered id %q method %v; oracle %q %v", b, gde.ID.Raw(), gde.HasMethod, wde.ID.Raw(), wde.HasMethod)
		}
		return
	}
	if got.Kind != want.Kind || got.ID != want.ID || got.Method != want.Method {
		t.Fatalf("Decode(%q) = %v %q %q; oracle %v %q %q", b, got.Kind, got.ID.Raw(), got.Method, want.Kind, want.ID.Raw(), want.Method)
	}
	sameSlice(t, b, "Raw", in, got.Raw, b, want.Raw)
	sameSlice(t, b, "Params", in, got.Params, b, want.Params)
	sameSlice(t, b, "Result", in, got.Result, b, want.Result)
	if (got.Error == nil) != (want.Error == nil) {
		t.Fatalf("Decode(%q): Error %+v; oracle %+v", b, got.Error, want.Error)
	}
	if got.Error != nil && (got.Error.Code != want.Error.Code || got.Error.Message != want.Error.Message ||
		!bytes.Equal(got.Error.Data, want.Error.Data) || (got.Error.Data == nil) != (want.Error.Data == nil)) {
		t.Fatalf("Decode(%q): Error %+v; oracle %+v", b, got.Error, want.Error)
	}
}

// sameSlice checks that two decoders returned the same part of their
// inputs: the same offset and length, or both nil.
func sameSlice(t *testing.T, b []byte, what string, gin, got, win, want []byte) {
	t.Helper()
	if (got == nil) != (want == nil) || !bytes.Equal(got, want) || offsetIn(gin, got) != offsetIn(win, want) {
		t.Fatalf("Decode(%q): %s = %q at %d; oracle %q at %d", b, what, got, offsetIn(gin, got), want, offsetIn(win, want))
	}
}

// offsetIn returns where sub starts in b, -1 when it is empty or does not
// alias b.
func offsetIn(b, sub []byte) int {
	if len(sub) == 0 || len(b) == 0 {
		return -1
	}
	for i := range b {
		if &b[i] == &sub[0] {
			return i
		}
	}
	return -2
}

// TestDecodeAgreesStringAlignments puts every byte value, and escapes and
// UTF-8 sequences good and bad, at every offset of strings around the
// width the scanner reads at a time, where a word-at-a-time scan can go
// wrong.
func TestDecodeAgreesStringAlignments(t *testing.T) {
	d, o := NewDecoder(0), newOracleDecoder(0)
	check := func(ins string, n int) {
		for at := 0; at <= n; at++ {
			text := strings.Repeat("a", at) + ins + strings.Repeat("b", n-at)
			for _, msg := range []string{
				`{"jsonrpc":"2.0","id":1,"result":{"text":"` + text + `"}}`,
				`{"jsonrpc":"2.0","id":1,"method":"m","params":{"` + text + `":1,"B":2}}`,
				`{"jsonrpc":"2.0","id":"` + text + `","method":"m"}`,
			} {
				checkAgrees(t, d, o, []byte(msg))
			}
		}
	}
	for c := 0; c < 256; c++ {
		check(string([]byte{byte(c)}), 9)
		check(string([]byte{byte(c)}), 17)
	}
	for _, ins := range stringInserts {
		for n := 0; n <= 17; n++ {
			check(ins, n)
		}
	}
}

// stringInserts are the escapes and UTF-8 sequences, good and bad, that
// the string tests put into plain text.
var stringInserts = []string{`\"`, `\\`, `\n`, `\u00e9`, `\u00E9`, `\ud83d\ude00`, `\ud83d`, `\uDFFF`, `\ud7ff`, `\ue000`,
	`\u00g9`, `\x`, "\xc3\xa9", "\xe2\x82\xac", "\xe2\x82", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xc0\xaf"}

// TestDecodeAgreesLongRuns covers runs of plain text long enough for the
// scanner to hand them to the searches of the bytes package, with up to
// three bytes or inserts (an escaped quote among them moves the next
// quote it keeps) at offsets around the hand-over and the word width.
func TestDecodeAgreesLongRuns(t *testing.T) {
	d, o := NewDecoder(0), newOracleDecoder(0)
	var pieces []string
	for c := 0; c < 256; c++ {
		pieces = append(pieces, string([]byte{byte(c)}))
	}
	pieces = append(pieces, stringInserts...)
	offsets := []int{0, 1, 7, 8, 63, 64, 65, 120, 127, 128, 129, 130, 135, 136, 137, 143, 144, 200, 255, 256, 257,
		288, 290, 295, 300, 305, 310, 312, 314, 315, 316, 317, 318, 319, 320}
	rng := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 20000; k++ {
		text := []byte(strings.Repeat("a", 320))
		for range 1 + rng.IntN(3) {
			at := offsets[rng.IntN(len(offsets))]
			piece := pieces[rng.IntN(len(pieces))]
			if k < len(pieces)*2 { // every piece at least twice first
				piece = pieces[k/2]
			}
			text = append(text[:at:at], append([]byte(piece), text[at:]...)...)
		}
		for _, msg := range []string{
			`{"jsonrpc":"2.0","id":1,"result":{"text":"` + string(text) + `"}}`,
			`{"jsonrpc":"2.0","id":"` + string(text) + `","method":"m"}`,
		} {
			checkAgrees(t, d, o, []byte(msg))
		}
	}
}

// TestDecodeAgreesManyMembers covers objects large enough that the
// decoder keeps their names in a map, and collisions found there.
func TestDecodeAgreesManyMembers(t *testing.T) {
	d, o := NewDecoder(0), newOracleDecoder(0)
	for n := 15; n <= 40; n++ {
		var members []string
		for k := 0; k < n; k++ {
			members = append(members, fmt.Sprintf(`"m%d":%d`, k, k))
		}
		obj := strings.Join(members, ",")
		for _, extra := range []string{``, `,"M3":1`, `,"m3":1`, `,"m\u0033":1`, fmt.Sprintf(`,"M%d":1`, n-1), `,"\u212a":1,"k":2`} {
			msg := `{"jsonrpc":"2.0","id":1,"method":"m","params":{"x":{` + obj + extra + `}}}`
			checkAgrees(t, d, o, []byte(msg))
		}
	}
}

// TestDecodeAgreesPastTokenizerDepth covers the nesting bound that holds
// whatever limit a Decoder is given, in the body and in an id.
func TestDecodeAgreesPastTokenizerDepth(t *testing.T) {
	d, o := NewDecoder(20000), newOracleDecoder(20000)
	for _, n := range []int{maxNestingDepth - 2, maxNestingDepth - 1, maxNestingDepth, maxNestingDepth + 1} {
		for _, msg := range []string{
			`{"jsonrpc":"2.0","id":1,"method":"m","params":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`,
			`{"jsonrpc":"2.0","id":1,"method":"m","params":` + strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) + `}`,
			`{"jsonrpc":"2.0","id":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `,"method":"m"}`,
		} {
			checkAgrees(t, d, o, []byte(msg))
		}
	}
}
