package e2e_test

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpwarden/mcpwarden/profiles"
)

// The tests in this file start real npm servers through mcpwarden without
// --profile, as a client configuration does, so that the built-in profile
// chosen by match is the one under test: its sandbox must let the server
// run, and its rules must refuse what they are written to refuse.

// matchedArgv is the command line that runs argv under mcpwarden with the
// profile that mcpwarden selects itself.
func matchedArgv(auditLog string, argv ...string) []string {
	pins := filepath.Join(filepath.Dir(auditLog), "pins")
	out := append([]string{wardenBin, "run", "--audit-log", auditLog, "--pin-dir", pins}, rootFlags()...)
	return append(append(out, "--"), argv...)
}

// connectMatched starts argv under mcpwarden with the selected profile
// and returns the session and the audit log's path.
func connectMatched(t *testing.T, ctx context.Context, argv []string, env ...string) (*mcp.ClientSession, string) {
	t.Helper()
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd, _ := newCommand(t, "mcpwarden", matchedArgv(auditLog, argv...), env...)
	// No elicitation capability: a call that needs approval is refused.
	cs := connectGo(t, ctx, newGoClient(&mcp.ClientOptions{Capabilities: &mcp.ClientCapabilities{}}), cmd, "")
	return cs, auditLog
}

// expectSelected checks that the audit log's records name the profile.
func expectSelected(t *testing.T, auditLog, want string) {
	t.Helper()
	recs := readAudit(t, auditLog)
	if len(recs) == 0 {
		t.Fatalf("no audit records in %s", auditLog)
	}
	for _, r := range recs {
		if r.Server != want {
			t.Fatalf("audit record for server %q, want the built-in profile %q selected:\n%s", r.Server, want, dumpAudit(recs))
		}
	}
}

// expectRefused checks that a call was answered by mcpwarden itself with
// a tool error containing why, and recorded as denied.
func expectRefused(t *testing.T, ctx context.Context, cs *mcp.ClientSession, auditLog, tool string, args map[string]any, why string) {
	t.Helper()
	before := len(auditFor(readAudit(t, auditLog), "decision", tool))
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s %v: %v", tool, args, err)
	}
	text := toolText(res)
	if !res.IsError || !strings.HasPrefix(text, "mcpwarden: ") || !strings.Contains(text, why) {
		t.Errorf("%s %v: want mcpwarden's refusal containing %q, got isError=%v %q", tool, args, why, res.IsError, text)
	}
	d := auditFor(readAudit(t, auditLog), "decision", tool)
	if len(d) != before+1 || d[len(d)-1].Decision != "deny" {
		t.Errorf("%s: want a new deny decision, got:\n%s", tool, dumpAudit(d))
	}
}

// TestProfileSequentialThinking runs the sequential-thinking server under
// its profile: its one tool works, and arguments that break the tool's own
// schema are refused before the server sees them.
func TestProfileSequentialThinking(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	cs, auditLog := connectMatched(t, ctx, []string{"node", npmServer(t, "server-sequential-thinking")}, "DISABLE_THOUGHT_LOGGING=true")
	if names := listToolNames(t, ctx, cs); !slices.Equal(names, []string{"sequentialthinking"}) {
		t.Fatalf("tools: %q", names)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sequentialthinking", Arguments: map[string]any{
		"thought": "the sandbox has no network", "thoughtNumber": 1, "totalThoughts": 1, "nextThoughtNeeded": false}})
	if err != nil || res.IsError || !strings.Contains(toolText(res), `"thoughtNumber": 1`) {
		t.Fatalf("sequentialthinking: %v %q", err, toolText(res))
	}
	expectRefused(t, ctx, cs, auditLog, "sequentialthinking", map[string]any{
		"thought": 42, "thoughtNumber": 1, "totalThoughts": 1, "nextThoughtNeeded": false}, "input schema")
	expectSelected(t, auditLog, "sequential-thinking")
}

// postgresServer is a PostgreSQL server the test started, on a loopback
// port or a UNIX socket, with trust authentication for the role postgres.
type postgresServer struct {
	port   int
	socket string // the socket's directory, or "" for TCP
	bin    string // the directory of initdb, pg_ctl and psql
	run    []string
}

// postgresBin returns the directory that holds initdb and pg_ctl: on
// the PATH, or Debian's /usr/lib/postgresql/VERSION/bin.
func postgresBin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.Sort(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i]
		}
	}
	return ""
}

// startPostgres runs initdb and pg_ctl in a fresh directory, listening on
// 127.0.0.1 or, with socket, only on a UNIX socket in a directory of its
// own. PostgreSQL refuses to run as root, so as root it runs as nobody
// (uid 65534).
func startPostgres(t *testing.T, ctx context.Context, socket bool) *postgresServer {
	t.Helper()
	bin := postgresBin()
	if bin == "" {
		t.Skip("PostgreSQL's initdb and pg_ctl are not installed (Debian package postgresql; scripts/setup.sh installs it)")
	}
	psql := filepath.Join(bin, "psql")
	if _, err := os.Stat(psql); err != nil {
		if psql, err = exec.LookPath("psql"); err != nil {
			t.Skip("psql is not installed (Debian package postgresql-client)")
		}
	}
	s := &postgresServer{bin: filepath.Dir(psql)}
	// Not t.TempDir: nobody must be able to reach the data directory.
	base, err := os.MkdirTemp("", "mcpwarden-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	data, sock := filepath.Join(base, "data"), filepath.Join(base, "sock")
	for _, d := range []string{data, sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if os.Getuid() == 0 {
			if err := os.Chown(d, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Chmod(sock, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() == 0 {
		s.run = []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()

	s.must(t, ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories='' -c fsync=off", s.port)
	if socket {
		s.socket = sock
		opts = fmt.Sprintf("-c listen_addresses='' -p %d -c unix_socket_directories=%s -c fsync=off", s.port, sock)
	}
	s.must(t, ctx, filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(data, "log"), "-w", "-t", "60", "start")
	t.Cleanup(func() {
		// The test's context may be over: stop with a context of its own.
		stop, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = s.command(stop, filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop").Run()
	})
	return s
}

// command runs a PostgreSQL program as the server's user.
func (s *postgresServer) command(ctx context.Context, argv ...string) *exec.Cmd {
	argv = append(slices.Clone(s.run), argv...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = "/" // nobody may not enter the test's working directory
	return cmd
}

func (s *postgresServer) must(t *testing.T, ctx context.Context, argv ...string) string {
	t.Helper()
	out, err := s.command(ctx, argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", argv, err, out)
	}
	return string(out)
}

// sql runs statements with psql and returns its unaligned output.
func (s *postgresServer) sql(t *testing.T, ctx context.Context, stmt string) string {
	t.Helper()
	host := cmp.Or(s.socket, "127.0.0.1")
	return strings.TrimSpace(s.must(t, ctx, filepath.Join(s.bin, "psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", host, "-p", strconv.Itoa(s.port), "-U", "postgres", "-d", "postgres", "-c", stmt))
}

// url is the database's URL for the server; node-postgres takes a socket
// directory from the host parameter.
func (s *postgresServer) url() string {
	if s.socket != "" {
		return fmt.Sprintf("postgresql://postgres@localhost:%d/postgres?host=%s", s.port, s.socket)
	}
	return fmt.Sprintf("postgresql://postgres@127.0.0.1:%d/postgres", s.port)
}

// TestProfilePostgres runs the real postgres server against a real
// PostgreSQL: a SELECT works, and every write, including those that get
// past the server's own read-only transaction, is refused by mcpwarden.
func TestProfilePostgres(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	pg := startPostgres(t, ctx, false)
	pg.sql(t, ctx, "CREATE TABLE customers (id int PRIMARY KEY, name text); INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace')")

	cs, auditLog := connectMatched(t, ctx, []string{"node", npmServer(t, "server-postgres"), pg.url()})
	if names := listToolNames(t, ctx, cs); !slices.Equal(names, []string{"query"}) {
		t.Fatalf("tools: %q", names)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"sql": "SELECT name FROM customers ORDER BY id"}})
	if err != nil || res.IsError || !strings.Contains(toolText(res), `"Ada"`) || !strings.Contains(toolText(res), `"Grace"`) {
		t.Fatalf("SELECT: %v %q", err, toolText(res))
	}
	for _, stmt := range []string{
		"DROP TABLE customers",
		"INSERT INTO customers VALUES (3, 'Mallory')",
		// The server's BEGIN TRANSACTION READ ONLY is ended by the COMMIT.
		"COMMIT; DROP TABLE customers",
		"WITH gone AS (DELETE FROM customers RETURNING *) SELECT count(*) FROM gone",
		"SELECT * INTO stolen FROM customers",
		"SELECT set_config('default_transaction_read_only', 'off', false)",
	} {
		expectRefused(t, ctx, cs, auditLog, "query", map[string]any{"sql": stmt}, "argument /sql refused")
	}
	if got := pg.sql(t, ctx, "SELECT string_agg(name, ',' ORDER BY id) FROM customers"); got != "Ada,Grace" {
		t.Errorf("the table changed: %q", got)
	}
	if got := pg.sql(t, ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'stolen'"); got != "0" {
		t.Errorf("SELECT INTO created a table: %q", got)
	}
	expectSelected(t, auditLog, "postgres")
}

// TestProfilePostgresSocket follows the postgres profile's advice for a
// database on a UNIX socket: the built-in profile with network = "none"
// and the socket's directory readable reaches the database, and its
// query rule still refuses writes.
func TestProfilePostgresSocket(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	pg := startPostgres(t, ctx, true)
	pg.sql(t, ctx, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('over the socket')")

	text, err := fs.ReadFile(profiles.FS(), "postgres.toml")
	if err != nil {
		t.Fatal(err)
	}
	prof := string(text)
	for old, repl := range map[string]string{
		`network = "host"`:                          `network = "none"`,
		`"/run/postgresql", "/var/run/postgresql",`: strconv.Quote(pg.socket) + ",",
	} {
		if !strings.Contains(prof, old) {
			t.Fatalf("the built-in postgres profile no longer has %s", old)
		}
		prof = strings.Replace(prof, old, repl, 1)
	}
	path := filepath.Join(t.TempDir(), "postgres-socket.toml")
	if err := os.WriteFile(path, []byte(prof), 0o600); err != nil {
		t.Fatal(err)
	}
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd, _ := newCommand(t, "mcpwarden", wardenArgv(path, auditLog, nil, "node", npmServer(t, "server-postgres"), pg.url()))
	cs := connectGo(t, ctx, newGoClient(nil), cmd, "")
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "query", Arguments: map[string]any{"sql": "SELECT body FROM notes"}})
	if err != nil || res.IsError || !strings.Contains(toolText(res), "over the socket") {
		t.Fatalf("SELECT over the socket: %v %q", err, toolText(res))
	}
	expectRefused(t, ctx, cs, auditLog, "query", map[string]any{"sql": "DELETE FROM notes"}, "argument /sql refused")
}

// TestProfileGithub starts the reference GitHub server with a token that
// is not real: it lists its tools without the network, and a write is
// refused for want of approval before anything reaches GitHub.
func TestProfileGithub(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	argv := []string{"node", npmServer(t, "server-github")}
	env := []string{"GITHUB_PERSONAL_ACCESS_TOKEN=not-a-real-token"}
	cs, auditLog := connectMatched(t, ctx, argv, env...)
	names := listToolNames(t, ctx, cs)
	for _, want := range []string{"create_issue", "push_files", "merge_pull_request", "search_repositories", "get_file_contents"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools lack %s: %q", want, names)
		}
	}
	expectRefused(t, ctx, cs, auditLog, "create_issue", map[string]any{"owner": "o", "repo": "r", "title": "t"}, "needs a person's approval")
	expectRefused(t, ctx, cs, auditLog, "push_files", map[string]any{"owner": "o", "repo": "r", "branch": "main", "message": "m",
		"files": []any{map[string]any{"path": "a", "content": "b"}}}, "needs a person's approval")
	expectSelected(t, auditLog, "github")
}

// TestProfileSlack starts the reference Slack server with a bot token that
// is not real: posting is refused for want of approval.
func TestProfileSlack(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	argv := []string{"node", npmServer(t, "server-slack")}
	env := []string{"SLACK_BOT_TOKEN=not-a-real-token", "SLACK_TEAM_ID=T00000000"}
	cs, auditLog := connectMatched(t, ctx, argv, env...)
	names := listToolNames(t, ctx, cs)
	if !slices.Contains(names, "slack_post_message") || !slices.Contains(names, "slack_list_channels") {
		t.Errorf("tools: %q", names)
	}
	expectRefused(t, ctx, cs, auditLog, "slack_post_message", map[string]any{"channel_id": "C0", "text": "hello"}, "needs a person's approval")
	expectSelected(t, auditLog, "slack")
}

// TestProfileBraveSearch starts the reference Brave Search server with a
// key that is not real: a query past the API's limit is refused.
func TestProfileBraveSearch(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	argv := []string{"node", npmServer(t, "server-brave-search")}
	env := []string{"BRAVE_API_KEY=not-a-real-key"}
	cs, auditLog := connectMatched(t, ctx, argv, env...)
	if names := listToolNames(t, ctx, cs); !slices.Equal(names, []string{"brave_local_search", "brave_web_search"}) && !slices.Equal(names, []string{"brave_web_search", "brave_local_search"}) {
		t.Errorf("tools: %q", names)
	}
	expectRefused(t, ctx, cs, auditLog, "brave_web_search", map[string]any{"query": strings.Repeat("secret ", 80)}, "profile's schema")
	expectSelected(t, auditLog, "brave-search")
}

// gitStandIn is a stand-in for mcp-server-git, whose Python package
// cannot be installed here (no PyPI): the Python standard library alone,
// with the real server's tool names and arguments, doing what it does
// with the real git program. It lets the test show that the git profile's
// sandbox runs a Python interpreter and git, and lets them write the
// repository; the rules are those of the built-in profile.
const gitStandIn = pyServe + `import subprocess
repo = sys.argv[sys.argv.index("--repository") + 1]
tools = [
    {"name": "git_status", "inputSchema": {"type": "object", "properties": {"repo_path": {"type": "string"}}, "required": ["repo_path"]}},
    {"name": "git_add", "inputSchema": {"type": "object", "properties": {"repo_path": {"type": "string"}, "files": {"type": "array", "items": {"type": "string"}}}, "required": ["repo_path", "files"]}},
    {"name": "git_commit", "inputSchema": {"type": "object", "properties": {"repo_path": {"type": "string"}, "message": {"type": "string"}}, "required": ["repo_path", "message"]}},
    {"name": "git_diff", "inputSchema": {"type": "object", "properties": {"repo_path": {"type": "string"}, "target": {"type": "string"}}, "required": ["repo_path", "target"]}},
]
def git(args):
    p = subprocess.run(["git", "-C", repo] + args, capture_output=True, text=True)
    return p.stdout + p.stderr, p.returncode != 0
def call(name, a):
    if name == "git_status":
        out, err = git(["status", "--porcelain"])
    elif name == "git_add":
        out, err = git(["add", "--"] + a["files"])
    elif name == "git_commit":
        out, err = git(["commit", "-m", a["message"]])
    else:
        out, err = git(["diff", a["target"]])
    return {"content": [{"type": "text", "text": out}], "isError": err}
serve({"name": "mcp-git", "version": "stand-in"}, tools, call)
`

// TestProfileGitSandbox runs the git stand-in, launched as the real
// server is (python running mcp_server_git with --repository), under the
// built-in git profile: status works, the repository is writable after
// approval, and a commit takes its author from ~/.gitconfig; another
// directory and an option as a revision are refused.
func TestProfileGitSandbox(t *testing.T) {
	t.Parallel()
	const python = "/usr/bin/python3"
	for _, p := range []string{python, "/usr/bin/git"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v (part of the base system)", p, err)
		}
	}
	ctx := testContext(t)
	base := t.TempDir()
	repo, other, home := filepath.Join(base, "repo"), filepath.Join(base, "other"), filepath.Join(base, "home")
	pkg := filepath.Join(base, "site-packages", "mcp_server_git")
	for _, d := range []string{repo, other, home, pkg} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for path, text := range map[string]string{
		filepath.Join(pkg, "__main__.py"):  gitStandIn,
		filepath.Join(repo, "notes.txt"):   "first note\n",
		filepath.Join(home, ".gitconfig"):  "[user]\n\tname = Ada Lovelace\n\temail = ada@example.com\n",
		filepath.Join(other, "secret.txt"): "not yours\n",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.CommandContext(ctx, "git", "init", "-q", repo).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}

	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd, _ := newCommand(t, "mcpwarden", matchedArgv(auditLog, python, filepath.Join(pkg, "__main__.py"), "--repository", repo), "HOME="+home)
	asked := 0
	client := newGoClient(&mcp.ClientOptions{ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		asked++
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{}}, nil
	}})
	cs := connectGo(t, ctx, client, cmd, "")
	listToolNames(t, ctx, cs)

	call := func(tool string, args map[string]any) string {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("%s %v: %v %q", tool, args, err, toolText(res))
		}
		return toolText(res)
	}
	if got := call("git_status", map[string]any{"repo_path": repo}); !strings.Contains(got, "?? notes.txt") {
		t.Errorf("git_status: %q", got)
	}
	call("git_add", map[string]any{"repo_path": repo, "files": []string{"notes.txt"}})
	call("git_commit", map[string]any{"repo_path": repo, "message": "add notes"})
	if asked != 2 {
		t.Errorf("the client was asked %d times, want once for git_add and once for git_commit", asked)
	}
	out, err := exec.CommandContext(ctx, "git", "-C", repo, "log", "--format=%an <%ae> %s").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "Ada Lovelace <ada@example.com> add notes" {
		t.Errorf("git log on the host: %v %q", err, out)
	}
	expectRefused(t, ctx, cs, auditLog, "git_status", map[string]any{"repo_path": other}, "argument /repo_path refused")
	expectRefused(t, ctx, cs, auditLog, "git_diff", map[string]any{"repo_path": repo, "target": "--output=" + filepath.Join(repo, "x")}, "profile's schema")
	if _, err := os.Stat(filepath.Join(repo, "x")); err == nil {
		t.Error("git diff --output wrote a file")
	}
	expectSelected(t, auditLog, "git")
}

// debianChromium is the browser binary of Debian's chromium package;
// Playwright's own browser download is not reachable here.
const debianChromium = "/usr/lib/chromium/chromium"

// TestProfilePlaywright runs @playwright/mcp with a real Chromium under
// the built-in playwright profile: the browser starts in the sandbox and
// runs page script after approval; navigation to loopback and metadata
// addresses, a local file upload, and the tool that runs code in the
// server's own process are refused, and nothing reaches a local web
// server the test listens on.
func TestProfilePlaywright(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(debianChromium); err != nil {
		t.Skipf("Chromium is not installed (%v): the playwright profile's browser test needs Debian's chromium package", err)
	}
	ctx := testContext(t)
	hits := make(chan string, 16)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			hits <- c.RemoteAddr().String()
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close() })

	cli, err := filepath.Abs(filepath.Join("npm", "node_modules", "@playwright", "mcp", "cli.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("@playwright/mcp is not installed (%v): run scripts/setup.sh, which runs npm ci in e2e/npm", err)
	}
	out := t.TempDir()
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	argv := matchedArgv(auditLog, "node", cli, "--headless", "--isolated", "--executable-path", debianChromium, "--output-dir", out)
	cmd, _ := newCommand(t, "mcpwarden", argv)
	asked := 0
	client := newGoClient(&mcp.ClientOptions{ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		asked++
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{}}, nil
	}})
	cs := connectGo(t, ctx, client, cmd, "")
	if names := listToolNames(t, ctx, cs); !slices.Contains(names, "browser_navigate") || slices.Contains(names, "browser_run_code_unsafe") {
		t.Fatalf("tools: %q", names)
	}

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "browser_tabs", Arguments: map[string]any{"action": "new"}})
	if err != nil || res.IsError || !strings.Contains(toolText(res), "about:blank") {
		t.Fatalf("browser_tabs new: %v %q", err, toolText(res))
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "browser_evaluate", Arguments: map[string]any{"function": "() => 6 * 7"}})
	if err != nil || res.IsError || !strings.Contains(toolText(res), "42") {
		t.Fatalf("browser_evaluate: %v %q", err, toolText(res))
	}
	if asked != 1 {
		t.Errorf("the client was asked %d times for browser_evaluate, want once", asked)
	}

	local := "http://" + l.Addr().String() + "/admin"
	for _, u := range []string{local, "http://169.254.169.254/latest/meta-data/", "http://0x7f.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port) + "/", "file:///etc/passwd"} {
		expectRefused(t, ctx, cs, auditLog, "browser_navigate", map[string]any{"url": u}, "argument /url refused")
	}
	expectRefused(t, ctx, cs, auditLog, "browser_tabs", map[string]any{"action": "new", "url": local}, "argument /url refused")
	expectRefused(t, ctx, cs, auditLog, "browser_file_upload", map[string]any{"paths": []string{"/etc/shadow"}}, "argument /paths/0 refused")
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "browser_run_code_unsafe", Arguments: map[string]any{"code": "async () => 1"}})
	expectRPCError(t, "browser_run_code_unsafe", err, -32602, "Unknown tool: browser_run_code_unsafe")
	if asked != 1 {
		t.Errorf("refused calls asked for approval: %d requests", asked)
	}
	select {
	case from := <-hits:
		t.Errorf("the local web server was reached from %s", from)
	default:
	}
	expectSelected(t, auditLog, "playwright")
}
