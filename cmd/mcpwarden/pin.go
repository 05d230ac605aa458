package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/mcpwarden/mcpwarden/pin"
)

// pinFlagSet is the flag set of "mcpwarden pin VERB", binding into dir.
func pinFlagSet(verb string, dir *string) *flag.FlagSet {
	fs := flag.NewFlagSet("pin "+verb, flag.ContinueOnError)
	fs.StringVar(dir, "dir", "", "`DIR` of the pin files (default: $XDG_STATE_HOME/mcpwarden/pins)")
	return fs
}

// pinCommand implements "mcpwarden pin". It returns 0 on success, 1 when an
// operation fails and 2 for a usage error.
func pinCommand(args []string, stdout, stderr io.Writer) int {
	group := commandDoc("pin")
	if len(args) == 0 {
		return usageError(stderr, group, "pin: no command given (list, show, accept or forget)")
	}
	verb := args[0]
	switch verb {
	case "help", "-h", "--help":
		writeHelp(stdout, group)
		return 0
	case "list", "show", "accept", "forget":
	default:
		return usageError(stderr, group, "unknown pin command %q%s", verb, suggestion(verb, []string{"list", "show", "accept", "forget"}))
	}
	dir, pos, code := pinFlags(verb, args[1:], stdout, stderr)
	if code >= 0 {
		return code
	}
	wantArgs := map[string][2]int{"list": {0, 1}, "show": {1, 1}, "accept": {1, -1}, "forget": {1, 1}}[verb]
	if len(pos) < wantArgs[0] {
		return usageError(stderr, group.sub(verb), "pin %s: no SERVER given (mcpwarden pin list shows the servers with pins)", verb)
	}
	if wantArgs[1] >= 0 && len(pos) > wantArgs[1] {
		return usageError(stderr, group.sub(verb), "pin %s: too many arguments, from %q on", verb, pos[wantArgs[1]])
	}
	if verb == "list" && len(pos) == 0 {
		return pinListServers(dir, stdout, stderr)
	}
	if verb == "forget" {
		// Forget must work on a file that Open refuses as corrupt.
		if err := pin.Forget(dir, pos[0]); err != nil {
			diag(stderr, "%v", err)
			return 1
		}
		fmt.Fprintf(stdout, "forgot the pins of server %s; its next tool list will be pinned as it is\n", pin.EscapeText(pos[0]))
		return 0
	}
	s, err := pin.Open(dir, pos[0])
	if err != nil {
		diag(stderr, "%v", err)
		return 1
	}
	switch verb {
	case "list":
		return pinListTools(s, stdout, stderr)
	case "show":
		return pinShow(s, stdout, stderr)
	default:
		return pinAccept(s, pos[1:], stdout, stderr)
	}
}

// pinFlags parses the flags of a pin subcommand, which may come before,
// between or after the positional arguments; after "--" everything is
// positional. It returns code -1 to go on, or the exit status.
func pinFlags(verb string, args []string, stdout, stderr io.Writer) (dir string, pos []string, code int) {
	pos, code = parseInterspersed("pin "+verb, pinFlagSet(verb, &dir), args, stdout, stderr)
	if code >= 0 {
		return "", nil, code
	}
	if dir == "" {
		d, err := pin.DefaultDir()
		if err != nil {
			diag(stderr, "%v (name the directory with --dir DIR)", err)
			return "", nil, 1
		}
		dir = d
	}
	return dir, pos, -1
}

func pinListServers(dir string, stdout, stderr io.Writer) int {
	names, listErr := pin.Servers(dir)
	status := 0
	if listErr != nil {
		status = 1
		var joined interface{ Unwrap() []error }
		if errors.As(listErr, &joined) {
			for _, e := range joined.Unwrap() {
				diag(stderr, "%v", e)
			}
		} else {
			diag(stderr, "%v", listErr)
		}
	}
	if len(names) == 0 {
		if status == 0 {
			fmt.Fprintf(stdout, "no pins in %s\n", dir)
		}
		return status
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tTOOLS\tPENDING")
	for _, name := range names {
		s, err := pin.Open(dir, name)
		if err != nil {
			diag(stderr, "%v", err)
			status = 1
			continue
		}
		all, err := s.List()
		if err != nil {
			diag(stderr, "%v", err)
			status = 1
			continue
		}
		pending := 0
		for _, v := range all {
			if v.Blocked() {
				pending++
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\n", pin.EscapeText(name), len(all), pending)
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return status
}

// hasPins reports whether the server has a pin file, saying so when not.
func hasPins(s *pin.Store, stderr io.Writer) bool {
	if _, err := os.Stat(s.Path()); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			diag(stderr, "server %s has no pins in %s (mcpwarden pin list shows the servers with pins; --dir DIR reads another directory)", pin.EscapeText(s.Server()), s.Path())
		} else {
			diag(stderr, "%v", err)
		}
		return false
	}
	return true
}

func pinListTools(s *pin.Store, stdout, stderr io.Writer) int {
	if !hasPins(s, stderr) {
		return 1
	}
	all, err := s.List()
	if err != nil {
		diag(stderr, "%v", err)
		return 1
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOOL\tSTATE\tSINCE\tDIGEST")
	for _, v := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", pin.EscapeText(v.Name), v.Status, v.Since.UTC().Format(time.RFC3339), pin.Digest(v.New))
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return 0
}

func pinShow(s *pin.Store, stdout, stderr io.Writer) int {
	if !hasPins(s, stderr) {
		return 1
	}
	pending, err := s.Pending()
	if err != nil {
		diag(stderr, "%v", err)
		return 1
	}
	server := pin.EscapeText(s.Server())
	if len(pending) == 0 {
		fmt.Fprintf(stdout, "no pending changes for server %s\n", server)
		return 0
	}
	for i, v := range pending {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := pin.WriteDiff(stdout, v); err != nil {
			diag(stderr, "%v", err)
			return 1
		}
		fmt.Fprintf(stdout, "  digest: %s\n", pin.Digest(v.New))
		for _, f := range pin.Scan(v.New) {
			fmt.Fprintf(stdout, "  warning: %s\n", f)
		}
	}
	fmt.Fprintf(stdout, "\naccept what you reviewed with: mcpwarden pin accept %s", server)
	for _, v := range pending {
		fmt.Fprintf(stdout, " %s@%s", pin.EscapeText(v.Name), pin.Digest(v.New))
	}
	fmt.Fprintln(stdout)
	return 0
}

func pinAccept(s *pin.Store, tools []string, stdout, stderr io.Writer) int {
	if !hasPins(s, stderr) {
		return 1
	}
	names, err := s.Accept(tools...)
	if err != nil {
		diag(stderr, "%v", err)
		return 1
	}
	server := pin.EscapeText(s.Server())
	if len(names) == 0 {
		fmt.Fprintf(stdout, "no pending changes for server %s\n", server)
		return 0
	}
	for _, n := range names {
		fmt.Fprintf(stdout, "accepted %s of server %s\n", pin.EscapeText(n), server)
	}
	return 0
}
