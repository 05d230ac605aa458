package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mcpwarden/mcpwarden/filter"
	"github.com/mcpwarden/mcpwarden/profile"
)

func profileCommand(args []string, stdout, stderr io.Writer) int {
	group := commandDoc("profile")
	if len(args) == 0 {
		return usageError(stderr, group, "profile: no command given (list, show or validate)")
	}
	switch args[0] {
	case "help", "-h", "--help":
		writeHelp(stdout, group)
		return 0
	}
	c := group.sub(args[0])
	if c == nil {
		return usageError(stderr, group, "unknown profile command %q%s", args[0], suggestion(args[0], []string{"list", "show", "validate"}))
	}
	pos := args[1:]
	if wantsHelp(pos) {
		writeHelp(stdout, c)
		return 0
	}
	if len(pos) > 0 && pos[0] == "--" {
		pos = pos[1:]
	}
	switch c.word() {
	case "list":
		if len(pos) > 0 {
			return usageError(stderr, c, "profile list takes no arguments, got %q", pos[0])
		}
		return profileList(stdout, stderr)
	case "show":
		if len(pos) != 1 {
			return usageError(stderr, c, "profile show: want one built-in NAME or FILE, got %d arguments", len(pos))
		}
		p, err := resolveProfile(pos[0])
		if err != nil {
			diag(stderr, "%v", err)
			return 1
		}
		_, _ = stdout.Write(p.Source)
		return 0
	default:
		if len(pos) == 0 {
			return usageError(stderr, c, "profile validate: no FILE given")
		}
		return profileValidate(pos, stdout, stderr)
	}
}

func profileList(stdout, stderr io.Writer) int {
	ps, err := profile.Builtins()
	if err != nil {
		diag(stderr, "%v", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMATCHES\tDESCRIPTION")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Server.Name, strings.Join(p.Server.Match, ", "), p.Server.Description)
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return 0
}

func profileValidate(files []string, stdout, stderr io.Writer) int {
	status := 0
	for _, f := range files {
		p, err := profile.Load(f)
		if err != nil {
			status = 1
			// One line per problem, each already naming file and line.
			var joined interface{ Unwrap() []error }
			if errors.As(err, &joined) {
				for _, e := range joined.Unwrap() {
					diag(stderr, "%v", e)
				}
				continue
			}
			diag(stderr, "%v", err)
			continue
		}
		if err := compileRules(p); err != nil {
			status = 1
			diag(stderr, "%v", err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (server %q)\n", f, p.Server.Name)
	}
	return status
}

// compileRules compiles what run compiles from a profile beyond parsing
// it (globs, schemas, argument patterns), so that validate also reports
// what would stop run. Path arguments are compiled without roots: they
// depend on the server's command line.
func compileRules(p *profile.Profile) error {
	if _, err := filter.New(filter.Rules(p.Tools), filter.Rules(p.Resources), filter.Rules(p.Prompts)); err != nil {
		return fmt.Errorf("profile %s: %w", p.Origin, err)
	}
	_, err := filter.NewCalls(filter.CallsConfig{Rules: p.ToolRules, Limits: p.ToolLimits, Secrets: p.Guards.Secrets})
	if err != nil {
		return fmt.Errorf("profile %s: %w", p.Origin, err)
	}
	return nil
}
