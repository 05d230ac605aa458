package pathguard

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCheck holds the guard to its promise: whatever path it accepts
// resolves to a clean absolute path inside a root of the right access,
// judged by filepath.Rel rather than by the guard's own comparison, and
// with no symbolic link left in the part of it that exists.
func FuzzCheck(f *testing.F) {
	fx := newFixture(f, f.TempDir())
	g := fx.guard(f)
	for _, s := range []string{
		"file.txt", "~", "~/sub/deep/f", "../allowed_evil/x", "link_out_dir/x", "chain1", "loop1/x",
		"dangling_out", "dangling_in", "to_ro", "to_ro_dir/x", "to_evil", "to_root/etc", "self_dotdot",
		fx.allowed + "/sub/../../outside", fx.evil, fx.ro + "/file", "/", ".", "..", "~root", "file://x",
		`"x"`, "a\\b", "C:\\x", "cafe\u0301", "\u212Aey", "file_dotdot", "miss_dotdot/x",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, p string, write bool) {
		a := Read
		roots := []string{fx.ro, fx.allowed}
		if write {
			a, roots = Write, []string{fx.allowed}
		}
		got, err := g.Check(p, a)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Check(%q) error %v is not an *Error", p, err)
			}
			return
		}
		if !filepath.IsAbs(got) || filepath.Clean(got) != got {
			t.Fatalf("Check(%q) = %q, not clean and absolute", p, got)
		}
		inside := false
		for _, r := range roots {
			if rel, err := filepath.Rel(r, got); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
				inside = true
			}
		}
		if !inside {
			t.Fatalf("Check(%q, %v) = %q, outside %q", p, a, got, roots)
		}
		existing := got
		for {
			if _, err := os.Lstat(existing); !errors.Is(err, fs.ErrNotExist) {
				break
			}
			existing = filepath.Dir(existing)
		}
		if real, err := filepath.EvalSymlinks(existing); err != nil || real != existing {
			t.Fatalf("Check(%q) = %q, whose existing part %q resolves to %q, %v", p, got, existing, real, err)
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	fx := newFixture(b, b.TempDir())
	g := fx.guard(b)
	for _, bm := range []struct {
		name string
		path string
		a    Access
	}{
		{"existing", fx.allowed + "/sub/deep/f", Read},
		{"new file", fx.allowed + "/sub/deep/new.txt", Write},
		{"through a link", fx.allowed + "/chain_in/f", Read},
		{"refused link", fx.allowed + "/link_out_dir/secret", Read},
		{"relative", "sub/deep/f", Write},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = g.Check(bm.path, bm.a)
			}
		})
	}
}
