package filter

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func listPolicy(t testing.TB) *Policy {
	return mustNew(t,
		Rules{Allow: []string{"*"}, Deny: []string{"write_*", "delete_*"}},
		Rules{Allow: []string{"file:///*"}, Deny: []string{"file:///home/u/.ssh/*"}},
		Rules{Allow: []string{"*"}, Deny: []string{"secret*"}},
	)
}

func TestListMethod(t *testing.T) {
	for _, m := range []string{"tools/list", "prompts/list", "resources/list", "resources/templates/list"} {
		if !ListMethod(m) {
			t.Errorf("ListMethod(%q) = false", m)
		}
	}
	for _, m := range []string{"", "tools/call", "Tools/list", "tools/list ", "resources/read", "roots/list"} {
		if ListMethod(m) {
			t.Errorf("ListMethod(%q) = true", m)
		}
	}
}

func TestFilterList(t *testing.T) {
	tests := []struct {
		name, method, in, want string
		hidden                 []string
	}{
		{
			name:   "hides denied tools, keeps the rest byte for byte",
			method: "tools/list",
			in: `{"tools":[{"name":"read_file","inputSchema":{"type":"object","properties":{"n":{"type":"number","default":1.50e+3}}}},` +
				`{"name":"write_file","inputSchema":{}},{"description":"x\u0041\/","name":"list_directory"}],` +
				`"nextCursor":"abc","_meta":{"z":1,"a":[2]},"unknown":12345678901234567890}`,
			want: `{"tools":[{"name":"read_file","inputSchema":{"type":"object","properties":{"n":{"type":"number","default":1.50e+3}}}},` +
				`{"description":"x\u0041\/","name":"list_directory"}],` +
				`"nextCursor":"abc","_meta":{"z":1,"a":[2]},"unknown":12345678901234567890}`,
			hidden: []string{"write_file"},
		},
		{
			name:   "case and fullwidth spellings are hidden",
			method: "tools/list",
			in:     `{"tools":[{"name":"WRITE_FILE"},{"name":"ｄｅｌｅｔｅ_x"},{"name":"ok"}]}`,
			want:   `{"tools":[{"name":"ok"}]}`,
			hidden: []string{"WRITE_FILE", "ｄｅｌｅｔｅ_x"},
		},
		{
			name:   "escaped names are judged unescaped",
			method: "tools/list",
			in:     `{"tools":[{"name":"\u0077rite_file"},{"name":"read\u0000"},{"name":"ok"}]}`,
			want:   `{"tools":[{"name":"ok"}]}`,
			hidden: []string{"write_file", "read\x00"},
		},
		{
			name:   "malformed entries are dropped",
			method: "tools/list",
			in: `{"tools":["write_file",null,42,[],{},{"name":7},{"name":null},{"Name":"write_file"},` +
				`{"name":"ok","NAME":"write_file"},{"name":"ok"}]}`,
			want: `{"tools":[{"name":"ok"}]}`,
			hidden: []string{
				"tools[0]: not an object", "tools[1]: not an object", "tools[2]: not an object",
				"tools[3]: not an object", `tools[4]: no "name" member`, `tools[5]: "name" is not a string`,
				`tools[6]: "name" is not a string`, `tools[7]: member "Name" could be read as "name"`,
				`tools[8]: member "NAME" could be read as "name"`,
			},
		},
		{
			name:   "nothing hidden returns the input",
			method: "tools/list",
			in:     " {\n  \"tools\" : [ {\"name\":\"a\"} , {\"name\":\"b\"} ] }\n",
			want:   " {\n  \"tools\" : [ {\"name\":\"a\"} , {\"name\":\"b\"} ] }\n",
		},
		{
			name:   "whitespace outside the array is kept",
			method: "tools/list",
			in:     " {\n  \"tools\" : [ {\"name\":\"a\"} , {\"name\":\"write_x\"} ,\n {\"name\":\"b\"} ],\n \"nextCursor\" : \"c\" }\n",
			want:   " {\n  \"tools\" : [{\"name\":\"a\"},{\"name\":\"b\"}],\n \"nextCursor\" : \"c\" }\n",
			hidden: []string{"write_x"},
		},
		{
			name:   "everything hidden",
			method: "tools/list",
			in:     `{"tools":[{"name":"write_a"},{"name":"delete_b"}],"nextCursor":"n"}`,
			want:   `{"tools":[],"nextCursor":"n"}`,
			hidden: []string{"write_a", "delete_b"},
		},
		{
			name:   "empty list",
			method: "tools/list",
			in:     `{"tools":[]}`,
			want:   `{"tools":[]}`,
		},
		{
			name:   "no list member",
			method: "tools/list",
			in:     `{"nextCursor":"x","prompts":[{"name":"write_x"}]}`,
			want:   `{"nextCursor":"x","prompts":[{"name":"write_x"}]}`,
		},
		{
			name:   "null list member",
			method: "tools/list",
			in:     `{"tools":null}`,
			want:   `{"tools":null}`,
		},
		{
			name:   "a case variant of the list member is filtered too",
			method: "tools/list",
			in:     `{"tools":[{"name":"a"}],"Tools":[{"name":"write_x"},{"name":"b"}]}`,
			want:   `{"tools":[{"name":"a"}],"Tools":[{"name":"b"}]}`,
			hidden: []string{"write_x"},
		},
		{
			name:   "nested lists are not the list",
			method: "tools/list",
			in:     `{"_meta":{"tools":[{"name":"write_x"}]},"tools":[{"name":"write_y","x":{"tools":[]}}]}`,
			want:   `{"_meta":{"tools":[{"name":"write_x"}]},"tools":[]}`,
			hidden: []string{"write_y"},
		},
		{
			name:   "prompts",
			method: "prompts/list",
			in:     `{"prompts":[{"name":"secret_plan","arguments":[]},{"name":"summary"}],"tools":[{"name":"write_x"}]}`,
			want:   `{"prompts":[{"name":"summary"}],"tools":[{"name":"write_x"}]}`,
			hidden: []string{"secret_plan"},
		},
		{
			name:   "resources are keyed by uri",
			method: "resources/list",
			in: `{"resources":[{"uri":"file:///home/u/.ssh/id_rsa","name":"key"},{"uri":"file:///home/u/%2essh/config","name":"cfg"},` +
				`{"uri":"file:///home/u/notes.txt","name":"write_x"},{"name":"file:///home/u/a"}]}`,
			want: `{"resources":[{"uri":"file:///home/u/notes.txt","name":"write_x"}]}`,
			hidden: []string{"file:///home/u/.ssh/id_rsa", "file:///home/u/%2essh/config",
				`resources[3]: no "uri" member`},
		},
		{
			name:   "resource templates are keyed by uriTemplate",
			method: "resources/templates/list",
			in: `{"resourceTemplates":[{"uriTemplate":"file:///home/u/.ssh/{name}","name":"keys"},` +
				`{"uriTemplate":"file:///home/u/{path}","name":"home"},{"uriTemplate":"{scheme}://x","name":"any"},` +
				`{"uri":"file:///home/u/x"}]}`,
			want: `{"resourceTemplates":[{"uriTemplate":"file:///home/u/{path}","name":"home"}]}`,
			hidden: []string{"file:///home/u/.ssh/{name}", "{scheme}://x",
				`resourceTemplates[3]: no "uriTemplate" member`},
		},
	}
	p := listPolicy(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, hidden, err := p.FilterList(tt.method, []byte(tt.in), nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("filtered:\n got %s\nwant %s", got, tt.want)
			}
			if !slices.Equal(hidden, tt.hidden) {
				t.Errorf("hidden = %q, want %q", hidden, tt.hidden)
			}
			if !jsontext.Value(got).IsValid() {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
}

func TestFilterListErrors(t *testing.T) {
	p := listPolicy(t)
	tests := []struct{ method, in, want string }{
		{"tools/call", `{}`, "not a list method"},
		{"tools/list", ``, "EOF"},
		{"tools/list", `{"tools":[{"name":"a"}]`, "EOF"},
		{"tools/list", `{"tools":[{"name":"a"},]}`, "invalid character"},
		{"tools/list", `[{"name":"write_x"}]`, "result is an array, not an object"},
		{"tools/list", `"tools"`, "result is a string, not an object"},
		{"tools/list", `{"tools":{"name":"write_x"}}`, `member "tools" is an object, not an array`},
		{"tools/list", `{"tools":"write_x"}`, `member "tools" is a string, not an array`},
		{"tools/list", `{"tools":[],"tools":[{"name":"write_x"}]}`, "duplicate"},
		{"tools/list", `{"tools":[{"name":"ok","name":"write_x"}]}`, "duplicate"},
		{"tools/list", `{"tools":[]} {"tools":[{"name":"write_x"}]}`, "data after the result object"},
		{"tools/list", `{"tools":[]}x`, "data after the result object"},
		{"tools/list", "{\"tools\":[{\"name\":\"write\xff\"}]}", "invalid UTF-8"},
		{"tools/list", `{"tools":[{"name":"\ud800"}]}`, "surrogate"},
	}
	for _, tt := range tests {
		got, hidden, err := p.FilterList(tt.method, []byte(tt.in), nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FilterList(%q, %q): err = %v, want one containing %q", tt.method, tt.in, err, tt.want)
		}
		if got != nil || hidden != nil {
			t.Errorf("FilterList(%q, %q) returned data with an error", tt.method, tt.in)
		}
	}
}

func TestCompletionRef(t *testing.T) {
	p := listPolicy(t)
	tests := []struct {
		ref    string
		allow  bool
		reason string
	}{
		{`{"type":"ref/prompt","name":"summary"}`, true, `allowed by prompts.allow "*"`},
		{`{"type":"ref/prompt","name":"secret_plan"}`, false, `denied by prompts.deny "secret*"`},
		{`{"type":"ref/prompt","name":"SECRET_plan"}`, false, `denied by prompts.deny "secret*"`},
		{`{"type":"ref/resource","uri":"file:///home/u/notes"}`, true, `allowed by resources.allow "file:///*"`},
		{`{"type":"ref/resource","uri":"file:///home/u/%2essh/x"}`, false, `denied by resources.deny`},
		{`{"type":"ref/resource","uri":"file:///home/u/.ssh/{f}"}`, false, `denied by resources.deny`},
		{`{"uri":"file:///x","type":"ref/resource","extra":{"a":[1]}}`, true, ""},
		{`{"type":"ref/prompt","uri":"file:///x"}`, false, `no "name"`},
		{`{"type":"ref/resource","name":"x"}`, false, `no "uri"`},
		{`{"type":"ref/tool","name":"write_x"}`, false, `unknown completion reference type "ref/tool"`},
		{`{"name":"summary"}`, false, `unknown completion reference type ""`},
		{`{"type":"REF/PROMPT","name":"summary"}`, false, "unknown completion reference type"},
		{`{"type":"ref/prompt","Name":"secret","name":"summary"}`, false, `member "Name" could be read as "name"`},
		{`{"Type":"ref/resource","type":"ref/prompt","name":"summary"}`, false, "could be read as"},
		{`{"type":"ref/prompt","name":"summary","name":"secret"}`, false, "duplicate"},
		{`{"type":"ref/prompt","name":7}`, false, `"name" is not a string`},
		{`{"type":["ref/prompt"],"name":"summary"}`, false, `"type" is not a string`},
		{`["ref/prompt","summary"]`, false, "an array, not an object"},
		{`{"type":"ref/prompt","name":"summary"} {}`, false, "data after the object"},
		{`{"type":"ref/prompt","name":"summary"`, false, "invalid completion reference"},
		{``, false, "invalid completion reference"},
	}
	for _, tt := range tests {
		d := p.CompletionRef([]byte(tt.ref))
		if d.Allow != tt.allow || !strings.Contains(d.Reason, tt.reason) {
			t.Errorf("CompletionRef(%s) = %+v, want Allow %v, reason with %q", tt.ref, d, tt.allow, tt.reason)
		}
	}
}

// toolsList builds a tools/list result with n tools, every tenth denied.
func toolsList(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"tools":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		name := fmt.Sprintf("read_thing_%d", i)
		if i%10 == 0 {
			name = fmt.Sprintf("write_thing_%d", i)
		}
		fmt.Fprintf(&b, `{"name":%q,"description":"Does thing %d with care and reports the outcome.",`+
			`"inputSchema":{"type":"object","properties":{"path":{"type":"string"},"depth":{"type":"integer","minimum":0}},"required":["path"]},`+
			`"annotations":{"readOnlyHint":true}}`, name, i)
	}
	b.WriteString(`],"nextCursor":"page-2"}`)
	return b.Bytes()
}

func TestFilterListLarge(t *testing.T) {
	in := toolsList(1000)
	out, hidden, err := listPolicy(t).FilterList("tools/list", in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(hidden) != 100 {
		t.Errorf("hidden %d tools, want 100", len(hidden))
	}
	if !jsontext.Value(out).IsValid() || bytes.Contains(out, []byte("write_thing")) {
		t.Error("output invalid or still lists a denied tool")
	}
}

func BenchmarkFilterList(b *testing.B) {
	p := listPolicy(b)
	in := toolsList(1000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.FilterList("tools/list", in, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzFilterList(f *testing.F) {
	f.Add("tools/list", []byte(`{"tools":[{"name":"read"},{"name":"write_x"}],"nextCursor":"c"}`))
	f.Add("tools/list", []byte(`{"tools":[{"name":"ok","NAME":"write_x"},"x",{"Name":"y"}],"Tools":[{"name":"z"}]}`))
	f.Add("tools/list", []byte(`{"tools":[]}`))
	f.Add("tools/list", []byte(`{"tools":null,"_meta":{"tools":[{"name":"write_x"}]}}`))
	f.Add("prompts/list", []byte(`{"prompts":[{"name":"secret"},{"name":"ok"}]}`))
	f.Add("resources/list", []byte(`{"resources":[{"uri":"file:///home/u/%2essh/k"},{"uri":"file:///tmp/x"}]}`))
	f.Add("resources/templates/list", []byte(`{"resourceTemplates":[{"uriTemplate":"file:///{p}"}]}`))
	p := listPolicy(f)
	f.Fuzz(func(t *testing.T, method string, in []byte) {
		out, hidden, err := p.FilterList(method, in, nil)
		if err != nil {
			return
		}
		if !jsontext.Value(out).IsValid() {
			t.Fatalf("invalid output %q from %q", out, in)
		}
		spec, _ := listSpecFor(method)
		kept := listedNames(t, spec, out)
		for _, name := range kept {
			if v := spec.decide(p, name); !v.allow() {
				t.Fatalf("output lists denied %q (%s)", name, v.reason())
			}
		}
		for _, h := range hidden {
			// A malformed entry is reported by a description such as
			// "tools[3]: not an object", which an allowed tool may be
			// named; no other hidden string may come back.
			if slices.Contains(kept, h) && !strings.HasPrefix(h, spec.member+"[") {
				t.Fatalf("hidden %q still listed in %q", h, out)
			}
		}
		if len(hidden) == 0 && !bytes.Equal(out, in) {
			t.Fatalf("nothing hidden but output changed: %q -> %q", in, out)
		}
	})
}

// listedNames returns the key of every entry in every top-level member
// that a case-insensitive client could read as the list, failing if an
// entry has no string key.
func listedNames(t *testing.T, spec listSpec, out []byte) []string {
	t.Helper()
	d := jsontext.NewDecoder(bytes.NewReader(out))
	var names []string
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		t.Fatalf("output %q is not an object", out)
	}
	for d.PeekKind() != '}' {
		tok, _ := d.ReadToken()
		if !sameFolded(tok.String(), spec.member) || d.PeekKind() != '[' {
			d.SkipValue()
			continue
		}
		d.ReadToken()
		for d.PeekKind() != ']' {
			v, _ := d.ReadValue()
			var f listFilter
			f.spec = spec
			key, problem := f.entryKey(v)
			if problem != "" {
				t.Fatalf("output keeps a malformed entry %s: %s", v, problem)
			}
			names = append(names, key)
		}
		d.ReadToken()
	}
	return names
}
