package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mcpwarden/mcpwarden/profile"
	"github.com/mcpwarden/mcpwarden/sandbox"
)

// sandboxPaths are a profile's path lists expanded for one command line:
// what the sandbox mounts and the path guard checks arguments against.
type sandboxPaths struct {
	home              string
	read, write, hide []string
}

// expandPaths expands the profile's read, write and hide lists for the
// server's arguments.
func expandPaths(prof *profile.Profile, args []string) (sandboxPaths, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return sandboxPaths{}, fmt.Errorf("finding the home directory: %w", err)
	}
	sp := sandboxPaths{home: home}
	for _, l := range []struct {
		key  string
		in   []string
		into *[]string
	}{{"read", prof.Sandbox.Read, &sp.read}, {"write", prof.Sandbox.Write, &sp.write}, {"hide", prof.Sandbox.Hide, &sp.hide}} {
		if *l.into, err = profile.ExpandPaths(l.in, home, args); err != nil {
			return sandboxPaths{}, fmt.Errorf("profile %s: sandbox.%s: %w", prof.Origin, l.key, err)
		}
	}
	return sp, nil
}

// sandboxCommand turns a profile's [sandbox] table, its expanded paths
// and the server's command line into the command that starts the
// sandbox's init.
func sandboxCommand(prof *profile.Profile, sp sandboxPaths, argv []string, bestEffort bool, eg *egressRun) (*exec.Cmd, []string, error) {
	exe, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, nil, fmt.Errorf("server command %q: %w (install it, or give its path after --)", argv[0], err)
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return nil, nil, fmt.Errorf("server command %q: %w", argv[0], err)
	}
	serverArgv := append([]string{exe}, argv[1:]...)
	sb := prof.Sandbox
	read := append(slices.Clone(sp.read), installPaths(serverArgv)...)
	cfg := sandbox.Config{
		Argv:    serverArgv,
		Env:     eg.env(sandbox.Env(sb.Env, os.Environ())),
		Read:    read,
		Write:   sp.write,
		Hide:    sp.hide,
		Network: sb.Network,
		Egress:  eg.channel(),
		Limits: sandbox.Limits{
			Memory: sb.Limits.Memory, FileSize: sb.Limits.FileSize, Processes: sb.Limits.Processes,
			OpenFiles: sb.Limits.OpenFiles, CPUSeconds: sb.Limits.CPUSeconds,
		},
		SeccompDeny: sb.SeccompDeny,
		BestEffort:  bestEffort,
		Home:        sp.home,
		InitBuildID: initBuildID,
	}
	return sandbox.Command(cfg)
}

// installPaths returns what the server needs to read to run at all: its
// executable, and each script among its arguments. A script inside a
// node_modules tree brings the whole tree, since its dependencies live
// beside it; any other script brings only itself, so that naming
// ~/server.js does not open the home directory.
func installPaths(argv []string) []string {
	var out []string
	for _, a := range argv {
		if !filepath.IsAbs(a) {
			if strings.HasPrefix(a, "-") || !strings.ContainsRune(a, '/') {
				continue
			}
			abs, err := filepath.Abs(a)
			if err != nil {
				continue
			}
			a = abs
		}
		real, err := filepath.EvalSymlinks(a)
		if err != nil {
			continue
		}
		st, err := os.Stat(real)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if i := strings.Index(real, "/node_modules/"); i >= 0 {
			out = append(out, real[:i+len("/node_modules")])
			continue
		}
		out = append(out, real)
	}
	return out
}
