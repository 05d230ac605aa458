package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/clientconfig"
)

// command is one entry of the command reference: a verb or a sub-verb.
// The help pages, the usage of a usage error, docs/cli.md, the man page
// and the completion scripts are all rendered from these entries, and a
// command's flags come from the flag set that parses them, so that the
// documentation cannot drift from what the program accepts.
type command struct {
	name     string // the words after "mcpwarden": "run", "profile show"
	args     string // positional arguments in the synopsis: "NAME|FILE"
	summary  string // one line, lower case, no final period
	desc     string // paragraphs separated by blank lines; a paragraph whose lines all start with two blanks is kept verbatim
	examples []example
	// flags returns a new flag set of the command, the one its parser
	// uses; nil for a command without flags.
	flags   func() *flag.FlagSet
	subs    []*command
	argKind valueKind // what the positional arguments complete to
	hidden  bool
}

// example is one command line of a help page and what it does.
type example struct{ line, note string }

// valueKind is what a flag's value or a positional argument completes to.
type valueKind int

const (
	valueNone     valueKind = iota
	valueFile               // a file name
	valueDir                // a directory name
	valueProfile            // a built-in profile name, or a file
	valueClient             // a client name wrap knows, or all
	valueCommand            // a verb of mcpwarden
	valueShell              // a shell completion knows
	valueDecision           // allow or deny
	valueEvent              // an audit event type
)

// shells are the shells "mcpwarden completion" writes a script for.
func shells() []string { return []string{"bash", "zsh", "fish"} }

// words returns the fixed words a kind completes to, if it has any.
func (k valueKind) words() []string {
	switch k {
	case valueClient:
		return append(clientconfig.ClientNames(), "all")
	case valueShell:
		return shells()
	case valueDecision:
		return []string{audit.DecisionAllow, audit.DecisionDeny}
	case valueEvent:
		return []string{audit.EventDecision, audit.EventOutcome, audit.EventGuard, audit.EventEgress}
	}
	return nil
}

// flagValueKind is what the value of the flag called name completes to;
// the flags of every verb that share a name share a meaning.
func flagValueKind(name string) valueKind {
	switch name {
	case "profile":
		return valueProfile
	case "client":
		return valueClient
	case "file", "audit-log", "mcpwarden":
		return valueFile
	case "dir", "pin-dir", "project":
		return valueDir
	case "decision":
		return valueDecision
	case "event":
		return valueEvent
	}
	return valueNone
}

// reference returns the root of the command reference, whose subs are
// mcpwarden's verbs in the order help lists them.
func reference() *command {
	return &command{
		name:    "",
		args:    "COMMAND [ARGS...]",
		summary: "run an MCP server behind a policy-enforcing proxy",
		desc: `mcpwarden goes in front of an MCP server that a client starts on stdio. It
reads every JSON-RPC message in both directions with one strict decoder,
enforces a per-server profile (which tools, resources and prompts exist for
the model, which arguments a call may have), answers what it refuses itself,
and writes an audit record of every tool call. The server runs in a kernel
sandbox built from the profile: namespaces, Landlock, seccomp, rlimits and
cgroup limits.

Replace a server's command in the client's configuration with
"mcpwarden run -- <its command>", or let "mcpwarden wrap" do it for every
server of the client.`,
		examples: []example{
			{"mcpwarden run -- npx -y @modelcontextprotocol/server-filesystem ~/work", "run the filesystem server under its built-in profile"},
			{"mcpwarden wrap --dry-run", "what wrap would change in every MCP client's configuration"},
			{"mcpwarden check", "what this kernel lets this user enforce"},
		},
		subs: []*command{runDoc(), checkDoc(), profileDoc(), pinDoc(), auditDoc(), wrapDoc(false), wrapDoc(true),
			completionDoc(), versionDoc(), helpDoc(), gendocsDoc()},
	}
}

func runDoc() *command {
	return &command{
		name:    "run",
		args:    "-- CMD [ARGS...]",
		summary: "run an MCP server under a profile",
		desc: `Starts CMD as an MCP server speaking on stdio, inside a kernel sandbox built
from the profile's [sandbox] table, and relays its JSON-RPC messages to and
from this process's stdin and stdout. Every message is decoded strictly and
checked against the profile; what the profile refuses, mcpwarden answers
itself, and every call is recorded in the audit log.

Without --profile, the built-in profile whose match list fits CMD and ARGS
is used, else "default", the strict one. NAME is a built-in profile
("mcpwarden profile list"); FILE is a TOML file, written with a / or a .toml
ending ("./mine.toml").

The server's stderr passes through to mcpwarden's stderr; mcpwarden's own
diagnostics are single lines starting "mcpwarden: ". The exit status is the
server's, or 128+N when signal N ended it. A sandbox feature the kernel
lacks stops run at start-up, with the reason, unless --best-effort.`,
		examples: []example{
			{"mcpwarden run -- npx -y @modelcontextprotocol/server-filesystem ~/work", "the built-in filesystem profile, chosen by the package name"},
			{"mcpwarden run --profile filesystem -- npx -y @modelcontextprotocol/server-filesystem ~/work", "the same profile, named"},
			{"mcpwarden run --profile ./readonly.toml --audit-log /tmp/fs.jsonl -- npx -y @modelcontextprotocol/server-filesystem ~/work", "a profile of one's own, and the audit log in another file"},
		},
		flags:   func() *flag.FlagSet { return runFlagSet(&runFlags{}) },
		argKind: valueFile,
	}
}

func checkDoc() *command {
	return &command{
		name:    "check",
		summary: "report what this kernel and user can enforce",
		desc: `Reports what this kernel lets this user enforce: user namespaces, Landlock
(and its TCP rules), seccomp and cgroup v2 limits, with why a feature is
missing and how to get it, and what each built-in profile gets here. Exits 0
when every feature is available, 1 otherwise.`,
		examples: []example{
			{"mcpwarden check", "the report, for people"},
			{"mcpwarden check --json", "the same report as JSON"},
		},
		flags: func() *flag.FlagSet { return checkFlagSet(new(bool)) },
	}
}

func profileDoc() *command {
	return &command{
		name:    "profile",
		summary: "list, print and validate profiles",
		desc: `A profile says what a server may do: its sandbox (files, network,
environment, limits), the tools, resources and prompts the client sees, and
the rules each call's arguments must follow. The built-in profiles cover
common servers; a profile of one's own is a TOML file, best started from a
built-in one.`,
		subs: []*command{
			{
				name:     "profile list",
				summary:  "list the built-in profiles and what they match",
				desc:     `Prints each built-in profile's name, the commands it is chosen for when run has no --profile, and what it is for.`,
				examples: []example{{"mcpwarden profile list", ""}},
			},
			{
				name:    "profile show",
				args:    "NAME|FILE",
				summary: "print a profile's TOML",
				desc: `Prints the profile as written. A built-in profile is the starting point of one
of one's own: its sandbox grants are those its server needs to start.`,
				examples: []example{
					{"mcpwarden profile show filesystem", ""},
					{"mcpwarden profile show filesystem > ~/.config/mcpwarden/fs-readonly.toml", "start a profile of one's own from the built-in one"},
				},
				argKind: valueProfile,
			},
			{
				name:    "profile validate",
				args:    "FILE...",
				summary: "check profile files; exit 1 if any is invalid",
				desc: `Parses each file and compiles its rules as run would, printing one line per
problem, each naming the file and line. An unknown key is an error.`,
				examples: []example{{"mcpwarden profile validate ~/.config/mcpwarden/*.toml", ""}},
				argKind:  valueFile,
			},
		},
	}
}

func pinDoc() *command {
	sub := func(verb, args, summary, desc string, ex ...example) *command {
		return &command{name: "pin " + verb, args: args, summary: summary, desc: desc, examples: ex,
			flags: func() *flag.FlagSet { return pinFlagSet(verb, new(string)) }}
	}
	return &command{
		name:    "pin",
		summary: "review tool definitions that changed since they were pinned",
		desc: `With guards.pin in its profile, a server's tool definitions are pinned when
first seen. A tool whose definition changed since it was accepted
("changed"), or that appeared after the server's first tool list ("new"), is
hidden and its calls refused until its pending definition is accepted.
SERVER is the profile's server name.`,
		subs: []*command{
			sub("list", "[SERVER]", "list the servers with pins, or one server's tools and their state", "",
				example{"mcpwarden pin list", "the servers with pins, and how many tools wait"},
				example{"mcpwarden pin list filesystem", "each tool of the filesystem server and its state"}),
			sub("show", "SERVER", "show what changed in each held-back tool, old against new",
				"Prints a diff of each pending definition against the accepted one, with warnings for what looks like instructions to the model.",
				example{"mcpwarden pin show filesystem", ""}),
			sub("accept", "SERVER [TOOL[@DIGEST]...]", "accept the pending definitions (all of them without TOOL)",
				"TOOL@DIGEST accepts the definition only if it is still the one `pin show` printed with that digest; "+
					"a bare TOOL accepts whatever is pending when accept runs.",
				example{"mcpwarden pin accept filesystem read_text_file@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "accept one tool's new definition, as reviewed"},
				example{"mcpwarden pin accept filesystem read_text_file", "accept one tool's new definition"},
				example{"mcpwarden pin accept filesystem", "accept every pending definition"}),
			sub("forget", "SERVER", "remove a server's pins; its next tool list is pinned afresh",
				"Works on a pin file that is corrupt, which the other pin commands refuse.",
				example{"mcpwarden pin forget filesystem", ""}),
		},
	}
}

func auditDoc() *command {
	return &command{
		name:    "audit",
		summary: "read, summarise and verify the audit logs",
		desc: `Prints the records that match the flags, one line each. Records of several
logs are merged in time order. Every text that comes from a client or a
server is printed escaped, so that it cannot drive the terminal.`,
		examples: []example{
			{"mcpwarden audit --since 24h --decision deny", "what was refused in the last day"},
			{"mcpwarden audit --follow --server filesystem", "watch the filesystem server's calls as they happen"},
			{"mcpwarden audit --json --tool write_file | jq .arguments", "the raw records, for jq"},
		},
		flags: func() *flag.FlagSet { return auditFlagSet("", &auditOptions{}, new(string), new(string)) },
		subs: []*command{
			{
				name:     "audit summary",
				summary:  "count calls, denials and errors, with p50 and p95 durations, per server and tool",
				examples: []example{{"mcpwarden audit summary --since 7d", "the last week, per server and tool"}},
				flags:    func() *flag.FlagSet { return auditFlagSet("summary", &auditOptions{}, new(string), new(string)) },
			},
			{
				name:    "audit verify",
				args:    "[FILE...]",
				summary: "check the hash chain of each log",
				desc: `Exits 1 when a chain is broken and names the first line that was edited,
removed, inserted or moved; records written before the chain existed are
reported as unchained, not as tampering. Prints each log's head hash; given
back with --head, the chain must still pass through it, which shows a log
rewritten or cut since then.`,
				examples: []example{
					{"mcpwarden audit verify", "every log in the state directory"},
					{"mcpwarden audit verify --head HASH ~/.local/state/mcpwarden/filesystem.jsonl", "the log still holds the head printed before"},
				},
				flags:   func() *flag.FlagSet { return auditFlagSet("verify", &auditOptions{}, new(string), new(string)) },
				argKind: valueFile,
			},
		},
	}
}

// wrapClients is the paragraph of wrap's and unwrap's pages that names
// the clients; a test checks it against the clients clientconfig knows.
const wrapClients = `Clients (--client NAME) and their files, the user's unless --project:

  claude-desktop  $XDG_CONFIG_HOME/Claude/claude_desktop_config.json,
                  ~/Library/Application Support/Claude/claude_desktop_config.json
  claude-code     ~/.claude.json (mcpServers and projects.*.mcpServers);
                  project: DIR/.mcp.json
  cursor          ~/.cursor/mcp.json; project: DIR/.cursor/mcp.json
  vscode          $XDG_CONFIG_HOME/Code/User/mcp.json,
                  ~/Library/Application Support/Code/User/mcp.json;
                  project: DIR/.vscode/mcp.json
  windsurf        ~/.codeium/windsurf/mcp_config.json
  codex           $CODEX_HOME/config.toml (~/.codex/config.toml);
                  project: DIR/.codex/config.toml`

func wrapDoc(undo bool) *command {
	if undo {
		return &command{
			name:    "unwrap",
			summary: "undo wrap: give every server its own command back",
			desc: `Puts every server's own command back: byte for byte from the backup when the
file is as wrap left it, else entry by entry, keeping the edits made since.

` + wrapClients,
			examples: []example{
				{"mcpwarden unwrap --dry-run", "what unwrap would change in every client's files"},
				{"mcpwarden unwrap", "undo wrap in every client's files"},
				{"mcpwarden unwrap --client cursor --dry-run", "what unwrap would change in Cursor's file"},
			},
			flags: func() *flag.FlagSet { return wrapFlagSet(true, &wrapFlags{}) },
		}
	}
	return &command{
		name:    "wrap",
		summary: "make MCP clients run every stdio server under mcpwarden",
		desc: `Rewrites the configuration of MCP clients so that every stdio server runs as
"mcpwarden run --profile NAME -- <its command and arguments>", NAME being the
built-in profile that matches the server ("default", the strict one, when
none does). Its env and every other key stay as they are; remote (http, sse)
servers are left alone. An entry that already runs under mcpwarden is left
alone, so wrapping twice changes nothing. Before its first change a file is
copied to FILE` + clientconfig.BackupSuffix + `, with its mode.

` + "\n\n" + wrapClients,
		examples: []example{
			{"mcpwarden wrap --dry-run", "what would change in every client's files"},
			{"mcpwarden wrap --client claude-desktop", "wrap Claude Desktop's servers"},
			{"mcpwarden wrap --client vscode --project .", "wrap the servers of ./.vscode/mcp.json"},
			{"mcpwarden wrap --file ~/dotfiles/cursor-mcp.json --client cursor --mcpwarden mcpwarden", "a file elsewhere, and mcpwarden found on the client's PATH"},
		},
		flags: func() *flag.FlagSet { return wrapFlagSet(false, &wrapFlags{}) },
	}
}

func completionDoc() *command {
	return &command{
		name:    "completion",
		args:    "bash|zsh|fish",
		summary: "print a shell completion script",
		desc: `Prints a script that completes mcpwarden's commands, sub-commands and flags
in the shell; --profile completes the built-in profile names (from
"mcpwarden profile list") and file names, --client the clients wrap knows.`,
		examples: []example{
			{"source <(mcpwarden completion bash)", "bash, in this shell; add the line to ~/.bashrc for every shell"},
			{"mcpwarden completion bash > ~/.local/share/bash-completion/completions/mcpwarden", "bash, with the bash-completion package"},
			{`mcpwarden completion zsh > "${fpath[1]}/_mcpwarden"`, "zsh, with compinit"},
			{"mcpwarden completion fish > ~/.config/fish/completions/mcpwarden.fish", "fish"},
		},
		argKind: valueShell,
	}
}

func versionDoc() *command {
	return &command{name: "version", summary: "print the version", examples: []example{{"mcpwarden version", ""}}}
}

func helpDoc() *command {
	return &command{
		name:    "help",
		args:    "[COMMAND [SUBCOMMAND]]",
		summary: "print the help of mcpwarden or of one command",
		desc:    `"mcpwarden help COMMAND" prints the same page as "mcpwarden COMMAND --help".`,
		examples: []example{
			{"mcpwarden help run", ""},
			{"mcpwarden help pin accept", ""},
		},
		argKind: valueCommand,
	}
}

func gendocsDoc() *command {
	return &command{
		name:    "__gendocs",
		args:    "DIR",
		summary: "write cli.md and mcpwarden.1 into DIR (used by make docs)",
		hidden:  true,
	}
}

// visible returns the commands help lists: every one but the hidden.
func visible(cs []*command) []*command {
	return slices.DeleteFunc(slices.Clone(cs), func(c *command) bool { return c.hidden })
}

// find returns the command named by the words path ("pin", "accept"), or
// nil and the words that named nothing.
func (c *command) find(path ...string) (*command, string) {
	cur := c
	for _, w := range path {
		next := cur.sub(w)
		if next == nil {
			return nil, w
		}
		cur = next
	}
	return cur, ""
}

// sub returns the sub-command called word, or nil.
func (c *command) sub(word string) *command {
	for _, s := range c.subs {
		if s.word() == word {
			return s
		}
	}
	return nil
}

// word is the last word of the command's name: "accept" of "pin accept".
func (c *command) word() string {
	return c.name[strings.LastIndexByte(c.name, ' ')+1:]
}

// full is the command line that starts the command: "mcpwarden pin accept".
func (c *command) full() string {
	return strings.TrimSpace("mcpwarden " + c.name)
}

// synopsis is the command's own usage line, without its sub-commands'.
func (c *command) synopsis() string {
	s := c.full()
	if c.flags != nil && hasFlags(c.flags()) {
		s += " [flags]"
	}
	if c.args != "" {
		s += " " + c.args
	}
	return s
}

// synopses are the usage lines of the command: its own, when it runs on
// its own (it has flags or arguments, or no sub-commands), then its
// sub-commands'.
func (c *command) synopses() []string {
	if c.name == "" {
		return []string{c.synopsis()}
	}
	var out []string
	if len(c.subs) == 0 || c.flags != nil || c.args != "" {
		out = append(out, c.synopsis())
	}
	for _, s := range visible(c.subs) {
		out = append(out, s.synopsis())
	}
	return out
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// flagDoc is one flag as the reference shows it.
type flagDoc struct {
	name, arg, usage, def string
}

// flagDocs returns the flags of the command's flag set, in name order.
func (c *command) flagDocs() []flagDoc {
	if c.flags == nil {
		return nil
	}
	var out []flagDoc
	c.flags().VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		if isBoolFlag(f) {
			arg = ""
		}
		d := flagDoc{name: f.Name, arg: arg, usage: usage}
		switch f.DefValue {
		case "", "false", "0":
		default:
			d.def = f.DefValue
		}
		out = append(out, d)
	})
	return out
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// head is the flag with its dashes and argument: "--profile NAME|FILE".
func (d flagDoc) head() string {
	if d.arg == "" {
		return "--" + d.name
	}
	return "--" + d.name + " " + d.arg
}

// text is the usage with the default appended.
func (d flagDoc) text() string {
	if d.def == "" {
		return d.usage
	}
	return fmt.Sprintf("%s (default %s)", d.usage, d.def)
}

// writeHelp writes the help page of c, the root or a verb, for a
// terminal.
func writeHelp(w io.Writer, c *command) {
	if c.name == "" {
		fmt.Fprintf(w, "mcpwarden %s.\n\n", c.summary)
	} else {
		fmt.Fprintf(w, "%s: %s\n\n", c.full(), c.summary)
	}
	fmt.Fprintln(w, "Usage:")
	for _, s := range c.synopses() {
		fmt.Fprintf(w, "  %s\n", s)
	}
	if c.desc != "" {
		fmt.Fprintf(w, "\n%s\n", c.desc)
	}
	if subs := visible(c.subs); len(subs) > 0 {
		fmt.Fprintln(w, "\nCommands:")
		width := 0
		for _, s := range subs {
			width = max(width, len(s.name))
		}
		for _, s := range subs {
			fmt.Fprintf(w, "  %-*s  %s\n", width, s.name, s.summary)
		}
	}
	writeFlags(w, "Flags:", c.flagDocs())
	examples := c.examples
	for _, s := range visible(c.subs) {
		if c.name != "" {
			examples = append(examples, s.examples...)
		}
	}
	if len(examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range examples {
			fmt.Fprintf(w, "  %s\n", e.line)
			if e.note != "" {
				fmt.Fprintf(w, "      %s\n", e.note)
			}
		}
	}
	switch {
	case c.name == "":
		fmt.Fprintln(w, "\nRun \"mcpwarden help COMMAND\" or \"mcpwarden COMMAND --help\" for a command's flags and examples.")
		fmt.Fprintln(w, "The full reference is docs/cli.md and the man page mcpwarden(1).")
	case len(c.subs) > 0:
		fmt.Fprintf(w, "\nRun \"%s COMMAND --help\" for the flags of each command.\n", c.full())
	}
}

// writeFlags writes a flag list under a title, each flag's text wrapped
// beside or under its name.
func writeFlags(w io.Writer, title string, flags []flagDoc) {
	if len(flags) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", title)
	const col = 24
	for _, f := range flags {
		head := "  " + f.head()
		lines := wrapText(f.text(), 76-col)
		if len(head) >= col-1 {
			fmt.Fprintln(w, head)
			head = ""
		}
		for _, l := range lines {
			fmt.Fprintf(w, "%-*s%s\n", col, head, l)
			head = ""
		}
	}
}

// wrapText breaks s into lines of at most width bytes, at blanks.
func wrapText(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
}

// helpCommand implements "mcpwarden help [COMMAND [SUBCOMMAND]]".
func helpCommand(args []string, stdout, stderr io.Writer) int {
	root := reference()
	if wantsHelp(args) {
		args = []string{"help"}
	}
	c, miss := root.find(args...)
	if c == nil {
		self, _ := root.find("help")
		return usageError(stderr, self, "help: no command %q%s", strings.Join(args, " "), suggestion(miss, commandWords(root, args)))
	}
	writeHelp(stdout, c)
	return 0
}

// commandWords are the names a word of path could have been.
func commandWords(root *command, path []string) []string {
	cur := root
	var names []string
	for _, w := range path {
		names = nil
		for _, s := range visible(cur.subs) {
			names = append(names, s.word())
		}
		if cur = cur.sub(w); cur == nil {
			break
		}
	}
	return names
}

// usageError reports a usage error of c on stderr: the problem, the
// command's usage and what to run for more, each a line starting
// "mcpwarden: ". It returns the exit status of a usage error, 2.
func usageError(stderr io.Writer, c *command, format string, args ...any) int {
	diag(stderr, format, args...)
	for _, s := range c.synopses() {
		diag(stderr, "usage: %s", s)
	}
	if c.name == "" {
		var verbs []string
		for _, s := range visible(c.subs) {
			verbs = append(verbs, s.name)
		}
		diag(stderr, "commands: %s", strings.Join(verbs, ", "))
		diag(stderr, "run \"mcpwarden help\" for what each does, with examples")
	} else {
		diag(stderr, "run \"%s --help\" for its flags and examples", c.full())
	}
	return 2
}

// commandDoc returns the reference entry of the command named by the
// words of name ("pin accept"); a name missing from the reference is a
// programming error that the tests catch.
func commandDoc(name string) *command {
	c, _ := reference().find(strings.Fields(name)...)
	if c == nil {
		panic("cmd/mcpwarden: no reference entry for " + name)
	}
	return c
}

// parseFlags parses args with fs, the flag set of the command called
// name. It returns -1 to go on, or the exit status: 0 after printing the
// help page on stdout for -h or --help, 2 after a usage error naming the
// nearest flag when one was misspelt.
func parseFlags(name string, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if err == nil {
		return -1
	}
	c := commandDoc(name)
	if errors.Is(err, flag.ErrHelp) {
		writeHelp(stdout, c)
		return 0
	}
	return usageError(stderr, c, "%s: %v%s", name, err, flagSuggestion(err, fs))
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, which it returns; after "--" everything is
// positional. It returns code -1 to go on, or the exit status.
func parseInterspersed(name string, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, code int) {
	for {
		if code := parseFlags(name, fs, args, stdout, stderr); code >= 0 {
			return nil, code
		}
		rest := fs.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), -1
		}
		if len(rest) == 0 {
			return pos, -1
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagSuggestion returns " (did you mean --NAME?)" for an unknown flag
// close to one of fs's flags, else "".
func flagSuggestion(err error, fs *flag.FlagSet) string {
	given, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: ")
	if !ok {
		return ""
	}
	given = strings.TrimLeft(given, "-")
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if best := nearest(given, names); best != "" {
		return fmt.Sprintf(" (did you mean --%s?)", best)
	}
	return ""
}

// wantsHelp reports whether args ask for help with -h or --help before
// any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// suggestion returns "; did you mean "X"?" for the candidate nearest to
// word, or "" when none is near.
func suggestion(word string, candidates []string) string {
	if best := nearest(word, candidates); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

// nearest returns the candidate closest to word by edit distance, when it
// is close enough to be a misspelling (at most a third of the word's
// length, at least 1), or one that word is a prefix of; else "".
func nearest(word string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(word, c)
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist >= 0 && bestDist <= max(1, len(word)/3) {
		return best
	}
	for _, c := range candidates {
		if len(word) >= 2 && strings.HasPrefix(c, word) {
			return c
		}
	}
	return ""
}

// editDistance is the number of insertions, deletions, substitutions
// and swaps of two neighbours that turn a into b (the optimal string
// alignment distance), in bytes: the words compared are ASCII command and
// flag names, and a swap ("shwo") is the commonest slip.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
