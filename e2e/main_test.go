// Package e2e_test runs the mcpwarden binary end to end: real MCP servers
// (the reference servers from npm, and the recorder in e2e/recorder) behind
// `mcpwarden run`, driven by real MCP clients (the Go SDK, the TypeScript
// SDK) and by raw JSON lines that no SDK would send.
//
// TestMain builds mcpwarden, the recorder and the escaper (e2e/escaper)
// once, unless MCPWARDEN_BIN, MCPWARDEN_RECORDER and MCPWARDEN_ESCAPER
// name binaries already built (scripts/
// test-unprivileged.sh runs the tests as a user that cannot build). The
// npm servers must be installed in e2e/npm/node_modules (scripts/setup.sh
// does it); their absence is a failure, not a skip, so that a green run
// means they ran.
package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Paths of the binaries TestMain builds; set once before any test runs.
var (
	wardenBin   string
	recorderBin string
	escaperBin  string
)

// testTimeout bounds every single test; no read or wait may outlast it.
const testTimeout = 90 * time.Second

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mcpwarden-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The proxy is built with the race detector when the tests run with
	// it, so that a data race inside mcpwarden fails the end-to-end run.
	var wardenFlags []string
	if raceEnabled {
		wardenFlags = append(wardenFlags, "-race")
	}
	// Built as make build builds it: with the small init executable
	// beside it, so that the tests run the init users run.
	if os.Getenv("MCPWARDEN_BIN") == "" {
		id, err := buildInit(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			return 1
		}
		wardenFlags = append(wardenFlags, "-ldflags", "-X main.initBuildID="+id)
	}
	if wardenBin, err = binary("MCPWARDEN_BIN", dir, "github.com/mcpwarden/mcpwarden/cmd/mcpwarden", wardenFlags...); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	if recorderBin, err = binary("MCPWARDEN_RECORDER", dir, "github.com/mcpwarden/mcpwarden/e2e/recorder"); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	if escaperBin, err = binary("MCPWARDEN_ESCAPER", dir, "github.com/mcpwarden/mcpwarden/e2e/escaper"); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	return m.Run()
}

// binary returns the program named by the environment variable env, when
// set (a user without the Go toolchain or module cache runs the tests with
// binaries built for it), or else builds pkg into dir.
func binary(env, dir, pkg string, flags ...string) (string, error) {
	if path := os.Getenv(env); path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("%s: %w", env, err)
		}
		return path, nil
	}
	out := filepath.Join(dir, filepath.Base(pkg))
	return out, goBuild(out, pkg, flags...)
}

// buildInit builds mcpwarden-init into dir and returns its Go build ID.
// It is built as make build builds it, a static executable without cgo,
// also when the tests run under the race detector (which needs cgo): the
// init the tests run is the one users run, psx's all-threads calls for
// Landlock without cgo included.
func buildInit(dir string) (string, error) {
	out := filepath.Join(dir, "mcpwarden-init")
	if err := goBuildEnv(out, "github.com/mcpwarden/mcpwarden/cmd/mcpwarden-init", []string{"CGO_ENABLED=0"}); err != nil {
		return "", err
	}
	id, err := exec.Command("go", "tool", "buildid", out).Output()
	if err != nil {
		return "", fmt.Errorf("go tool buildid %s: %w", out, err)
	}
	return strings.TrimSpace(string(id)), nil
}

// goBuild builds pkg into out. The go command puts its own directory
// first in the PATH of the tests it runs.
func goBuild(out, pkg string, flags ...string) error { return goBuildEnv(out, pkg, nil, flags...) }

// goBuildEnv is goBuild with variables added to the go command's
// environment.
func goBuildEnv(out, pkg string, env []string, flags ...string) error {
	args := append([]string{"build", "-o", out}, flags...)
	cmd := exec.Command("go", append(args, pkg)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, stderr.String())
	}
	return nil
}

// testContext returns a context that ends before the test's own deadline,
// so that a stuck read fails the test with a message instead of a panic.
func testContext(t testing.TB) context.Context {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	if dl, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dl.Deadline(); ok && d.Add(-5*time.Second).Before(deadline) {
			deadline = d.Add(-5 * time.Second)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

// npmServer returns the entry point of an installed npm MCP server
// package ("server-everything"), failing the test when it is missing.
func npmServer(t testing.TB, pkg string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node not found in PATH: run scripts/setup.sh (%v)", err)
	}
	path, err := filepath.Abs(filepath.Join("npm", "node_modules", "@modelcontextprotocol", pkg, "dist", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("MCP server %s is not installed (%v): run scripts/setup.sh, which runs npm ci in e2e/npm", pkg, err)
	}
	return path
}

// everythingArgv is the command line of server-everything on stdio.
func everythingArgv(t testing.TB) []string {
	return []string{"node", npmServer(t, "server-everything"), "stdio"}
}

// systemRead are the paths every test server reads: programs, libraries
// and the files in /etc that the dynamic loader and libc consult, as in
// the built-in profiles. The server's own executable and scripts are
// added by mcpwarden.
var systemRead = []string{
	"/usr", "/bin", "/lib", "/lib64",
	"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/localtime", "/etc/nsswitch.conf",
}

// grant is what a test's server needs from the sandbox beyond systemRead:
// more paths to read, paths to write, environment variables to keep.
type grant struct {
	read, write, env []string
}

// writeProfile writes a profile for a server named "e2e" with the given
// policy sections, a sandbox with no network that grants g, and returns
// its path.
func writeProfile(t testing.TB, policy string, g ...grant) string {
	t.Helper()
	var all grant
	for _, x := range g {
		all.read = append(all.read, x.read...)
		all.write = append(all.write, x.write...)
		all.env = append(all.env, x.env...)
	}
	var b strings.Builder
	b.WriteString("[server]\nname = \"e2e\"\n\n[sandbox]\nnetwork = \"none\"\n")
	fmt.Fprintf(&b, "read = %s\n", tomlList(append(slices.Clone(systemRead), all.read...)))
	fmt.Fprintf(&b, "write = %s\n", tomlList(all.write))
	fmt.Fprintf(&b, "env = %s\n\n", tomlList(append([]string{"PATH", "HOME", "LANG"}, all.env...)))
	b.WriteString(policy)
	path := filepath.Join(t.TempDir(), "profile.toml")
	if err := os.WriteFile(path, []byte(b.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tomlList renders strings as a TOML array of basic strings.
func tomlList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// recordGrant lets the recorder append to the record file at path.
func recordGrant(path string) grant {
	return grant{write: []string{filepath.Dir(path)}, env: []string{"RECORD_FILE"}}
}

// wardenArgv is the command line that runs argv under mcpwarden.
func wardenArgv(profile, auditLog string, flags []string, argv ...string) []string {
	// Pins live beside the audit log, so that every test starts with
	// none and servers of different tests never meet in one pin file.
	pins := filepath.Join(filepath.Dir(auditLog), "pins")
	out := []string{wardenBin, "run", "--profile", profile, "--audit-log", auditLog, "--pin-dir", pins}
	out = append(out, rootFlags()...)
	out = append(out, flags...)
	out = append(out, "--")
	return append(out, argv...)
}

// rootFlags are the flags every run needs as root: the kernel exempts root
// from the process limit, so without a delegated cgroup mcpwarden refuses
// to start unless told to do its best (TestEscape/RootRefusedWithoutLimit
// shows the refusal).
func rootFlags() []string {
	if os.Getuid() == 0 {
		return []string{"--best-effort"}
	}
	return nil
}

// lockedBuffer collects a process's stderr; it is safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// watchStderr logs a process's stderr when the test fails, and fails the
// test when the race detector reported a race inside mcpwarden.
func watchStderr(t testing.TB, name string, buf *lockedBuffer) {
	t.Cleanup(func() {
		s := buf.String()
		if strings.Contains(s, "WARNING: DATA RACE") {
			t.Errorf("%s: the race detector reported a data race:\n%s", name, s)
			return
		}
		if t.Failed() && s != "" {
			t.Logf("%s stderr:\n%s", name, s)
		}
	})
}

// newCommand prepares argv with its stderr collected.
func newCommand(t testing.TB, name string, argv []string, env ...string) (*exec.Cmd, *lockedBuffer) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	if raceEnabled {
		// The race detector waits a second at exit by default.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	// A process left behind holding stderr must not make Wait hang.
	cmd.WaitDelay = 5 * time.Second
	watchStderr(t, name, stderr)
	return cmd, stderr
}

// newGoClient returns a Go SDK client with the given options.
func newGoClient(opts *mcp.ClientOptions) *mcp.Client {
	return mcp.NewClient(&mcp.Implementation{Name: "mcpwarden-e2e", Version: "1.0.0"}, opts)
}

// connectGo starts cmd as an MCP server for client and returns the
// initialized session, closed when the test ends. version pins the
// protocol version the client asks for ("" for the SDK's latest).
func connectGo(t testing.TB, ctx context.Context, client *mcp.Client, cmd *exec.Cmd, version string) *mcp.ClientSession {
	t.Helper()
	transport := &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}
	var sopts *mcp.ClientSessionOptions
	if version != "" {
		sopts = &mcp.ClientSessionOptions{ProtocolVersion: version}
	}
	cs, err := client.Connect(ctx, transport, sopts)
	if err != nil {
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		t.Fatalf("connecting to %v: %v", cmd.Args, err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// auditRecord is one line of mcpwarden's audit log.
type auditRecord struct {
	Time       string         `json:"time"`
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
	DurationMS *float64       `json:"duration_ms"`
	Warnings   []string       `json:"warnings"`
	Arguments  jsontext.Value `json:"arguments"`
	Guards     []string       `json:"guards"`
}

// readAudit reads every record of an audit log; a missing file is empty.
func readAudit(t testing.TB, path string) []auditRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	// A last line without its newline is a record still being written
	// (mcpwarden writes the outcome after the answer that a test may be
	// reacting to): a reader that polls sees it next time, whole.
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		data = data[:i+1]
	}
	var out []auditRecord
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r auditRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("audit log %s line %d: %v\n%s", path, i+1, err, line)
		}
		out = append(out, r)
	}
	return out
}

// auditFor returns the records about target with the given event.
func auditFor(recs []auditRecord, event, target string) []auditRecord {
	var out []auditRecord
	for _, r := range recs {
		if r.Event == event && r.Target == target {
			out = append(out, r)
		}
	}
	return out
}

// waitAudit polls the audit log until pred holds for its records: the
// outcome of a call is written after its answer has been sent.
func waitAudit(t testing.TB, ctx context.Context, path string, pred func([]auditRecord) bool) []auditRecord {
	t.Helper()
	for {
		recs := readAudit(t, path)
		if pred(recs) {
			return recs
		}
		select {
		case <-ctx.Done():
			t.Fatalf("audit log %s never reached the expected state; it holds:\n%s", path, dumpAudit(recs))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func dumpAudit(recs []auditRecord) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %s %s id=%s target=%q decision=%s outcome=%s reason=%q error=%q\n",
			r.Event, r.Method, r.ID, r.Target, r.Decision, r.Outcome, r.Reason, r.Error)
	}
	return b.String()
}

// rpcMsg is a JSON-RPC message as a raw client sees it.
type rpcMsg struct {
	JSONRPC string         `json:"jsonrpc"`
	ID      jsontext.Value `json:"id,omitzero"`
	Method  string         `json:"method,omitzero"`
	Params  jsontext.Value `json:"params,omitzero"`
	Result  jsontext.Value `json:"result,omitzero"`
	Error   *rpcError      `json:"error,omitzero"`
}

type rpcError struct {
	Code    int64          `json:"code"`
	Message string         `json:"message"`
	Data    jsontext.Value `json:"data,omitzero"`
}

// rawConn drives a process with raw JSON lines on its stdin and reads its
// stdout line by line, so that tests can send what no SDK would.
type rawConn struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte // stdout, one line each; closed at end of output
	stderr *lockedBuffer
	exited chan struct{} // closed once the process has been reaped
	state  *os.ProcessState
}

// startRaw starts argv with env added to the test's environment.
func startRaw(t testing.TB, argv []string, env ...string) *rawConn {
	t.Helper()
	cmd, stderr := newCommand(t, filepath.Base(argv[0]), argv, env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", argv, err)
	}
	c := &rawConn{t: t, cmd: cmd, stdin: stdin, lines: make(chan []byte, 1024), stderr: stderr, exited: make(chan struct{})}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(c.lines)
		br := bufio.NewReaderSize(stdout, 1<<20)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				c.lines <- bytes.TrimSuffix(line, []byte("\n"))
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		<-readerDone // Wait closes stdout: read it to the end first
		_ = cmd.Wait()
		c.state = cmd.ProcessState
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = cmd.Process.Kill()
		}
		// Unread output must not keep the reader, and so Wait, blocked.
		for range c.lines {
		}
		<-c.exited
	})
	return c
}

// write sends b followed by a newline.
func (c *rawConn) write(b []byte) {
	c.t.Helper()
	if _, err := c.stdin.Write(append(append([]byte(nil), b...), '\n')); err != nil {
		c.t.Fatalf("writing to %s: %v", c.cmd.Args[0], err)
	}
}

// closeInput ends the process's stdin, as a client leaving does.
func (c *rawConn) closeInput() { _ = c.stdin.Close() }

// next returns the next stdout line, or false at the end of output.
func (c *rawConn) next(ctx context.Context) ([]byte, bool) {
	c.t.Helper()
	select {
	case line, ok := <-c.lines:
		return line, ok
	case <-ctx.Done():
		c.t.Fatalf("no output from %s: %v", c.cmd.Args[0], ctx.Err())
		return nil, false
	}
}

// nextMsg returns the next stdout line decoded, failing on anything that
// is not a JSON-RPC message.
func (c *rawConn) nextMsg(ctx context.Context) (rpcMsg, []byte, bool) {
	c.t.Helper()
	line, ok := c.next(ctx)
	if !ok {
		return rpcMsg{}, nil, false
	}
	return mustDecode(c.t, line), line, true
}

func mustDecode(t testing.TB, line []byte) rpcMsg {
	t.Helper()
	var m rpcMsg
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("output line is not a JSON-RPC message (%v): %q", err, line)
	}
	if m.JSONRPC != "2.0" {
		t.Fatalf("output line lacks \"jsonrpc\":\"2.0\": %q", line)
	}
	return m
}

// serverRequestHandler answers a request the server sends to the client;
// it returns the result, or an error to send back.
type serverRequestHandler func(m rpcMsg) (any, *rpcError)

// call sends a request and returns its response, answering server
// requests with handle (ping and roots/list have defaults) and passing
// notifications to notes, if set.
func (c *rawConn) call(ctx context.Context, id any, method string, params any, handle serverRequestHandler, notes func(rpcMsg)) rpcMsg {
	c.t.Helper()
	idText := c.send(id, method, params)
	for {
		m, line, ok := c.nextMsg(ctx)
		if !ok {
			c.t.Fatalf("%s ended its output before answering %s (id %s)", c.cmd.Args[0], method, idText)
		}
		switch {
		case m.Method != "" && m.ID != nil:
			c.answer(m, handle)
		case m.Method != "":
			if notes != nil {
				notes(m)
			}
		case string(m.ID) == idText:
			return m
		default:
			c.t.Fatalf("unexpected answer while waiting for %s (id %s): %s", method, idText, line)
		}
	}
}

// send writes a request and returns its id as JSON text.
func (c *rawConn) send(id any, method string, params any) string {
	c.t.Helper()
	req := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		req["params"] = params
	}
	b, err := json.Marshal(req, json.Deterministic(true))
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(b)
	idText, _ := json.Marshal(id)
	return string(idText)
}

// notify writes a notification.
func (c *rawConn) notify(method string, params any) {
	c.t.Helper()
	req := map[string]any{"jsonrpc": "2.0", "method": method}
	if params != nil {
		req["params"] = params
	}
	b, err := json.Marshal(req, json.Deterministic(true))
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(b)
}

func (c *rawConn) answer(m rpcMsg, handle serverRequestHandler) {
	c.t.Helper()
	var result any
	var rerr *rpcError
	switch {
	case handle != nil:
		result, rerr = handle(m)
	case m.Method == "ping":
		result = map[string]any{}
	case m.Method == "roots/list":
		result = map[string]any{"roots": []any{}}
	default:
		rerr = &rpcError{Code: -32601, Message: "not supported by the test client"}
	}
	resp := map[string]any{"jsonrpc": "2.0", "id": m.ID}
	if rerr != nil {
		resp["error"] = rerr
	} else {
		resp["result"] = result
	}
	b, err := json.Marshal(resp, json.Deterministic(true))
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(b)
}

// initialize performs the MCP handshake at the given protocol version
// with the given client capabilities and returns the initialize result.
func (c *rawConn) initialize(ctx context.Context, version string, caps map[string]any) rpcMsg {
	c.t.Helper()
	if caps == nil {
		caps = map[string]any{}
	}
	resp := c.call(ctx, "init", "initialize", map[string]any{
		"protocolVersion": version,
		"capabilities":    caps,
		"clientInfo":      map[string]any{"name": "mcpwarden-e2e-raw", "version": "1.0.0"},
	}, nil, nil)
	if resp.Error != nil {
		c.t.Fatalf("initialize: %s", resp.Error.Message)
	}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		c.t.Fatalf("initialize result: %v", err)
	}
	if res.ProtocolVersion != version {
		c.t.Fatalf("initialize negotiated %q, want %q", res.ProtocolVersion, version)
	}
	c.notify("notifications/initialized", nil)
	return resp
}

// wait waits for the process to exit and returns its exit status as a
// shell reports it (128+N for signal N).
func (c *rawConn) wait(ctx context.Context) int {
	c.t.Helper()
	select {
	case <-c.exited:
	case <-ctx.Done():
		_ = c.cmd.Process.Kill()
		<-c.exited
		c.t.Fatalf("%s did not exit: %v", c.cmd.Args[0], ctx.Err())
	}
	return exitStatus(c.state)
}

// drain reads the rest of stdout until the end of output.
func (c *rawConn) drain(ctx context.Context) [][]byte {
	c.t.Helper()
	var out [][]byte
	for {
		line, ok := c.next(ctx)
		if !ok {
			return out
		}
		out = append(out, line)
	}
}

func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// proc is what /proc/PID/stat says about a process.
type proc struct {
	pid, ppid, pgrp int
	state           byte
	comm            string
}

// alive reports whether the process still runs: a zombie has ended.
func (p proc) alive() bool { return p.state != 'Z' && p.state != 'X' }

// allProcs lists the processes in /proc; ones that vanish while being
// read are skipped.
func allProcs(t testing.TB) []proc {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

func readProc(pid int) (proc, bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return proc{}, false
	}
	// The command name is in parentheses and may contain anything.
	i, j := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if i < 0 || j < i {
		return proc{}, false
	}
	f := strings.Fields(string(data[j+1:]))
	if len(f) < 3 {
		return proc{}, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgrp, err2 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || len(f[0]) != 1 {
		return proc{}, false
	}
	return proc{pid: pid, ppid: ppid, pgrp: pgrp, state: f[0][0], comm: string(data[i+1 : j])}, true
}

// descendants returns the living processes below root in the process tree.
func descendants(t testing.TB, root int) []proc {
	t.Helper()
	all := allProcs(t)
	var out []proc
	parents := map[int]bool{root: true}
	for grew := true; grew; {
		grew = false
		for _, p := range all {
			if parents[p.ppid] && !parents[p.pid] && p.alive() {
				parents[p.pid] = true
				out = append(out, p)
				grew = true
			}
		}
	}
	return out
}

// waitDescendant polls until a process named comm runs below root (the
// server runs under mcpwarden's sandbox init) and returns it.
func waitDescendant(t testing.TB, ctx context.Context, root int, comm string) proc {
	t.Helper()
	for {
		for _, p := range descendants(t, root) {
			if p.comm == comm {
				return p
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no process %q ever ran below %d; below it: %+v", comm, root, descendants(t, root))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// toolText joins the text contents of a tool result.
func toolText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
