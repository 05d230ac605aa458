package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// memorySession starts server-memory behind mcpwarden with the delete
// tools denied, appending to auditLog, and returns the client session.
func memorySession(t *testing.T, ctx context.Context, auditLog string) *mcp.ClientSession {
	t.Helper()
	store := filepath.Join(t.TempDir(), "memory.jsonl")
	prof := writeProfile(t, "[tools]\ndeny = [\"delete_*\"]\n", grant{write: []string{filepath.Dir(store)}, env: []string{"MEMORY_FILE_PATH"}})
	cmd, _ := newCommand(t, "mcpwarden", wardenArgv(prof, auditLog, nil, "node", npmServer(t, "server-memory")), "MEMORY_FILE_PATH="+store)
	return connectGo(t, ctx, newGoClient(nil), cmd, "")
}

// callMemory calls a tool and fails the test on a protocol error other
// than the refusal of a denied tool.
func callMemory(t *testing.T, ctx context.Context, cs *mcp.ClientSession, name string, args map[string]any) {
	t.Helper()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if strings.HasPrefix(name, "delete_") {
		expectRPCError(t, name, err, -32602, "Unknown tool: "+name)
		return
	}
	if err != nil || res.IsError {
		t.Fatalf("%s: %v %s", name, err, toolText(res))
	}
}

// runAudit runs "mcpwarden audit ARGS..." and returns its status and output.
func runAudit(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, wardenBin, append([]string{"audit"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("mcpwarden audit %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// TestAuditMemoryServer writes a log from two concurrent mcpwarden
// processes in front of the real server-memory, then reads it with
// "mcpwarden audit": the chain holds across the processes, the filters
// and the summary see the calls that were made, --follow shows a record
// appended by a third session, and a removed line is found by verify.
func TestAuditMemoryServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	auditLog := filepath.Join(t.TempDir(), "memory.jsonl")
	entity := func(name string) map[string]any {
		return map[string]any{"entities": []any{map[string]any{"name": name, "entityType": "thing", "observations": []string{"seen"}}}}
	}
	one, two := memorySession(t, ctx, auditLog), memorySession(t, ctx, auditLog)
	callMemory(t, ctx, one, "create_entities", entity("a"))
	callMemory(t, ctx, two, "create_entities", entity("b"))
	callMemory(t, ctx, one, "delete_entities", map[string]any{"entityNames": []string{"a"}})
	callMemory(t, ctx, two, "create_entities", entity("c"))
	callMemory(t, ctx, two, "delete_relations", map[string]any{"relations": []any{}})
	callMemory(t, ctx, one, "read_graph", map[string]any{})
	one.Close()
	two.Close()

	recs := waitAudit(t, ctx, auditLog, func(recs []auditRecord) bool { return len(recs) == 12 })
	sessions := map[string]bool{}
	for _, r := range recs {
		sessions[r.Session] = true
	}
	if len(sessions) != 2 {
		t.Fatalf("records of %d sessions, want 2:\n%s", len(sessions), dumpAudit(recs))
	}
	firstSession := recs[0].Session

	code, out, errs := runAudit(t, ctx, "verify", auditLog)
	if code != 0 || !strings.Contains(out, "intact: 12 chained records") {
		t.Fatalf("verify: %d %q %q", code, out, errs)
	}

	// --json passes the denied decisions through as they are in the file.
	data, err := os.ReadFile(auditLog)
	if err != nil {
		t.Fatal(err)
	}
	var wantDenied []string
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, `"decision":"deny"`) {
			wantDenied = append(wantDenied, line)
		}
	}
	code, out, errs = runAudit(t, ctx, "--file", auditLog, "--decision", "deny", "--json")
	if code != 0 || len(wantDenied) != 2 || out != strings.Join(wantDenied, "") {
		t.Errorf("--decision deny --json: %d %q %q, want %q", code, out, errs, wantDenied)
	}
	code, out, _ = runAudit(t, ctx, "--file", auditLog, "--tool", "create_*", "--event", "outcome")
	if code != 0 || strings.Count(out, "create_entities") != 3 || strings.Count(out, "\n") != 4 || !strings.Contains(out, " ok ") {
		t.Errorf("--tool create_* --event outcome: %d\n%s", code, out)
	}
	code, out, _ = runAudit(t, ctx, "--file", auditLog, "--session", firstSession, "--since", "10m", "--json")
	if code != 0 || strings.Count(out, "\n") != 6 || strings.Count(out, `"session":"`+firstSession+`"`) != 6 {
		t.Errorf("--session: %d\n%s", code, out)
	}

	code, out, _ = runAudit(t, ctx, "summary", "--file", auditLog)
	for _, re := range []string{
		`e2e\s+tools/call\s+create_entities\s+3\s+0\s+0\s+\d+\.\d\dms\s+\d+\.\d\dms`,
		`e2e\s+tools/call\s+delete_entities\s+1\s+1\s+0\s+-\s+-`,
		`e2e\s+tools/call\s+delete_relations\s+1\s+1\s+0\s+-\s+-`,
		`e2e\s+tools/call\s+read_graph\s+1\s+0\s+0\s+\d`,
	} {
		if code != 0 || !regexp.MustCompile(`(?m)^`+re).MatchString(out) {
			t.Errorf("summary lacks %s:\n%s", re, out)
		}
	}

	// --follow prints what is there, then a record a new session appends.
	follow := exec.Command(wardenBin, "audit", "--follow", "--json", "--file", auditLog)
	stdout, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var followErr bytes.Buffer
	follow.Stderr = &followErr
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = follow.Process.Kill() })
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("follow ended early: %s", followErr.String())
			}
			return l
		case <-ctx.Done():
			t.Fatalf("follow printed nothing more: %s", followErr.String())
		}
		return ""
	}
	for range 12 {
		next()
	}
	three := memorySession(t, ctx, auditLog)
	callMemory(t, ctx, three, "read_graph", map[string]any{})
	if l := next(); !strings.Contains(l, `"event":"decision"`) || !strings.Contains(l, `"target":"read_graph"`) || strings.Contains(l, firstSession) {
		t.Errorf("follow printed %s, want the new session's decision", l)
	}
	if l := next(); !strings.Contains(l, `"event":"outcome"`) {
		t.Errorf("follow printed %s, want the outcome", l)
	}
	three.Close()
	if err := follow.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- follow.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("follow after SIGINT: %v %s", err, followErr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("follow did not stop on SIGINT")
	}

	// Removing a record breaks the chain at its line.
	data, _ = os.ReadFile(auditLog)
	all := strings.SplitAfter(string(data), "\n")
	tampered := filepath.Join(t.TempDir(), "tampered.jsonl")
	os.WriteFile(tampered, []byte(strings.Join(append(all[:4:4], all[5:]...), "")), 0o600)
	code, out, _ = runAudit(t, ctx, "verify", auditLog, tampered)
	if code != 1 || !strings.Contains(out, tampered+":5: chain broken (removed)") || !strings.Contains(out, auditLog+": intact: 14 chained records") {
		t.Errorf("verify of a log with line 5 removed: %d %q", code, out)
	}
}
