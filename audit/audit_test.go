package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/rs/zerolog"

	"github.com/mcpwarden/mcpwarden/statedir"
)

func TestOpenCreatesPrivateFileAndDirectories(t *testing.T) {
	base := t.TempDir()
	path := filepath.Join(base, "state", "mcpwarden", "fs.jsonl")
	l, err := Open(path, "fs", "s1")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	checkMode(t, path, 0o600)
	checkMode(t, filepath.Join(base, "state"), os.ModeDir|0o700)
	checkMode(t, filepath.Join(base, "state", "mcpwarden"), os.ModeDir|0o700)
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModeType | os.ModePerm); got != want {
		t.Errorf("mode of %s = %v, want %v", path, got, want)
	}
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		want    string
	}{
		{"world-writable", writeFileMode(0o666), "group or others write"},
		{"other-writable only", writeFileMode(0o602), "group or others write"},
		{"group-writable", writeFileMode(0o620), "group or others write"},
		{"symbolic link", func(t *testing.T, path string) {
			target := filepath.Join(t.TempDir(), "target.jsonl")
			writeFileMode(0o600)(t, target)
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"fifo", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			// Keep a reader so that the open succeeds and the type check
			// is what refuses.
			r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
		}, "not a regular file"},
		{"fifo without reader", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "not a regular file"},
		{"directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}, "is a directory"},
		{"other owner", func(t *testing.T, path string) {
			if os.Geteuid() != 0 {
				t.Skip("needs root to give a file away")
			}
			writeFileMode(0o600)(t, path)
			if err := os.Chown(path, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, "not by the current user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			tt.prepare(t, path)
			before, _ := os.Lstat(path)
			l, err := Open(path, "fs", "s1")
			if err == nil {
				l.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			// A refused file is left as it was.
			if after, _ := os.Lstat(path); after.Mode() != before.Mode() || after.Size() != before.Size() {
				t.Errorf("refused file changed: %v %d -> %v %d", before.Mode(), before.Size(), after.Mode(), after.Size())
			}
		})
	}
}

func writeFileMode(mode os.FileMode) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		if err := os.WriteFile(path, []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		// Chmod is not subject to the umask.
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenNarrowsReadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	writeFileMode(0o644)(t, path)
	l, err := Open(path, "fs", "s1")
	if err != nil {
		t.Fatal(err)
	}
	checkMode(t, path, 0o600)
	if err := l.Write(Record{Event: EventDecision}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Existing records are kept: the file is appended to.
	if lines := readLines(t, path); len(lines) != 2 || string(lines[0]) != "{}" {
		t.Errorf("lines = %q", lines)
	}
}

func TestOpenEmptyPath(t *testing.T) {
	if _, err := Open("", "fs", "s1"); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func TestWriteRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, "filesystem", "sess-1")
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	err = l.Write(Record{
		Event:        EventOutcome,
		Method:       "tools/call",
		RequestID:    "42",
		Target:       "read_file",
		Arguments:    []byte(`{"path": "/etc/passwd", "auth": {"password": "hunter2"}}`),
		Decision:     DecisionAllow,
		Reason:       "tool allowed by profile",
		Outcome:      OutcomeIsError,
		ErrorMessage: "ENOENT",
		Duration:     1500 * time.Microsecond,
		Warnings:     []string{"landlock unavailable"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1", len(lines))
	}
	line := lines[0]
	wantKeys := []string{"time", "server", "session", "event", "method", "id", "target",
		"decision", "reason", "outcome", "error", "duration_ms", "warnings", "arguments", "prev", "hash"}
	if got := memberNames(t, line); strings.Join(got, ",") != strings.Join(wantKeys, ",") {
		t.Errorf("members = %v, want %v", got, wantKeys)
	}
	var got struct {
		Time       time.Time      `json:"time"`
		Server     string         `json:"server"`
		Session    string         `json:"session"`
		Event      string         `json:"event"`
		Method     string         `json:"method"`
		ID         jsontext.Value `json:"id"`
		Target     string         `json:"target"`
		Decision   string         `json:"decision"`
		Reason     string         `json:"reason"`
		Outcome    string         `json:"outcome"`
		Error      string         `json:"error"`
		DurationMS float64        `json:"duration_ms"`
		Warnings   []string       `json:"warnings"`
		Arguments  jsontext.Value `json:"arguments"`
		Prev       string         `json:"prev"`
		Hash       string         `json:"hash"`
	}
	if err := json.Unmarshal(line, &got, json.RejectUnknownMembers(true)); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if got.Time.Before(before.Add(-time.Second)) || got.Time.After(time.Now()) || got.Time.Location() != time.UTC {
		t.Errorf("time = %v", got.Time)
	}
	if !bytes.Contains(line, []byte(`"time":"`)) || !bytes.Contains(line, []byte(`Z","server"`)) {
		t.Errorf("time is not RFC 3339 in UTC: %s", line)
	}
	checks := []struct{ name, got, want string }{
		{"server", got.Server, "filesystem"},
		{"session", got.Session, "sess-1"},
		{"event", got.Event, "outcome"},
		{"method", got.Method, "tools/call"},
		{"id", string(got.ID), "42"},
		{"target", got.Target, "read_file"},
		{"decision", got.Decision, "allow"},
		{"reason", got.Reason, "tool allowed by profile"},
		{"outcome", got.Outcome, "isError"},
		{"error", got.Error, "ENOENT"},
		{"duration_ms", strconv.FormatFloat(got.DurationMS, 'f', -1, 64), "1.5"},
		{"warnings", strings.Join(got.Warnings, "|"), "landlock unavailable"},
		{"arguments", string(got.Arguments), `{"path":"/etc/passwd","auth":"[REDACTED]"}`},
		{"prev", got.Prev, Genesis},
		{"hash", got.Hash, sha256Hex(line[:len(line)-hashSuffixLen])},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if bytes.Contains(line, []byte("hunter2")) {
		t.Errorf("secret written to the log: %s", line)
	}
}

func TestWriteOmitsEmptyFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, "fs", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(Record{Event: EventDecision, Arguments: []byte{}, Warnings: []string{}}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	lines := readLines(t, path)
	if got := strings.Join(memberNames(t, lines[0]), ","); got != "time,server,event,prev,hash" {
		t.Errorf("members = %s in %s", got, lines[0])
	}
}

func TestWriteRequestID(t *testing.T) {
	tests := []struct{ id, want string }{
		{`7`, `7`},
		{`-1.5e3`, `-1.5e3`},
		{`"abc"`, `"abc"`},
		{`"a\"b"`, `"a\"b"`},
		{`null`, `"null"`},
		{`{"x":1}`, `"{\"x\":1}"`},
		{"7\n", `"7\n"`},
		{` "a"`, `" \"a\""`},
		{`"a`, `"\"a"`},
		{`1 2`, `"1 2"`},
		{"\"\xff\"", `"\"\ufffd\""`},
		{`"` + strings.Repeat("x", maxIDBytes) + `"`, `"\"` + strings.Repeat("x", maxIDBytes) + `\""`},
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, "fs", "s1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if err := l.Write(Record{Event: EventDecision, RequestID: tt.id}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	lines := readLines(t, path)
	for i, tt := range tests {
		var rec struct {
			ID jsontext.Value `json:"id"`
		}
		if err := json.Unmarshal(lines[i], &rec); err != nil {
			t.Fatalf("%s: %v", lines[i], err)
		}
		if string(rec.ID) != tt.want {
			t.Errorf("id %q recorded as %s, want %s", tt.id, rec.ID, tt.want)
		}
	}
}

func TestWriteTruncatesText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	long := strings.Repeat("x", 3*MaxStringBytes)
	l, err := Open(path, long, long)
	if err != nil {
		t.Fatal(err)
	}
	err = l.Write(Record{Event: EventDecision, Target: long, Reason: long, ErrorMessage: long,
		Warnings: []string{long}, Arguments: []byte(`"` + long + `"`)})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	line := readLines(t, path)[0]
	if max := 8 * (MaxStringBytes + 100); len(line) > max {
		t.Errorf("record is %d bytes, want at most %d", len(line), max)
	}
	if n := bytes.Count(line, []byte("…[8192 bytes truncated]")); n != 7 {
		t.Errorf("%d truncation markers, want 7", n)
	}
}

func TestWriteUnparseableArguments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, "fs", "s1")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(Record{Event: EventDecision, Arguments: []byte("{\"a\":\n")}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	lines := readLines(t, path)
	if !bytes.Contains(lines[0], []byte(`,"arguments":"[unparseable arguments, 6 bytes]","prev":`)) {
		t.Errorf("line = %s", lines[0])
	}
}

func TestWriteAfterClose(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "audit.jsonl"), "fs", "s1")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Write(Record{Event: EventDecision}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v, want os.ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close: %v, want os.ErrClosed", err)
	}
}

func TestWriteReportsFileErrors(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "audit.jsonl"), "fs", "s1")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// Close the descriptor behind the Log's back so that write(2) fails.
	l.file.Close()
	if err := l.Write(Record{Event: EventDecision}); err == nil {
		t.Error("Write to a closed descriptor succeeded")
	}
}

// TestWriteZerologDisabled checks that a process-wide zerolog level that
// disables logging makes Write fail instead of dropping the record.
func TestWriteZerologDisabled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, "fs", "s1")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	old := zerolog.GlobalLevel()
	zerolog.SetGlobalLevel(zerolog.Disabled)
	err = l.Write(Record{Event: EventDecision})
	zerolog.SetGlobalLevel(old)
	if err == nil {
		t.Error("Write succeeded with zerolog disabled")
	}
	zerolog.SetGlobalLevel(zerolog.ErrorLevel)
	err = l.Write(Record{Event: EventDecision})
	zerolog.SetGlobalLevel(old)
	if err != nil {
		t.Errorf("Write with zerolog at error level: %v", err)
	}
}

// TestConcurrentWriters writes large records from many goroutines through
// two Logs on one file, as two processes would, and checks that every line
// is one whole record.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	const writers, records = 8, 100
	// Each record is far larger than PIPE_BUF and than one page.
	args := []byte(`{"a":"` + strings.Repeat("a", 4000) + `","b":"` + strings.Repeat("b", 4000) +
		`","c":"` + strings.Repeat("c", 4000) + `"}`)
	writeConcurrently(t, path, writers, records, func(id string) Record {
		return Record{Event: EventDecision, RequestID: id, Arguments: args}
	})
	lines := readLines(t, path)
	if len(lines) != writers*records {
		t.Fatalf("got %d lines, want %d", len(lines), writers*records)
	}
	seen := make(map[int]bool)
	for _, line := range lines {
		var rec struct {
			ID        int            `json:"id"`
			Arguments jsontext.Value `json:"arguments"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("line is not one record: %v: %.100s", err, line)
		}
		if len(rec.Arguments) != len(args) || seen[rec.ID] {
			t.Errorf("record %d: arguments of %d bytes, seen before: %v", rec.ID, len(rec.Arguments), seen[rec.ID])
		}
		seen[rec.ID] = true
	}
	checkIntact(t, verifyFile(t, path), writers*records)
}

const killChildEnv = "MCPWARDEN_AUDIT_TEST_KILL_CHILD"

// TestRecordSurvivesKill writes records in a child process that SIGKILLs
// itself as soon as Write returns; every record must be in the file.
func TestRecordSurvivesKill(t *testing.T) {
	const records = 50
	if path := os.Getenv(killChildEnv); path != "" {
		killChild(path, records)
		return
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRecordSurvivesKill$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("child was not killed: %v\n%s", err, out)
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want SIGKILL\n%s", err, out)
	}
	lines := readLines(t, path)
	if len(lines) != records {
		t.Fatalf("got %d records, want %d", len(lines), records)
	}
	for i, line := range lines {
		var rec struct {
			ID int `json:"id"`
		}
		if err := json.Unmarshal(line, &rec); err != nil || rec.ID != i {
			t.Errorf("line %d: id %d, %v", i, rec.ID, err)
		}
	}
}

// killChild runs in the child process of TestRecordSurvivesKill.
func killChild(path string, records int) {
	l, err := Open(path, "fs", "s1")
	if err != nil {
		os.Exit(3)
	}
	for i := range records {
		if err := l.Write(Record{Event: EventDecision, RequestID: strconv.Itoa(i)}); err != nil {
			os.Exit(4)
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Minute)
	os.Exit(5)
}

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		name, xdg, home, server, want string
	}{
		{"xdg", "/xdg/state", "/home/u", "filesystem", "/xdg/state/mcpwarden/filesystem.jsonl"},
		{"home", "", "/home/u", "filesystem", "/home/u/.local/state/mcpwarden/filesystem.jsonl"},
		{"relative xdg ignored", "rel/state", "/home/u", "fs", "/home/u/.local/state/mcpwarden/fs.jsonl"},
		{"traversal", "/xdg", "/home/u", "../../etc", "/xdg/mcpwarden/_._.._etc.jsonl"},
		{"absolute", "/xdg", "/home/u", "/etc/passwd", "/xdg/mcpwarden/_etc_passwd.jsonl"},
		{"dot", "/xdg", "/home/u", ".", "/xdg/mcpwarden/_.jsonl"},
		{"dot dot", "/xdg", "/home/u", "..", "/xdg/mcpwarden/_..jsonl"},
		{"hidden", "/xdg", "/home/u", ".bashrc", "/xdg/mcpwarden/_bashrc.jsonl"},
		{"kept", "/xdg", "/home/u", "my-server_2.v1", "/xdg/mcpwarden/my-server_2.v1.jsonl"},
		{"control and unicode", "/xdg", "/home/u", "a\x00b\nc\u00e9", "/xdg/mcpwarden/a_b_c__.jsonl"},
		{"long", "/xdg", "/home/u", strings.Repeat("a", 1000), "/xdg/mcpwarden/" + strings.Repeat("a", statedir.MaxFileNameBytes) + ".jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := DefaultPath(tt.server)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("DefaultPath(%q) = %q, want %q", tt.server, got, tt.want)
			}
			dir := filepath.Join(tt.xdg, "mcpwarden")
			if !filepath.IsAbs(tt.xdg) {
				dir = filepath.Join(tt.home, ".local", "state", "mcpwarden")
			}
			if filepath.Dir(got) != dir {
				t.Errorf("DefaultPath(%q) = %q, outside %s", tt.server, got, dir)
			}
		})
	}
}

func TestDefaultPathErrors(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if _, err := DefaultPath(""); err == nil {
		t.Error("DefaultPath(\"\") succeeded")
	}
	t.Setenv("HOME", "")
	if _, err := DefaultPath("fs"); err == nil {
		t.Error("DefaultPath without HOME succeeded")
	}
	t.Setenv("HOME", "relative")
	if _, err := DefaultPath("fs"); err == nil {
		t.Error("DefaultPath with a relative HOME succeeded")
	}
}

// TestDefaultPathErrorMessages keeps the messages that reach the user the
// same whichever package detects the problem.
func TestDefaultPathErrorMessages(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "")
	for _, tt := range []struct{ server, home, want string }{
		{"", "", "audit: default log path: empty server name"},
		{"fs", "", "audit: default log path: $HOME is not defined"},
		{"fs", "relative", `audit: default log path: home directory "relative" is not absolute`},
	} {
		t.Setenv("HOME", tt.home)
		if _, err := DefaultPath(tt.server); err == nil || err.Error() != tt.want {
			t.Errorf("DefaultPath(%q) with HOME=%q: %v, want %s", tt.server, tt.home, err, tt.want)
		}
	}
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("file does not end with a newline")
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// memberNames returns the names of the members of the JSON object line, in
// order.
func memberNames(t *testing.T, line []byte) []string {
	t.Helper()
	dec := jsontext.NewDecoder(bytes.NewReader(line))
	if _, err := dec.ReadToken(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for dec.PeekKind() == jsontext.KindString {
		tok, err := dec.ReadToken()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.String())
		if err := dec.SkipValue(); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestWriteHostileText: text from a client or a server that tries to end
// the record and start a forged one, or to end the line in chain members
// of its own, stays inside its member's string: the file holds one line,
// one record whose members are what was given, and an intact chain.
func TestWriteHostileText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, "fs", "s1")
	if err != nil {
		t.Fatal(err)
	}
	fakeHash := strings.Repeat("ab", 32)
	forged := `x"}` + "\n" + `{"time":"2026-11-24T19:51:58.97Z","event":"decision","decision":"allow","prev":"` +
		Genesis + `","hash":"` + fakeHash + `"}`
	hostile := []string{forged, "a\rb\u2028c\u2029d\x00e\x1b[2J", `","prev":"` + Genesis + `","hash":"` + fakeHash + `"}`}
	for _, s := range hostile {
		r := Record{Event: EventDecision, Method: s, Target: s, Reason: s, ErrorMessage: s,
			Warnings: []string{s}, Guards: []string{s}}
		if err := l.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != len(hostile) {
		t.Fatalf("got %d lines, want %d", len(lines), len(hostile))
	}
	want := "time,server,session,event,method,target,reason,error,warnings,guards,prev,hash"
	for i, line := range lines {
		if got := strings.Join(memberNames(t, line), ","); got != want {
			t.Errorf("line %d: members %s, want %s", i+1, got, want)
		}
		e, err := ParseEntry(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		s := hostile[i]
		if e.Method != s || e.Target != s || e.Reason != s || e.Error != s ||
			len(e.Warnings) != 1 || e.Warnings[0] != s || len(e.Guards) != 1 || e.Guards[0] != s {
			t.Errorf("line %d does not hold the text given: %+v", i+1, e)
		}
	}
	checkIntact(t, verifyFile(t, path), len(hostile))
}
