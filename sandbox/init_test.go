package sandbox

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestExitStatusPassesThrough(t *testing.T) {
	tests := []struct {
		script string
		want   int
	}{
		{"true", 0},
		{"exit 7", 7},
		{"exit 255", 255},
		{"kill -KILL $$", 128 + 9},
		{"kill -SEGV $$", 128 + 11},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			r := run(t, shConfig(t, tt.script), "")
			if r.code != tt.want {
				t.Fatalf("exit status %d, want %d; stderr: %s", r.code, tt.want, r.stderr)
			}
		})
	}
}

func TestStdioPassesThrough(t *testing.T) {
	input := "hello\n"
	r := run(t, shConfig(t, "cat; echo to-stderr >&2"), input)
	if r.stdout != input {
		t.Errorf("stdout %q, want %q", r.stdout, input)
	}
	if r.stderr != "to-stderr\n" {
		t.Errorf("stderr %q, want %q", r.stderr, "to-stderr\n")
	}
}

// The server is not the namespace's init, whose signal handling and
// reaping duties it would not know about.
func TestServerIsNotPID1(t *testing.T) {
	r := mustRun(t, shConfig(t, `echo $$ $PPID`))
	var pid, ppid int
	if _, err := fmt.Sscan(r.stdout, &pid, &ppid); err != nil {
		t.Fatalf("output %q: %v", r.stdout, err)
	}
	if pid < 2 || ppid != 1 {
		t.Fatalf("server pid %d, parent %d; want pid >= 2 and parent 1 (the init)", pid, ppid)
	}
}

func TestHostProcessesInvisible(t *testing.T) {
	host := os.Getpid()
	r := mustRun(t, shConfig(t, `ls /proc; echo --; kill -0 `+strconv.Itoa(host)+` 2>/dev/null && echo signalled; true`))
	list, after, _ := strings.Cut(r.stdout, "--")
	var pids []string
	for _, name := range strings.Fields(list) {
		if _, err := strconv.Atoi(name); err == nil {
			pids = append(pids, name)
		}
	}
	// The init, the shell, and ls.
	if len(pids) > 3 || !slices.Contains(pids, "1") {
		t.Errorf("/proc shows processes %v; want only the sandbox's (at most 3, with 1)", pids)
	}
	if strings.Contains(after, "signalled") {
		t.Errorf("the server could signal pid %d", host)
	}
}

func TestNoPrivileges(t *testing.T) {
	// The shell reads its own status; cat, its child, shows what was
	// inherited through execve.
	r := mustRun(t, shConfig(t, `while read -r l; do echo "$l"; done </proc/$$/status; echo --; cat /proc/self/status`))
	self, child, _ := strings.Cut(r.stdout, "--")
	for name, status := range map[string]string{"server": self, "its child": child} {
		fields := statusFields(status)
		for _, f := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
			if fields[f] != "0000000000000000" {
				t.Errorf("%s: %s = %q, want all zero", name, f, fields[f])
			}
		}
		if fields["NoNewPrivs"] != "1" {
			t.Errorf("%s: NoNewPrivs = %q, want 1", name, fields["NoNewPrivs"])
		}
		if fields["Seccomp"] != "2" {
			t.Errorf("%s: Seccomp = %q, want 2 (filter)", name, fields["Seccomp"])
		}
	}
}

// statusFields parses /proc/PID/status.
func statusFields(s string) map[string]string {
	m := make(map[string]string)
	for line := range strings.Lines(s) {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func TestUIDIsCaller(t *testing.T) {
	r := mustRun(t, shConfig(t, `id -u; id -g`))
	want := fmt.Sprintf("%d\n%d\n", os.Getuid(), os.Getgid())
	if r.stdout != want {
		t.Fatalf("uid and gid inside %q, want %q", r.stdout, want)
	}
}

// The server has a session of its own, so it has no controlling terminal
// and cannot push input into the user's (TIOCSTI).
func TestServerSession(t *testing.T) {
	s := startSandbox(t, shConfig(t, `echo ready; read x`))
	defer s.stdin.Close()
	children := descendants(s.cmd.Process.Pid)
	if len(children) == 0 {
		t.Fatal("no server process found under the init")
	}
	server := children[0]
	sid := statField(t, server.pid, 5)
	ours, err := unix.Getsid(0)
	if err != nil {
		t.Fatal(err)
	}
	if sid == ours || sid == s.cmd.Process.Pid {
		t.Errorf("server session %d; mcpwarden's is %d, the init's %d", sid, ours, s.cmd.Process.Pid)
	}
	if sid != server.pid {
		t.Errorf("server session %d; want the server (%d) to lead its own", sid, server.pid)
	}
	if tty := statField(t, server.pid, 6); tty != 0 {
		t.Errorf("server has controlling terminal %d", tty)
	}
}

// proc identifies a process across pid reuse.
type proc struct {
	pid   int
	start int // start time, field 22 of /proc/PID/stat
}

// descendants returns the processes under pid, parents first.
func descendants(pid int) []proc {
	parent := make(map[int]int)
	starts := make(map[int]int)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fields, err := readStat(p)
		if err != nil {
			continue
		}
		parent[p], _ = strconv.Atoi(fields[3])
		starts[p], _ = strconv.Atoi(fields[21])
	}
	var out []proc
	queue := []int{pid}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for p, pp := range parent {
			if pp == cur {
				out = append(out, proc{p, starts[p]})
				queue = append(queue, p)
			}
		}
	}
	return out
}

// readStat returns the fields of /proc/PID/stat, numbered from 0, with
// the command name (which may hold spaces) as one field.
func readStat(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(data)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return nil, fmt.Errorf("malformed stat %q", s)
	}
	return append([]string{strings.TrimSpace(s[:open]), s[open+1 : closing]}, strings.Fields(s[closing+1:])...), nil
}

func statField(t *testing.T, pid, field int) int {
	t.Helper()
	fields, err := readStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(fields[field])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func alive(p proc) bool {
	fields, err := readStat(p.pid)
	if err != nil {
		return false
	}
	start, _ := strconv.Atoi(fields[21])
	return start == p.start && fields[2] != "Z"
}

func TestOrphansReaped(t *testing.T) {
	// Each subshell leaves a sleep behind, which the init inherits; once
	// they end, no zombie may remain.
	script := `
for i in 1 2 3 4 5; do (sleep 0.2 & echo $! >>/tmp/orphans); done
sleep 0.1
read -r first </tmp/orphans
grep PPid /proc/$first/status
sleep 1
for f in /proc/[0-9]*/stat; do
	read -r l <$f 2>/dev/null || continue
	case "$l" in *") Z "*) echo "zombie: $l";; esac
done
echo done`
	r := mustRun(t, shConfig(t, script))
	if !strings.Contains(r.stdout, "PPid:\t1\n") {
		t.Fatalf("the orphan was not reparented to the init; output %q", r.stdout)
	}
	if strings.Contains(r.stdout, "zombie") || !strings.Contains(r.stdout, "done") {
		t.Fatalf("zombies left:\n%s", r.stdout)
	}
}

// Killing the init (as the kernel does when mcpwarden dies) takes the
// whole sandbox with it.
func TestKillingInitKillsAll(t *testing.T) {
	s := startSandbox(t, shConfig(t, `sleep 300 & (sleep 300 &) ; setsid sleep 300 & echo ready; wait`))
	var procs []proc
	deadline := time.Now().Add(5 * time.Second)
	for len(procs) < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		procs = descendants(s.cmd.Process.Pid)
	}
	if len(procs) < 4 {
		t.Fatalf("found %d processes under the init, want the shell and 3 sleeps", len(procs))
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
	deadline = time.Now().Add(5 * time.Second)
	for _, p := range procs {
		for alive(p) {
			if time.Now().After(deadline) {
				t.Fatalf("pid %d survived the init", p.pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestSignalsForwarded(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2} {
		name := strings.TrimPrefix(unix.SignalName(sig), "SIG")
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := shConfig(t, fmt.Sprintf(`trap 'echo %s >%s/marker; exit 3' %s; echo ready; while :; do sleep 0.05; done`, name, dir, name))
			cfg.Write = []string{dir}
			s := startSandbox(t, cfg)
			if err := s.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			r := wait(t, s.cmd, new(bytes.Buffer), s.stderr)
			if r.code != 3 {
				t.Errorf("exit status %d, want 3 from the trap; stderr: %s", r.code, r.stderr)
			}
			marker, err := os.ReadFile(filepath.Join(dir, "marker"))
			if err != nil || string(marker) != name+"\n" {
				t.Errorf("marker %q, %v; want %q", marker, err, name+"\n")
			}
		})
	}
}

// When the server exits, what it left behind dies with the sandbox.
func TestServerExitKillsRest(t *testing.T) {
	cmd := command(t, shConfig(t, `setsid sleep 300 & sleep 300 & exit 4`))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := wait(t, cmd, new(bytes.Buffer), &stderr)
	if r.code != 4 {
		t.Fatalf("exit status %d, want 4; stderr: %s", r.code, r.stderr)
	}
	if left := descendants(cmd.Process.Pid); len(left) > 0 {
		t.Fatalf("processes left after the server exited: %v", left)
	}
}

func TestStartErrorsReported(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		code int
		want string
	}{
		{"missing executable", Config{BestEffort: rootBestEffort, Argv: []string{"/nonexistent/server"}}, ExitNotFound, "/nonexistent/server"},
		{"not executable", Config{BestEffort: rootBestEffort, Argv: []string{notExec}, Read: []string{dir}}, ExitCannotRun, "permission denied"},
		{"bad seccomp name", Config{BestEffort: rootBestEffort, Argv: []string{"/bin/true"}, SeccompDeny: []string{"no_such_syscall"}}, ExitSetup, "no_such_syscall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.cfg, "")
			if r.code != tt.code {
				t.Fatalf("exit status %d, want %d; stderr: %s", r.code, tt.code, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, errPrefix) || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("stderr %q, want one line starting %q and naming %q", r.stderr, errPrefix, tt.want)
			}
		})
	}
}

// Run by hand outside a sandbox, the init must refuse rather than touch
// the host's mounts.
func TestInitRefusesOutsideSandbox(t *testing.T) {
	cmd := exec.Command(os.Args[0], InitArg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != ExitSetup {
		t.Fatalf("init outside a sandbox: %v, stderr %q", err, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), errPrefix) {
		t.Fatalf("stderr %q", stderr.String())
	}
}

func TestHostname(t *testing.T) {
	r := mustRun(t, shConfig(t, `cat /proc/sys/kernel/hostname`))
	if r.stdout != hostname+"\n" {
		t.Fatalf("host name %q, want %q", r.stdout, hostname)
	}
}

// When mcpwarden dies, the kernel kills the init (Pdeathsig), and the
// whole sandbox with it: nothing is left running.
func TestParentDeathKillsSandbox(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^TestHelperSandboxParent$")
	parent.Env = append(os.Environ(), "MCPWARDEN_TEST_SANDBOX_PARENT=1")
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	parent.Stderr = &stderr
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer parent.Process.Kill()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("the sandbox did not start; stderr: %s", stderr.String())
		}
	case <-time.After(testTimeout):
		t.Fatal("the sandbox did not start in time")
	}
	procs := descendants(parent.Process.Pid)
	if len(procs) < 3 {
		t.Fatalf("found %d processes under mcpwarden, want the init, the shell and sleep", len(procs))
	}
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range procs {
		for alive(p) {
			if time.Now().After(deadline) {
				t.Fatalf("pid %d survived mcpwarden", p.pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestHelperSandboxParent plays mcpwarden for TestParentDeathKillsSandbox.
func TestHelperSandboxParent(t *testing.T) {
	if os.Getenv("MCPWARDEN_TEST_SANDBOX_PARENT") != "1" {
		t.Skip("runs only as a subprocess of another test")
	}
	cmd, _, err := Command(Config{BestEffort: rootBestEffort, Argv: []string{"/bin/sh", "-c", "sleep 300 & echo ready; wait"}})
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	runtime.LockOSThread() // the init's Pdeathsig follows this thread
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(testTimeout)
}

// A descriptor mcpwarden inherited without close-on-exec (from a careless
// parent) must not reach the server: it could be a directory outside the
// view.
func TestStrayDescriptorsNotInherited(t *testing.T) {
	outside := t.TempDir()
	fd, err := unix.Open(outside, unix.O_RDONLY|unix.O_DIRECTORY, 0) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	r := mustRun(t, shConfig(t, `ls /proc/$$/fd | tr "\\n" " "`))
	if r.stdout != "0 1 2 " {
		t.Fatalf("the server has descriptors %q, want only 0 1 2 (the leaked one is %d)", r.stdout, fd)
	}
}
