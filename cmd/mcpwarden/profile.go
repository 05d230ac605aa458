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

const profileUsage = `Usage:
  mcpwarden profile list                 list the built-in profiles and what they match
  mcpwarden profile show NAME|FILE       print a profile's TOML
  mcpwarden profile validate FILE...     check profile files; exit 1 if any is invalid
`

func profileCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, profileUsage)
		return 2
	}
	switch args[0] {
	case "list":
		return profileList(stdout, stderr)
	case "show":
		if len(args) != 2 {
			fmt.Fprint(stderr, profileUsage)
			return 2
		}
		p, err := profile.Resolve(args[1])
		if err != nil {
			diag(stderr, "%v", err)
			return 1
		}
		_, _ = stdout.Write(p.Source)
		return 0
	case "validate":
		if len(args) < 2 {
			fmt.Fprint(stderr, profileUsage)
			return 2
		}
		return profileValidate(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, profileUsage)
		return 0
	}
	diag(stderr, "unknown profile command %q", args[0])
	fmt.Fprint(stderr, profileUsage)
	return 2
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
