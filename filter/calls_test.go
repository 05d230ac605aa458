package filter

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/pathguard"
	"github.com/mcpwarden/mcpwarden/profile"
)

func mustCalls(t *testing.T, cfg CallsConfig) *Calls {
	t.Helper()
	c, err := NewCalls(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckArgsSchemas(t *testing.T) {
	c := mustCalls(t, CallsConfig{Rules: []profile.ToolRule{{
		Name:   "echo",
		Schema: jsontext.Value(`{"type":"object","properties":{"message":{"type":"string","maxLength":5}}}`),
	}}})
	tool, err := CompileSchema(jsontext.Value(`{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args, want string
	}{
		{`{"message":"hi"}`, ""},
		{`{"message":42}`, "tool's input schema: at /properties/message: type"},
		{`{}`, "tool's input schema"},
		{`{"message":"too long"}`, "profile's schema for echo: at /properties/message: maxLength"},
	}
	for _, tt := range tests {
		err := c.CheckArgs(context.Background(), "echo", jsontext.Value(tt.args), tool)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckArgs(%s) = %v, want %q", tt.args, err, tt.want)
		}
	}
}

// A schema may not make mcpwarden load anything: neither a remote
// document nor a local file.
func TestCompileSchemaLoadsNothing(t *testing.T) {
	for _, ref := range []string{"http://127.0.0.1:1/x.json", "file:///etc/passwd", "https://example.com/s.json"} {
		_, err := CompileSchema(jsontext.Value(`{"$ref":"` + ref + `"}`))
		if err == nil {
			t.Errorf("schema with $ref %q compiled", ref)
		}
	}
}

func TestCheckArgsPaths(t *testing.T) {
	base := t.TempDir()
	allowed := filepath.Join(base, "allowed")
	outside := filepath.Join(base, "secret")
	for _, d := range []string{allowed, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "key"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(allowed, "link")); err != nil {
		t.Fatal(err)
	}
	c := mustCalls(t, CallsConfig{
		Rules: []profile.ToolRule{{Name: "read_file", Args: []profile.ArgRule{
			{Pointer: "/path", Kind: profile.KindPath, Access: "read"},
			{Pointer: "/paths/*", Kind: profile.KindPath, Access: "read"},
		}}, {Name: "write_file", Args: []profile.ArgRule{{Pointer: "/path", Kind: profile.KindPath, Access: "write"}}}},
		Roots: pathguard.Roots{Read: []string{allowed}, Dir: allowed},
	})
	tests := []struct {
		tool, args string
		ok         bool
	}{
		{"read_file", `{"path":"` + allowed + `/a.txt"}`, true},
		{"read_file", `{"path":"` + allowed + `/../secret/key"}`, false},
		{"read_file", `{"path":"` + allowed + `/link/key"}`, false},
		{"read_file", `{"path":"` + allowed + `_evil/x"}`, false},
		{"READ_FILE", `{"path":"` + allowed + `/link/key"}`, false}, // the rule applies to case variants
		{"read_file", `{"Path":"` + allowed + `/link/key"}`, false}, // and to folded member names
		{"read_file", `{"paths":["` + allowed + `/a","` + outside + `/key"]}`, false},
		{"read_file", `{"paths":["` + allowed + `/a","` + allowed + `/b"]}`, true},
		{"read_file", `{"path":7}`, false},
		{"read_file", `{"path":"` + allowed + "/a\\u0000b" + `"}`, false},
		{"write_file", `{"path":"` + allowed + `/new.txt"}`, false}, // allowed is only readable
		{"other_tool", `{"path":"/etc/shadow"}`, true},              // no rule, nothing to check
	}
	for _, tt := range tests {
		err := c.CheckArgs(context.Background(), tt.tool, jsontext.Value(tt.args), nil)
		if (err == nil) != tt.ok {
			t.Errorf("%s %s: err = %v, want ok %v", tt.tool, tt.args, err, tt.ok)
		}
	}
}

func TestCommandArgs(t *testing.T) {
	c := mustCalls(t, CallsConfig{Rules: []profile.ToolRule{{Name: "run", Args: []profile.ArgRule{
		{Pointer: "/command", Kind: profile.KindCommand, Allow: []string{"git status", "ls *"}},
	}}}})
	for cmd, ok := range map[string]bool{
		"git status": true, "ls src": true, "ls; rm -rf /": false, "git status && id": false,
		"ls $(id)": false, "git -c core.pager=sh status": false, "ls\nid": false,
	} {
		args, _ := jsontext.AppendQuote(nil, cmd)
		err := c.CheckArgs(context.Background(), "run", jsontext.Value(`{"command":`+string(args)+`}`), nil)
		if (err == nil) != ok {
			t.Errorf("command %q: err = %v, want ok %v", cmd, err, ok)
		}
	}
	// As an argv array the command is matched whole, not word by word.
	for argv, ok := range map[string]bool{
		`["git","status"]`: true, `["ls","src"]`: true, `["git","-c","core.pager=sh","status"]`: false,
		`["sh","-c","id"]`: false, `["git",7]`: false, `{"git":"status"}`: false,
	} {
		err := c.CheckArgs(context.Background(), "run", jsontext.Value(`{"command":`+argv+`}`), nil)
		if (err == nil) != ok {
			t.Errorf("argv %s: err = %v, want ok %v", argv, err, ok)
		}
	}
}

// The sql and url kinds reach their checkers; their attack tables live
// in sqlguard and urlguard. The URLs are IP literals, so nothing is
// resolved.
func TestSQLAndURLArgs(t *testing.T) {
	c := mustCalls(t, CallsConfig{Rules: []profile.ToolRule{{Name: "query", Args: []profile.ArgRule{
		{Pointer: "/sql", Kind: profile.KindSQL, Dialect: "postgres", DenyFunctions: []string{"audit_off"}},
		{Pointer: "/url", Kind: profile.KindURL, Schemes: []string{"https"}},
	}}}})
	for args, ok := range map[string]bool{
		`{"sql":"SELECT name FROM users WHERE id = 1"}`:                       true,
		`{"sql":"WITH x AS (DELETE FROM users RETURNING *) SELECT * FROM x"}`: false,
		`{"sql":"SELECT 1; DROP TABLE users"}`:                                false,
		`{"sql":"SELECT audit_off()"}`:                                        false,
		`{"url":"https://93.184.215.14/x"}`:                                   true,
		`{"url":"https://2130706433/"}`:                                       false,
		`{"url":"https://[::ffff:169.254.169.254]/"}`:                         false,
		`{"url":"http://93.184.215.14/"}`:                                     false,
	} {
		err := c.CheckArgs(context.Background(), "query", jsontext.Value(args), nil)
		if (err == nil) != ok {
			t.Errorf("%s: err = %v, want ok %v", args, err, ok)
		}
	}
}

func TestRulesThatFoldTogether(t *testing.T) {
	_, err := NewCalls(CallsConfig{Rules: []profile.ToolRule{{Name: "write_file"}, {Name: "WRITE_FILE"}}})
	if err == nil || !strings.Contains(err.Error(), "name the same tool") {
		t.Fatalf("NewCalls = %v, want an error about the same tool", err)
	}
}

func TestAdmitLimits(t *testing.T) {
	c := mustCalls(t, CallsConfig{
		Limits: profile.CallLimits{MaxCalls: 4},
		Rules: []profile.ToolRule{
			{Name: "slow", Limits: profile.CallLimits{MaxInFlight: 1}},
			{Name: "often", Limits: profile.CallLimits{CallsPerMinute: 2, Burst: 1}},
		},
	})
	s := c.NewSession()
	now := time.Unix(1000, 0)
	rel, err := s.Admit("slow", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Admit("slow", now); err == nil || !strings.Contains(err.Error(), "1 calls at once") {
		t.Errorf("second slow call in flight: %v", err)
	}
	rel()
	rel() // a second release gives back nothing more
	if _, err := s.Admit("often", now); err != nil {
		t.Fatal(err)
	}
	_, err = s.Admit("often", now.Add(time.Second))
	if err == nil || !strings.Contains(err.Error(), "retry in 29s") {
		t.Errorf("over the rate: %v, want a retry time", err)
	}
	if _, err := s.Admit("often", now.Add(31*time.Second)); err != nil {
		t.Errorf("after the bucket refilled: %v", err)
	}
	if _, err := s.Admit("slow", now); err != nil { // the 4th call: slow was released
		t.Fatal(err)
	}
	if _, err := s.Admit("other", now); err == nil || !strings.Contains(err.Error(), "4 calls in this session") {
		t.Errorf("5th call: %v, want the session limit", err)
	}
}

func TestApprovalOncePerSession(t *testing.T) {
	c := mustCalls(t, CallsConfig{Rules: []profile.ToolRule{{Name: "a", Approval: "always"}, {Name: "b", Approval: "once-per-session"}}})
	s := c.NewSession()
	if !s.NeedsApproval("a") || !s.NeedsApproval("b") || s.NeedsApproval("c") {
		t.Fatal("wrong approvals before any was given")
	}
	s.Approved("a")
	s.Approved("B")
	if !s.NeedsApproval("a") || s.NeedsApproval("b") {
		t.Error("always must ask again; once-per-session must not")
	}
	if !c.NewSession().NeedsApproval("b") {
		t.Error("a new session must ask again")
	}
}

// fakeToken is shaped like a GitHub token, built at run time so that
// no secret scanner flags the repository.
var fakeToken = "ghp_" + strings.Repeat("Ab3dE6gH9j", 3) + "KmNpQr"

func TestSecretsInArgsAndResults(t *testing.T) {
	c := mustCalls(t, CallsConfig{Secrets: "redact",
		Rules: []profile.ToolRule{{Name: "strict", Secrets: "block"}}})
	out, found, err := c.RedactArgs("send", jsontext.Value(`{"body":"key `+fakeToken+` here","n":1}`))
	if err != nil || string(out) != `{"body":"key [REDACTED:github-pat] here","n":1}` || len(found) != 1 {
		t.Errorf("redact: %s %v %v", out, found, err)
	}
	if out, _, err := c.RedactArgs("strict", jsontext.Value(`{"b":"`+fakeToken+`"}`)); err == nil || strings.Contains(string(out), fakeToken) {
		t.Error("block mode forwarded a secret")
	}
	res := jsontext.Value(`{"content":[{"type":"text","text":"` + fakeToken + `"},{"type":"image","data":"` + fakeToken + `"}]}`)
	out, notes, gerr := c.GuardResult("send", "tools/call", res)
	if gerr != nil || string(out) != `{"content":[{"type":"text","text":"[REDACTED:github-pat]"},{"type":"image","data":"`+fakeToken+`"}]}` || len(notes) != 1 {
		t.Errorf("result: %s %v %v", out, notes, gerr)
	}
	if _, _, err := c.GuardResult("strict", "tools/call", res); err == nil || !strings.Contains(err.Error(), "carries a secret") {
		t.Errorf("block mode let a result with a secret through: %v", err)
	}
	clean := jsontext.Value(`{"content":[]}`)
	if out, _, _ := c.GuardResult("send", "tools/call", clean); &out[0] != &clean[0] {
		t.Error("an unchanged result was copied")
	}
}

// A secret split by invisible characters is still found in arguments:
// whoever receives it has only to strip them.
func TestSecretsSplitByHiddenCharacters(t *testing.T) {
	c := mustCalls(t, CallsConfig{Secrets: "redact", Rules: []profile.ToolRule{{Name: "strict", Secrets: "block"}}})
	for name, split := range map[string]string{
		"zero-width space": fakeToken[:8] + "\\u200b" + fakeToken[8:],
		"soft hyphen":      fakeToken[:8] + "\\u00ad" + fakeToken[8:20] + "\\u00ad" + fakeToken[20:],
		"tag character":    fakeToken[:4] + "\\udb40\\udc20" + fakeToken[4:],
		"escape sequence":  fakeToken[:10] + "\\u001b[0m" + fakeToken[10:],
	} {
		args := jsontext.Value(`{"url":"https://x.example/?q=` + split + `"}`)
		out, found, err := c.RedactArgs("send", args)
		if err != nil || len(found) != 1 || !strings.Contains(string(out), "[REDACTED:github-pat]") {
			t.Errorf("%s: redact gave %s %v %v", name, out, found, err)
		}
		if _, _, err := c.RedactArgs("strict", args); err == nil {
			t.Errorf("%s: block mode let the split secret through", name)
		}
	}
	plain := jsontext.Value(`{"text":"caf\u00e9 \u200b nothing secret"}`)
	if out, found, err := c.RedactArgs("send", plain); err != nil || len(found) != 0 || string(out) != string(plain) {
		t.Errorf("plain text with a hidden character changed: %s %v %v", out, found, err)
	}
}

// GuardResult strips hidden text from every result, with the secrets in
// the same pass, and leaves results that cannot hold any untouched.
func TestGuardResultHiddenText(t *testing.T) {
	c := mustCalls(t, CallsConfig{Secrets: "redact", StripHidden: true,
		Limits: profile.CallLimits{MaxResultSize: 200}})
	tag := string(rune(0xE0000+'h')) + string(rune(0xE0000+'i'))
	res := jsontext.Value(`{"tools":[{"name":"t","description":"safe\u001b[2J` + tag + ` text ` + fakeToken + `"}]}`)
	out, notes, err := c.GuardResult("", "tools/list", res)
	if err != nil || string(out) != `{"tools":[{"name":"t","description":"safe text `+fakeToken+`"}]}` {
		t.Errorf("tools/list: %s %v", out, err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `spelling "hi"`) {
		t.Errorf("notes: %q", notes)
	}
	out, _, err = c.GuardResult("t", "tools/call", jsontext.Value(`{"content":[{"type":"text","text":"\u00e9`+tag+` `+fakeToken+`"}]}`))
	if err != nil || string(out) != `{"content":[{"type":"text","text":"é [REDACTED:github-pat]"}]}` {
		t.Errorf("tools/call: %s %v", out, err)
	}
	if _, _, err := c.GuardResult("t", "tools/call", jsontext.Value(`{"content":"`+strings.Repeat("x", 300)+`"}`)); err == nil || !strings.Contains(err.Error(), "max_result_size") {
		t.Errorf("a result over max_result_size: %v", err)
	}
	for _, raw := range []string{`{"a":"plain ascii","n":[1,2]}`, `{"a":"\n\t\"\\"}`} {
		if mayHide(jsontext.Value(raw)) {
			t.Errorf("mayHide(%s) = true", raw)
		}
	}
	for _, raw := range []string{`{"a":"\u001b"}`, `{"a":"\b"}`, `{"a":"\f"}`, "{\"a\":\"\x7f\"}", `{"a":"é"}`} {
		if !mayHide(jsontext.Value(raw)) {
			t.Errorf("mayHide(%s) = false", raw)
		}
	}
}

func TestRewriteStrings(t *testing.T) {
	upper := func(_, s string) (string, bool) { return strings.ToUpper(s), strings.ToUpper(s) != s }
	for in, want := range map[string]string{
		`"a"`:                             `"A"`,
		`{"k":"v","n":[1,"x",{"y":"z"}]}`: `{"k":"V","n":[1,"X",{"y":"Z"}]}`,
		`{"k":"\u00e9"}`:                  `{"k":"É"}`,
	} {
		out, changed, err := RewriteStrings(jsontext.Value(in), upper)
		if err != nil || !changed || string(out) != want {
			t.Errorf("RewriteStrings(%s) = %s, %v, %v; want %s", in, out, changed, err, want)
		}
	}
	var members []string
	_, _, _ = RewriteStrings(jsontext.Value(`{"a":"1","b":["2"],"c":{"d":"3"}}`), func(m, s string) (string, bool) {
		members = append(members, m+"="+s)
		return s, false
	})
	if got := strings.Join(members, " "); got != "a=1 =2 d=3" {
		t.Errorf("members seen: %s", got)
	}
}
