package profile

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestExpandPaths(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	file := filepath.Join(dir, "file")
	link := filepath.Join(dir, "link")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(b, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)

	home := "/home/u"
	args := []string{
		a + "/",                    // cleaned
		"b",                        // relative: made absolute
		file,                       // a file: not a directory
		filepath.Join(dir, "nope"), // missing
		link,                       // a symlink to a directory: kept as the link
		"--flag", "", "x\x00y",
		a, // duplicate
	}
	got, err := ExpandPaths([]string{"/usr", "/usr/../etc/", "~", "~/.ssh", "~/a/../b", ArgDirs, "/usr"}, home, args)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/usr", "/etc", "/home/u", "/home/u/.ssh", "/home/u/b", a, b, link}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ExpandPaths:\n got %q\nwant %q", got, want)
	}

	if got, err := ExpandPaths([]string{ArgDirs}, home, nil); err != nil || len(got) != 0 {
		t.Errorf("ExpandPaths with no arguments = %q, %v; want nothing", got, err)
	}
	if got, err := ExpandPaths(nil, "", nil); err != nil || got != nil {
		t.Errorf("ExpandPaths(nil) = %q, %v", got, err)
	}
	if got, err := ExpandPaths([]string{"/x"}, "", nil); err != nil || !reflect.DeepEqual(got, []string{"/x"}) {
		t.Errorf("ExpandPaths without home and without ~ = %q, %v", got, err)
	}
}

func TestExpandPathsErrors(t *testing.T) {
	for _, tc := range []struct {
		paths []string
		home  string
	}{
		{[]string{"~"}, ""},
		{[]string{"~/x"}, "relative/home"},
		{[]string{"~/x"}, "/home/\x00u"},
		{[]string{"relative"}, "/home/u"},
		{[]string{""}, "/home/u"},
		{[]string{"~root"}, "/home/u"},
		{[]string{"{arg_dirs}/x"}, "/home/u"},
		{[]string{"/a\x00b"}, "/home/u"},
	} {
		if got, err := ExpandPaths(tc.paths, tc.home, nil); err == nil {
			t.Errorf("ExpandPaths(%q, %q) = %q, want an error", tc.paths, tc.home, got)
		}
	}
}
