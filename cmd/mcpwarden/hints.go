package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/mcpwarden/mcpwarden/profile"
)

// resolveProfile returns the profile that --profile or "profile show"
// names, as profile.Resolve does, with an error that says what to do
// next: the built-in name nearest to a misspelt one, and, when a file of
// that name is in the working directory, how to name it as a file.
func resolveProfile(nameOrPath string) (*profile.Profile, error) {
	p, err := profile.Resolve(nameOrPath)
	if err == nil {
		return p, nil
	}
	if strings.Contains(nameOrPath, "/") || path.Ext(nameOrPath) == ".toml" {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w (a NAME without a / or a .toml ending is a built-in profile: mcpwarden profile list)", err)
		}
		return nil, err
	}
	var hints []string
	if names, nerr := profile.BuiltinNames(); nerr == nil {
		if s := nearest(nameOrPath, names); s != "" {
			hints = append(hints, fmt.Sprintf("did you mean %q?", s))
		}
	}
	if st, serr := os.Stat(nameOrPath); serr == nil && st.Mode().IsRegular() {
		hints = append(hints, fmt.Sprintf("to use the file %s in this directory, write it with a / as ./%s", nameOrPath, nameOrPath))
	} else {
		hints = append(hints, "a FILE is written with a / or a .toml ending")
	}
	return nil, fmt.Errorf("%w; %s", err, strings.Join(hints, "; "))
}

// missingFeatureHint adds what to do next to the error of a sandbox that
// cannot start because the kernel lacks a feature the profile asks for:
// see what is missing and how to get it, or start without it.
func missingFeatureHint(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "--best-effort") || !strings.Contains(msg, " lacks ") && !strings.Contains(msg, " unavailable") {
		return err
	}
	return fmt.Errorf("%w; \"mcpwarden check\" says what this kernel lacks and how to get it, and --best-effort starts the server without it, with a warning", err)
}
