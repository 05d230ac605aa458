package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/mcpwarden/mcpwarden/clientconfig"
)

// wrapFlags are the options of "mcpwarden wrap" and "mcpwarden unwrap".
type wrapFlags struct {
	client, file, project, warden string
	dryRun, bestEffort            bool
}

// configFile is one file to change and the client it belongs to.
type configFile struct {
	client clientconfig.Client
	path   string
}

// wrapCommand implements "mcpwarden wrap" (undo false) and "mcpwarden
// unwrap" (undo true). It returns 0 when every file was handled, 1 when
// one failed and 2 for a usage error.
func wrapCommand(args []string, undo bool, stdout, stderr io.Writer) int {
	f, code := parseWrapFlags(args, undo, stdout, stderr)
	if code >= 0 {
		return code
	}
	opts, err := wardenOptions(f)
	if err != nil {
		diag(stderr, "%v", err)
		return 2
	}
	files, err := configFiles(f)
	if err != nil {
		diag(stderr, "%v", err)
		return 1
	}
	if !undo && f.warden == "" && strings.Contains(opts.Warden, string(filepath.Separator)+"go-build") {
		diag(stderr, "warning: this mcpwarden runs from a temporary build directory (%s); build it (make build) and wrap with --mcpwarden PATH", opts.Warden)
	}
	if _, err := os.Stat(opts.Warden); !undo && filepath.IsAbs(opts.Warden) && err != nil {
		diag(stderr, "warning: --mcpwarden %s: %v; the clients will fail to start the wrapped servers until it exists", opts.Warden, err)
	}
	status, written := 0, false
	for _, cf := range files {
		var fr clientconfig.FileResult
		if undo {
			fr, err = clientconfig.UnwrapFile(cf.path, cf.client, opts, f.dryRun)
		} else {
			fr, err = clientconfig.WrapFile(cf.path, cf.client, opts, f.dryRun)
		}
		if err != nil {
			diag(stderr, "%v; nothing was changed in it: fix or restore the file and run the command again", err)
			status = 1
			continue
		}
		printFileResult(stdout, cf, fr, undo, f.dryRun)
		written = written || fr.Written
	}
	if written {
		fmt.Fprintln(stdout, "Restart the clients whose files changed, so that they start their servers anew.")
	}
	return status
}

// wrapFlagSet is the flag set of "mcpwarden wrap" (undo false) or
// "mcpwarden unwrap" (undo true), binding into f.
func wrapFlagSet(undo bool, f *wrapFlags) *flag.FlagSet {
	fs := flag.NewFlagSet(map[bool]string{false: "wrap", true: "unwrap"}[undo], flag.ContinueOnError)
	fs.StringVar(&f.client, "client", "all", "the client whose files to change, a `NAME` or all: every file that exists")
	fs.StringVar(&f.file, "file", "", "change the file at `PATH` instead (its client from --client, else guessed from its name)")
	fs.StringVar(&f.project, "project", "", "change the project files of `DIR` instead of the user's files")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print a unified diff of what would change, and write nothing")
	fs.StringVar(&f.warden, "mcpwarden", "", "the mcpwarden command written into the entries, a `PATH` (default: the absolute path of this program; \"mcpwarden\" to find it on the client's PATH)")
	if !undo {
		fs.BoolVar(&f.bestEffort, "best-effort", false, "add --best-effort to each run line: start servers even where the kernel lacks a sandbox feature, with a warning (needed as root without a delegated cgroup)")
	}
	return fs
}

func parseWrapFlags(args []string, undo bool, stdout, stderr io.Writer) (wrapFlags, int) {
	var f wrapFlags
	fs := wrapFlagSet(undo, &f)
	name := fs.Name()
	if code := parseFlags(name, fs, args, stdout, stderr); code >= 0 {
		return f, code
	}
	c := commandDoc(name)
	if fs.NArg() > 0 {
		return f, usageError(stderr, c, "%s takes no arguments, got %q (name a file with --file PATH)", name, fs.Arg(0))
	}
	if f.file != "" && f.project != "" {
		return f, usageError(stderr, c, "%s: give --file or --project, not both", name)
	}
	return f, -1
}

// wardenOptions returns the command to write into the entries: the flag's
// value (a path made absolute, a bare name kept for PATH lookup) or the
// running program.
func wardenOptions(f wrapFlags) (clientconfig.Options, error) {
	var opts clientconfig.Options
	if f.bestEffort {
		opts.RunFlags = []string{"--best-effort"}
	}
	switch {
	case f.warden != "" && !strings.ContainsRune(f.warden, filepath.Separator):
		opts.Warden = f.warden
	case f.warden != "":
		abs, err := filepath.Abs(f.warden)
		if err != nil {
			return opts, fmt.Errorf("--mcpwarden %s: %w", f.warden, err)
		}
		opts.Warden = abs
	default:
		exe, err := os.Executable()
		if err != nil {
			return opts, fmt.Errorf("finding the path of this program (%w); name it with --mcpwarden PATH", err)
		}
		opts.Warden = exe
	}
	return opts, nil
}

// configFiles returns the files the flags select. Without --file, only
// files that exist are returned, and finding none is an error that lists
// every path tried.
func configFiles(f wrapFlags) ([]configFile, error) {
	var chosen []clientconfig.Client
	if f.client == "all" {
		chosen = clientconfig.Clients()
	} else {
		c, err := clientconfig.Lookup(f.client)
		if err != nil {
			return nil, fmt.Errorf("%w%s", err, suggestion(f.client, clientconfig.ClientNames()))
		}
		chosen = []clientconfig.Client{c}
	}
	if f.file != "" {
		c := clientconfig.ForFile(f.file)
		if f.client != "all" {
			c = chosen[0]
		}
		if _, err := os.Stat(f.file); err != nil {
			return nil, fmt.Errorf("--file %s: %w", f.file, err)
		}
		return []configFile{{c, f.file}}, nil
	}
	project := f.project
	if project != "" {
		abs, err := filepath.Abs(project)
		if err != nil {
			return nil, fmt.Errorf("--project %s: %w", project, err)
		}
		project = abs
	}
	env := clientconfig.EnvFrom(os.Getenv)
	if project == "" && env.Home == "" {
		return nil, errors.New("HOME is not set, so the clients' files cannot be found; name one with --file")
	}
	var out []configFile
	var tried []string
	for _, c := range chosen {
		paths := c.Paths(env, project)
		if len(paths) == 0 && f.client != "all" {
			return nil, fmt.Errorf("%s has no project configuration; leave out --project, or name a file with --file", c.Title)
		}
		for _, p := range paths {
			tried = append(tried, p)
			if _, err := os.Stat(p); err == nil {
				out = append(out, configFile{c, p})
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s configuration %s: %w", c.Title, p, err)
			}
		}
	}
	if len(out) == 0 {
		who := "MCP client"
		if f.client != "all" {
			who = chosen[0].Title
		}
		return nil, fmt.Errorf("no %s configuration found; tried %s; name a file with --file PATH (and --client NAME)",
			who, strings.Join(tried, ", "))
	}
	return out, nil
}

// printFileResult writes what happened to one file: a line per server,
// then what was written, and in a dry run the diff.
func printFileResult(w io.Writer, cf configFile, fr clientconfig.FileResult, undo, dryRun bool) {
	fmt.Fprintf(w, "%s: %s\n", cf.client.Title, printable(fr.Path))
	if len(fr.Reports) == 0 {
		fmt.Fprintln(w, "  no MCP servers in it")
	}
	first := strings.Join(cf.client.Locations[0], ".")
	for _, r := range fr.Reports {
		name := r.Name
		if r.Where != first {
			name = r.Where + "." + r.Name
		}
		line := fmt.Sprintf("  %s: %s", name, r.Action)
		if r.Profile != "" {
			line += ", profile " + r.Profile
		}
		if r.Detail != "" {
			line += ": " + r.Detail
		}
		// Names and commands come from the file: they must not drive the
		// terminal or break the one-line-per-server summary.
		fmt.Fprintln(w, printable(line))
	}
	switch {
	case !fr.Changed:
		fmt.Fprintln(w, "  unchanged")
	case dryRun:
		fmt.Fprint(w, fr.Diff)
		fmt.Fprintln(w, "  dry run: nothing written")
	case undo && fr.Restored:
		fmt.Fprintf(w, "  restored the file from before wrap byte for byte; removed its backup %s\n", fr.Backup)
	case undo && fr.Backup != "":
		fmt.Fprintf(w, "  unwrapped in place, keeping the edits made since wrap; the backup from before wrap stays at %s\n", fr.Backup)
	case undo:
		fmt.Fprintln(w, "  unwrapped in place")
	case fr.BackupCreated:
		fmt.Fprintf(w, "  written; the file as it was is at %s\n", fr.Backup)
	default:
		fmt.Fprintf(w, "  written; the backup from before the first wrap stays at %s\n", fr.Backup)
	}
	if fr.Target != fr.Path && fr.Target != "" {
		fmt.Fprintf(w, "  (%s is a symbolic link to %s: that file is the one changed, and the link stays)\n", fr.Path, fr.Target)
	}
}

// printable returns s with control, format (bidi, zero-width) and other
// non-graphic characters written as Go escapes.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsGraphic(r) && !unicode.Is(unicode.Cf, r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRuneToASCII(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
