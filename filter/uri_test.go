package filter

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeURI(t *testing.T) {
	tests := []struct {
		in, norm, decoded string
		err               error
	}{
		{in: "file:///home/u/notes.txt", norm: "file:///home/u/notes.txt"},
		{in: "FILE:///home/u/.ssh/id_rsa", norm: "file:///home/u/.ssh/id_rsa"},
		{in: "File://LOCALHOST/etc/passwd", norm: "file:///etc/passwd"},
		{in: "file:/etc/passwd", norm: "file:///etc/passwd"},
		{in: "file:etc/passwd", norm: "file:///etc/passwd"},
		{in: "file:////home//u/.ssh", norm: "file:///home/u/.ssh"},
		{in: "file:///home/u/.ssh/./id_rsa", norm: "file:///home/u/.ssh/id_rsa"},
		{in: "file:///home/u/../u/.ssh/id_rsa", norm: "file:///home/u/.ssh/id_rsa"},
		{in: "file:///home/u/%2essh/id_rsa", norm: "file:///home/u/.ssh/id_rsa"},
		{in: "file:///home/u/%2E%73%73%68/id_rsa", norm: "file:///home/u/.ssh/id_rsa"},
		{in: "file:///home/u/.ssh%2fid_rsa", norm: "file:///home/u/.ssh/id_rsa"},
		{in: "file:///home/u/x/%2e%2e/.ssh/id_rsa", norm: "file:///home/u/.ssh/id_rsa"},
		{in: `file:///home\u\.ssh\id_rsa`, norm: "file:///home/u/.ssh/id_rsa"},
		{in: "file:///home/u/x%5C..%5C.ssh/id_rsa", norm: "file:///home/u/.ssh/id_rsa"},
		{in: "file:///home/u/.ssh/id_rsa?x=1#frag", norm: "file:///home/u/.ssh/id_rsa"},
		{in: "file:///home/u/.ssh/", norm: "file:///home/u/.ssh/"},
		{in: "file:///home/u/.ssh/x/..", norm: "file:///home/u/.ssh/"},
		{in: "file:///home/u/.ssh/.", norm: "file:///home/u/.ssh/"},
		{in: "file://", norm: "file:///"},
		{in: "file:///My%20Docs/a%c3%a9", norm: "file:///My%20Docs/a%C3%A9", decoded: "file:///My Docs/aé"},
		{in: "file:///a%3Fb", norm: "file:///a%3Fb", decoded: "file:///a?b"},
		{in: "file:///a%zz", norm: "file:///a%25zz", decoded: "file:///a%zz"},
		{in: "file:///a%", norm: "file:///a%25", decoded: "file:///a%"},
		{in: "A:%%610", norm: "a:%25a0", decoded: "a:%a0"},
		{in: "x://h%%41/p", norm: "x://h%25a/p"},
		{in: "HTTPS://User@Example.COM:443/A/./b/../C?Q=1#F", norm: "https://User@example.com:443/A/C?Q=1#F"},
		{in: `https://example.com\a\..\b`, norm: "https://example.com/b"},
		{in: "mem://notes//a/./b", norm: "mem://notes/a/b"},
		{in: `mem://notes/a\b`, norm: `mem://notes/a\b`},
		{in: "urn:isbn:0451450523", norm: "urn:isbn:0451450523"},
		{in: "note:a/../b", norm: "note:b"},
		{in: "file:///home/{user}/{+path}", norm: "file:///home/{user}/{+path}"},

		{in: "/etc/passwd", err: errNoScheme},
		{in: "", err: errNoScheme},
		{in: ":x", err: errNoScheme},
		{in: "1file:///x", err: errNoScheme},
		{in: " file:///x", err: errNoScheme},
		{in: "file:///..", err: errAboveRoot},
		{in: "file:///home/../../etc/passwd", err: errAboveRoot},
		{in: "file:///home/%2e%2e/%2E%2E/etc/passwd", err: errAboveRoot},
		{in: "file:///home/..%2f..%2fetc/passwd", err: errAboveRoot},
		{in: `file:///home/..\..\etc/passwd`, err: errAboveRoot},
		{in: "file:../etc/passwd", err: errAboveRoot},
		{in: "https://h/../x", err: errAboveRoot},
		{in: "note:../x", err: errAboveRoot},
		{in: "file:///etc/passwd%00.txt", err: errEncodedCtrl},
		{in: "file:///a%0a", err: errEncodedCtrl},
		{in: "file:///a%7F", err: errEncodedCtrl},
	}
	for _, tt := range tests {
		got, err := normalizeURI(tt.in)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("normalizeURI(%q) err = %v, want %v", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("normalizeURI(%q): %v", tt.in, err)
			continue
		}
		if tt.decoded == "" {
			tt.decoded = tt.norm
		}
		decoded := got.norm
		for _, v := range got.variants {
			if v.label == "decoded" {
				decoded = v.text
			}
		}
		if got.norm != tt.norm || decoded != tt.decoded {
			t.Errorf("normalizeURI(%q) = %q, %q; want %q, %q", tt.in, got.norm, decoded, tt.norm, tt.decoded)
		}
	}
}

func TestNormalizeURIIsIdempotent(t *testing.T) {
	for _, in := range []string{
		"FILE://localhost//a/./b/../c/",
		"https://EXAMPLE.com/%7e/x%2Fy/%41",
		"file:///x%5c..%5cy",
		"note:a/b/./c",
		"A:%%610",
		"x:%%%32e",
		"x://%%%32e/",
	} {
		once, err := normalizeURI(in)
		if err != nil {
			t.Fatal(err)
		}
		twice, err := normalizeURI(once.norm)
		if err != nil {
			t.Fatal(err)
		}
		if twice.norm != once.norm {
			t.Errorf("normalizeURI(%q) = %q, then %q", in, once.norm, twice.norm)
		}
	}
}

func TestResourceDeniesSpellingsOfDeniedPath(t *testing.T) {
	p := mustNew(t, Rules{}, Rules{
		Allow: []string{"file:///home/u/*"},
		Deny:  []string{"file:///home/u/.ssh/*", "file:///home/u/My Docs/*"},
	}, Rules{})
	for _, uri := range []string{
		"file:///home/u/.ssh/id_rsa",
		"file:///home/u/../u/.ssh/id_rsa",
		"FILE:///home/u/.ssh/id_rsa",
		"file:///HOME/U/.SSH/ID_RSA",
		"file:///home/u/%2essh/id_rsa",
		"file:///home/u/%2Essh/id_rsa",
		"file:///home/u/.%73sh/id_rsa",
		"file:////home//u/.ssh",
		"file:////home//u/.ssh/",
		"file:///home/u/.ssh/./id_rsa",
		"file:///home/u/.ssh//id_rsa",
		"file:///home/u/x/../.ssh/id_rsa",
		"file:///home/u/x/%2e%2e/.ssh/id_rsa",
		"file:///home/u/x%2f..%2f.ssh/id_rsa",
		`file:///home\u\.ssh\id_rsa`,
		"file:///home/u/x%5c..%5c.ssh/id_rsa",
		"file://localhost/home/u/.ssh/id_rsa",
		"file://LocalHost/home/u/.ssh/id_rsa",
		"file:/home/u/.ssh/id_rsa",
		"file:home/u/.ssh/id_rsa",
		"file:///home/u/.ssh/id_rsa#x",
		"file:///home/u/.ssh/id_rsa?x",
		"file:///home/u/.ssh?/../id_rsa",
		"file:///home/u/.ssh/x/..",
		"file:///home/u/.ssh/.",
		"file:///home/u/ｿ/../.ssh/id_rsa",
		"file:///home/u/．ssh/id_rsa", // fullwidth full stop
		"file:///home/u/My%20Docs/tax.pdf",
		"file:///home/u/My%20D%6Fcs/tax.pdf",
		"file:///home/u/my docs/tax.pdf",
		"file:///home/u/.ssh/id_rsa%00.pub",
		"file:///home/u/../../etc/passwd",
		"file:///home/u/.ssh/id_rsa\x00",
		"file:///home/u/.s\tsh/id_rsa",
		" file:///home/u/.ssh/id_rsa",
		"/home/u/.ssh/id_rsa",
		"file:///home/u/.ssh\xff/id_rsa",
		"file://evil/home/u/.ssh/id_rsa",
		"file://127.0.0.1/home/u/.ssh/id_rsa",
	} {
		if d := p.Resource(uri); d.Allow {
			t.Errorf("Resource(%q) allowed: %s", uri, d.Reason)
		}
	}
	for _, uri := range []string{
		"file:///home/u/notes.txt",
		"file:///home/u/.sshrc",
		"file:///home/u/ssh/x",
		"file:///home/u/My%20Music/x.mp3",
		"file:///home/u/a%3Fb",
	} {
		if d := p.Resource(uri); !d.Allow {
			t.Errorf("Resource(%q) denied: %s", uri, d.Reason)
		}
	}
}

func TestResourceAllowNeedsBothForms(t *testing.T) {
	p := mustNew(t, Rules{}, Rules{Allow: []string{"file:///data/*", "https://api.example.com/*"}}, Rules{})
	tests := []struct {
		uri    string
		allow  bool
		reason string
	}{
		{"file:///data/report.csv", true, `allowed by resources.allow "file:///data/*"`},
		{"file:///data/../etc/passwd", false, `normalised form "file:///etc/passwd" not matched by resources.allow`},
		{"file:///data/x/%2e%2e/%2e%2e/etc/passwd", false, "not matched by resources.allow"},
		{"file:///data/../../etc/passwd", false, "climbs above the root"},
		{"FILE:///data/report.csv", false, "not matched by resources.allow"},
		{"https://API.example.com/v1", false, "not matched by resources.allow"},
		{"https://api.example.com/v1/../v2", true, ""},
		{"https://api.example.com/../x", false, "climbs above the root"},
		{"file:///etc/passwd", false, "not matched by resources.allow"},
		{"data/report.csv", false, "no URI scheme"},
	}
	for _, tt := range tests {
		d := p.Resource(tt.uri)
		if d.Allow != tt.allow || !strings.Contains(d.Reason, tt.reason) {
			t.Errorf("Resource(%q) = %+v, want Allow %v, reason with %q", tt.uri, d, tt.allow, tt.reason)
		}
	}
}

func TestResourceDenyReasons(t *testing.T) {
	p := mustNew(t, Rules{}, Rules{Allow: []string{"*"}, Deny: []string{"file:///home/u/.ssh/*"}}, Rules{})
	tests := []struct{ uri, reason string }{
		{"file:///home/u/.ssh/id_rsa", `denied by resources.deny "file:///home/u/.ssh/*"`},
		{"file:///home/u/%2essh/id_rsa", `denied by resources.deny "file:///home/u/.ssh/*" (normalised form "file:///home/u/.ssh/id_rsa")`},
		{"FILE:///HOME/u/.ssh/id_rsa", `denied by resources.deny "file:///home/u/.ssh/*" (folded form "file:///home/u/.ssh/id_rsa")`},
		{"file:///home/u/x/../.SSH/id_rsa", `denied by resources.deny "file:///home/u/.ssh/*" (folded normalised form "file:///home/u/.ssh/id_rsa")`},
		{"file:///home/u/.ssh", `denied by resources.deny "file:///home/u/.ssh/*" (directory form "file:///home/u/.ssh/")`},
		{"file://evil/home/u/.ssh/id_rsa", `denied by resources.deny "file:///home/u/.ssh/*" (local form "file:///home/u/.ssh/id_rsa")`},
		{"file:///home/u/.s%73h", `denied by resources.deny "file:///home/u/.ssh/*" (directory form "file:///home/u/.ssh/")`},
		{"file:///home/../../x", `invalid resource URI: ".." segment climbs above the root`},
		{"file:///home/u/\x00", `invalid resource URI: control or format character U+0000 at byte 15`},
	}
	for _, tt := range tests {
		d := p.Resource(tt.uri)
		if d.Allow || d.Reason != tt.reason {
			t.Errorf("Resource(%q) = %+v, want reason %q", tt.uri, d, tt.reason)
		}
	}
}

func FuzzNormalizeURI(f *testing.F) {
	for _, s := range []string{
		"file:///home/u/../u/.ssh/id_rsa", "FILE://LocalHost//a/%2e%2E/b%5c..%5cc?x#y",
		"https://U@H:1/a/./b", "note:a/../b", "file:x", "x:%2f%2fh/p", "file://h",
	} {
		f.Add(s)
	}
	p := mustNew(f, Rules{}, Rules{Allow: []string{"*"}, Deny: []string{"file:///home/u/.ssh/*"}}, Rules{})
	f.Fuzz(func(t *testing.T, raw string) {
		d := p.Resource(raw)
		forms, err := normalizeURI(raw)
		if err != nil {
			return
		}
		again, err := normalizeURI(forms.norm)
		if err != nil || again.norm != forms.norm {
			t.Fatalf("normal form of %q is %q, which normalises to %q, %v", raw, forms.norm, again.norm, err)
		}
		if d.Allow && strings.HasPrefix(strings.ToLower(forms.norm), "file:///home/u/.ssh/") {
			t.Fatalf("Resource(%q) allowed: %s", raw, d.Reason)
		}
	})
}

// A web URL's host is matched in the form the server's URL parser
// connects to, so that its spellings do not slip past a deny glob.
func TestResourceDenyWebHostSpellings(t *testing.T) {
	p := mustNew(t, Rules{}, Rules{Allow: []string{"*"}, Deny: []string{"https://internal.example/*", "http://127.0.0.1/*"}}, Rules{})
	for _, uri := range []string{
		"https://internal.example/x",
		"https://INTERNAL.example./x",
		"https://internal.example:443/x",
		"https://ｉｎｔｅｒｎａｌ.example/x",
		"https://user@internal.example./x",
		"http://0x7f.1/x",
		"http://2130706433/x",
		"http://127.1:80/x",
	} {
		if d := p.Resource(uri); d.Allow {
			t.Errorf("Resource(%q) allowed: %s", uri, d.Reason)
		}
	}
	for _, uri := range []string{"https://internal.example:8443/x", "https://internal.example.org/x"} {
		if d := p.Resource(uri); !d.Allow {
			t.Errorf("Resource(%q) denied: %s", uri, d.Reason)
		}
	}
}
