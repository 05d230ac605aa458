package sandbox

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

func TestPlanLandlock(t *testing.T) {
	for _, tc := range []struct {
		abi         int
		host, best  bool
		wantErr     []string // substrings of the error; nil for success
		wantWarns   int
		wantNil     bool // nothing to enforce
		wantNet     bool
		wantScoping bool
	}{
		{abi: 0, wantErr: []string{"unavailable"}},
		{abi: 0, best: true, wantWarns: 1, wantNil: true},
		{abi: 1, wantErr: []string{"truncation", "TCP", "ioctl", "scoping"}},
		{abi: 3, wantErr: []string{"ABI 3", "TCP", "ioctl", "scoping"}},
		{abi: 3, host: true, wantErr: []string{"ioctl", "scoping"}},
		{abi: 3, best: true, wantWarns: 3},
		{abi: 3, host: true, best: true, wantWarns: 2},
		{abi: 4, best: true, wantWarns: 2, wantNet: true},
		{abi: 5, wantErr: []string{"scoping (ABI 6, Linux 6.12)"}},
		{abi: 6, wantNet: true, wantScoping: true},
		{abi: 7, wantNet: true, wantScoping: true},
		{abi: 7, host: true, wantScoping: true},
		{abi: 42, best: true, wantNet: true, wantScoping: true},
	} {
		name := fmt.Sprintf("abi=%d host=%v best=%v", tc.abi, tc.host, tc.best)
		cfg, warns, err := planLandlock(tc.abi, unix.ENOSYS, tc.host, tc.best)
		if tc.wantErr != nil {
			if err == nil {
				t.Errorf("%s: no error, want one naming %q", name, tc.wantErr)
				continue
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%s: error %q does not name %q", name, err, s)
				}
			}
			if tc.host && strings.Contains(err.Error(), "TCP") {
				t.Errorf("%s: error %q asks for TCP control with the host network", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(warns) != tc.wantWarns {
			t.Errorf("%s: warnings %q, want %d", name, warns, tc.wantWarns)
		}
		if (cfg == nil) != tc.wantNil {
			t.Errorf("%s: config %v, want nil=%v", name, cfg, tc.wantNil)
		}
		if cfg == nil {
			continue
		}
		if got := cfg.HandledAccessNet != 0; got != tc.wantNet {
			t.Errorf("%s: handles network = %v, want %v", name, got, tc.wantNet)
		}
		if got := cfg.Scoped == ll.ScopeAbstractUnixSocket|ll.ScopeSignal; got != tc.wantScoping {
			t.Errorf("%s: scoping = %v (%v), want %v", name, got, cfg.Scoped, tc.wantScoping)
		}
	}
}

func TestLandlockUnavailableReasons(t *testing.T) {
	for _, err := range []error{unix.ENOSYS, unix.EOPNOTSUPP, unix.EPERM, nil} {
		reason, hint := landlockUnavailable(err)
		if reason == "" || hint == "" {
			t.Errorf("landlockUnavailable(%v) = %q, %q", err, reason, hint)
		}
	}
}

func TestLandlockRules(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := landlockPolicy{
		read:       []string{dir, file, filepath.Join(dir, "missing")},
		write:      []string{dir},
		connectTCP: []uint16{8080},
	}
	for _, tc := range []struct {
		cfg  landlock.Config
		want []string
	}{
		{landlock.V7, []string{
			"REQUIRE {execute,read_file,read_dir} for paths [" + dir + "]",
			"REQUIRE {execute,read_file} for paths [" + file + "]",
			"REQUIRE {execute,write_file,read_file,read_dir,remove_dir,remove_file,make_char,make_dir,make_reg,make_sock,make_fifo,make_block,make_sym,refer,truncate} for paths [" + dir + "]",
			"REQUIRE {write_file,read_file,truncate,ioctl_dev} for paths [/dev/null]",
			"ALLOW {connect_tcp} on port 8080",
		}},
		{landlock.V3, []string{
			"REQUIRE {write_file,read_file,truncate} for paths [/dev/null]",
		}},
		{landlock.V9, []string{
			// Connecting to outside UNIX sockets stays refused.
			"REQUIRE {execute,write_file,read_file,read_dir,remove_dir,remove_file,make_char,make_dir,make_reg,make_sock,make_fifo,make_block,make_sym,refer,truncate} for paths [" + dir + "]",
		}},
	} {
		rules, err := landlockRules(p, tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rules {
			got = append(got, fmt.Sprint(r))
		}
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%v: rules lack %q; got\n%s", tc.cfg, w, strings.Join(got, "\n"))
			}
		}
		for _, g := range got {
			if strings.Contains(g, "missing") {
				t.Errorf("%v: rule for a missing path: %s", tc.cfg, g)
			}
		}
	}
	if _, err := landlockRules(landlockPolicy{read: []string{"/proc/self/fd/\x00"}}, landlock.V7); err == nil {
		t.Error("landlockRules accepted an unusable path")
	}
}

// TestLandlockEnforced confines a subprocess and tries to get past the
// file-system, network and scoping rules.
func TestLandlockEnforced(t *testing.T) {
	abi, err := landlockABI()
	if abi < 1 {
		t.Skipf("no Landlock here: %v", err)
	}
	dir := t.TempDir()
	for _, sub := range []string{"ro", "rw", "outside"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sub, "file"), []byte(sub), 0o644); err != nil {
			t.Fatal(err)
		}
		copyFile(t, "/bin/true", filepath.Join(dir, sub, "true"))
	}

	tcp, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	go acceptAndClose(tcp)
	abstract, err := net.Listen("unix", fmt.Sprintf("@mcpwarden-test-%d-%d", os.Getpid(), abi))
	if err != nil {
		t.Fatal(err)
	}
	defer abstract.Close()
	go acceptAndClose(abstract)

	env := []string{
		"MCPWARDEN_TEST_DIR=" + dir,
		"MCPWARDEN_TEST_TCP=" + tcp.Addr().String(),
		"MCPWARDEN_TEST_ABSTRACT=" + abstract.Addr().String(),
	}
	t.Log(runHelper(t, "TestHelperLandlock", "enforce", env, false))
}

func acceptAndClose(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestHelperLandlock(t *testing.T) {
	helperScenario(t)
	dir := os.Getenv("MCPWARDEN_TEST_DIR")
	ro, rw, outside := filepath.Join(dir, "ro"), filepath.Join(dir, "rw"), filepath.Join(dir, "outside")
	tcpAddr, abstractAddr := os.Getenv("MCPWARDEN_TEST_TCP"), os.Getenv("MCPWARDEN_TEST_ABSTRACT")
	abi, _ := landlockABI()

	// Everything refused below works before the restriction.
	mustSucceed(t, "read outside before", readErr(filepath.Join(outside, "file")))
	mustSucceed(t, "dial TCP before", dialErr("tcp4", tcpAddr))
	mustSucceed(t, "dial abstract socket before", dialErr("unix", abstractAddr))
	mustSucceed(t, "signal the parent before", unix.Kill(os.Getppid(), 0))

	// Threads that exist before the restriction must be bound by it too.
	start, threads := startLockedThreads(4)

	warnings, err := restrictLandlock([]string{ro, "/usr", "/bin", "/lib", "/lib64", "/etc"}, []string{rw}, false)
	if err != nil {
		t.Fatalf("restrictLandlock: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings without best effort: %q", warnings)
	}

	// Read paths: read, list and execute, nothing else.
	mustSucceed(t, "read a read path", readErr(filepath.Join(ro, "file")))
	_, err = os.ReadDir(ro)
	mustSucceed(t, "list a read path", err)
	mustSucceed(t, "exec from a read path", exec.Command(filepath.Join(ro, "true")).Run())
	mustBeDenied(t, "open a read path for writing", openErr(filepath.Join(ro, "file"), os.O_WRONLY))
	mustBeDenied(t, "create in a read path", openErr(filepath.Join(ro, "new"), os.O_WRONLY|os.O_CREATE))
	mustBeDenied(t, "remove from a read path", os.Remove(filepath.Join(ro, "file")))
	mustBeDenied(t, "truncate in a read path", os.Truncate(filepath.Join(ro, "file"), 0))

	// Write paths: everything a server does with its files.
	a, sub := filepath.Join(rw, "a"), filepath.Join(rw, "sub")
	mustSucceed(t, "create in a write path", os.WriteFile(a, []byte("x"), 0o600))
	mustSucceed(t, "overwrite in a write path", os.WriteFile(filepath.Join(rw, "file"), []byte("y"), 0o600))
	mustSucceed(t, "truncate in a write path", os.Truncate(a, 0))
	mustSucceed(t, "mkdir in a write path", os.Mkdir(sub, 0o700))
	mustSucceed(t, "move between directories of a write path", os.Rename(a, filepath.Join(sub, "b")))
	mustSucceed(t, "symlink in a write path", os.Symlink("b", filepath.Join(sub, "c")))
	mustSucceed(t, "remove in a write path", os.RemoveAll(sub))
	mustBeDenied(t, "move out of a write path", os.Rename(filepath.Join(rw, "file"), filepath.Join(ro, "moved")))

	// Anything else: not even readable.
	mustBeDenied(t, "read outside", readErr(filepath.Join(outside, "file")))
	_, err = os.ReadDir(outside)
	mustBeDenied(t, "list outside", err)
	mustBeDenied(t, "create outside", openErr(filepath.Join(outside, "new"), os.O_WRONLY|os.O_CREATE))
	mustBeDenied(t, "exec outside", exec.Command(filepath.Join(outside, "true")).Run())
	mustBeDenied(t, "read /proc/1/environ", readErr("/proc/1/environ"))
	close(start)
	for i := range 4 {
		mustBeDenied(t, fmt.Sprintf("read outside from an older thread %d", i), <-threads)
	}

	// The harmless devices keep working.
	mustSucceed(t, "write /dev/null", os.WriteFile("/dev/null", []byte("x"), 0))
	for _, dev := range []string{"/dev/zero", "/dev/urandom"} {
		f, err := os.Open(dev)
		if err == nil {
			_, err = io.ReadFull(f, make([]byte, 8))
			f.Close()
		}
		mustSucceed(t, "read "+dev, err)
	}
	if abi >= 5 {
		null, err := os.Open("/dev/null")
		if err != nil {
			t.Fatal(err)
		}
		_, err = unix.IoctlGetTermios(int(null.Fd()), unix.TCGETS)
		null.Close()
		if !errors.Is(err, unix.ENOTTY) {
			t.Errorf("isatty(/dev/null): %v, want ENOTTY", err)
		}
	}

	if abi >= 4 {
		mustBeDenied(t, "TCP connect", dialErr("tcp4", tcpAddr))
		mustBeDenied(t, "TCP bind", tcpBindErr())
	}

	// A child of the sandbox is in the same domain and can be signalled.
	sleep := exec.Command("/bin/sleep", "30")
	if err := sleep.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	mustSucceed(t, "signal a child", sleep.Process.Signal(syscall.SIGTERM))
	err = sleep.Wait()
	if ws, ok := sleep.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGTERM {
		t.Errorf("child after SIGTERM: %v", err)
	}
	if abi >= 6 {
		if err := unix.Kill(os.Getppid(), 0); !errors.Is(err, unix.EPERM) {
			t.Errorf("signal the parent: %v, want EPERM", err)
		}
		if err := dialErr("unix", abstractAddr); !errors.Is(err, unix.EPERM) {
			t.Errorf("connect to an outside abstract socket: %v, want EPERM", err)
		}
	}
}

// startLockedThreads starts n goroutines, each locked to an OS thread of
// its own, that wait for start to close and then report on results
// whether they could read the outside file.
func startLockedThreads(n int) (start chan struct{}, results chan error) {
	start, results = make(chan struct{}), make(chan error)
	ready := make(chan struct{})
	outside := filepath.Join(os.Getenv("MCPWARDEN_TEST_DIR"), "outside", "file")
	for range n {
		go func() {
			runtime.LockOSThread()
			ready <- struct{}{}
			<-start
			results <- readErr(outside)
		}()
		<-ready
	}
	return start, results
}

func readErr(path string) error {
	_, err := os.ReadFile(path)
	return err
}

func openErr(path string, flag int) error {
	f, err := os.OpenFile(path, flag, 0o600)
	if err == nil {
		f.Close()
	}
	return err
}

func dialErr(network, addr string) error {
	c, err := net.Dial(network, addr)
	if err == nil {
		c.Close()
	}
	return err
}

// tcpBindErr binds a plain TCP socket: net.Listen would try Multipath TCP
// first, which Landlock does not cover.
func tcpBindErr() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
}

func mustSucceed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

func mustBeDenied(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, unix.EACCES) {
		t.Errorf("%s: %v, want EACCES", what, err)
	}
}
