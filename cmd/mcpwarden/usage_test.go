package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorsSayWhatNext: each error of each command is one or more lines
// starting "mcpwarden: ", nothing on stdout, with the exit status of its
// kind (2 for a usage error, 1 for a failure), and says what to do next;
// a usage error ends with the command to run for its help.
func TestErrorsSayWhatNext(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	fakeHome(t, nil)
	work := t.TempDir()
	t.Chdir(work)
	if err := os.WriteFile("mine", []byte("[server]\nname = \"mine\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pins := filepath.Join(state, "pins")
	emptyDir := t.TempDir()
	missing := filepath.Join(state, "no-such-dir")
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{nil, 2, []string{"no command given", "commands: run, check, profile", `run "mcpwarden help"`}},
		{[]string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{[]string{"prfile", "list"}, 2, []string{`unknown command "prfile"; did you mean "profile"?`}},
		{[]string{"--profile", "x"}, 2, []string{"unknown flag --profile: flags follow the command"}},

		{[]string{"run"}, 2, []string{"run: no server command given after --", "usage: mcpwarden run [flags] -- CMD [ARGS...]", `run "mcpwarden run --help"`}},
		{[]string{"run", "--profle", "x", "--", "true"}, 2, []string{"-profle", "did you mean --profile?", `"mcpwarden run --help"`}},
		{[]string{"run", "--grace", "soon", "--", "true"}, 2, []string{`invalid value "soon" for flag -grace`}},
		{[]string{"run", "--profile"}, 2, []string{"flag needs an argument: -profile"}},
		{[]string{"run", "--max-message-size", "12", "--", "true"}, 2, []string{"--max-message-size \"12\": want a size between 1KiB and 1GiB"}},
		{[]string{"run", "--profile", "filesytem", "--", "true"}, 1, []string{`did you mean "filesystem"?`, "built-in: ", "a FILE is written with a / or a .toml ending"}},
		{[]string{"run", "--profile", "mine", "--", "true"}, 1, []string{"to use the file mine in this directory, write it with a / as ./mine"}},
		{[]string{"run", "--profile", "./none.toml", "--", "true"}, 1, []string{"none.toml: no such file", "mcpwarden profile list"}},
		{[]string{"run", "--profile", "default", "--pin-dir", pins, "--audit-log", "/proc/none/a.jsonl", "--", "true"}, 1, []string{"audit log: ", "--audit-log FILE"}},
		{[]string{"run", "--profile", "default", "--pin-dir", pins, "--audit-log", filepath.Join(state, "a.jsonl"), "--", "no-such-server-xyz"}, 1, []string{`server command "no-such-server-xyz"`, "install it, or give its path after --"}},

		{[]string{"check", "extra"}, 2, []string{`check takes no arguments, got "extra"`, `"mcpwarden check --help"`}},
		{[]string{"check", "--jsno"}, 2, []string{"did you mean --json?"}},

		{[]string{"profile"}, 2, []string{"profile: no command given (list, show or validate)", "usage: mcpwarden profile show NAME|FILE"}},
		{[]string{"profile", "shwo", "x"}, 2, []string{`unknown profile command "shwo"; did you mean "show"?`}},
		{[]string{"profile", "show"}, 2, []string{"profile show: want one built-in NAME or FILE, got 0 arguments", `"mcpwarden profile show --help"`}},
		{[]string{"profile", "show", "a", "b"}, 2, []string{"got 2 arguments"}},
		{[]string{"profile", "list", "x"}, 2, []string{`profile list takes no arguments, got "x"`}},
		{[]string{"profile", "validate"}, 2, []string{"profile validate: no FILE given"}},
		{[]string{"profile", "show", "filesytem"}, 1, []string{`did you mean "filesystem"?`}},

		{[]string{"pin"}, 2, []string{"pin: no command given", "usage: mcpwarden pin accept [flags] SERVER [TOOL[@DIGEST]...]"}},
		{[]string{"pin", "acept", "fs"}, 2, []string{`unknown pin command "acept"; did you mean "accept"?`}},
		{[]string{"pin", "show", "--dir", pins}, 2, []string{"pin show: no SERVER given (mcpwarden pin list shows the servers with pins)", `"mcpwarden pin show --help"`}},
		{[]string{"pin", "forget", "--dir", pins, "a", "b"}, 2, []string{`pin forget: too many arguments, from "b" on`}},
		{[]string{"pin", "list", "--dri", pins}, 2, []string{"did you mean --dir?", `"mcpwarden pin list --help"`}},
		{[]string{"pin", "show", "--dir", pins, "nosuch"}, 1, []string{"server nosuch has no pins", "mcpwarden pin list shows the servers with pins"}},

		{[]string{"audit", "sumary"}, 2, []string{`unknown audit command "sumary"; did you mean "summary"?`}},
		{[]string{"audit", "--dir", missing}, 1, []string{"no audit logs in " + missing + ": the directory does not exist", "--dir DIR or --file FILE"}},
		{[]string{"audit", "--dir", emptyDir}, 1, []string{"no audit logs in " + emptyDir + ": no *.jsonl file"}},
		{[]string{"audit", "--dir", emptyDir, "stray"}, 2, []string{`unexpected argument "stray" (logs are given with --file FILE)`}},
		{[]string{"audit", "--since", "yesterday"}, 2, []string{"--since: ", "(90m, 24h, 7d)", `"mcpwarden audit --help"`}},
		{[]string{"audit", "summary", "--follow"}, 2, []string{"-follow", `"mcpwarden audit summary --help"`}},
		{[]string{"audit", "--file", filepath.Join(emptyDir, "none.jsonl")}, 1, []string{"none.jsonl: no such file", "without them, every *.jsonl in --dir DIR"}},
		{[]string{"audit", "verify", filepath.Join(emptyDir, "none.jsonl")}, 1, []string{"none.jsonl: no such file", "without them, every *.jsonl in --dir DIR"}},
		{[]string{"audit", "verify", "--server", "x"}, 2, []string{"-server", `"mcpwarden audit verify --help"`}},

		{[]string{"wrap", "--clinet", "cursor"}, 2, []string{"did you mean --client?", `"mcpwarden wrap --help"`}},
		{[]string{"wrap", "--client", "cursr"}, 1, []string{`unknown client "cursr"`, `did you mean "cursor"?`}},
		{[]string{"unwrap", "extra"}, 2, []string{`unwrap takes no arguments, got "extra"`}},

		{[]string{"completion"}, 2, []string{"completion: want one shell", "usage: mcpwarden completion bash|zsh|fish"}},
		{[]string{"completion", "bsh"}, 2, []string{`unknown shell "bsh"`, `did you mean "bash"?`}},
		{[]string{"help", "pn"}, 2, []string{`help: no command "pn"; did you mean "pin"?`}},
		{[]string{"help", "pin", "acept"}, 2, []string{`did you mean "accept"?`}},
		{[]string{"version", "x"}, 2, []string{`version takes no arguments, got "x"`}},
		{[]string{"__gendocs"}, 2, []string{"__gendocs: want the directory"}},
	} {
		lines := checkCLIError(t, tc.args, tc.code, tc.want)
		if last := lines[len(lines)-1]; tc.code == 2 && !strings.HasPrefix(last, `mcpwarden: run "mcpwarden `) {
			t.Errorf("%q: a usage error that does not end saying what to run: %q", tc.args, last)
		}
	}
}

// TestMissingFeatureHint: a sandbox that cannot start for a feature the
// kernel lacks says to look at check and names --best-effort; other
// errors, and those that already say what to do, are left as they are.
func TestMissingFeatureHint(t *testing.T) {
	for msg, hinted := range map[string]bool{
		"sandbox: the kernel's Landlock ABI 3 lacks TCP connect rules":                                       true,
		"sandbox: Landlock is unavailable: disabled at boot (add lsm=landlock)":                              true,
		"sandbox: the processes limit cannot be enforced (or pass --best-effort to start without the limit)": false,
		`server command "x": exec: "x": executable file not found in $PATH`:                                  false,
	} {
		got := missingFeatureHint(errors.New(msg)).Error()
		if !strings.HasPrefix(got, msg) {
			t.Errorf("%q became %q", msg, got)
		}
		if has := strings.Contains(got, `"mcpwarden check" says what this kernel lacks`) && strings.Contains(got, "--best-effort starts"); has != hinted {
			t.Errorf("%q: hint %v, want %v: %q", msg, has, hinted, got)
		}
	}
}
