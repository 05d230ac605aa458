package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpwarden/mcpwarden/audit"
)

// writeAudit appends records to the log at path through audit.Log, as the
// proxy does.
func writeAudit(t *testing.T, path, server, session string, recs ...audit.Record) {
	t.Helper()
	l, err := audit.Open(path, server, session)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := l.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// call returns the decision and outcome records of one tools/call.
func call(id int, tool, decision, outcome string, d time.Duration) []audit.Record {
	rid := strconv.Itoa(id)
	return []audit.Record{
		{Event: audit.EventDecision, Method: "tools/call", RequestID: rid, Target: tool, Decision: decision, Reason: "because " + decision},
		{Event: audit.EventOutcome, Method: "tools/call", RequestID: rid, Target: tool, Outcome: outcome, Duration: d},
	}
}

func auditFixture(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	var fs []audit.Record
	fs = append(fs, call(1, "read_file", "allow", "ok", 10*time.Millisecond)...)
	fs = append(fs, call(2, "write_file", "deny", "denied", 0)...)
	writeAudit(t, filepath.Join(dir, "fs.jsonl"), "fs", "sessionA1", fs...)
	var mem []audit.Record
	for i := range 20 {
		outcome := "ok"
		if i%5 == 0 {
			outcome = "isError"
		}
		mem = append(mem, call(i, "create_entities", "allow", outcome, time.Duration(i+1)*time.Millisecond)...)
	}
	mem = append(mem, audit.Record{Event: audit.EventGuard, Method: "tools/list", Target: "evil\x1b[2Jtool", Reason: "hidden"})
	writeAudit(t, filepath.Join(dir, "memory.jsonl"), "memory", "sessionB2", mem...)
	return dir
}

func TestAuditList(t *testing.T) {
	dir := auditFixture(t)
	code, out, errs := runCLI(t, "audit", "--dir", dir)
	if code != 0 || errs != "" {
		t.Fatalf("audit: %d %q", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1+4+41 || !strings.HasPrefix(lines[0], "TIME ") {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	// Merged in time order: the fs log was written first.
	if !strings.Contains(lines[1], "read_file") || !strings.Contains(lines[len(lines)-1], "guard") {
		t.Errorf("order:\n%s", out)
	}
	// A terminal escape in a server's text is shown escaped.
	if strings.Contains(out, "\x1b") || !strings.Contains(out, `evil\u001B[2Jtool`) {
		t.Errorf("escape not neutralised: %q", lines[len(lines)-1])
	}
	tests := []struct {
		args []string
		want int
		has  string
	}{
		{[]string{"--server", "f*"}, 4, "write_file"},
		{[]string{"--tool", "*_file", "--decision", "deny"}, 1, "because deny"},
		{[]string{"--tool", "create_?ntities", "--event", "outcome"}, 20, "isError"},
		{[]string{"--session", "sessionA1", "--event", "decision"}, 2, "read_file"},
		{[]string{"--event", "guard"}, 1, "hidden"},
		{[]string{"--since", "1h"}, 45, ""},
		{[]string{"--until", "1h"}, 0, ""},
		{[]string{"--since", time.Now().Add(time.Hour).Format(time.RFC3339)}, 0, ""},
		{[]string{"--until", time.Now().Add(time.Hour).Format(time.RFC3339Nano), "--server", "memory"}, 41, ""},
	}
	for _, tt := range tests {
		code, out, errs := runCLI(t, append([]string{"audit", "--dir", dir}, tt.args...)...)
		n := strings.Count(out, "\n")
		if n > 0 {
			n-- // the header
		}
		if code != 0 || n != tt.want || !strings.Contains(out, tt.has) {
			t.Errorf("audit %v: status %d, %d records, want %d with %q\n%s%s", tt.args, code, n, tt.want, tt.has, out, errs)
		}
	}
}

// TestAuditJSON checks that --json passes the selected lines through
// byte for byte.
func TestAuditJSON(t *testing.T) {
	dir := auditFixture(t)
	file := filepath.Join(dir, "fs.jsonl")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "audit", "--file", file, "--json")
	if code != 0 || out != string(data) {
		t.Errorf("--json changed the lines: %d\n%s\nwant\n%s", code, out, data)
	}
	code, out, _ = runCLI(t, "audit", "--file", file, "--json", "--decision", "deny")
	want := strings.Split(string(data), "\n")[2] + "\n"
	if code != 0 || out != want {
		t.Errorf("--json --decision deny: %q, want %q", out, want)
	}
}

func TestAuditBadLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.jsonl")
	writeAudit(t, path, "x", "s", call(1, "a", "allow", "ok", time.Millisecond)...)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("not json\n" + `{"time":"2026-01-01T00:00:00Z","a":1,"a":2}` + "\n" + strings.Repeat("[", audit.MaxLineBytes+5) + "\n")
	f.Close()
	writeAudit(t, path, "x", "s", call(2, "b", "deny", "denied", 0)...)
	f, _ = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"time":"2026`)
	f.Close()
	code, out, errs := runCLI(t, "audit", "--file", path)
	if code != 1 {
		t.Errorf("status %d, want 1", code)
	}
	for _, want := range []string{path + ":3: not an audit record", path + ":4: not an audit record", path + ":5: not an audit record: the line is",
		path + ":8: incomplete last line"} {
		if !strings.Contains(errs, "mcpwarden: "+want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if strings.Count(out, "\n") != 5 {
		t.Errorf("the records around the bad lines are not all printed:\n%s", out)
	}
}

func TestAuditUsage(t *testing.T) {
	dir := auditFixture(t)
	for _, args := range [][]string{
		{"--decision", "maybe"}, {"--event", "call"}, {"--since", "yesterday"}, {"--until", "-5m"},
		{"stray"}, {"frobnicate"}, {"summary", "--follow"}, {"--no-such-flag"},
	} {
		if code, _, errs := runCLI(t, append([]string{"audit", "--dir", dir}, args...)...); code != 2 || !strings.Contains(errs, "mcpwarden: ") && !strings.Contains(errs, "Usage") {
			t.Errorf("audit %v: %d %q, want a usage error", args, code, errs)
		}
	}
	if code, _, errs := runCLI(t, "audit", "--dir", t.TempDir()); code != 1 || !strings.Contains(errs, "no audit logs in") {
		t.Errorf("empty directory: %d %q", code, errs)
	}
	if code, out, _ := runCLI(t, "audit", "help"); code != 0 || !strings.Contains(out, "audit verify") {
		t.Errorf("help: %d %q", code, out)
	}
}

func TestAuditSummary(t *testing.T) {
	dir := auditFixture(t)
	// A call decided but never ended: mcpwarden was killed meanwhile.
	writeAudit(t, filepath.Join(dir, "fs.jsonl"), "fs", "sessionC3", call(9, "read_file", "allow", "", 0)[0])
	code, out, errs := runCLI(t, "audit", "summary", "--dir", dir)
	if code != 0 {
		t.Fatalf("summary: %d %q", code, errs)
	}
	for _, re := range []string{
		`SERVER\s+METHOD\s+TOOL\s+CALLS\s+DENIED\s+ERRORS\s+P50\s+P95`,
		`fs\s+tools/call\s+read_file\s+2\s+0\s+0\s+10\.00ms\s+10\.00ms`,
		`fs\s+tools/call\s+write_file\s+1\s+1\s+0\s+-\s+-`,
		// 1..20 ms: nearest rank p50 is the 10th, p95 the 19th.
		`memory\s+tools/call\s+create_entities\s+20\s+0\s+4\s+10\.00ms\s+19\.00ms`,
	} {
		if !regexpLine(out, re) {
			t.Errorf("summary lacks a line matching %s:\n%s", re, out)
		}
	}
	if strings.Contains(out, "tools/list") {
		t.Errorf("guard records counted as calls:\n%s", out)
	}
	code, out, _ = runCLI(t, "audit", "summary", "--dir", dir, "--server", "nothing")
	if code != 0 || !strings.Contains(out, "no calls match") {
		t.Errorf("summary of nothing: %d %q", code, out)
	}
}

func TestAuditVerify(t *testing.T) {
	dir := auditFixture(t)
	code, out, errs := runCLI(t, "audit", "verify", "--dir", dir)
	if code != 0 || strings.Count(out, ": intact: ") != 2 || !strings.Contains(out, "fs.jsonl: intact: 4 chained records; head ") {
		t.Fatalf("verify: %d %q %q", code, out, errs)
	}
	head := regexp.MustCompile(`memory.jsonl: intact: .*; head ([0-9a-f]{64})`).FindStringSubmatch(out)
	if head == nil {
		t.Fatalf("no head in %q", out)
	}
	writeAudit(t, filepath.Join(dir, "memory.jsonl"), "memory", "sessionD4", call(30, "read_graph", "allow", "ok", time.Millisecond)...)
	if code, out, _ := runCLI(t, "audit", "verify", "--head", head[1], filepath.Join(dir, "memory.jsonl")); code != 0 {
		t.Errorf("verify --head of a log that grew: %d %q", code, out)
	}
	if code, out, _ := runCLI(t, "audit", "verify", "--head", strings.Repeat("ab", 32), filepath.Join(dir, "memory.jsonl")); code != 1 || !strings.Contains(out, "chain broken (anchor)") {
		t.Errorf("verify --head of a hash not in the log: %d %q", code, out)
	}
	// Remove the third record of the memory log.
	mem := filepath.Join(dir, "memory.jsonl")
	data, _ := os.ReadFile(mem)
	lines := strings.SplitAfter(string(data), "\n")
	os.WriteFile(mem, []byte(strings.Join(append(lines[:2:2], lines[3:]...), "")), 0o600)
	code, out, _ = runCLI(t, "audit", "verify", filepath.Join(dir, "fs.jsonl"), mem)
	if code != 1 || !strings.Contains(out, mem+":3: chain broken (removed)") || !strings.Contains(out, "fs.jsonl: intact") {
		t.Errorf("verify of a log with a removed record: %d %q", code, out)
	}
	old := filepath.Join(dir, "old.jsonl")
	os.WriteFile(old, []byte(`{"time":"2026-01-01T00:00:00Z","event":"decision"}`+"\n"), 0o600)
	if code, out, _ := runCLI(t, "audit", "verify", old); code != 0 || !strings.Contains(out, "unchained: 1 records written before the chain") {
		t.Errorf("verify of a log older than the chain: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, "audit", "verify", filepath.Join(dir, "missing.jsonl")); code != 1 || !strings.Contains(errs, "mcpwarden: audit log: ") {
		t.Errorf("verify of a missing file: %d %q", code, errs)
	}
}

// syncBuffer is a bytes.Buffer safe for the follower and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAuditFollow follows a directory while records are appended, the log
// is truncated, rotated, and a new log appears.
func TestAuditFollow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fs.jsonl")
	writeAudit(t, path, "fs", "s1", call(1, "first", "allow", "ok", time.Millisecond)...)
	var out, errs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		o := &auditOptions{dir: dir, follow: true, filter: audit.Filter{Event: audit.EventDecision}}
		files, _ := o.logFiles(&errs)
		done <- auditFollow(ctx, files, o, &out, &errs)
	}()
	wait := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(out.String(), what) {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("follow did not print %q:\n%s\n%s", what, out.String(), errs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("first")
	writeAudit(t, path, "fs", "s2", call(2, "appended", "allow", "ok", time.Millisecond)...)
	wait("appended")
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	writeAudit(t, path, "fs", "s3", call(3, "aftertruncate", "allow", "ok", time.Millisecond)[0])
	wait("aftertruncate")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	writeAudit(t, path, "fs", "s4", call(4, "rotated", "deny", "denied", 0)...)
	wait("rotated")
	writeAudit(t, filepath.Join(dir, "new.jsonl"), "new", "s5", call(5, "newlog", "allow", "ok", 0)...)
	wait("newlog")
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("follow ended with %d: %s", code, errs.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 1+5 {
		t.Errorf("%d lines, want a header and 5 decisions:\n%s", n, out.String())
	}
	if !strings.Contains(errs.String(), "truncated") || !strings.Contains(errs.String(), "replaced") {
		t.Errorf("stderr does not say what happened to the file: %s", errs.String())
	}
}

// TestAuditFollowWaitsForFile follows a --file that does not exist yet.
func TestAuditFollowWaitsForFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.jsonl")
	var out, errs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	go func() {
		o := &auditOptions{files: []string{path}, follow: true}
		done <- auditFollow(ctx, o.files, o, &out, &errs)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errs.String(), "does not exist yet") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	writeAudit(t, path, "fs", "s1", call(1, "appeared", "allow", "ok", time.Millisecond)...)
	for !strings.Contains(out.String(), "appeared") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 || strings.Count(out.String(), "appeared") != 2 {
		t.Errorf("follow of a file that appeared: %d\n%s\n%s", code, out.String(), errs.String())
	}
}

// TestAuditFlagsInterspersed: flags may come between and after the logs
// verify is given, and after "--" a name that looks like a flag is a log.
func TestAuditFlagsInterspersed(t *testing.T) {
	var stdout, stderr bytes.Buffer
	o, pos, code := auditFlags("verify", []string{"a.jsonl", "--head", "h1", "b.jsonl", "--head=h2", "--", "--c.jsonl", "d.jsonl"}, &stdout, &stderr)
	if code != -1 {
		t.Fatalf("code %d, stderr %q", code, stderr.String())
	}
	if got, want := strings.Join(pos, " "), "a.jsonl b.jsonl --c.jsonl d.jsonl"; got != want {
		t.Errorf("positional %q, want %q", got, want)
	}
	if got, want := strings.Join(o.heads, " "), "h1 h2"; got != want {
		t.Errorf("heads %q, want %q", got, want)
	}
	if _, _, code := auditFlags("verify", []string{"a.jsonl", "--bogus"}, &stdout, &stderr); code != 2 {
		t.Errorf("unknown flag after a log: code %d, want 2", code)
	}
}
