package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The sandbox's init runs from mcpwarden-init when it lies beside
// mcpwarden and comes from the same build, and from mcpwarden itself when
// the file there is another build, writable by others, or a link: an init
// that does not match could lack a protection, so it must never run.
func TestInitExecutable(t *testing.T) {
	good := filepath.Join(filepath.Dir(wardenBin), "mcpwarden-init")
	if _, err := os.Stat(good); err != nil {
		t.Skipf("no mcpwarden-init beside %s (MCPWARDEN_BIN without it): %v", wardenBin, err)
	}
	tests := []struct {
		name  string
		plant func(t *testing.T, dir string)
		want  string // argv[0] of the init
	}{
		{"same build", func(t *testing.T, dir string) { copyFile(t, good, filepath.Join(dir, "mcpwarden-init"), 0o755) }, "mcpwarden-init"},
		{"absent", func(t *testing.T, dir string) {}, "mcpwarden"},
		{"another build", func(t *testing.T, dir string) { copyFile(t, recorderBin, filepath.Join(dir, "mcpwarden-init"), 0o755) }, "mcpwarden"},
		{"writable by group", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "mcpwarden-init")
			copyFile(t, good, p, 0o775)
			if err := os.Chmod(p, 0o775); err != nil {
				t.Fatal(err)
			}
		}, "mcpwarden"},
		{"symbolic link", func(t *testing.T, dir string) {
			if err := os.Symlink(good, filepath.Join(dir, "mcpwarden-init")); err != nil {
				t.Fatal(err)
			}
		}, "mcpwarden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o755); err != nil { // readable by uid 65534 runs too
				t.Fatal(err)
			}
			bin := filepath.Join(dir, "mcpwarden")
			copyFile(t, wardenBin, bin, 0o755)
			tt.plant(t, dir)
			if got := initArgv0(t, bin); got != tt.want {
				t.Errorf("init started as %q, want %q", got, tt.want)
			}
		})
	}
}

// initArgv0 runs a server that waits under bin and returns the first
// argument of the sandbox's init, the child of mcpwarden.
func initArgv0(t *testing.T, bin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(testContext(t), 30*time.Second)
	defer cancel()
	argv := wardenArgv("default", filepath.Join(t.TempDir(), "audit.jsonl"), nil, "/bin/sleep", "60")
	cmd := exec.CommandContext(ctx, bin, argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	for ctx.Err() == nil {
		for _, pid := range childrenOf(cmd.Process.Pid) {
			if argv, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil && bytes.Contains(argv, []byte("__mcpwarden_sandbox_init")) {
				return string(bytes.SplitN(argv, []byte{0}, 2)[0])
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no sandbox init under mcpwarden; stderr: %s", stderr.String())
	return ""
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command name, which may hold spaces, start
		// with the state and then the parent's pid.
		i := bytes.LastIndexByte(stat, ')')
		if f := strings.Fields(string(stat[i+1:])); i > 0 && len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
