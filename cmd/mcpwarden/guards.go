package main

import (
	"fmt"
	"os"

	"github.com/mcpwarden/mcpwarden/filter"
	"github.com/mcpwarden/mcpwarden/pathguard"
	"github.com/mcpwarden/mcpwarden/pin"
	"github.com/mcpwarden/mcpwarden/profile"
)

// guards are the parts of the proxy's configuration that come from the
// profile's [tools.rules], [tools.limits] and [guards] tables.
type guards struct {
	calls *filter.Calls
	pins  *pin.Store
}

// buildGuards compiles the profile's guards for a server started with
// args, whose sandbox has the paths sp.
func buildGuards(prof *profile.Profile, sp sandboxPaths, args []string, pinDir string) (guards, error) {
	var g guards
	cwd, err := os.Getwd()
	if err != nil {
		return g, fmt.Errorf("finding the working directory: %w", err)
	}
	roots := pathguard.Roots{Read: sp.read, Write: sp.write, Dir: cwd, Home: sp.home}
	if prof.Server.Name == "filesystem" {
		// The filesystem server resolves relative paths against its
		// directories, not its working directory, and the guard must
		// resolve them the same way.
		roots.Base = pathguard.FilesystemBases(args, cwd, sp.home)
	}
	g.calls, err = filter.NewCalls(filter.CallsConfig{
		Rules:       prof.ToolRules,
		Limits:      prof.ToolLimits,
		Secrets:     prof.Guards.Secrets,
		StripHidden: prof.Guards.StripHidden,
		Roots:       roots,
	})
	if err != nil {
		return g, fmt.Errorf("profile %s: %w", prof.Origin, err)
	}
	if prof.Guards.Pin {
		if pinDir == "" {
			if pinDir, err = pin.DefaultDir(); err != nil {
				return g, fmt.Errorf("pins: %w (set guards.pin = false in the profile to run without pinning)", err)
			}
		}
		if g.pins, err = pin.Open(pinDir, prof.Server.Name); err != nil {
			return g, err
		}
	}
	return g, nil
}
