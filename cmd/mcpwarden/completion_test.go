package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cliEnv makes the test binary behave as mcpwarden when it is set, so
// that the completion scripts can run "mcpwarden profile list" for real
// without a build step.
const cliEnv = "MCPWARDEN_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		os.Exit(dispatch(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// cliOnPath puts a "mcpwarden" that is this test binary, acting as the
// CLI, first on PATH, and writes the completion script for shell beside
// it; it returns the script's path.
func cliOnPath(t *testing.T, shell string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(dir, "mcpwarden")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(cliEnv, "1")
	code, script, errs := runCLI(t, "completion", shell)
	if code != 0 || errs != "" {
		t.Fatalf("completion %s: %d %s", shell, code, errs)
	}
	path := filepath.Join(dir, "mcpwarden."+shell)
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// completionFixture is a directory to complete file names in.
func completionFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"mine.toml", "mylog.jsonl", "sub/x"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// completionCases are command lines, the last word being completed, and
// what the completions must and must not include. Built-in profile names
// come from running "mcpwarden profile list".
var completionCases = []struct {
	line          string
	want, notWant []string
}{
	{"mcpwarden ", []string{"run", "check", "profile", "pin", "audit", "wrap", "unwrap", "completion", "version", "help"}, []string{"__gendocs"}},
	{"mcpwarden pr", []string{"profile"}, []string{"pin", "run"}},
	{"mcpwarden run --pro", []string{"--profile"}, nil},
	{"mcpwarden run --", []string{"--profile", "--audit-log", "--pin-dir", "--best-effort", "--grace", "--max-message-size", "--help"}, []string{"--client"}},
	{"mcpwarden run --profile fi", []string{"filesystem"}, []string{"fetch", "git"}},
	{"mcpwarden run --profile m", []string{"memory", "mine.toml", "mylog.jsonl"}, nil},
	{"mcpwarden run --audit-log my", []string{"mylog.jsonl"}, nil},
	{"mcpwarden run --profile git -- ", nil, []string{"--profile"}},
	{"mcpwarden wrap --client c", []string{"claude-desktop", "claude-code", "cursor", "codex"}, []string{"vscode", "mine.toml"}},
	{"mcpwarden wrap --", []string{"--client", "--file", "--project", "--dry-run", "--mcpwarden", "--best-effort"}, nil},
	{"mcpwarden unwrap --", []string{"--client", "--dry-run"}, []string{"--best-effort"}},
	{"mcpwarden profile ", []string{"list", "show", "validate"}, []string{"accept"}},
	{"mcpwarden profile show g", []string{"git", "github"}, []string{"filesystem"}},
	{"mcpwarden profile validate mi", []string{"mine.toml"}, nil},
	{"mcpwarden pin ", []string{"list", "show", "accept", "forget"}, nil},
	{"mcpwarden pin accept --", []string{"--dir", "--help"}, []string{"--json"}},
	{"mcpwarden audit --dir . s", []string{"summary"}, []string{"verify"}},
	{"mcpwarden audit --decision ", []string{"allow", "deny"}, []string{"mine.toml"}},
	{"mcpwarden audit --event ", []string{"decision", "outcome", "guard", "egress"}, nil},
	{"mcpwarden audit summary --", []string{"--since", "--tool"}, []string{"--follow", "--head"}},
	{"mcpwarden audit verify --", []string{"--head", "--dir"}, []string{"--server"}},
	{"mcpwarden audit verify my", []string{"mylog.jsonl"}, nil},
	{"mcpwarden completion ", []string{"bash", "zsh", "fish"}, nil},
	{"mcpwarden help p", []string{"profile", "pin"}, []string{"run"}},
	{"mcpwarden help pin a", []string{"accept"}, []string{"list"}},
	{"mcpwarden check --", []string{"--json"}, nil},
}

// checkCompletions compares what a shell offered for one line with the
// case's expectations.
func checkCompletions(t *testing.T, shell, line string, got, want, notWant []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: %q offers %q, lacking %q", shell, line, got, w)
		}
	}
	for _, w := range notWant {
		if slices.Contains(got, w) {
			t.Errorf("%s: %q offers %q, which it must not", shell, line, w)
		}
	}
}

// TestBashCompletion sources the script in bash, sets COMP_WORDS and
// COMP_CWORD as bash's completion does, calls the function and reads
// COMPREPLY.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	script := cliOnPath(t, "bash")
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	dir := completionFixture(t)
	for _, tc := range completionCases {
		words := strings.Split(tc.line, " ")
		prog := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mcpwarden; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command(bash, append([]string{"--norc", "--noprofile", "-c", prog, "bash", script}, words...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("bash: %q: %v\n%s", tc.line, err, out)
			continue
		}
		checkCompletions(t, "bash", tc.line, strings.Fields(string(out)), tc.want, tc.notWant)
	}
	// bash splits --flag=value at the "=", which COMP_WORDBREAKS holds.
	for line, want := range map[string]string{
		"mcpwarden run --profile = fi":                   "filesystem",
		"mcpwarden wrap --client = cu":                   "cursor",
		"mcpwarden run --profile = git --audit-log = my": "mylog.jsonl",
		"mcpwarden audit --dir = . s":                    "summary",
	} {
		prog := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mcpwarden; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command(bash, append([]string{"--norc", "--noprofile", "-c", prog, "bash", script}, strings.Split(line, " ")...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil || !slices.Contains(strings.Fields(string(out)), want) {
			t.Errorf("bash: %q: %v %q, want %q", line, err, out, want)
		}
	}
	// After run's "--" come the server's command and then its files.
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c",
		`source "$1"; COMP_WORDS=(mcpwarden run -- ba); COMP_CWORD=3; _mcpwarden; printf '%s\n' "${COMPREPLY[@]}"`, "bash", script)
	if out, err := cmd.CombinedOutput(); err != nil || !slices.Contains(strings.Fields(string(out)), "bash") {
		t.Errorf("bash: run -- ba: %v %q, want the command bash", err, out)
	}
}

// TestZshCompletion checks the script's syntax with zsh -n, then runs
// its function with zsh's completion builtins replaced by functions that
// print what they were given.
func TestZshCompletion(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("zsh is not installed (scripts/setup.sh installs it): the zsh script is not checked")
	}
	script := cliOnPath(t, "zsh")
	if out, err := exec.Command(zsh, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	dir := completionFixture(t)
	const stubs = `compdef() { :; }
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }
_describe() { local i; for i in "${(@P)2}"; do print -r -- "${i%%:*}"; done; }
_files() { print -rl -- *(N); }
_command_names() { print -r -- bash; }
`
	for _, tc := range completionCases {
		prog := stubs + `source "$1"; shift; words=("$@"); CURRENT=$#; _mcpwarden`
		cmd := exec.Command(zsh, append([]string{"-f", "-c", prog, "zsh", script}, strings.Split(tc.line, " ")...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("zsh: %q: %v\n%s", tc.line, err, out)
			continue
		}
		// compadd filters by the word being completed itself; the stub
		// does not, so the prefix is applied here.
		cur := tc.line[strings.LastIndexByte(tc.line, ' ')+1:]
		var got []string
		for _, w := range strings.Fields(string(out)) {
			if strings.HasPrefix(w, cur) {
				got = append(got, w)
			}
		}
		checkCompletions(t, "zsh", tc.line, got, tc.want, tc.notWant)
	}
}

// TestFishCompletion checks the script with fish -n, then asks fish
// itself for the completions of each line (complete -C).
func TestFishCompletion(t *testing.T) {
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Skip("fish is not installed (scripts/setup.sh installs it): the fish script is not checked")
	}
	script := cliOnPath(t, "fish")
	if out, err := exec.Command(fish, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("fish -n: %v\n%s", err, out)
	}
	dir := completionFixture(t)
	for _, tc := range completionCases {
		cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, script, tc.line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("fish: %q: %v\n%s", tc.line, err, out)
			continue
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			word, _, _ := strings.Cut(l, "\t")
			got = append(got, word)
		}
		checkCompletions(t, "fish", tc.line, got, tc.want, tc.notWant)
	}
}
