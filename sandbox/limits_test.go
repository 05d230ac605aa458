package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// limitsOf parses /proc/PID/limits into name → [soft, hard].
func limitsOf(s string) map[string][2]string {
	m := make(map[string][2]string)
	for line := range strings.Lines(s) {
		if len(line) < 26 {
			continue
		}
		f := strings.Fields(line[25:])
		if len(f) >= 2 {
			m[strings.TrimSpace(line[:25])] = [2]string{f[0], f[1]}
		}
	}
	return m
}

func TestRlimitsApplied(t *testing.T) {
	cfg := shConfig(t, `ulimit -n; cat /proc/self/limits`)
	cfg.Limits = Limits{Memory: 512 << 20, FileSize: 3 << 20, Processes: 77, OpenFiles: 123, CPUSeconds: 30}
	r := mustRun(t, cfg)
	first, rest, _ := strings.Cut(r.stdout, "\n")
	if first != "123" {
		t.Errorf("ulimit -n = %q, want 123", first)
	}
	got := limitsOf(rest)
	want := map[string][2]string{
		"Max data size":       {"536870912", "536870912"},
		"Max file size":       {"3145728", "3145728"},
		"Max processes":       {"77", "77"},
		"Max open files":      {"123", "123"},
		"Max cpu time":        {"30", "31"},
		"Max core file size":  {"0", "0"},
		"Max address space":   {"unlimited", "unlimited"},
		"Max resident set":    got["Max resident set"],
		"Max realtime prior.": got["Max realtime prior."],
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s = %v, want %v", name, got[name], w)
		}
	}
}

func TestRlimitDefaults(t *testing.T) {
	got := limitsOf(mustRun(t, shConfig(t, `cat /proc/self/limits`)).stdout)
	want := map[string]string{
		"Max data size":      fmt.Sprint(DefaultMemory),
		"Max file size":      fmt.Sprint(DefaultFileSize),
		"Max processes":      fmt.Sprint(DefaultProcesses),
		"Max open files":     fmt.Sprint(DefaultOpenFiles),
		"Max cpu time":       "unlimited",
		"Max core file size": "0",
	}
	for name, w := range want {
		if got[name][0] != w {
			t.Errorf("%s = %v, want %s", name, got[name], w)
		}
	}
}

func TestFileSizeLimitEnforced(t *testing.T) {
	rw := t.TempDir()
	cfg := shConfig(t, fmt.Sprintf(`head -c 3M /dev/zero >%s/big; echo status $?`, rw))
	cfg.Write = []string{rw}
	cfg.Limits.FileSize = 1 << 20
	r := mustRun(t, cfg)
	fi, err := os.Stat(filepath.Join(rw, "big"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 1<<20 || strings.Contains(r.stdout, "status 0") {
		t.Fatalf("wrote %d bytes past a 1MiB limit; output %q", fi.Size(), r.stdout)
	}
}

func TestMemoryLimitEnforced(t *testing.T) {
	script := `dd if=/dev/zero of=/dev/null bs=256M count=1 2>/dev/null && echo allocated; true`
	cfg := shConfig(t, script)
	cfg.Limits.Memory = 64 << 20
	if r := mustRun(t, cfg); strings.Contains(r.stdout, "allocated") {
		t.Fatal("allocated 256MiB under a 64MiB limit")
	}
	cfg.Limits.Memory = 1 << 30 // control
	if r := mustRun(t, cfg); !strings.Contains(r.stdout, "allocated") {
		t.Fatalf("could not allocate 256MiB under a 1GiB limit: %q", r.stderr)
	}
}

// RLIMIT_NPROC is counted per user namespace (Linux 5.14): the sandbox's
// own tasks count, the user's others do not. The kernel exempts root.
func TestProcessLimitEnforced(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("the kernel does not enforce RLIMIT_NPROC for root")
	}
	script := `for i in $(seq 60); do sleep 5 & done; echo spawned`
	cfg := shConfig(t, script)
	cfg.Limits.Processes = 40
	r := run(t, cfg, "")
	if strings.Contains(r.stdout, "spawned") || !strings.Contains(r.stderr, "fork") {
		t.Fatalf("60 processes under a limit of 40 tasks: status %d, output %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	cfg.Limits.Processes = 0 // control: the default allows it
	if r := mustRun(t, cfg); !strings.Contains(r.stdout, "spawned") {
		t.Fatalf("control: output %q", r.stdout)
	}
}

func TestLimitsValidate(t *testing.T) {
	for _, l := range []Limits{{Memory: -1}, {FileSize: -1}, {Processes: -1}, {OpenFiles: -1}, {CPUSeconds: -1}} {
		if l.validate() == nil {
			t.Errorf("%+v accepted", l)
		}
	}
	if err := (Limits{}).validate(); err != nil {
		t.Errorf("zero limits: %v", err)
	}
}

// The cgroup files are plain files here: this checks what is written
// where, not the kernel (which needs a delegated cgroup v2 directory).
func TestCreateCgroupFiles(t *testing.T) {
	parent := t.TempDir()
	f, err := createCgroup(parent, Limits{Memory: 1 << 30, Processes: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for file, want := range map[string]string{"memory.max": "1073741824", "pids.max": "64"} {
		data, err := os.ReadFile(filepath.Join(f.Name(), file))
		if err != nil || string(data) != want {
			t.Errorf("%s = %q, %v; want %q", file, data, err, want)
		}
	}
	if !strings.HasPrefix(filepath.Base(f.Name()), cgroupPrefix) {
		t.Errorf("cgroup %s lacks the prefix", f.Name())
	}

	// Stale empty sandbox cgroups go; others stay.
	stale := filepath.Join(parent, cgroupPrefix+"old")
	other := filepath.Join(parent, "other")
	for _, d := range []string{stale, other} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	removeStaleCgroups(parent)
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale cgroup kept")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("unrelated cgroup removed")
	}
}

func TestControllersEnabled(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		control string
		want    bool
	}{{"cpu memory pids\n", true}, {"memory\n", false}, {"", false}} {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(tt.control), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := controllersEnabled(dir); got != tt.want {
			t.Errorf("controllersEnabled with %q = %v", tt.control, got)
		}
	}
}

// With a delegated cgroup v2 directory the sandbox runs in a cgroup of its
// own with the limits set; machines without one skip this.
func TestSandboxCgroup(t *testing.T) {
	if _, ok := delegatedCgroup(); !ok {
		t.Skip("no delegated cgroup v2 directory with the memory and pids controllers")
	}
	cfg := shConfig(t, `cat /proc/self/cgroup`)
	cfg.Limits = Limits{Memory: 256 << 20, Processes: 50}
	r := mustRun(t, cfg)
	if !strings.HasPrefix(r.stdout, "0::/") {
		t.Fatalf("cgroup inside %q", r.stdout)
	}
}

// rootBestEffort lets the tests run as root, where the processes limit
// cannot be enforced without a delegated cgroup; TestRootNeedsBestEffort
// shows that mcpwarden refuses to start then unless asked to.
var rootBestEffort = os.Getuid() == 0

func TestRootNeedsBestEffort(t *testing.T) {
	cfg := Config{Argv: []string{"/bin/true"}, Home: t.TempDir()}
	_, warnings, err := Command(cfg)
	withCgroup := err == nil && len(warnings) == 0
	switch {
	case os.Getuid() != 0 || withCgroup:
		if err != nil {
			t.Fatalf("Command: %v", err)
		}
	case err == nil || !errors.Is(err, errRootProcesses):
		t.Fatalf("Command as root without a cgroup = %v, want the processes-limit error", err)
	}
	if os.Getuid() != 0 {
		return
	}
	cfg.BestEffort = true
	if _, warnings, err = Command(cfg); err != nil || (len(warnings) == 0 && !withCgroup) {
		t.Fatalf("with BestEffort: warnings %q, err %v; want a warning", warnings, err)
	}
}
