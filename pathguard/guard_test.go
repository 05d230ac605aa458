package pathguard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a directory tree with one root for writing ("allowed"), one
// for reading ("ro"), a sibling that shares the write root's prefix
// ("allowed_evil") and a directory outside every root, with symbolic
// links planted inside the write root.
type fixture struct {
	base, allowed, ro, evil, outside string
}

func newFixture(tb testing.TB, dir string) fixture {
	tb.Helper()
	base, err := filepath.EvalSymlinks(dir)
	if err != nil {
		tb.Fatal(err)
	}
	fx := fixture{
		base:    base,
		allowed: filepath.Join(base, "allowed"),
		ro:      filepath.Join(base, "ro"),
		evil:    filepath.Join(base, "allowed_evil"),
		outside: filepath.Join(base, "outside"),
	}
	for _, d := range []string{fx.allowed + "/sub/deep", fx.ro + "/rsub", fx.evil, fx.outside + "/odir"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	for _, f := range []string{fx.allowed + "/file.txt", fx.allowed + "/sub/deep/f", fx.ro + "/file", fx.evil + "/x", fx.outside + "/secret"} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	links := map[string]string{
		"allowed/link_out_rel":   "../outside/secret",
		"allowed/link_out_abs":   fx.outside + "/secret",
		"allowed/link_out_dir":   "../outside",
		"allowed/sub/link_up":    "../../outside/odir",
		"allowed/chain1":         "chain2",
		"allowed/chain2":         "sub/chain3",
		"allowed/sub/chain3":     fx.outside,
		"allowed/chain_in":       "sub/deep",
		"allowed/loop1":          "loop2",
		"allowed/loop2":          "loop1",
		"allowed/dangling_out":   "../outside/created_by_write",
		"allowed/dangling_in":    "sub/created_inside",
		"allowed/dangling_chain": "dangling_out",
		"allowed/to_ro":          "../ro/file",
		"allowed/to_ro_dir":      "../ro",
		"allowed/to_evil":        "../allowed_evil",
		"allowed/to_root":        "/",
		"allowed/self_dotdot":    "sub/../file.txt",
		"rootlink":               "allowed",
		"allowed/file_dotdot":    "file.txt/..",
		"allowed/miss_dotdot":    "missing/../file.txt",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			tb.Fatal(err)
		}
	}
	return fx
}

func (fx fixture) guard(tb testing.TB) *Guard {
	tb.Helper()
	g, err := New(Roots{Read: []string{fx.ro}, Write: []string{fx.allowed}, Base: []string{fx.allowed}, Home: fx.allowed})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestCheck(t *testing.T) {
	fx := newFixture(t, t.TempDir())
	g := fx.guard(t)
	A, R, O, E := fx.allowed, fx.ro, fx.outside, fx.evil
	tests := []struct {
		name   string
		path   string
		access Access
		want   string // the resolved path when allowed, "" when refused
		reason string // a fragment of the error when refused
	}{
		{"write an existing file", A + "/file.txt", Write, A + "/file.txt", ""},
		{"write a new file", A + "/new.txt", Write, A + "/new.txt", ""},
		{"create nested directories", A + "/sub/n1/n2/n3", Write, A + "/sub/n1/n2/n3", ""},
		{"the write root itself", A, Write, A, ""},
		{"trailing slash and doubled slashes", A + "//sub///deep/", Read, A + "/sub/deep", ""},
		{"read under a read root", R + "/file", Read, R + "/file", ""},
		{"read under a write root", A + "/file.txt", Read, A + "/file.txt", ""},
		{"write under a read root", R + "/file", Write, "", "outside the directories allowed for writing"},
		{"new file under a read root", R + "/new", Write, "", "outside the directories allowed for writing"},

		{"dot-dot out of the root", A + "/../outside/secret", Read, "", "outside the directories allowed for reading"},
		{"dot-dot staying inside", A + "/sub/deep/../../file.txt", Read, A + "/file.txt", ""},
		{"dot-dot above /", "/../../.." + A + "/file.txt", Read, A + "/file.txt", ""},
		{"dot-dot after a link is lexical, as the server does it", A + "/link_out_dir/../file.txt", Read, A + "/file.txt", ""},
		{"dot-dot out of the root by many steps", A + "/sub/deep/../../../outside", Read, "", "outside"},

		{"prefix confusion read", E + "/x", Read, "", "outside the directories allowed for reading"},
		{"prefix confusion write", E + "/new", Write, "", "outside the directories allowed for writing"},
		{"prefix confusion sibling itself", E, Read, "", "outside"},
		{"prefix confusion through a link", A + "/to_evil/x", Read, "", "symbolic link"},

		{"file link, relative target", A + "/link_out_rel", Read, "", "symbolic link to \"" + O + "/secret\""},
		{"file link, absolute target", A + "/link_out_abs", Read, "", O + "/secret"},
		{"file link written", A + "/link_out_rel", Write, "", O + "/secret"},
		{"directory link", A + "/link_out_dir/secret", Read, "", O + "/secret"},
		{"new file under a directory link", A + "/link_out_dir/new.txt", Write, "", O + "/new.txt"},
		{"nested directory link with dot-dot target", A + "/sub/link_up/x", Write, "", O + "/odir/x"},
		{"chain of links", A + "/chain1/secret", Read, "", O + "/secret"},
		{"chain of links to the directory", A + "/chain1", Read, "", O},
		{"link to inside", A + "/chain_in/f", Read, A + "/sub/deep/f", ""},
		{"link with dot-dot inside its target", A + "/self_dotdot", Write, A + "/file.txt", ""},
		{"link to /", A + "/to_root/etc/passwd", Read, "", "symbolic link to \"/etc/passwd\""},
		{"link loop", A + "/loop1", Read, "", "more than 40 symbolic links"},
		{"link loop beneath", A + "/loop1/x", Write, "", "more than 40 symbolic links"},

		{"dangling link to outside", A + "/dangling_out", Write, "", O + "/created_by_write"},
		{"dangling chain to outside", A + "/dangling_chain", Write, "", O + "/created_by_write"},
		{"dangling link to inside", A + "/dangling_in", Write, A + "/sub/created_inside", ""},

		{"link into a read-only root, write", A + "/to_ro", Write, "", R + "/file"},
		{"link into a read-only root, read", A + "/to_ro", Read, R + "/file", ""},
		{"new file through a link into a read-only root", A + "/to_ro_dir/new", Write, "", R + "/new"},

		{"home", "~", Write, A, ""},
		{"home file", "~/file.txt", Write, A + "/file.txt", ""},
		{"home dot-dot out", "~/../outside/secret", Read, "", "outside"},
		{"tilde user is a relative name", "~root/x", Write, A + "/~root/x", ""},
		{"tilde inside a name", A + "/~", Write, A + "/~", ""},

		{"relative", "file.txt", Write, A + "/file.txt", ""},
		{"relative dot", ".", Read, A, ""},
		{"relative dot-dot out", "../outside/secret", Read, "", "outside"},
		{"relative through a link", "link_out_dir/x", Write, "", O + "/x"},
		{"file URI is a relative name to the server", "file://" + O + "/secret", Write, A + "/file:" + O + "/secret", ""},
		{"quotes are part of the name to the server", `"` + O + `/secret"`, Write, A + `/"` + O + `/secret"`, ""},
		{"trailing quote is not stripped", A + `"`, Write, "", "outside"},
		{"trailing space is not stripped", A + ` `, Write, "", "outside"},
		{"backslash is a name character", A + `/a\..\..\etc`, Write, A + `/a\..\..\etc`, ""},
		{"backslash does not separate", A + `\..\..\etc`, Write, "", "outside"},
		{"Windows drive", `C:\Windows`, Read, "", "Windows drive"},
		{"Windows drive bare", `c:`, Read, "", "Windows drive"},

		{"empty", "", Read, "", "empty"},
		{"NUL", A + "/file.txt\x00.png", Read, "", "NUL"},
		{"newline", A + "/a\nb", Write, "", "control character U+000A"},
		{"escape", A + "/a\x1b[2Jb", Write, "", "control character"},
		{"C1 control", A + "/a\u0085b", Write, "", "control character"},
		{"bidi override", A + "/a\u202Etxt.exe", Write, "", "invisible character U+202E"},
		{"zero width space", A + "/a\u200Bb", Write, "", "invisible"},
		{"line separator", A + "/a\u2028b", Write, "", "invisible"},
		{"supplementary variation selectors spell hidden bytes", A + "/a\U000E0131\U000E0132b", Write, "", "invisible character U+E0131"},
		{"Mongolian variation selector", A + "/a\u180Bb", Write, "", "invisible character U+180B"},
		{"Hangul filler", A + "/a\u3164b", Write, "", "invisible character U+3164"},
		{"emoji with its variation selector is a name", A + "/\u2764\uFE0F.txt", Write, A + "/\u2764\uFE0F.txt", ""},
		{"invalid UTF-8", A + "/a\xffb", Write, "", "UTF-8"},
		{"replacement character is fine", A + "/a\uFFFDb", Write, A + "/a\uFFFDb", ""},
		{"component of 256 bytes", A + "/" + strings.Repeat("n", 256), Write, "", "component is 256 bytes"},
		{"component of 255 bytes", A + "/" + strings.Repeat("n", 255), Write, A + "/" + strings.Repeat("n", 255), ""},
		{"path of 4096 bytes", A + "/" + strings.Repeat("d/", (4096-len(A))/2), Read, "", "more than the kernel accepts (4095)"},
		{"not a directory", A + "/file.txt/x", Write, "", "not a directory"},
		{"link to dot-dot beneath a file", A + "/file_dotdot", Read, "", "not a directory"},
		{"link to dot-dot beneath a missing directory", A + "/miss_dotdot", Write, "", `does not exist, and the path goes on with ".."`},
		{"dot after a file is lexical, as the server does it", A + "/file.txt/.", Read, A + "/file.txt", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := g.Check(tt.path, tt.access)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("Check(%q, %v) = %q, %v; want %q", tt.path, tt.access, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check(%q, %v) = %q; want refused (%s)", tt.path, tt.access, got, tt.reason)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if pe.Path != tt.path || pe.Access != tt.access {
				t.Errorf("error names %q/%v, want %q/%v", pe.Path, pe.Access, tt.path, tt.access)
			}
		})
	}
}

func TestErrorNamesResolvedPath(t *testing.T) {
	fx := newFixture(t, t.TempDir())
	g := fx.guard(t)
	_, err := g.Check(fx.allowed+"/dangling_out", Write)
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("Check = %v; want *Error", err)
	}
	if !pe.Followed || pe.Resolved != fx.outside+"/created_by_write" {
		t.Errorf("Followed, Resolved = %v, %q", pe.Followed, pe.Resolved)
	}
	want := `refused to write "` + fx.allowed + `/dangling_out": it resolves through a symbolic link to "` +
		fx.outside + `/created_by_write", which is outside the directories allowed for writing`
	if err.Error() != want {
		t.Errorf("message\n got %s\nwant %s", err, want)
	}
	_, err = g.Check(fx.allowed+"/../outside", Read)
	want = `refused to read "` + fx.allowed + `/../outside": it resolves to "` + fx.outside +
		`", which is outside the directories allowed for reading`
	if err == nil || err.Error() != want {
		t.Errorf("message\n got %v\nwant %s", err, want)
	}
	if _, err := g.Check(fx.outside, Read); err == nil || err.Error() != `refused to read "`+fx.outside+`": it is outside the directories allowed for reading` {
		t.Errorf("message %v", err)
	}
}

func TestUnicodeEquivalentNames(t *testing.T) {
	fx := newFixture(t, t.TempDir())
	g := fx.guard(t)
	// The server opens an existing entry whose name is the requested one
	// in another normal form: "café" precomposed, asked for decomposed.
	if err := os.Symlink(fx.outside, filepath.Join(fx.allowed, "caf\u00e9")); err != nil {
		t.Fatal(err)
	}
	if got, err := g.Check(fx.allowed+"/cafe\u0301/secret", Read); err == nil || !strings.Contains(err.Error(), fx.outside+"/secret") {
		t.Errorf("decomposed name of a link out = %q, %v; want refused", got, err)
	}
	// NFC maps the Kelvin sign to K.
	if err := os.Symlink(fx.outside+"/secret", filepath.Join(fx.allowed, "\u212Aey")); err != nil {
		t.Fatal(err)
	}
	if got, err := g.Check(fx.allowed+"/Key", Write); err == nil {
		t.Errorf("Key with a Kelvin-sign link present = %q; want refused", got)
	}
	// Two entries equivalent to the missing name: either could be opened.
	for _, n := range []string{"\u212B", "A\u030A"} {
		if err := os.WriteFile(filepath.Join(fx.allowed, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.Check(fx.allowed+"/\u00C5", Write); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("ambiguous name: %v", err)
	}
	// The exact name wins when it exists.
	if got, err := g.Check(fx.allowed+"/\u212B", Write); err != nil || got != fx.allowed+"/\u212B" {
		t.Errorf("exact name = %q, %v", got, err)
	}
}

func TestRoots(t *testing.T) {
	fx := newFixture(t, t.TempDir())
	g, err := New(Roots{Write: []string{fx.base + "/rootlink", fx.base + "/missing/dir"}, Read: []string{fx.base + "/rootlink/"}})
	if err != nil {
		t.Fatal(err)
	}
	read, write := g.Roots()
	if len(read) != 1 || read[0] != fx.allowed || len(write) != 1 || write[0] != fx.allowed {
		t.Errorf("Roots() = %q, %q; want the link's target and no missing root", read, write)
	}
	if got, err := g.Check(fx.base+"/rootlink/file.txt", Write); err != nil || got != fx.allowed+"/file.txt" {
		t.Errorf("through the root link = %q, %v", got, err)
	}
	if got, err := g.Check(fx.base+"/rootlink/../outside", Read); err == nil {
		t.Errorf("dot-dot beside the root link = %q; want refused", got)
	}
	if _, err := g.Check("file.txt", Read); err == nil || !strings.Contains(err.Error(), "relative") {
		t.Errorf("relative with no base: %v", err)
	}
	if _, err := g.Check("~/x", Read); err == nil || !strings.Contains(err.Error(), "home") {
		t.Errorf("tilde with no home: %v", err)
	}
	if _, err := g.Check(fx.allowed, Access(7)); err == nil {
		t.Error("unknown access accepted")
	}

	g, err = New(Roots{Write: []string{fx.allowed}, Dir: fx.allowed + "/sub"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := g.Check("deep/f", Read); err != nil || got != fx.allowed+"/sub/deep/f" {
		t.Errorf("relative to Dir = %q, %v", got, err)
	}

	g, err = New(Roots{Write: []string{"/"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := g.Check(fx.allowed+"/link_out_rel", Write); err != nil || got != fx.outside+"/secret" {
		t.Errorf("under root / = %q, %v", got, err)
	}

	for _, bad := range []Roots{
		{Read: []string{"relative"}},
		{Write: []string{"~/x"}},
		{Write: []string{""}},
		{Read: []string{"/a\x00b"}},
		{Base: []string{"rel"}},
		{Dir: "rel"},
		{Home: "rel"},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

func TestRelativeBases(t *testing.T) {
	fx := newFixture(t, t.TempDir())
	g, err := New(Roots{Read: []string{fx.ro}, Write: []string{fx.allowed}, Base: []string{fx.ro, fx.allowed}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ rel, want string }{
		{"file", fx.ro + "/file"},
		{"../allowed/file.txt", fx.allowed + "/file.txt"}, // leaves the first base but lands in the second
		{"../outside/secret", ""},                         // in no base: the first base is used
	}
	for _, tt := range tests {
		got, err := g.Check(tt.rel, Read)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Check(%q) = %q; want refused", tt.rel, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Check(%q) = %q, %v; want %q", tt.rel, got, err, tt.want)
		}
	}
}

func TestFilesystemBases(t *testing.T) {
	fx := newFixture(t, t.TempDir())
	got := FilesystemBases([]string{"allowed", fx.base + "/rootlink/", "~", "~/rsub", fx.base + "/missing", fx.allowed + "/file.txt", "rel\x00"}, fx.base, fx.ro)
	want := []string{fx.allowed, fx.base + "/rootlink", fx.allowed, fx.ro, fx.ro + "/rsub"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("FilesystemBases\n got %q\nwant %q", got, want)
	}
	if got := FilesystemBases([]string{"rel", "~"}, "", ""); len(got) != 0 {
		t.Errorf("with no cwd and home = %q", got)
	}
}

func TestServerNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"/a//b/":          "/a/b",
		"/":               "/",
		" /a/b \t":        "/a/b",
		"/a/b\"":          "/a/b",
		"'/a/b'":          "/a/b",
		"\uFEFF/a\u3000":  "/a",
		"/a\u0085":        "/a\u0085",
		"///":             "/",
		"\"":              "",
		"relative//path/": "relative//path/",
	} {
		if got := serverNormalize(in); got != want {
			t.Errorf("serverNormalize(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestLinkTargets attacks the guard with link targets rather than
// arguments: the argument is clean, and what a link adds must be judged
// as if it had been written in the argument.
func TestLinkTargets(t *testing.T) {
	fx := newFixture(t, t.TempDir())
	A, O := fx.allowed, fx.outside
	links := map[string]string{
		"nl":          "sub/a\nb",                // forges a line in the audit record
		"bidi":        "sub/a\u202Etxt.exe",      // hides the real name
		"abs_in":      A + "/sub/deep",           // back through directories already walked
		"abs_out":     A + "/../outside/secret",  // through them, then out by ".."
		"abs_rootlnk": fx.base + "/rootlink/sub", // through a link beside the walked ones
		"abs_evil":    A + "_evil/x",             // a sibling sharing the walked prefix
		"abs_deep":    A + "/sub/deep/../../../outside",
		"long":        strings.Repeat("n", 256), // a component the kernel refuses
		"long_under":  "sub/new/" + strings.Repeat("n", 256),
	}
	// "ln_dir" is walked first and then "ln", a link whose name is a
	// prefix of it: the directories already walked must be compared by
	// whole components.
	if err := os.Mkdir(filepath.Join(A, "ln_dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	links["ln"] = "../outside"
	links["ln_dir/hop"] = "../ln/secret"
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(A, name)); err != nil {
			t.Fatal(err)
		}
	}
	g := fx.guard(t)
	tests := []struct {
		path   string
		access Access
		want   string // the resolved path when allowed, "" when refused
		reason string
	}{
		{A + "/nl", Write, "", "control character U+000A"},
		{A + "/bidi", Write, "", "invisible character U+202E"},
		{A + "/abs_in/f", Read, A + "/sub/deep/f", ""},
		{A + "/abs_in/new", Write, A + "/sub/deep/new", ""},
		{A + "/abs_out", Read, "", O + "/secret"},
		{A + "/abs_rootlnk/deep/f", Write, A + "/sub/deep/f", ""},
		{A + "/abs_evil", Read, "", fx.evil + "/x"},
		{A + "/abs_deep", Read, "", O},
		{A + "/sub/deep/../../abs_out", Read, "", O + "/secret"},
		{A + "/ln_dir/hop", Read, "", O + "/secret"},
		{A + "/long", Write, "", "component of 256 bytes"},
		{A + "/long_under", Write, "", "component of 256 bytes"},
	}
	for _, tt := range tests {
		got, err := g.Check(tt.path, tt.access)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("Check(%q, %v) = %q, %v; want %q", tt.path, tt.access, got, err, tt.want)
			}
			continue
		}
		var pe *Error
		if !errors.As(err, &pe) || !pe.Followed || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Check(%q, %v) = %q, %v; want an *Error through a link saying %q", tt.path, tt.access, got, err, tt.reason)
		}
	}
}
