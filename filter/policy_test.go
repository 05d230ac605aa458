package filter

import (
	"strings"
	"testing"
)

func mustNew(t testing.TB, tools, resources, prompts Rules) *Policy {
	t.Helper()
	p, err := New(tools, resources, prompts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewRejectsBadGlobs(t *testing.T) {
	tests := []struct {
		name                      string
		tools, resources, prompts Rules
		want                      string
	}{
		{"empty allow", Rules{Allow: []string{""}}, Rules{}, Rules{}, `tools.allow[0] "": empty`},
		{"empty deny", Rules{}, Rules{Deny: []string{"x", ""}}, Rules{}, `resources.deny[1] "": empty`},
		{"NUL", Rules{}, Rules{}, Rules{Deny: []string{"a\x00"}}, `prompts.deny[0] "a\x00": control`},
		{"invalid UTF-8", Rules{Allow: []string{"\xff"}}, Rules{}, Rules{}, "invalid UTF-8"},
		{"zero width", Rules{Deny: []string{"write\u200b*"}}, Rules{}, Rules{}, "format character U+200B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.tools, tt.resources, tt.prompts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestTool(t *testing.T) {
	p := mustNew(t, Rules{
		Allow: []string{"*"},
		Deny:  []string{"write_*", "delete_*", "exec"},
	}, Rules{}, Rules{})
	tests := []struct {
		name   string
		allow  bool
		reason string
	}{
		{"read_file", true, `allowed by tools.allow "*"`},
		{"list_directory", true, `allowed by tools.allow "*"`},
		{"write_file", false, `denied by tools.deny "write_*"`},
		{"delete_file", false, `denied by tools.deny "delete_*"`},
		{"exec", false, `denied by tools.deny "exec"`},
		{"executor", true, `allowed by tools.allow "*"`},
		{"rewrite_file", true, `allowed by tools.allow "*"`},

		// Spellings a case-insensitive or normalising server maps back to
		// a denied name.
		{"WRITE_FILE", false, `denied by tools.deny "write_*" (folded form "write_file")`},
		{"Write_File", false, `denied by tools.deny "write_*" (folded form "write_file")`},
		{"wRiTe_x", false, `denied by tools.deny "write_*"`},
		{"EXEC", false, `denied by tools.deny "exec"`},
		{"delete_ſecrets", false, `denied by tools.deny "delete_*"`},
		{"\u212Aill", true, ""}, // Kelvin sign, but "kill" is not denied
		{"ｗｒｉｔｅ_file", false, `denied by tools.deny "write_*"`},
		{"ｗｒｉｔｅ＿ｆｉｌｅ", false, `denied by tools.deny "write_*"`},
		{"ＥＸＥＣ", false, `denied by tools.deny "exec"`},
		{"𝐞𝐱𝐞𝐜", false, `denied by tools.deny "exec"`},
		{"ⓔⓧⓔⓒ", false, `denied by tools.deny "exec"`},
		{"wrıte_file", false, `denied by tools.deny "write_*"`},
		{"write﹍file", false, `denied by tools.deny "write_*"`},

		// Names no server should see.
		{"", false, "invalid tool name: empty"},
		{"write_file\x00", false, "invalid tool name: control or format character U+0000 at byte 10"},
		{"read_file\x00write_file", false, "U+0000"},
		{"read\nfile", false, "U+000A"},
		{"read\tfile", false, "U+0009"},
		{"read\x7ffile", false, "U+007F"},
		{"read\u0085file", false, "U+0085"},
		{"read\u009bfile", false, "U+009B"},
		{"read\u200bfile", false, "U+200B"},
		{"read\u202efile", false, "U+202E"},
		{"\ufeffread", false, "U+FEFF"},
		{"read\u2028", false, "U+2028"},
		{"read\xff", false, "invalid tool name: invalid UTF-8"},
		{"read\xed\xa0\x80", false, "invalid UTF-8"}, // encoded surrogate
	}
	for _, tt := range tests {
		d := p.Tool(tt.name)
		if d.Allow != tt.allow {
			t.Errorf("Tool(%q) = %+v, want Allow %v", tt.name, d, tt.allow)
			continue
		}
		if tt.reason != "" && !strings.Contains(d.Reason, tt.reason) {
			t.Errorf("Tool(%q).Reason = %q, want %q", tt.name, d.Reason, tt.reason)
		}
	}
}

func TestDenyPatternIsFoldedToo(t *testing.T) {
	// A deny glob written in capitals, or with a Kelvin sign, still
	// catches the plain spelling.
	p := mustNew(t, Rules{Allow: []string{"*"}, Deny: []string{"Write_*", "\u212Aill"}}, Rules{}, Rules{})
	for _, name := range []string{"write_file", "WRITE_FILE", "kill", "KILL"} {
		if d := p.Tool(name); d.Allow {
			t.Errorf("Tool(%q) allowed: %s", name, d.Reason)
		}
	}
}

func TestAllowIsExact(t *testing.T) {
	p := mustNew(t, Rules{Allow: []string{"read_file", "list_*"}}, Rules{}, Rules{})
	tests := []struct {
		name  string
		allow bool
	}{
		{"read_file", true},
		{"list_directory", true},
		{"list_", true},
		{"READ_FILE", false},
		{"Read_file", false},
		{"ｒｅａｄ_file", false},
		{"read_file ", false},
		{" read_file", false},
		{"read_files", false},
		{"read_fil", false},
		{"LIST_directory", false},
		{"write_file", false},
	}
	for _, tt := range tests {
		d := p.Tool(tt.name)
		if d.Allow != tt.allow {
			t.Errorf("Tool(%q) = %+v, want Allow %v", tt.name, d, tt.allow)
		}
		if !d.Allow && d.Reason != "not matched by tools.allow" {
			t.Errorf("Tool(%q).Reason = %q", tt.name, d.Reason)
		}
	}
}

func TestDenyWins(t *testing.T) {
	p := mustNew(t,
		Rules{Allow: []string{"write_file", "*"}, Deny: []string{"write_file"}},
		Rules{Allow: []string{"*"}, Deny: []string{"*"}},
		Rules{Allow: []string{"p"}, Deny: []string{"P"}},
	)
	if d := p.Tool("write_file"); d.Allow {
		t.Errorf("Tool: deny did not win: %s", d.Reason)
	}
	if d := p.Resource("file:///x"); d.Allow {
		t.Errorf("Resource: deny did not win: %s", d.Reason)
	}
	if d := p.Prompt("p"); d.Allow {
		t.Errorf("Prompt: deny did not win: %s", d.Reason)
	}
}

func TestEmptyAllowAllowsNothing(t *testing.T) {
	p := mustNew(t, Rules{}, Rules{}, Rules{Deny: []string{"x"}})
	for _, d := range []Decision{
		p.Tool("read_file"),
		p.Prompt("summarise"),
		p.Resource("file:///tmp/x"),
	} {
		if d.Allow || !strings.HasPrefix(d.Reason, "not matched by ") {
			t.Errorf("got %+v, want a denial by a missing allow", d)
		}
	}
}

func TestPromptUsesPromptRules(t *testing.T) {
	p := mustNew(t,
		Rules{Allow: []string{"*"}},
		Rules{},
		Rules{Allow: []string{"summarise", "review_*"}, Deny: []string{"review_secret*"}},
	)
	tests := []struct {
		name   string
		allow  bool
		reason string
	}{
		{"summarise", true, `allowed by prompts.allow "summarise"`},
		{"review_code", true, `allowed by prompts.allow "review_*"`},
		{"REVIEW_SECRETS", false, `denied by prompts.deny "review_secret*" (folded form "review_secrets")`},
		{"write_file", false, "not matched by prompts.allow"},
	}
	for _, tt := range tests {
		d := p.Prompt(tt.name)
		if d.Allow != tt.allow || d.Reason != tt.reason {
			t.Errorf("Prompt(%q) = %+v, want {%v %q}", tt.name, d, tt.allow, tt.reason)
		}
	}
}

func TestNilPolicyDenies(t *testing.T) {
	var p *Policy
	if p.Tool("x").Allow || p.Prompt("x").Allow || p.Resource("file:///x").Allow {
		t.Error("a nil policy allowed something")
	}
	if _, _, err := p.FilterList("tools/list", []byte(`{"tools":[{"name":"x"}]}`), nil); err != nil {
		t.Fatal(err)
	}
}

// TestDenySurvivesSpellingsAServerMightNormalise covers spellings found by
// the end-to-end smuggling suite: surrounding whitespace that a server may
// trim, and escapes in the authority of a custom-scheme URI.
func TestDenySurvivesSpellingsAServerMightNormalise(t *testing.T) {
	p, err := New(Rules{Allow: []string{"*"}, Deny: []string{"delete_*"}},
		Rules{Allow: []string{"*"}, Deny: []string{"rec://secret/*"}}, Rules{Allow: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{" delete_all", "delete_all ", "\tdelete_all\n", "\u00a0delete_all"} {
		if d := p.Tool(name); d.Allow {
			t.Errorf("Tool(%q) allowed: %s", name, d.Reason)
		}
	}
	for _, uri := range []string{"rec://%73ecret/key", "rec://%53ECRET/key", "REC://Secret/key"} {
		if d := p.Resource(uri); d.Allow {
			t.Errorf("Resource(%q) allowed: %s", uri, d.Reason)
		}
	}
	if d := p.Resource("rec://public/info"); !d.Allow {
		t.Errorf("public resource denied: %s", d.Reason)
	}
}
