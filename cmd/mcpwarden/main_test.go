package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = dispatch(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// checkCLIError runs mcpwarden with args and checks that it exits with
// code, prints nothing on stdout, and writes stderr lines that all start
// "mcpwarden: " and together hold each of want. It returns those lines.
func checkCLIError(t *testing.T, args []string, code int, want []string) []string {
	t.Helper()
	got, out, errs := runCLI(t, args...)
	if got != code {
		t.Errorf("%q: exit %d, want %d\n%s", args, got, code, errs)
	}
	for _, w := range want {
		if !strings.Contains(errs, w) {
			t.Errorf("%q: stderr lacks %q:\n%s", args, w, errs)
		}
	}
	lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
	for _, line := range lines {
		if !strings.HasPrefix(line, "mcpwarden: ") {
			t.Errorf("%q: stderr line %q lacks the prefix", args, line)
		}
	}
	if out != "" {
		t.Errorf("%q: stdout %q on an error", args, out)
	}
	return lines
}

func TestCLIBasics(t *testing.T) {
	if code, out, _ := runCLI(t, "version"); code != 0 || !strings.HasPrefix(out, "mcpwarden ") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, "frobnicate"); code != 2 || !strings.HasPrefix(errs, "mcpwarden: unknown command") {
		t.Errorf("unknown command: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "run"); code != 2 || !strings.Contains(errs, "no server command") {
		t.Errorf("run without a command: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "run", "--max-message-size", "12", "--", "/bin/true"); code == 0 || !strings.Contains(errs, "--max-message-size") {
		t.Errorf("run with a tiny message size: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "run", "--profile", "no-such-profile", "--", "/bin/true"); code != 1 || !strings.Contains(errs, "filesystem") {
		t.Errorf("run with an unknown profile: %d %q; want the built-in names listed", code, errs)
	}
}

func TestCLIProfiles(t *testing.T) {
	code, out, _ := runCLI(t, "profile", "list")
	if code != 0 || !strings.Contains(out, "filesystem") || !strings.Contains(out, "@modelcontextprotocol/server-filesystem") {
		t.Errorf("profile list: %d %q", code, out)
	}
	if code, out, _ := runCLI(t, "profile", "show", "default"); code != 0 || !strings.Contains(out, `name = "default"`) {
		t.Errorf("profile show default: %d %q", code, out)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(good, []byte("[server]\nname = \"ok\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("[server]\nname = \"x\"\n[sandbox]\nnetwrok = \"none\"\nread = [\"relative\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "profile", "validate", good, bad)
	if code != 1 || !strings.Contains(out, good+": ok") {
		t.Errorf("validate: %d %q %q", code, out, errs)
	}
	// One line per problem, each naming the file and line.
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "bad.toml:4") || !strings.Contains(lines[0], "netwrok") || !strings.Contains(lines[1], "bad.toml:5") {
		t.Errorf("validate errors:\n%s", errs)
	}
	// What parses but would not compile stops validate as it would run.
	for name, rule := range map[string]string{
		"schema":  "[tools.rules.w]\nschema = '{\"type\": 5}'\n",
		"command": "[tools.rules.r.args]\n\"/cmd\" = { kind = \"command\", allow = [\"git* status\"] }\n",
	} {
		f := filepath.Join(dir, name+".toml")
		if err := os.WriteFile(f, []byte("[server]\nname = \"x\"\n"+rule), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, _, errs := runCLI(t, "profile", "validate", f); code != 1 || !strings.Contains(errs, "tools.rules.") {
			t.Errorf("validate %s: %d %q", name, code, errs)
		}
	}
}

func TestCLICheckJSON(t *testing.T) {
	code, out, _ := runCLI(t, "check", "--json")
	var r struct {
		Features struct {
			Kernel   string `json:"kernel"`
			Landlock struct {
				ABI int `json:"abi"`
			} `json:"landlock"`
		} `json:"features"`
		Complete bool `json:"complete"`
		Profiles []struct {
			Name string `json:"name"`
		} `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("check --json is not JSON: %v\n%s", err, out)
	}
	if r.Features.Kernel == "" || len(r.Profiles) == 0 || (code == 0) != r.Complete {
		t.Errorf("check --json: exit %d, %+v", code, r)
	}
}
