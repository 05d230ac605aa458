package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mcpwarden/mcpwarden/clientconfig"
)

// allCommands are the visible commands of the reference, verbs and
// sub-verbs, with the words that start each.
func allCommands(t *testing.T) []*command {
	t.Helper()
	var out []*command
	for _, c := range visible(reference().subs) {
		out = append(out, c)
		out = append(out, visible(c.subs)...)
	}
	if len(out) < 15 {
		t.Fatalf("only %d commands in the reference", len(out))
	}
	return out
}

// TestHelpEveryCommand: every command's page is printed the same way by
// "help CMD", "CMD --help" and "CMD -h", on stdout with exit 0, and shows
// its usage, its flags as the flag set that parses them defines them, and
// examples.
func TestHelpEveryCommand(t *testing.T) {
	for _, c := range allCommands(t) {
		words := strings.Fields(c.name)
		code, page, errs := runCLI(t, append([]string{"help"}, words...)...)
		if code != 0 || errs != "" || !strings.HasPrefix(page, c.full()+": "+c.summary+"\n") {
			t.Errorf("help %s: exit %d, stderr %q, page:\n%s", c.name, code, errs, page)
			continue
		}
		for _, h := range []string{"--help", "-h"} {
			code, out, errs := runCLI(t, append(words, h)...)
			if code != 0 || errs != "" || out != page {
				t.Errorf("%s %s: exit %d, stderr %q; the page differs from help %s:\n%s", c.name, h, code, errs, c.name, out)
			}
		}
		for _, s := range c.synopses() {
			if !strings.Contains(page, "\n  "+s+"\n") {
				t.Errorf("help %s lacks the usage line %q", c.name, s)
			}
		}
		if !strings.Contains(page, "\nExamples:\n  mcpwarden ") && c.name != "completion" {
			t.Errorf("help %s has no examples:\n%s", c.name, page)
		}
		if c.flags != nil {
			c.flags().VisitAll(func(f *flag.Flag) {
				if !regexp.MustCompile(`(?m)^  --` + regexp.QuoteMeta(f.Name) + `\b`).MatchString(page) {
					t.Errorf("help %s does not list --%s", c.name, f.Name)
				}
			})
		}
	}
}

// TestEveryCommandHasExamples: the issue asks for examples on every verb;
// a command without sub-commands must have its own.
func TestEveryCommandHasExamples(t *testing.T) {
	for _, c := range allCommands(t) {
		if len(c.subs) == 0 && len(c.examples) == 0 {
			t.Errorf("%s has no examples", c.full())
		}
		for _, e := range c.examples {
			if !strings.Contains(e.line, c.full()) && !strings.Contains(e.line, "mcpwarden completion") {
				t.Errorf("an example of %s does not run it: %q", c.full(), e.line)
			}
		}
	}
}

// TestFlagsDocumented: every flag of every command says what it is for
// and names its value, so that no page shows the flag package's generic
// "string" or "value".
func TestFlagsDocumented(t *testing.T) {
	for _, c := range allCommands(t) {
		for _, f := range c.flagDocs() {
			if f.usage == "" || f.arg == "string" || f.arg == "value" || f.arg == "duration" {
				t.Errorf("%s --%s: usage %q, value %q", c.full(), f.name, f.usage, f.arg)
			}
		}
	}
	// The names DESIGN fixes for run.
	_, page, _ := runCLI(t, "run", "--help")
	for _, want := range []string{"--profile NAME|FILE", "--audit-log FILE", "mcpwarden run [flags] -- CMD [ARGS...]"} {
		if !strings.Contains(page, want) {
			t.Errorf("run --help lacks %q", want)
		}
	}
}

// TestHelpListsEveryVerb: the root page lists each verb the dispatcher
// knows, and each listed verb dispatches (its --help exits 0).
func TestHelpListsEveryVerb(t *testing.T) {
	code, page, _ := runCLI(t, "help")
	if code != 0 || !strings.Contains(page, "Usage:\n  mcpwarden COMMAND [ARGS...]\n") {
		t.Fatalf("help: %d\n%s", code, page)
	}
	for _, verb := range []string{"run", "check", "profile", "pin", "audit", "wrap", "unwrap", "completion", "version", "help"} {
		if !strings.Contains(page, "\n  "+verb+" ") {
			t.Errorf("help does not list %s", verb)
		}
	}
	if strings.Contains(page, "__gendocs") {
		t.Error("help lists the hidden __gendocs")
	}
	for _, args := range [][]string{{"--help"}, {"-h"}} {
		if code, out, _ := runCLI(t, args...); code != 0 || out != page {
			t.Errorf("%q: %d, not the help page", args, code)
		}
	}
}

// TestWrapPageNamesEveryClient: the clients listed on wrap's page are
// those clientconfig knows, so that a client added there is documented.
func TestWrapPageNamesEveryClient(t *testing.T) {
	for _, name := range clientconfig.ClientNames() {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + ` `).MatchString(wrapClients) {
			t.Errorf("wrap's page does not list the client %s", name)
		}
	}
}

// TestDocsUpToDate: docs/cli.md and docs/mcpwarden.1 are what the code
// renders, so that the reference never drifts from the program.
func TestDocsUpToDate(t *testing.T) {
	for name, want := range renderDocs() {
		path := filepath.Join("..", "..", "docs", name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v: run make docs", err)
			continue
		}
		if string(got) != string(want) {
			t.Errorf("docs/%s differs from what the command reference renders: run make docs and commit the result", name)
		}
	}
}

// TestMarkdownReference: every command has its section and every flag
// its entry in docs/cli.md.
func TestMarkdownReference(t *testing.T) {
	md := string(renderDocs()[markdownFile])
	for _, c := range allCommands(t) {
		section := regexp.MustCompile(`(?m)^#{2,3} ` + regexp.QuoteMeta(c.full()) + `\n`).FindStringIndex(md)
		if section == nil {
			t.Errorf("cli.md has no section for %s", c.full())
			continue
		}
		rest := md[section[1]:]
		if next := regexp.MustCompile(`(?m)^#{2,3} `).FindStringIndex(rest); next != nil {
			rest = rest[:next[0]]
		}
		for _, f := range c.flagDocs() {
			if !strings.Contains(rest, "- `"+f.head()+"`: ") {
				t.Errorf("cli.md section %s lacks --%s", c.full(), f.name)
			}
		}
		if !strings.Contains(md, "](#"+mdAnchor(c.full())+")") {
			t.Errorf("cli.md's table does not link %s", c.full())
		}
	}
}

// TestManPage: groff reads the page without a warning, and the rendered
// text has every command's section and the flags with their dashes.
func TestManPage(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff is not installed: the man page is not rendered (apt-get install groff-base)")
	}
	page := filepath.Join(t.TempDir(), manFile)
	if err := os.WriteFile(page, renderDocs()[manFile], 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(groff, "-man", "-ww", "-Tutf8", page)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("groff: %v\n%s", err, stderr.String())
	}
	text := regexp.MustCompile(".\b").ReplaceAllString(string(out), "") // overstrike bold and underline
	for _, c := range allCommands(t) {
		if !strings.Contains(text, "\n   "+c.full()+"\n") {
			t.Errorf("the man page has no section for %s", c.full())
		}
	}
	for _, want := range []string{"--profile NAME|FILE", "--audit-log FILE", "mcpwarden run [flags] -- CMD [ARGS...]", "EXIT STATUS"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered man page lacks %q", want)
		}
	}
}

func TestNearest(t *testing.T) {
	verbs := []string{"run", "check", "profile", "pin", "audit", "wrap", "unwrap", "completion", "version", "help"}
	for word, want := range map[string]string{
		"prfile": "profile", "shwo": "", "rn": "run", "audti": "audit", "compl": "completion",
		"frobnicate": "", "x": "", "unwarp": "unwrap", "verison": "version",
	} {
		if got := nearest(word, verbs); got != want {
			t.Errorf("nearest(%q) = %q, want %q", word, got, want)
		}
	}
	if got := nearest("shwo", []string{"list", "show", "validate"}); got != "show" {
		t.Errorf("a swap of two letters: %q", got)
	}
}
