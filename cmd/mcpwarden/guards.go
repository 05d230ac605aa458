package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/mcpwarden/mcpwarden/filter"
	"github.com/mcpwarden/mcpwarden/pathguard"
	"github.com/mcpwarden/mcpwarden/pin"
	"github.com/mcpwarden/mcpwarden/profile"
	"github.com/mcpwarden/mcpwarden/sanitize"
	"github.com/mcpwarden/mcpwarden/secrets"
)

// guards are the parts of the proxy's configuration that come from the
// profile's [tools.rules], [tools.limits] and [guards] tables.
type guards struct {
	calls    *filter.Calls
	sanitize func(string) (string, string)
	pins     *pin.Store
}

// buildGuards compiles the profile's guards for the server started by argv.
func buildGuards(prof *profile.Profile, argv []string, pinDir string) (guards, error) {
	var g guards
	roots, err := pathRoots(prof, argv)
	if err != nil {
		return g, err
	}
	cfg := filter.CallsConfig{
		Rules:   prof.ToolRules,
		Limits:  prof.ToolLimits,
		Secrets: prof.Guards.Secrets,
		Roots:   roots,
	}
	if cfg.Secrets != "off" || usesSecrets(prof.ToolRules) {
		cfg.Scanner = secretScanner{secrets.NewScanner()}
	}
	if g.calls, err = filter.NewCalls(cfg); err != nil {
		return g, fmt.Errorf("profile %s: %w", prof.Origin, err)
	}
	if prof.Guards.StripHidden {
		g.sanitize = stripHidden
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

func usesSecrets(rules []profile.ToolRule) bool {
	for _, r := range rules {
		if r.Secrets != "" && r.Secrets != "off" {
			return true
		}
	}
	return false
}

// pathRoots are the sets path arguments must lie in: the sandbox's read
// and write lists as the sandbox expands them. The filesystem server
// resolves relative paths against its directories, not its working
// directory, and the guard must resolve them the same way.
func pathRoots(prof *profile.Profile, argv []string) (pathguard.Roots, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return pathguard.Roots{}, fmt.Errorf("finding the home directory: %w", err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		return pathguard.Roots{}, fmt.Errorf("finding the working directory: %w", err)
	}
	args := argv[1:]
	read, err := profile.ExpandPaths(prof.Sandbox.Read, home, args)
	if err != nil {
		return pathguard.Roots{}, fmt.Errorf("profile %s: sandbox.read: %w", prof.Origin, err)
	}
	write, err := profile.ExpandPaths(prof.Sandbox.Write, home, args)
	if err != nil {
		return pathguard.Roots{}, fmt.Errorf("profile %s: sandbox.write: %w", prof.Origin, err)
	}
	r := pathguard.Roots{Read: read, Write: write, Dir: cwd, Home: home}
	if prof.Server.Name == "filesystem" {
		r.Base = pathguard.FilesystemBases(args, cwd, home)
	}
	return r, nil
}

// secretScanner adapts the secrets package to what filter asks of it.
type secretScanner struct{ s *secrets.Scanner }

func (s secretScanner) Redact(text string) (string, []string) {
	out, found := s.s.Redact(text)
	if len(found) == 0 {
		return text, nil
	}
	rules := make([]string, 0, len(found))
	for _, f := range found {
		rules = append(rules, f.Rule)
	}
	return out, rules
}

// stripHidden removes hidden text and says what it removed; for tag
// characters it also says what they spelled, so the audit log shows the
// smuggled instruction.
func stripHidden(s string) (string, string) {
	clean, rep := sanitize.String(s)
	if rep.Clean() {
		return s, ""
	}
	what := fmt.Sprintf("%d hidden characters or sequences (%s)", rep.Removed, strings.Join(rep.Kinds, ", "))
	if payload := sanitize.TagPayload(s); payload != "" {
		what += fmt.Sprintf(", tag characters spelling %q", truncate(payload, 200))
	}
	return clean, what
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
