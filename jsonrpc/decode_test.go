package jsonrpc

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func TestDecodeClassifies(t *testing.T) {
	cases := []struct {
		in     string
		kind   Kind
		id     string
		method string
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}`, Request, "1", "tools/call"},
		{`{"jsonrpc":"2.0","id":"a-1","method":"ping"}`, Request, `"a-1"`, "ping"},
		{`{"jsonrpc":"2.0","method":"notifications/initialized"}`, Notification, "", "notifications/initialized"},
		{`{"jsonrpc":"2.0","id":7,"result":{}}`, Response, "7", ""},
		{`{"result":{"content":[]},"jsonrpc":"2.0","id":7}`, Response, "7", ""},
		{`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`, Response, "null", ""},
		{`{"jsonrpc":"2.0","id":-3,"error":{"code":1,"message":"m","data":{"x":[1,2]}}}`, Response, "-3", ""},
		{" \t{\"jsonrpc\" : \"2.0\" , \"id\" : 0 , \"method\" : \"m\" , \"params\" : [ 1 ] } ", Request, "0", "m"},
	}
	d := NewDecoder(0)
	for _, c := range cases {
		m, err := d.Decode([]byte(c.in))
		if err != nil {
			t.Errorf("Decode(%s): %v", c.in, err)
			continue
		}
		if m.Kind != c.kind || m.ID.Raw() != c.id || m.Method != c.method {
			t.Errorf("Decode(%s) = kind %v id %q method %q, want %v %q %q", c.in, m.Kind, m.ID.Raw(), m.Method, c.kind, c.id, c.method)
		}
	}
}

func TestDecodeRawMembers(t *testing.T) {
	d := NewDecoder(0)
	m, err := d.Decode([]byte(`{"jsonrpc":"2.0","id":1,"method":"m","params" :  {"a": [1, {"b":2}]} }`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(m.Params); got != `{"a": [1, {"b":2}]}` {
		t.Errorf("Params = %q", got)
	}
	m, err = d.Decode([]byte(`{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"bad","data":"d"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Error.Code != -32602 || m.Error.Message != "bad" || string(m.Error.Data) != `"d"` {
		t.Errorf("Error = %+v", m.Error)
	}
}

// TestDecodeRejects is the attack table of the strict decoder: each input
// is one a lenient parser would read differently from a strict one.
func TestDecodeRejects(t *testing.T) {
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	cases := map[string]string{
		"not json":                  `hello`,
		"truncated":                 `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}`,
		"array is not a message":    `[1]`,
		"scalar":                    `42`,
		"duplicate top-level":       `{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping"}`,
		"case variant top-level":    `{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}`,
		"case variant in params":    `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read","Name":"delete"}}`,
		"long s folds to s":         `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{},"argument\u017f":{}}}`,
		"kelvin folds to k":         `{"jsonrpc":"2.0","id":1,"method":"m","params":{"k":1,"\u212a":2}}`,
		"escaped duplicate":         `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","n\u0061me":"b"}}`,
		"deep duplicate":            `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":[{"x":1,"X":2}]}}`,
		"invalid utf8":              "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"a\":\"\xff\"}}",
		"lone surrogate":            `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":"\ud800"}}`,
		"too deep":                  `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":` + deep + `}}`,
		"unknown member":            `{"jsonrpc":"2.0","id":1,"method":"m","extra":true}`,
		"wrong version":             `{"jsonrpc":"1.0","id":1,"method":"m"}`,
		"missing version":           `{"id":1,"method":"m"}`,
		"method with result":        `{"jsonrpc":"2.0","id":1,"method":"tools/call","result":{}}`,
		"method with error":         `{"jsonrpc":"2.0","id":1,"method":"tools/call","error":{"code":1,"message":""}}`,
		"result and error":          `{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":""}}`,
		"response with params":      `{"jsonrpc":"2.0","id":1,"result":{},"params":{}}`,
		"null request id":           `{"jsonrpc":"2.0","id":null,"method":"m"}`,
		"null id with result":       `{"jsonrpc":"2.0","id":null,"result":{}}`,
		"float id":                  `{"jsonrpc":"2.0","id":1.0,"method":"m"}`,
		"exponent id":               `{"jsonrpc":"2.0","id":1e0,"method":"m"}`,
		"leading zero id":           `{"jsonrpc":"2.0","id":01,"method":"m"}`,
		"negative zero id":          `{"jsonrpc":"2.0","id":-0,"method":"m"}`,
		"huge id":                   `{"jsonrpc":"2.0","id":1234567890123456789012,"method":"m"}`,
		"bool id":                   `{"jsonrpc":"2.0","id":true,"method":"m"}`,
		"object id":                 `{"jsonrpc":"2.0","id":{"a":1},"method":"m"}`,
		"empty method":              `{"jsonrpc":"2.0","id":1,"method":""}`,
		"numeric method":            `{"jsonrpc":"2.0","id":1,"method":5}`,
		"scalar params":             `{"jsonrpc":"2.0","id":1,"method":"m","params":"x"}`,
		"trailing data":             `{"jsonrpc":"2.0","id":1,"method":"m"} {"jsonrpc":"2.0","id":2,"method":"tools/call"}`,
		"error object extra member": `{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"","Code":2}}`,
		"error code not int":        `{"jsonrpc":"2.0","id":1,"error":{"code":"1","message":""}}`,
		"neither method nor id":     `{"jsonrpc":"2.0","result":{}}`,
		"raw control character":     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"a\x01\":1}}",
	}
	d := NewDecoder(0)
	for name, in := range cases {
		m, err := d.Decode([]byte(in))
		var de *DecodeError
		if err == nil || !errors.As(err, &de) {
			t.Errorf("%s: Decode(%s) = %+v, %v; want a *DecodeError", name, in, m, err)
		}
	}
}

func TestDecodeErrorKeepsRequestID(t *testing.T) {
	d := NewDecoder(0)
	_, err := d.Decode([]byte(`{"jsonrpc":"2.0","id":"q9","method":"tools/call","params":{"name":"a","NAME":"b"},"result":{}}`))
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v", err)
	}
	// The duplicate is seen before classification; no id is promised then,
	// but a request that fails classification keeps its id.
	_, err = d.Decode([]byte(`{"jsonrpc":"2.0","id":"q9","method":"tools/call","result":{}}`))
	if !errors.As(err, &de) || de.ID.Raw() != `"q9"` {
		t.Fatalf("err = %v, id %q; want id \"q9\"", err, de.ID.Raw())
	}
}

func TestDepthLimitIsExact(t *testing.T) {
	d := NewDecoder(4)
	ok := `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":{"b":[1]}}}` // depth 4
	if _, err := d.Decode([]byte(ok)); err != nil {
		t.Errorf("depth 4 refused: %v", err)
	}
	bad := `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":{"b":[[1]]}}}`
	if _, err := d.Decode([]byte(bad)); err == nil {
		t.Error("depth 5 accepted")
	}
}

func TestIDKeys(t *testing.T) {
	d := NewDecoder(0)
	a, _ := d.Decode([]byte(`{"jsonrpc":"2.0","id":"1","method":"m"}`))
	b, _ := d.Decode([]byte(`{"jsonrpc":"2.0","id":1,"method":"m"}`))
	c, _ := d.Decode([]byte(`{"jsonrpc":"2.0","id":"\u0031","method":"m"}`))
	if a.ID.Key() == b.ID.Key() {
		t.Error(`string "1" and number 1 share a key`)
	}
	if a.ID.Key() != c.ID.Key() {
		t.Error(`"1" and "\u0031" have different keys`)
	}
	if c.ID.Raw() != `"\u0031"` {
		t.Errorf("raw id not kept: %s", c.ID.Raw())
	}
}

func TestSplitBatch(t *testing.T) {
	d := NewDecoder(0)
	in := ` [ {"jsonrpc":"2.0","id":1,"method":"a"} , {"jsonrpc":"2.0","method":"b"} ] `
	if !IsBatch([]byte(in)) {
		t.Fatal("IsBatch = false")
	}
	elems, err := d.SplitBatch([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(elems) != 2 || string(elems[0]) != `{"jsonrpc":"2.0","id":1,"method":"a"}` || string(elems[1]) != `{"jsonrpc":"2.0","method":"b"}` {
		t.Fatalf("elems = %q", elems)
	}
	for _, bad := range []string{`[]`, `[1,`, `[{"a":1,"a":2}]`, `[1] 2`} {
		if _, err := d.SplitBatch([]byte(bad)); err == nil {
			t.Errorf("SplitBatch(%s) accepted", bad)
		}
	}
}

func TestErrorResponseEncodes(t *testing.T) {
	d := NewDecoder(0)
	b := ErrorResponse(StringID("x\"y"), CodeInvalidParams, "unknown tool: \u2028", map[string]int{"n": 1})
	m, err := d.Decode(b)
	if err != nil {
		t.Fatalf("own error response does not decode: %v\n%s", err, b)
	}
	if m.Kind != Response || m.Error.Code != CodeInvalidParams || m.ID.Key() != `s:x"y` {
		t.Errorf("decoded %+v", m)
	}
	if m, err := d.Decode(ErrorResponse(ID{}, CodeParseError, "p", nil)); err != nil || !m.ID.IsNull() {
		t.Errorf("zero id not sent as null: %v %+v", err, m)
	}
}

func TestFold(t *testing.T) {
	for _, c := range [][2]string{{"Name", "name"}, {"argument\u017f", "arguments"}, {"\u212a", "k"}, {"abc", "abc"}} {
		if Fold(c[0]) != Fold(c[1]) {
			t.Errorf("Fold(%q) != Fold(%q)", c[0], c[1])
		}
	}
}

func TestFields(t *testing.T) {
	names := []string{"name", "arguments"}
	out := make([]jsontext.Value, 2)
	if err := Fields(jsontext.Value(`{"name":"a","arguments":{"x":1},"_meta":{}}`), names, out); err != nil {
		t.Fatal(err)
	}
	if string(out[0]) != `"a"` || string(out[1]) != `{"x":1}` {
		t.Errorf("out = %q", out)
	}
	for _, bad := range []string{`{"Name":"a"}`, `{"name":"a","argument\u017f":{}}`, `{"NAME":"x","arguments":{}}`, `[1]`} {
		if err := Fields(jsontext.Value(bad), names, out); err == nil {
			t.Errorf("Fields(%s) accepted", bad)
		}
	}
}

// TestParseIDPlainAndEscaped holds the escape-free fast path to the
// decoder: the same ids, and the same refusals, however they are spelled.
func TestParseIDPlainAndEscaped(t *testing.T) {
	for _, tc := range []struct {
		in, key string
		ok      bool
	}{
		{`"abc"`, "s:abc", true},
		{`"a\u0062c"`, "s:abc", true},
		{`"é"`, "s:é", true},
		{"\"a\xffb\"", "", false}, // invalid UTF-8, as a tail match may hold
		{"\"a\x01b\"", "", false}, // a raw control character
		{`"a"b"`, "", false},
		{`42`, "n:42", true},
		{`-7`, "n:-7", true},
		{`042`, "", false},
	} {
		id, ok := parseID(jsontext.Value(tc.in))
		if ok != tc.ok || (ok && (id.Key() != tc.key || id.Raw() != tc.in)) {
			t.Errorf("parseID(%q) = %q %q %v, want key %q %v", tc.in, id.Raw(), id.Key(), ok, tc.key, tc.ok)
		}
	}
}

// TestDecodeEscapedSpellings holds the shortcuts for the common spelling
// of the version and of string ids to the full decoding: an escaped
// spelling means the same, and a near miss is still refused.
func TestDecodeEscapedSpellings(t *testing.T) {
	d := NewDecoder(0)
	plain, err := d.Decode([]byte(`{"jsonrpc":"2.0","id":"a-1","method":"ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	escaped, err := d.Decode([]byte(`{"jsonrpc":"\u0032.0","id":"a\u002d1","method":"ping"}`))
	if err != nil {
		t.Fatalf("escaped version and id: %v", err)
	}
	if escaped.ID.Key() != plain.ID.Key() || escaped.ID.Raw() != `"a\u002d1"` {
		t.Errorf("escaped id: key %q raw %s, want key %q", escaped.ID.Key(), escaped.ID.Raw(), plain.ID.Key())
	}
	for _, line := range []string{
		`{"jsonrpc":"\u0032.1","id":1,"method":"m"}`,
		`{"jsonrpc":"2.0 ","id":1,"method":"m"}`,
		`{"jsonrpc":"2.00","id":1,"method":"m"}`,
	} {
		if _, err := d.Decode([]byte(line)); err == nil || !strings.Contains(err.Error(), `must be "2.0"`) {
			t.Errorf("Decode(%s) = %v, want the version refused", line, err)
		}
	}
}
