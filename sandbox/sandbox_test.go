package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testTimeout bounds every sandbox a test starts.
const testTimeout = 30 * time.Second

// result is how a sandboxed server ended.
type result struct {
	stdout, stderr string
	code           int
}

// shConfig returns a sandbox running script with /bin/sh, with a home of
// its own and the ordinary scrubbed environment.
func shConfig(t *testing.T, script string) Config {
	t.Helper()
	return Config{
		Argv:       []string{"/bin/sh", "-c", script},
		Env:        Env(nil, os.Environ()),
		Home:       t.TempDir(),
		BestEffort: rootBestEffort,
	}
}

// command returns cfg's sandbox command; it is killed if the test ends
// first.
func command(t *testing.T, cfg Config) *exec.Cmd {
	t.Helper()
	cmd, _, err := Command(cfg)
	if err != nil {
		t.Fatalf("Command: %v", err)
	}
	t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	return cmd
}

// run runs cfg's server to its end with stdin as its input.
func run(t *testing.T, cfg Config, stdin string) result {
	t.Helper()
	cmd := command(t, cfg)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	return wait(t, cmd, &stdout, &stderr)
}

// wait waits for cmd, killing it after testTimeout.
func wait(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer) result {
	t.Helper()
	timer := time.AfterFunc(testTimeout, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	if !timer.Stop() {
		t.Fatalf("the sandbox did not end within %v; stderr: %s", testTimeout, stderr)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("waiting for the sandbox: %v", err)
	}
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.code = 128 + int(ws.Signal())
	}
	return r
}

// mustRun runs script and fails the test unless it exits 0.
func mustRun(t *testing.T, cfg Config) result {
	t.Helper()
	r := run(t, cfg, "")
	if r.code != 0 {
		t.Fatalf("exit status %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	return r
}

// started is a sandbox that runs in the background.
type started struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *bytes.Buffer
}

// startSandbox starts cfg's server and waits until it prints a line "ready".
func startSandbox(t *testing.T, cfg Config) *started {
	t.Helper()
	cmd := command(t, cfg)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &started{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout), stderr: new(bytes.Buffer)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	ready := make(chan bool, 1)
	go func() { ready <- s.lines.Scan() && s.lines.Text() == "ready" }()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("the server did not say ready; stderr: %s", s.stderr)
		}
	case <-time.After(testTimeout):
		t.Fatal("the server did not say ready in time")
	}
	return s
}

func TestCommandRejectsBadConfig(t *testing.T) {
	good := Config{Argv: []string{"/bin/true"}}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no argv", func(c *Config) { c.Argv = nil }, "no server command"},
		{"relative argv0", func(c *Config) { c.Argv = []string{"true"} }, "not an absolute path"},
		{"NUL in argument", func(c *Config) { c.Argv = []string{"/bin/true", "a\x00b"} }, "NUL"},
		{"env without =", func(c *Config) { c.Env = []string{"PATH"} }, "NAME=value"},
		{"env empty name", func(c *Config) { c.Env = []string{"=x"} }, "NAME=value"},
		{"relative read", func(c *Config) { c.Read = []string{"usr"} }, "read path"},
		{"relative write", func(c *Config) { c.Write = []string{"./x"} }, "write path"},
		{"NUL in hide", func(c *Config) { c.Hide = []string{"/a\x00"} }, "hide path"},
		{"relative home", func(c *Config) { c.Home = "home" }, "home"},
		{"proxy network without egress", func(c *Config) { c.Network = NetworkProxy }, "needs Config.Egress"},
		{"unknown network", func(c *Config) { c.Network = "internet" }, "unknown"},
		{"negative limit", func(c *Config) { c.Limits.OpenFiles = -1 }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			_, _, err := Command(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Command error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCommandNamespaces(t *testing.T) {
	for _, network := range []string{"", NetworkNone, NetworkHost} {
		cmd, _, err := Command(Config{BestEffort: rootBestEffort, Argv: []string{"/bin/true"}, Network: network})
		if err != nil {
			t.Fatal(err)
		}
		a := cmd.SysProcAttr
		want := uintptr(syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | syscall.CLONE_NEWCGROUP)
		if network != NetworkHost {
			want |= syscall.CLONE_NEWNET
		}
		if a.Cloneflags != want {
			t.Errorf("network %q: clone flags %#x, want %#x", network, a.Cloneflags, want)
		}
		if !a.Setsid || a.Pdeathsig != syscall.SIGKILL {
			t.Errorf("network %q: Setsid %v, Pdeathsig %v", network, a.Setsid, a.Pdeathsig)
		}
		m := a.UidMappings
		if len(m) != 1 || m[0].ContainerID != os.Getuid() || m[0].HostID != os.Getuid() || m[0].Size != 1 {
			t.Errorf("uid mappings %+v are not the identity of uid %d", m, os.Getuid())
		}
		if len(cmd.Args) != 2 || !IsInit(cmd.Args) {
			t.Errorf("args %q do not start the init", cmd.Args)
		}
	}
}

func TestConfigRoundTrip(t *testing.T) {
	// Paths and variables are bytes: nothing may turn them into U+FFFD.
	cfg := Config{
		Argv:        []string{"/bin/\xff\xfe", "arg"},
		Env:         []string{"A=\xc3\x28", "B=" + strings.Repeat("x", 1<<20)},
		Read:        []string{"/r"},
		Write:       []string{"/w"},
		Hide:        []string{"/h"},
		Network:     NetworkHost,
		Limits:      Limits{Memory: 1, FileSize: 2, Processes: 3, OpenFiles: 4, CPUSeconds: 5},
		SeccompDeny: []string{"ptrace"},
		BestEffort:  true,
		Home:        "/home/x",
	}
	prog := []byte("program bytes")
	f, err := openChannel(cfg, func() ([]byte, error) { return prog, nil })
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("x")); err == nil {
		t.Error("the init's end of the channel can be written")
	}
	got, err := decodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if !equalConfig(got, cfg) {
		t.Fatalf("round trip changed the configuration:\n got %+v\nwant %+v", got.Limits, cfg.Limits)
	}
	if p, err := readFrame(f, frameProgram); err != nil || string(p) != string(prog) {
		t.Fatalf("program frame %q, %v", p, err)
	}
	if _, err := readFrame(f, frameProgram); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("read past the last frame: %v", err)
	}
}

// A program the caller could not compile reaches the init as the error,
// which the init reports as its own.
func TestChannelCarriesCompileError(t *testing.T) {
	f, err := openChannel(Config{Argv: []string{"/bin/true"}}, func() ([]byte, error) {
		return nil, errors.New("unknown syscall \"no_such_syscall\"")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := decodeConfig(f); err != nil {
		t.Fatal(err)
	}
	if _, err := readFrame(f, frameProgram); err == nil || !strings.Contains(err.Error(), "no_such_syscall") {
		t.Fatalf("readFrame = %v, want the compile error", err)
	}
}

// Frames out of order or larger than the bound are refused, not trusted.
func TestReadFrameRefuses(t *testing.T) {
	for name, b := range map[string][]byte{
		"wrong kind": append([]byte{frameProgram, 1, 0, 0, 0}, 'x'),
		"too large":  {frameConfig, 0xff, 0xff, 0xff, 0xff},
		"short":      {frameConfig, 9, 0, 0, 0, 'x'},
		"empty":      nil,
	} {
		if _, err := readFrame(bytes.NewReader(b), frameConfig); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func equalConfig(a, b Config) bool {
	return slices.Equal(a.Argv, b.Argv) && slices.Equal(a.Env, b.Env) && slices.Equal(a.Read, b.Read) &&
		slices.Equal(a.Write, b.Write) && slices.Equal(a.Hide, b.Hide) && slices.Equal(a.SeccompDeny, b.SeccompDeny) &&
		a.Network == b.Network && a.Limits == b.Limits && a.BestEffort == b.BestEffort && a.Home == b.Home
}

func TestIsInit(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"mcpwarden", InitArg}, true},
		{[]string{"/usr/bin/mcpwarden", InitArg}, true},
		{[]string{"mcpwarden"}, false},
		{[]string{"mcpwarden", "run", InitArg}, false},
		{[]string{"mcpwarden", InitArg, "x"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsInit(tt.args); got != tt.want {
			t.Errorf("IsInit(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

// A configuration far larger than a pipe's buffer must not block the start.
func TestLargeConfig(t *testing.T) {
	cfg := shConfig(t, `env | grep -c '^BIG'`)
	for i := range 100 {
		cfg.Env = append(cfg.Env, fmt.Sprintf("BIG%d=%s", i, strings.Repeat("y", 10<<10)))
	}
	r := mustRun(t, cfg)
	if strings.TrimSpace(r.stdout) != "100" {
		t.Fatalf("the server saw %q of 100 large variables", r.stdout)
	}
}

func BenchmarkStartTrue(b *testing.B) {
	cfg := Config{Argv: []string{"/bin/true"}, Env: Env(nil, os.Environ()), Home: b.TempDir(), BestEffort: rootBestEffort}
	for b.Loop() {
		cmd, _, err := Command(cfg)
		if err != nil {
			b.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("%v: %s", err, stderr.String())
		}
	}
}
