// Package statedir is the one definition of where mcpwarden keeps per-user
// state and of how a server name becomes a file name there. The audit log
// and the pin store both name files after servers in this directory; were
// each to compute these on its own, a server name that one of them keeps
// inside the directory could escape it, or hide a file, in the other.
//
// Errors carry no package prefix, so that each caller reports them in its
// own terms.
package statedir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// MaxFileNameBytes bounds the result of [FileBase]. It keeps file names well
// below NAME_MAX (255), leaving room for the suffixes and temporary-file
// prefixes that callers add.
const MaxFileNameBytes = 128

// Dir returns the directory of mcpwarden's per-user state:
// $XDG_STATE_HOME/mcpwarden, or $HOME/.local/state/mcpwarden when
// XDG_STATE_HOME is unset or not absolute (as the XDG Base Directory
// specification requires). A home directory that is not absolute is an
// error, since the state would then move with the working directory.
func Dir() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(home) {
			return "", fmt.Errorf("home directory %q is not absolute", home)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "mcpwarden"), nil
}

// FileBase turns a server name into the base of the names of its files.
// The name is cut to [MaxFileNameBytes] bytes, and bytes other than ASCII
// letters, digits, '-', '_' and '.' become '_', as does a leading '.'. So
// the result can neither leave the directory, nor hide the file, nor
// collide with temporary files, which start with '.'. Distinct server names
// may map to the same base; callers that must tell them apart store the
// server name inside the file. An empty name is an error.
func FileBase(server string) (string, error) {
	if server == "" {
		return "", errors.New("empty server name")
	}
	b := []byte(server[:min(len(server), MaxFileNameBytes)])
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.' && i > 0:
		default:
			b[i] = '_'
		}
	}
	return string(b), nil
}
