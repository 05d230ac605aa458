package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Limits bounds the resources of the server; a zero field takes its default.
//
// Memory is RLIMIT_DATA, the private writable memory of each process, not
// RLIMIT_AS: Node.js reserves far more address space than it uses (a
// WebAssembly memory alone reserves about 10GiB), so an address-space
// limit kills ordinary servers, while RLIMIT_DATA follows what they
// actually allocate. It does not count shared memory or files in tmpfs.
//
// Processes is RLIMIT_NPROC. Since Linux 5.14 the kernel counts it per
// user namespace, so it counts the tasks of the sandbox (threads as well
// as processes, the init's among them) and not the user's other
// processes. The kernel never enforces it for the real root user;
// [Command] then warns.
//
// OpenFiles (RLIMIT_NOFILE), FileSize (RLIMIT_FSIZE) and CPUSeconds
// (RLIMIT_CPU, per process: SIGXCPU when reached, SIGKILL a second later)
// apply to every process of the sandbox. Core dumps are always disabled.
// A limit above the caller's own hard limit is lowered to it, since only
// privilege could raise it.
//
// When the caller owns a delegated cgroup v2 directory whose children get
// the memory and pids controllers, the sandbox also gets a cgroup of its
// own there with memory.max = Memory and pids.max = Processes, which bound
// the sandbox as a whole.
type Limits struct {
	Memory     int64 // bytes; default DefaultMemory
	FileSize   int64 // bytes; default DefaultFileSize
	Processes  int   // default DefaultProcesses
	OpenFiles  int   // default DefaultOpenFiles
	CPUSeconds int   // default: unlimited
}

// Default limits.
const (
	DefaultMemory    = 4 << 30
	DefaultFileSize  = 1 << 30
	DefaultProcesses = 256
	DefaultOpenFiles = 1024
)

func (l Limits) validate() error {
	if l.Memory < 0 || l.FileSize < 0 || l.Processes < 0 || l.OpenFiles < 0 || l.CPUSeconds < 0 {
		return fmt.Errorf("sandbox: negative limit in %+v", l)
	}
	return nil
}

func (l Limits) withDefaults() Limits {
	if l.Memory == 0 {
		l.Memory = DefaultMemory
	}
	if l.FileSize == 0 {
		l.FileSize = DefaultFileSize
	}
	if l.Processes == 0 {
		l.Processes = DefaultProcesses
	}
	if l.OpenFiles == 0 {
		l.OpenFiles = DefaultOpenFiles
	}
	return l
}

// errRootProcesses explains why root gets no process limit here.
var errRootProcesses = errors.New("the processes limit cannot be enforced: the kernel exempts root from RLIMIT_NPROC, " +
	"and no delegated cgroup v2 is available for pids.max (run mcpwarden as a normal user, delegate a cgroup, " +
	"or pass --best-effort to start without the limit)")

// checkLimits fails when a limit cannot be enforced: a server run by root
// could otherwise fork until the machine has no process left. With
// bestEffort it is a warning instead.
func checkLimits(withCgroup, bestEffort bool) ([]string, error) {
	if os.Getuid() != 0 || withCgroup {
		return nil, nil
	}
	if !bestEffort {
		return nil, errRootProcesses
	}
	return []string{errRootProcesses.Error()}, nil
}

// rlimit is one resource limit to set.
type rlimit struct {
	name     string
	resource int
	soft     uint64
	hard     uint64
}

// rlimits returns the resource limits for l.
func rlimits(l Limits) []rlimit {
	l = l.withDefaults()
	rs := []rlimit{
		{"memory", unix.RLIMIT_DATA, uint64(l.Memory), uint64(l.Memory)},
		{"file_size", unix.RLIMIT_FSIZE, uint64(l.FileSize), uint64(l.FileSize)},
		{"processes", unix.RLIMIT_NPROC, uint64(l.Processes), uint64(l.Processes)},
		{"open_files", unix.RLIMIT_NOFILE, uint64(l.OpenFiles), uint64(l.OpenFiles)},
		{"core", unix.RLIMIT_CORE, 0, 0},
	}
	if l.CPUSeconds > 0 {
		// The second between soft and hard lets the server see SIGXCPU.
		rs = append(rs, rlimit{"cpu_seconds", unix.RLIMIT_CPU, uint64(l.CPUSeconds), uint64(l.CPUSeconds) + 1})
	}
	return rs
}

// applyRlimits sets l on the calling process, whose children inherit it.
func applyRlimits(l Limits) error {
	for _, r := range rlimits(l) {
		var cur syscall.Rlimit
		if err := syscall.Getrlimit(r.resource, &cur); err != nil {
			return fmt.Errorf("reading %s limit: %w", r.name, err)
		}
		lim := syscall.Rlimit{Cur: min(r.soft, cur.Max), Max: min(r.hard, cur.Max)}
		// syscall.Setrlimit, not the raw call: for RLIMIT_NOFILE it also
		// stops os/exec from restoring the original limit in children.
		if err := syscall.Setrlimit(r.resource, &lim); err != nil {
			return fmt.Errorf("setting %s limit: %w", r.name, err)
		}
	}
	return nil
}

// cgroupPrefix starts the names of the cgroups that sandboxes get.
const cgroupPrefix = "mcpwarden-sandbox-"

// newCgroup creates a cgroup for one sandbox with l's memory and pids
// limits, and returns it open, for clone's CLONE_INTO_CGROUP; or nil when
// the caller has no delegated cgroup v2 directory with those controllers.
// Cgroups left by ended sandboxes are removed first: a cgroup cannot be
// removed while the sandbox runs, and nothing outlives it to do it later.
func newCgroup(l Limits) (*os.File, error) {
	parent, ok := delegatedCgroup()
	if !ok {
		return nil, nil
	}
	removeStaleCgroups(parent)
	return createCgroup(parent, l)
}

// createCgroup creates a child of the cgroup directory parent for one
// sandbox, with l's limits.
func createCgroup(parent string, l Limits) (*os.File, error) {
	l = l.withDefaults()
	dir, err := os.MkdirTemp(parent, cgroupPrefix)
	if err != nil {
		return nil, fmt.Errorf("sandbox: creating cgroup: %w", err)
	}
	settings := []struct{ file, value string }{
		{"memory.max", strconv.FormatInt(l.Memory, 10)},
		{"pids.max", strconv.Itoa(l.Processes)},
	}
	for _, s := range settings {
		if err := os.WriteFile(filepath.Join(dir, s.file), []byte(s.value), 0o644); err != nil {
			os.Remove(dir)
			return nil, fmt.Errorf("sandbox: cgroup %s: %w", s.file, err)
		}
	}
	f, err := os.Open(dir)
	if err != nil {
		os.Remove(dir)
		return nil, fmt.Errorf("sandbox: opening cgroup: %w", err)
	}
	return f, nil
}

// removeStaleCgroups removes the empty sandbox cgroups under parent. The
// kernel refuses to remove one that still has processes, so a running
// sandbox's cgroup stays.
func removeStaleCgroups(parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), cgroupPrefix) {
			_ = unix.Rmdir(filepath.Join(parent, e.Name()))
		}
	}
}

// cgroupControllers are the controllers a sandbox cgroup needs.
var cgroupControllers = []string{"memory", "pids"}

// delegatedCgroup returns the caller's own cgroup v2 directory when the
// caller may create children in it and move processes into them, and the
// children get the memory and pids controllers. A cgroup that has
// processes cannot enable controllers for its children (the root cgroup
// excepted), so this usually holds for a caller in a cgroup delegated to
// it with the controllers already enabled below it, or in the root cgroup.
func delegatedCgroup() (string, bool) {
	s := probeCgroup()
	if !s.Available {
		return "", false
	}
	return s.Path, cgroupUsable(s.Path)
}

// cgroupUsable reports whether sandbox cgroups can be created in dir.
func cgroupUsable(dir string) bool {
	if unix.Access(dir, unix.W_OK) != nil || unix.Access(filepath.Join(dir, "cgroup.procs"), unix.W_OK) != nil {
		return false
	}
	if controllersEnabled(dir) {
		return true
	}
	// Allowed only where the cgroup has no processes of its own, or is the
	// root; elsewhere the kernel refuses and nothing changes.
	_ = os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+memory +pids"), 0)
	return controllersEnabled(dir)
}

// controllersEnabled reports whether dir's children get cgroupControllers.
func controllersEnabled(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return false
	}
	have := strings.Fields(string(data))
	for _, c := range cgroupControllers {
		if !slices.Contains(have, c) {
			return false
		}
	}
	return true
}
