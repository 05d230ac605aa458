package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mcpwarden/mcpwarden/profile"
	"github.com/mcpwarden/mcpwarden/sandbox"
)

// sandboxCommand turns a profile's [sandbox] table and the server's command
// line into the command that starts the sandbox's init.
func sandboxCommand(prof *profile.Profile, argv []string, bestEffort bool) (*exec.Cmd, []string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, nil, fmt.Errorf("finding the home directory: %w", err)
	}
	exe, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, nil, fmt.Errorf("server command %q: %w", argv[0], err)
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return nil, nil, fmt.Errorf("server command %q: %w", argv[0], err)
	}
	args := argv[1:]
	sb := prof.Sandbox
	expand := func(key string, paths []string) []string {
		if err != nil {
			return nil
		}
		var out []string
		out, err = profile.ExpandPaths(paths, home, args)
		if err != nil {
			err = fmt.Errorf("profile %s: sandbox.%s: %w", prof.Origin, key, err)
		}
		return out
	}
	read, write, hide := expand("read", sb.Read), expand("write", sb.Write), expand("hide", sb.Hide)
	if err != nil {
		return nil, nil, err
	}
	read = append(read, installPaths(append([]string{exe}, args...))...)
	cfg := sandbox.Config{
		Argv:    append([]string{exe}, args...),
		Env:     sandbox.Env(sb.Env, os.Environ()),
		Read:    read,
		Write:   write,
		Hide:    hide,
		Network: sb.Network,
		Limits: sandbox.Limits{
			Memory: sb.Limits.Memory, FileSize: sb.Limits.FileSize, Processes: sb.Limits.Processes,
			OpenFiles: sb.Limits.OpenFiles, CPUSeconds: sb.Limits.CPUSeconds,
		},
		SeccompDeny: sb.SeccompDeny,
		BestEffort:  bestEffort,
		Home:        home,
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
