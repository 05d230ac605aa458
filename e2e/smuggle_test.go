package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// smuggleProfile hides the recorder's destructive tools, its secret
// resource and its secret prompt.
const smuggleProfile = `
[tools]
deny = ["delete_*", "erase_*"]

[resources]
deny = ["rec://secret/*"]

[prompts]
deny = ["secret_*"]
`

// forbiddenWords are the words that only hidden items carry: the recorder
// must never receive any of them, in any spelling.
var forbiddenWords = []string{"delete", "everything", "erase", "disks", "secret"}

// answer is an answer mcpwarden must give to a line of a smuggling case.
type answer struct {
	id   string // the id as JSON text; alternatives separated by "|"
	code int64  // the error code; 0 for a result, anyErr for any error
}

const anyErr = 1

// smuggleCase sends raw lines to mcpwarden in front of the recorder.
type smuggleCase struct {
	name    string
	version string   // protocol version negotiated first; "" for 2025-06-18
	flags   []string // extra mcpwarden flags
	lines   []string // each sent followed by a newline
	want    []answer // every answer to lines, in any order; nothing else
	// denied are the targets (tool, resource, prompt) that must have an
	// audit record deciding "deny".
	denied []string
}

// callLine is a tools/call request with the given id and name, both as
// raw JSON text so that tests control every byte.
func callLine(id, name string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":%s,"arguments":{}}}`, id, name)
}

// echoLine is an allowed call of safe_echo.
func echoLine(id string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"safe_echo","arguments":{"text":"hello"}}}`, id)
}

func TestSmuggling(t *testing.T) {
	t.Parallel()
	var cases []smuggleCase
	cases = append(cases, plainCases()...)
	cases = append(cases, batchCases()...)
	cases = append(cases, idCases()...)
	cases = append(cases, envelopeCases()...)
	cases = append(cases, nameCases()...)
	cases = append(cases, framingCases()...)
	cases = append(cases, resourcePromptCases()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runSmuggle(t, tc)
		})
	}
}

func plainCases() []smuggleCase {
	return []smuggleCase{
		{name: "allowed call reaches the server", lines: []string{echoLine("1")}, want: []answer{{"1", 0}}},
		{name: "plain call", lines: []string{callLine("10", `"delete_everything"`)},
			want: []answer{{"10", -32602}}, denied: []string{"delete_everything"}},
		{name: "tool differing only in case", lines: []string{callLine("11", `"Delete_Everything"`)},
			want: []answer{{"11", -32602}}, denied: []string{"Delete_Everything"}},
		{name: "second denied glob", lines: []string{callLine("12", `"erase_disks"`)},
			want: []answer{{"12", -32602}}, denied: []string{"erase_disks"}},
		{name: "as a notification",
			lines:  []string{`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"delete_everything","arguments":{}}}`},
			denied: []string{"delete_everything"}},
		{name: "allowed tool as a notification",
			lines: []string{`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"safe_echo","arguments":{"text":"x"}}}`}},
		{name: "positional params", lines: []string{`{"jsonrpc":"2.0","id":13,"method":"tools/call","params":["delete_everything",{}]}`},
			want: []answer{{"13", -32602}}},
		{name: "params as a string", lines: []string{`{"jsonrpc":"2.0","id":14,"method":"tools/call","params":"delete_everything"}`},
			want: []answer{{"14", -32600}}},
		{name: "name in an array", lines: []string{callLine("15", `["delete_everything"]`)},
			want: []answer{{"15", -32602}}},
		{name: "name in an object", lines: []string{callLine("16", `{"name":"delete_everything"}`)},
			want: []answer{{"16", -32602}}},
		{name: "arguments not an object",
			lines: []string{`{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"delete_everything","arguments":"x"}}`},
			want:  []answer{{"17", -32602}}},
		{name: "method name in another case",
			lines: []string{`{"jsonrpc":"2.0","id":18,"method":"Tools/Call","params":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"18", anyErr}}},
		{name: "method name in upper case",
			lines: []string{`{"jsonrpc":"2.0","id":19,"method":"TOOLS/CALL","params":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"19", anyErr}}},
	}
}

func batchCases() []smuggleCase {
	mixed := "[" + echoLine("20") + "," + callLine("21", `"delete_everything"`) + "]"
	return []smuggleCase{
		{name: "batch under 2025-03-26", version: "2025-03-26", lines: []string{mixed},
			want: []answer{{"20", 0}, {"21", -32602}}, denied: []string{"delete_everything"}},
		{name: "batch with a notification under 2025-03-26", version: "2025-03-26",
			lines: []string{"[" + echoLine("22") + `,{"jsonrpc":"2.0","method":"tools/call","params":{"name":"delete_everything","arguments":{}}}]`},
			want:  []answer{{"22", 0}}, denied: []string{"delete_everything"}},
		{name: "nested batch under 2025-03-26", version: "2025-03-26",
			lines: []string{"[[" + callLine("23", `"delete_everything"`) + "]]"},
			want:  []answer{{"null", -32600}}},
		{name: "batch with a duplicate name under 2025-03-26", version: "2025-03-26",
			lines: []string{`[{"jsonrpc":"2.0","id":24,"method":"tools/call","params":{"name":"safe_echo","name":"delete_everything","arguments":{}}}]`},
			want:  []answer{{"24|null", anyErr}}},
		{name: "batch under 2025-06-18", version: "2025-06-18", lines: []string{mixed},
			want: []answer{{"20", -32600}, {"21", -32600}}},
		{name: "batch of a notification under 2025-06-18", version: "2025-06-18",
			lines: []string{`[{"jsonrpc":"2.0","method":"tools/call","params":{"name":"delete_everything","arguments":{}}}]`},
			want:  []answer{{"null", -32600}}},
		{name: "batch under 2025-11-25", version: "2025-11-25", lines: []string{mixed},
			want: []answer{{"20", -32600}, {"21", -32600}}},
		{name: "empty batch", version: "2025-03-26", lines: []string{"[]"},
			want: []answer{{"null", -32600}}},
	}
}

func idCases() []smuggleCase {
	var cases []smuggleCase
	// Ids that are not a string or a canonical integer cannot be matched
	// with certainty, so the request is refused and answered with null.
	for _, id := range []string{"1.0", "1e0", "-0", "01", "null", "true", "{}", "[]", `{"id":1}`,
		"12345678901234567890123", "1e400"} {
		cases = append(cases, smuggleCase{name: "id " + id, lines: []string{callLine(id, `"delete_everything"`)},
			want: []answer{{"null", anyErr}}})
	}
	// Valid ids, however odd, are answered with the very same id.
	for _, id := range []string{`"01"`, `""`, "-1", "0", "999999999999999999", `"\u0031"`, `"𝟙"`} {
		cases = append(cases, smuggleCase{name: "id " + id, lines: []string{callLine(id, `"delete_everything"`)},
			want: []answer{{id, -32602}}, denied: []string{"delete_everything"}})
	}
	cases = append(cases,
		smuggleCase{name: "duplicate id",
			lines: []string{`{"jsonrpc":"2.0","method":"tools/call","id":25,"id":26,"params":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"25|26|null", anyErr}}},
	)
	return cases
}

func envelopeCases() []smuggleCase {
	return []smuggleCase{
		{name: "request also carrying a result",
			lines: []string{`{"jsonrpc":"2.0","id":30,"method":"tools/call","params":{"name":"delete_everything","arguments":{}},"result":{}}`},
			want:  []answer{{"30", -32600}}},
		{name: "request also carrying an error",
			lines: []string{`{"jsonrpc":"2.0","id":31,"method":"tools/call","params":{"name":"delete_everything","arguments":{}},"error":{"code":1,"message":"x"}}`},
			want:  []answer{{"31", -32600}}},
		{name: "result before the method",
			lines: []string{`{"jsonrpc":"2.0","id":32,"result":{},"method":"tools/call","params":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"32", -32600}}},
		{name: "response to an id the server never used",
			lines: []string{`{"jsonrpc":"2.0","id":33,"result":{"name":"delete_everything"}}`}},
		{name: "error response to an id the server never used",
			lines: []string{`{"jsonrpc":"2.0","id":34,"error":{"code":-32602,"message":"delete_everything"}}`}},
		{name: "duplicate name, denied last",
			lines: []string{`{"jsonrpc":"2.0","id":40,"method":"tools/call","params":{"name":"safe_echo","name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"40", -32600}}},
		{name: "duplicate name, denied first",
			lines: []string{`{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"delete_everything","name":"safe_echo","arguments":{}}}`},
			want:  []answer{{"41", -32600}}},
		{name: "duplicate name, method last",
			lines: []string{`{"jsonrpc":"2.0","id":42,"params":{"name":"safe_echo","name":"delete_everything","arguments":{}},"method":"tools/call"}`},
			want:  []answer{{"42", -32600}}},
		{name: "duplicate params",
			lines: []string{`{"jsonrpc":"2.0","id":43,"method":"tools/call","params":{"name":"safe_echo","arguments":{"text":"x"}},"params":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"43", -32600}}},
		{name: "duplicate method",
			lines: []string{`{"jsonrpc":"2.0","id":44,"method":"ping","method":"tools/call","params":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"44", -32600}}},
		{name: "member Name",
			lines: []string{`{"jsonrpc":"2.0","id":45,"method":"tools/call","params":{"Name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"45", -32602}}},
		{name: "member NAME",
			lines: []string{`{"jsonrpc":"2.0","id":46,"method":"tools/call","params":{"NAME":"delete_everything","arguments":{}}}`},
			want:  []answer{{"46", -32602}}},
		{name: "member nam-Kelvin instead of name",
			lines: []string{`{"jsonrpc":"2.0","id":47,"method":"tools/call","params":{"nam\u212a":"delete_everything","arguments":{}}}`},
			want:  []answer{{"47", -32602}}},
		{name: "member name and Name",
			lines: []string{`{"jsonrpc":"2.0","id":48,"method":"tools/call","params":{"name":"safe_echo","Name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"48", -32600}}},
		{name: "member params with long s",
			lines: []string{`{"jsonrpc":"2.0","id":49,"method":"tools/call","params":{"name":"safe_echo","arguments":{"text":"x"}},"param\u017f":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"49", -32600}}},
		{name: "member params with long s instead of params",
			lines: []string{`{"jsonrpc":"2.0","id":58,"method":"tools/call","param\u017f":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"58", -32600}}},
		{name: "member Method",
			lines: []string{`{"jsonrpc":"2.0","id":50,"Method":"tools/call","params":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"50", -32600}}},
		{name: "members method and Method",
			lines: []string{`{"jsonrpc":"2.0","id":51,"method":"ping","Method":"tools/call","params":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"51", -32600}}},
		{name: "member Params",
			lines: []string{`{"jsonrpc":"2.0","id":52,"method":"tools/call","Params":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"52", -32600}}},
		{name: "member ID",
			lines: []string{`{"jsonrpc":"2.0","ID":53,"method":"tools/call","params":{"name":"delete_everything","arguments":{}}}`},
			want:  []answer{{"null", -32600}}},
		{name: "escaped member names",
			lines: []string{`{"jsonrpc":"2.0","id":54,"\u006dethod":"tools/call","params":{"n\u0061me":"delete_everything","arguments":{}}}`},
			want:  []answer{{"54", -32602}}, denied: []string{"delete_everything"}},
		{name: "escaped method", lines: []string{`{"jsonrpc":"2.0","id":55,"method":"tools\/call","params":{"name":"delete_everything","arguments":{}}}`},
			want: []answer{{"55", -32602}}, denied: []string{"delete_everything"}},
		{name: "no jsonrpc member", lines: []string{`{"id":56,"method":"tools/call","params":{"name":"delete_everything","arguments":{}}}`},
			want: []answer{{"56", -32600}}},
		{name: "jsonrpc 1.0", lines: []string{`{"jsonrpc":"1.0","id":57,"method":"tools/call","params":{"name":"delete_everything","arguments":{}}}`},
			want: []answer{{"57|null", -32600}}},
	}
}

func nameCases() []smuggleCase {
	var cases []smuggleCase
	names := []struct{ label, json, target string }{
		{"unicode escape", `"delete\u005feverything"`, "delete_everything"},
		{"escaped first letter", `"\u0064elete_everything"`, "delete_everything"},
		{"upper case", `"DELETE_EVERYTHING"`, "DELETE_EVERYTHING"},
		{"last letter upper", `"delete_everythinG"`, "delete_everythinG"},
		{"fullwidth letters", `"ｄｅｌｅｔｅ_ｅｖｅｒｙｔｈｉｎｇ"`, "ｄｅｌｅｔｅ_ｅｖｅｒｙｔｈｉｎｇ"},
		{"fullwidth low line", `"delete＿everything"`, "delete＿everything"},
		{"escaped fullwidth", `"\uff44elete_everything"`, "\uff44elete_everything"},
		{"mathematical bold", `"𝐝𝐞𝐥𝐞𝐭𝐞_everything"`, "𝐝𝐞𝐥𝐞𝐭𝐞_everything"},
		{"long s", `"era\u017fe_disks"`, "era\u017fe_disks"},
		{"long s in both places", "\"era\u017fe_di\u017fks\"", "era\u017fe_di\u017fks"},
		{"Kelvin sign", `"erase_dis\u212as"`, "erase_dis\u212as"},
		{"dotless i", `"delete_everyth\u0131ng"`, "delete_everyth\u0131ng"},
		{"zero-width space", `"delete\u200b_everything"`, "delete\u200b_everything"},
		{"trailing space", `"delete_everything "`, "delete_everything "},
		{"leading space", `" delete_everything"`, " delete_everything"},
		{"trailing NUL", `"delete_everything\u0000"`, "delete_everything\x00"},
	}
	for i, n := range names {
		id := fmt.Sprint(60 + i)
		cases = append(cases, smuggleCase{name: "name " + n.label, lines: []string{callLine(id, n.json)},
			want: []answer{{id, -32602}}, denied: []string{n.target}})
	}
	cases = append(cases,
		smuggleCase{name: "invalid UTF-8 in the name", lines: []string{callLine("80", "\"delete_everything\xff\"")},
			want: []answer{{"80", -32600}}},
		smuggleCase{name: "overlong UTF-8 in the name", lines: []string{callLine("81", "\"delete\xc1\x9feverything\"")},
			want: []answer{{"81", -32600}}},
		smuggleCase{name: "lone surrogate escape", lines: []string{callLine("82", `"delete_everything\ud800"`)},
			want: []answer{{"82", -32600}}},
		smuggleCase{name: "invalid UTF-8 in a member name",
			lines: []string{"{\"jsonrpc\":\"2.0\",\"id\":83,\"method\":\"tools/call\",\"params\":{\"name\":\"delete_everything\",\"\xff\":1}}"},
			want:  []answer{{"83", -32600}}},
	)
	return cases
}

func framingCases() []smuggleCase {
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	pad := strings.Repeat("x", 100<<10)
	return []smuggleCase{
		{name: "trailing garbage", lines: []string{callLine("90", `"delete_everything"`) + " x"},
			want: []answer{{"90", -32600}}},
		{name: "trailing garbage after an allowed call", lines: []string{echoLine("91") + "garbage"},
			want: []answer{{"91", -32600}}},
		{name: "second object on the line", lines: []string{echoLine("92") + callLine("93", `"delete_everything"`)},
			want: []answer{{"92", -32600}}},
		{name: "second object after a space", lines: []string{callLine("94", `"delete_everything"`) + " " + echoLine("95")},
			want: []answer{{"94", -32600}}},
		{name: "CR inside the line", lines: []string{echoLine("96") + "\r" + callLine("97", `"delete_everything"`)},
			want: []answer{{"96", -32600}}},
		{name: "CRLF line end", lines: []string{callLine("98", `"delete_everything"`) + "\r"},
			want: []answer{{"98", -32602}}, denied: []string{"delete_everything"}},
		{name: "CRLF line end on an allowed call", lines: []string{echoLine("99") + "\r"},
			want: []answer{{"99", 0}}},
		{name: "NUL after the object", lines: []string{callLine("100", `"delete_everything"`) + "\x00"},
			want: []answer{{"100", -32600}}},
		{name: "byte order mark", lines: []string{"\ufeff" + callLine("101", `"delete_everything"`)},
			want: []answer{{"null", anyErr}}},
		{name: "deep nesting in arguments",
			lines: []string{`{"jsonrpc":"2.0","id":102,"method":"tools/call","params":{"name":"delete_everything","arguments":{"a":` + deep + `}}}`},
			want:  []answer{{"102", -32600}}},
		{name: "deep nesting in an allowed call",
			lines: []string{`{"jsonrpc":"2.0","id":103,"method":"tools/call","params":{"name":"safe_echo","arguments":{"text":"x","a":` + deep + `}}}`},
			want:  []answer{{"103", -32600}}},
		{name: "deep nesting at the top", lines: []string{deep},
			want: []answer{{"null", anyErr}}},
		{name: "oversized call, id first", flags: []string{"--max-message-size", "64KiB"},
			lines: []string{`{"jsonrpc":"2.0","id":104,"method":"tools/call","params":{"name":"delete_everything","arguments":{"pad":"` + pad + `"}}}`},
			want:  []answer{{"104", -32600}}},
		{name: "oversized call, id last", flags: []string{"--max-message-size", "64KiB"},
			lines: []string{`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"delete_everything","arguments":{"pad":"` + pad + `"}},"id":105}`},
			want:  []answer{{"105", -32600}}},
		{name: "oversized allowed call", flags: []string{"--max-message-size", "64KiB"},
			lines: []string{`{"jsonrpc":"2.0","id":106,"method":"tools/call","params":{"name":"safe_echo","arguments":{"text":"` + pad + `"}}}`},
			want:  []answer{{"106", -32600}}},
		{name: "not JSON", lines: []string{`tools/call delete_everything`},
			want: []answer{{"null", -32700}}},
		{name: "truncated object", lines: []string{`{"jsonrpc":"2.0","id":107,"method":"tools/call","params":{"name":"delete_everything"`},
			want: []answer{{"107", anyErr}}},
	}
}

func resourcePromptCases() []smuggleCase {
	read := func(id, uri string) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":"resources/read","params":{"uri":%s}}`, id, uri)
	}
	prompt := func(id, name string) string {
		return fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"method":"prompts/get","params":{"name":%s}}`, id, name)
	}
	return []smuggleCase{
		{name: "allowed resource", lines: []string{read("130", `"rec://public/info"`)}, want: []answer{{"130", 0}}},
		{name: "secret resource", lines: []string{read("131", `"rec://secret/key"`)},
			want: []answer{{"131", -32002}}, denied: []string{"rec://secret/key"}},
		{name: "secret resource in upper case", lines: []string{read("132", `"REC://SECRET/KEY"`)},
			want: []answer{{"132", -32002}}, denied: []string{"REC://SECRET/KEY"}},
		{name: "secret resource through dot segments", lines: []string{read("133", `"rec://public/../secret/key"`)},
			want: []answer{{"133", -32002}}, denied: []string{"rec://public/../secret/key"}},
		{name: "secret resource percent-encoded", lines: []string{read("134", `"rec://%73ecret/key"`)},
			want: []answer{{"134", -32002}}, denied: []string{"rec://%73ecret/key"}},
		{name: "secret resource with member Uri",
			lines: []string{`{"jsonrpc":"2.0","id":135,"method":"resources/read","params":{"Uri":"rec://secret/key"}}`},
			want:  []answer{{"135", -32602}}},
		{name: "subscribe to the secret resource",
			lines: []string{`{"jsonrpc":"2.0","id":136,"method":"resources/subscribe","params":{"uri":"rec://secret/key"}}`},
			want:  []answer{{"136", -32002}}},
		{name: "read of the secret resource as a notification",
			lines: []string{`{"jsonrpc":"2.0","method":"resources/read","params":{"uri":"rec://secret/key"}}`}},
		{name: "allowed prompt", lines: []string{prompt("140", `"greeting"`)}, want: []answer{{"140", 0}}},
		{name: "secret prompt", lines: []string{prompt("141", `"secret_plan"`)},
			want: []answer{{"141", -32602}}, denied: []string{"secret_plan"}},
		{name: "secret prompt in upper case", lines: []string{prompt("142", `"SECRET_PLAN"`)},
			want: []answer{{"142", -32602}}, denied: []string{"SECRET_PLAN"}},
		{name: "completion for the secret prompt",
			lines: []string{`{"jsonrpc":"2.0","id":143,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"secret_plan"},"argument":{"name":"a","value":""}}}`},
			want:  []answer{{"143", -32602}}},
	}
}

// runSmuggle runs one case against a fresh mcpwarden and recorder.
func runSmuggle(t *testing.T, tc smuggleCase) {
	ctx := testContext(t)
	dir := t.TempDir()
	record := filepath.Join(dir, "record.jsonl")
	auditLog := filepath.Join(dir, "audit.jsonl")
	argv := wardenArgv(writeProfile(t, smuggleProfile, recordGrant(record)), auditLog, tc.flags, recorderBin)
	c := startRaw(t, argv, "RECORD_FILE="+record)
	version := tc.version
	if version == "" {
		version = "2025-06-18"
	}
	c.initialize(ctx, version, nil)
	if resp := c.call(ctx, "before", "ping", nil, nil, nil); resp.Error != nil {
		t.Fatalf("ping before the attack: %s", resp.Error.Message)
	}

	for _, line := range tc.lines {
		c.write([]byte(line))
	}
	// A ping after the attack shows the proxy still serves; answers to
	// the attack that the server gives may still arrive after it.
	c.send("after", "ping", nil)
	got, pinged := collectAnswers(t, ctx, c, len(tc.want))
	if !pinged {
		t.Fatalf("the ping after the attack was not answered; answers: %s", got)
	}
	c.closeInput()
	for _, line := range c.drain(ctx) {
		got = append(got, decodeAnswer(t, line)...)
	}
	if code := c.wait(ctx); code != 0 {
		t.Errorf("mcpwarden exited with status %d, want 0 (the recorder's)", code)
	}

	checkAnswers(t, got, tc.want)
	checkRecord(t, record, `"after"`)
	checkDenied(t, auditLog, tc.denied)
}

// lateAnswer bounds the wait, once the final ping is answered, for
// answers still missing: the server answers the calls it was given at
// once, and mcpwarden answers its refusals before reading the ping.
const lateAnswer = 5 * time.Second

// collectAnswers reads answers until the "after" ping is answered and at
// least n other answers arrived, or lateAnswer after the ping.
func collectAnswers(t *testing.T, ctx context.Context, c *rawConn, n int) (got answers, pinged bool) {
	var late <-chan time.Time // armed once the ping is answered
	for !pinged || len(got) < n {
		var line []byte
		var ok bool
		select {
		case line, ok = <-c.lines:
		case <-late:
			return got, pinged
		case <-ctx.Done():
			t.Fatalf("no answer from mcpwarden: %v; answers so far: %s", ctx.Err(), got)
		}
		if !ok {
			return got, pinged
		}
		for _, a := range decodeAnswer(t, line) {
			if a.id == `"after"` && a.code == 0 {
				pinged = true
				late = time.After(lateAnswer)
				continue
			}
			got = append(got, a)
		}
	}
	return got, pinged
}

type answers []answer

func (as answers) String() string {
	var parts []string
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("(id %s, code %d)", a.id, a.code))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// decodeAnswer decodes a line mcpwarden wrote; notifications from the
// server yield nothing. Every line must be one strict JSON-RPC response.
func decodeAnswer(t *testing.T, line []byte) []answer {
	t.Helper()
	if !jsontext.Value(line).IsValid() {
		t.Errorf("mcpwarden wrote a line that is not strict JSON: %q", line)
		return nil
	}
	m := mustDecode(t, line)
	if m.Method != "" {
		return nil
	}
	if (m.Result == nil) == (m.Error == nil) {
		t.Errorf("answer needs exactly one of result and error: %s", line)
	}
	a := answer{id: string(m.ID)}
	if m.Error != nil {
		a.code = m.Error.Code
		if a.code == 0 || a.code == anyErr {
			t.Errorf("answer with error code %d: %s", a.code, line)
		}
	}
	return []answer{a}
}

func checkAnswers(t *testing.T, got, want answers) {
	t.Helper()
	left := slices.Clone(got)
	var missing answers
	for _, w := range want {
		i := slices.IndexFunc(left, func(g answer) bool { return w.matches(g) })
		if i < 0 {
			missing = append(missing, w)
			continue
		}
		left = slices.Delete(left, i, i+1)
	}
	if len(missing) > 0 || len(left) > 0 {
		t.Errorf("answers: got %s, want %s (missing %s, unexpected %s)", got, want, missing, left)
	}
}

func (w answer) matches(g answer) bool {
	if !slices.ContainsFunc(strings.Split(w.id, "|"), func(id string) bool { return sameID(id, g.id) }) {
		return false
	}
	if w.code == anyErr {
		return g.code != 0
	}
	return w.code == g.code
}

// sameID compares ids as JSON values, so that an id is recognised
// whatever escapes its string uses.
func sameID(a, b string) bool {
	if a == b {
		return true
	}
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil &&
		fmt.Sprintf("%T:%v", x, x) == fmt.Sprintf("%T:%v", y, y)
}

// checkRecord proves what the recorder received: only strict JSON
// objects, never a response (it sent no requests), every tools/call for
// safe_echo, and no hidden name in any spelling. If syncID is not empty,
// the record must hold the ping with that id, sent after everything else.
func checkRecord(t *testing.T, path, syncID string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("record file: %v", err)
	}
	sawPing := false
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 || bytes.HasPrefix(line, []byte("recorder: ")) {
			continue
		}
		if w := forbiddenIn(line); w != "" {
			t.Errorf("the server received a line mentioning %q: %q", w, line)
		}
		if !jsontext.Value(line).IsValid() || jsontext.Value(line).Kind() != '{' {
			t.Errorf("the server received a line that is not one strict JSON object: %q", line)
			continue
		}
		m := mustDecode(t, line)
		switch {
		case m.Method == "":
			t.Errorf("the server received a response it never asked for: %s", line)
		case m.Method == "tools/call":
			var p struct {
				Name string `json:"name"`
			}
			if err := json.Unmarshal(m.Params, &p); err != nil || p.Name != "safe_echo" {
				t.Errorf("the server received a call of something other than safe_echo: %s", line)
			}
		case m.Method == "ping" && string(m.ID) == syncID:
			sawPing = true
		}
	}
	if syncID != "" && !sawPing {
		t.Errorf("the record lacks the final ping: the check proves nothing\n%s", data)
	}
}

// forbiddenIn returns a forbidden word found in line in any spelling: the
// raw bytes, and every string of the JSON text with its escapes decoded,
// compared after folding case and compatibility forms.
func forbiddenIn(line []byte) string {
	texts := []string{string(line)}
	dec := jsontext.NewDecoder(bytes.NewReader(line),
		jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			break
		}
		if tok.Kind() == '"' {
			texts = append(texts, tok.String())
		}
	}
	for _, s := range texts {
		f := looseFold(s)
		for _, w := range forbiddenWords {
			if strings.Contains(f, w) {
				return w
			}
		}
	}
	return ""
}

// looseFold lower-cases s, maps fullwidth and mathematical letters, the
// long s and the Kelvin sign to ASCII, and drops everything that is not a
// letter, so that "ｄｅｌｅｔｅ", "DEL\u200bETE" and "Delete" all read "delete".
func looseFold(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 'ſ':
			r = 's'
		case r == 'K':
			r = 'k'
		case r == 'ı':
			r = 'i'
		case r >= 0x1D400 && r <= 0x1D6A3: // mathematical alphanumerics
			r = 'a' + (r-0x1D400)%26
		}
		if unicode.IsLetter(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// checkDenied requires a "deny" decision in the audit log for each target.
func checkDenied(t *testing.T, auditLog string, targets []string) {
	t.Helper()
	if len(targets) == 0 {
		return
	}
	recs := readAudit(t, auditLog)
	for _, target := range targets {
		found := false
		for _, r := range auditFor(recs, "decision", target) {
			if r.Decision == "deny" && r.Reason != "" {
				found = true
			}
		}
		if !found {
			t.Errorf("audit log has no deny decision for %q; it holds:\n%s", target, dumpAudit(recs))
		}
	}
}
