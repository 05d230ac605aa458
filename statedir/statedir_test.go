package statedir

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDir(t *testing.T) {
	tests := []struct{ name, xdg, home, want string }{
		{"xdg", "/xdg/state", "/home/u", "/xdg/state/mcpwarden"},
		{"home", "", "/home/u", "/home/u/.local/state/mcpwarden"},
		{"relative xdg ignored", "rel/state", "/home/u", "/home/u/.local/state/mcpwarden"},
		{"xdg without home", "/xdg", "", "/xdg/mcpwarden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			if got, err := Dir(); err != nil || got != tt.want {
				t.Errorf("Dir() = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestDirErrors(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "")
	for _, tt := range []struct{ home, want string }{
		{"", "$HOME is not defined"},
		{"relative", `home directory "relative" is not absolute`},
	} {
		t.Setenv("HOME", tt.home)
		if got, err := Dir(); err == nil || err.Error() != tt.want {
			t.Errorf("Dir() with HOME=%q = %q, %v, want error %s", tt.home, got, err, tt.want)
		}
	}
}

func TestFileBase(t *testing.T) {
	tests := []struct{ name, server, want string }{
		{"plain", "filesystem", "filesystem"},
		{"traversal", "../../etc", "_._.._etc"},
		{"absolute", "/etc/passwd", "_etc_passwd"},
		{"dot", ".", "_"},
		{"dot dot", "..", "_."},
		{"hidden", ".bashrc", "_bashrc"},
		{"kept", "my-server_2.v1", "my-server_2.v1"},
		{"control and unicode", "a\x00b\nc\u00e9", "a_b_c__"},
		{"long", strings.Repeat("a", 1000), strings.Repeat("a", MaxFileNameBytes)},
		{"long unicode", strings.Repeat("a", MaxFileNameBytes-1) + "\u00e9", strings.Repeat("a", MaxFileNameBytes-1) + "_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FileBase(tt.server)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("FileBase(%q) = %q, want %q", tt.server, got, tt.want)
			}
			// Whatever the name, the result is one entry of the directory,
			// not hidden, and short enough for suffixes.
			if got == "" || strings.ContainsRune(got, filepath.Separator) || got[0] == '.' || len(got) > MaxFileNameBytes {
				t.Errorf("FileBase(%q) = %q, not a plain file name", tt.server, got)
			}
		})
	}
}

func TestFileBaseEmpty(t *testing.T) {
	if got, err := FileBase(""); err == nil || err.Error() != "empty server name" {
		t.Errorf("FileBase(\"\") = %q, %v", got, err)
	}
}
