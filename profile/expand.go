package profile

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ExpandPaths turns the path entries of a profile into absolute, cleaned
// paths: "~" and "~/x" are taken relative to home, and ArgDirs becomes each
// entry of args that names an existing directory (relative ones are taken
// from the working directory). Duplicates are dropped, keeping the first.
//
// Symbolic links are not resolved: that is for the sandbox, which must
// resolve them at the moment it grants access.
func ExpandPaths(paths []string, home string, args []string) ([]string, error) {
	var out []string
	add := func(p string) {
		if p = filepath.Clean(p); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, p := range paths {
		if problem := checkPath(p); problem != "" {
			return nil, fmt.Errorf("path %q %s", p, problem)
		}
		switch {
		case p == ArgDirs:
			dirs, err := argDirs(args)
			if err != nil {
				return nil, err
			}
			for _, d := range dirs {
				add(d)
			}
		case p == "~" || strings.HasPrefix(p, "~/"):
			if !filepath.IsAbs(home) || strings.ContainsRune(home, 0) {
				return nil, fmt.Errorf("path %q: home directory %q is not an absolute path (set HOME)", p, home)
			}
			add(filepath.Join(home, p[1:]))
		default:
			add(p)
		}
	}
	return out, nil
}

// argDirs returns the absolute paths of the arguments that are existing
// directories, following symbolic links only to learn that.
func argDirs(args []string) ([]string, error) {
	var dirs []string
	for _, a := range args {
		if a == "" || strings.ContainsRune(a, 0) {
			continue
		}
		fi, err := os.Stat(a)
		if err != nil || !fi.IsDir() {
			continue
		}
		abs, err := filepath.Abs(a)
		if err != nil {
			return nil, fmt.Errorf("argument %q: %w", a, err)
		}
		dirs = append(dirs, abs)
	}
	return dirs, nil
}
