package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Features is what this kernel lets the calling user enforce, as
// `mcpwarden check` reports it.
type Features struct {
	// Kernel is the running kernel's release, as uname -r prints it.
	Kernel         string         `json:"kernel"`
	UserNamespaces Feature        `json:"user_namespaces"`
	Landlock       LandlockStatus `json:"landlock"`
	Seccomp        SeccompStatus  `json:"seccomp"`
	Cgroup         CgroupStatus   `json:"cgroup"`
}

// Feature is one kernel facility: whether the sandbox can use it and,
// when not, why and what to do about it.
type Feature struct {
	Available bool `json:"available"`
	// Reason says why the facility is missing or incomplete.
	Reason string `json:"reason,omitempty"`
	// Hint says what the user can do about it.
	Hint string `json:"hint,omitempty"`
}

// LandlockStatus is Feature for Landlock, with the kernel's ABI version.
// Available means the ABI has every feature the sandbox uses.
type LandlockStatus struct {
	Available bool `json:"available"`
	// ABI is the Landlock ABI version the sandbox would use; 0 without
	// Landlock.
	ABI int `json:"abi"`
	// Missing lists the features this ABI lacks.
	Missing []string `json:"missing,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Hint    string   `json:"hint,omitempty"`
}

// SeccompStatus is Feature for seccomp filters.
type SeccompStatus struct {
	Available bool `json:"available"`
	// Library is the version of the libseccomp mcpwarden is linked with.
	Library string `json:"library"`
	// API is libseccomp's API level for this kernel (see
	// seccomp_api_get(3)); the sandbox needs 3 or more.
	API int `json:"api"`
	// Mode is the calling process's own seccomp mode: 0 none, 1 strict,
	// 2 filtered (mcpwarden already runs under a filter, as in a
	// container).
	Mode   int    `json:"mode"`
	Reason string `json:"reason,omitempty"`
	Hint   string `json:"hint,omitempty"`
}

// CgroupStatus says whether the sandbox can put the server in a cgroup v2
// of its own with memory and process limits.
type CgroupStatus struct {
	Available bool `json:"available"`
	// Layout is "unified" (cgroup v2 only), "hybrid" (v2 mounted beside
	// v1, which holds the controllers), "legacy" (v1 only) or "none".
	Layout string `json:"layout"`
	// Mount is where cgroup v2 is mounted.
	Mount string `json:"mount,omitempty"`
	// Path is the caller's cgroup v2 directory.
	Path string `json:"path,omitempty"`
	// Writable says whether the caller may create cgroups in Path and
	// move processes there: the cgroup is delegated to it.
	Writable bool `json:"writable"`
	// Controllers are those available in Path; SubtreeControl those
	// already enabled for its children.
	Controllers    []string `json:"controllers"`
	SubtreeControl []string `json:"subtree_control"`
	Reason         string   `json:"reason,omitempty"`
	Hint           string   `json:"hint,omitempty"`
}

// Complete reports whether every facility is available, which is when
// `mcpwarden check` exits 0.
func (f Features) Complete() bool {
	return f.UserNamespaces.Available && f.Landlock.Available && f.Seccomp.Available && f.Cgroup.Available
}

// Probe finds out what the sandbox can enforce here. It creates one
// short-lived process in new namespaces; it changes nothing.
func Probe() Features {
	var uts unix.Utsname
	kernel := ""
	if unix.Uname(&uts) == nil {
		kernel = unix.ByteSliceToString(uts.Release[:])
	}
	return Features{
		Kernel:         kernel,
		UserNamespaces: probeUserNamespaces(),
		Landlock:       probeLandlock(),
		Seccomp:        probeSeccomp(),
		Cgroup:         probeCgroup(),
	}
}

// probeNamespaces are the namespaces the sandbox creates with its
// process; it unshares the mount namespace afterwards.
const probeNamespaces = unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWNET

// probeUserNamespaces creates a child in the namespaces the sandbox uses,
// with the same identity mapping, and has it unshare a mount namespace
// and make its mounts private, which needs CAP_SYS_ADMIN inside the new
// user namespace: that catches AppArmor's restriction, which lets the
// namespace be created but strips its capabilities. The child then
// execs a path that cannot exist, so the expected outcome is ENOTDIR
// and no program ever runs.
func probeUserNamespaces() Feature {
	cmd := exec.Command("/dev/null/mcpwarden-probe")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 probeNamespaces,
		Unshareflags:               unix.CLONE_NEWNS,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		Pdeathsig:                  syscall.SIGKILL,
	}
	err := cmd.Start()
	if err == nil {
		// Cannot happen; never leave a child behind if it does.
		cmd.Process.Kill()
		cmd.Wait()
		return Feature{Available: true}
	}
	if errors.Is(err, unix.ENOTDIR) {
		return Feature{Available: true}
	}
	reason, hint := userNamespaceTrouble(err)
	return Feature{Reason: reason, Hint: hint}
}

// userNamespaceTrouble explains why creating the namespaces failed with
// err, looking at the settings that usually cause it.
func userNamespaceTrouble(err error) (reason, hint string) {
	var errno unix.Errno
	if errors.As(err, &errno) {
		err = errno // the probe's path says nothing to the user
	}
	reason = fmt.Sprintf("creating user, mount, PID, IPC, UTS, cgroup and network namespaces failed: %v", err)
	switch {
	case readSysctl("kernel/unprivileged_userns_clone") == "0" && os.Geteuid() != 0:
		return reason + "; kernel.unprivileged_userns_clone is 0",
			"allow them with: sudo sysctl -w kernel.unprivileged_userns_clone=1"
	case readSysctl("user/max_user_namespaces") == "0":
		return reason + "; user.max_user_namespaces is 0",
			"allow them with: sudo sysctl -w user.max_user_namespaces=15000"
	case readSysctl("kernel/apparmor_restrict_unprivileged_userns") == "1" && os.Geteuid() != 0:
		return reason + "; AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)",
			"give mcpwarden an AppArmor profile with the `userns,` rule (as Ubuntu does for bwrap), or: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
	case errors.Is(err, unix.ENOSPC):
		return reason + "; a limit in /proc/sys/user/max_*_namespaces is reached", "raise it with sysctl, or end processes holding namespaces"
	case seccompMode() == 2:
		return reason + "; mcpwarden itself runs under a seccomp filter, probably a container's, which refuses namespaces",
			"run mcpwarden outside the container, or allow clone/unshare with namespace flags in the container's seccomp profile"
	case errors.Is(err, unix.EPERM) && isChrooted():
		return reason + "; mcpwarden runs in a chroot, where the kernel refuses new user namespaces", "run mcpwarden outside the chroot"
	}
	return reason, "check the kernel's user namespace support (CONFIG_USER_NS) and any LSM policy that restricts it"
}

func readSysctl(name string) string {
	b, err := os.ReadFile(filepath.Join("/proc/sys", name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// isChrooted reports whether the root directory differs from init's; it
// answers false when that cannot be told.
func isChrooted() bool {
	var self, init unix.Stat_t
	if unix.Stat("/", &self) != nil || unix.Stat("/proc/1/root/", &init) != nil {
		return false
	}
	return self.Dev != init.Dev || self.Ino != init.Ino
}

func probeLandlock() LandlockStatus {
	abi, err := landlockABI()
	if abi < 1 {
		reason, hint := landlockUnavailable(err)
		return LandlockStatus{Reason: reason, Hint: hint, Missing: landlockMissing(0, false)}
	}
	s := LandlockStatus{ABI: abi, Missing: landlockMissing(abi, false)}
	s.Available = len(s.Missing) == 0
	if !s.Available {
		s.Reason = fmt.Sprintf("Landlock ABI %d lacks %s", abi, strings.Join(s.Missing, ", "))
		s.Hint = fmt.Sprintf("Linux 6.12 or later has Landlock ABI %d; until then use --best-effort", landlockFullABI)
	}
	return s
}

// seccompMinAPI is the libseccomp API level with everything the filter
// uses: TSYNC (2) and SECCOMP_RET_KILL_PROCESS (3).
const seccompMinAPI = 3

func probeSeccomp() SeccompStatus {
	library, api, apiErr := seccompLibrary()
	s := SeccompStatus{Library: library, Mode: seccompMode()}
	if _, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); err != nil {
		s.Reason = fmt.Sprintf("the kernel has no seccomp (prctl PR_GET_SECCOMP: %v)", err)
		s.Hint = "a kernel built with CONFIG_SECCOMP_FILTER is needed"
		return s
	}
	// A filter pointer of NULL is EFAULT where filters exist and EINVAL
	// where only strict mode does.
	if err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, 0, 0, 0); !errors.Is(err, unix.EFAULT) {
		s.Reason = fmt.Sprintf("the kernel has no seccomp filters (prctl PR_SET_SECCOMP: %v)", err)
		s.Hint = "a kernel built with CONFIG_SECCOMP_FILTER is needed"
		return s
	}
	s.API = api
	switch {
	case apiErr != nil:
		s.Reason = fmt.Sprintf("libseccomp cannot tell the kernel's API level: %v", apiErr)
		s.Hint = "libseccomp 2.4 or later is needed"
	case s.API < seccompMinAPI:
		s.Reason = fmt.Sprintf("libseccomp API level %d is below %d (thread sync and killing the whole process)", s.API, seccompMinAPI)
		s.Hint = "Linux 4.14 or later and libseccomp 2.4 or later are needed"
	default:
		s.Available = true
	}
	return s
}

// seccompMode returns the Seccomp field of /proc/self/status: 0 none,
// 1 strict, 2 filter; -1 when it cannot be read.
func seccompMode() int {
	v, ok := procStatusField("Seccomp")
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

func procStatusField(name string) (string, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// cgroupNeeded are the controllers the sandbox's limits use.
func cgroupNeeded() []string { return []string{"memory", "pids"} }

func probeCgroup() CgroupStatus {
	s := CgroupStatus{Layout: "none"}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		s.Reason = fmt.Sprintf("cannot read the mount table: %v", err)
		return s
	}
	v2, v1 := cgroupMounts(string(mounts))
	switch {
	case v2 == "" && v1:
		s.Layout = "legacy"
		s.Reason = "only cgroup v1 is mounted"
		s.Hint = "boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2"
		return s
	case v2 == "":
		s.Reason = "cgroup v2 is not mounted"
		s.Hint = "mount cgroup2 on /sys/fs/cgroup"
		return s
	case v1:
		s.Layout = "hybrid"
	default:
		s.Layout = "unified"
	}
	s.Mount = v2
	rel, err := ownCgroupV2()
	if err != nil {
		s.Reason = err.Error()
		return s
	}
	s.Path = filepath.Join(v2, rel)
	s.Controllers = readFields(filepath.Join(s.Path, "cgroup.controllers"))
	s.SubtreeControl = readFields(filepath.Join(s.Path, "cgroup.subtree_control"))
	s.Writable = unix.Access(s.Path, unix.W_OK) == nil &&
		unix.Access(filepath.Join(s.Path, "cgroup.procs"), unix.W_OK) == nil &&
		unix.Access(filepath.Join(s.Path, "cgroup.subtree_control"), unix.W_OK) == nil
	var lacking []string
	for _, c := range cgroupNeeded() {
		if !slices.Contains(s.Controllers, c) {
			lacking = append(lacking, c)
		}
	}
	switch {
	case len(lacking) > 0 && s.Layout == "hybrid":
		s.Reason = fmt.Sprintf("cgroup v2 is mounted beside v1 at %s, and v1 holds the %s controllers", v2, strings.Join(lacking, " and "))
		s.Hint = "boot with systemd.unified_cgroup_hierarchy=1; until then rlimits are the only limits"
	case len(lacking) > 0:
		s.Reason = fmt.Sprintf("the %s controllers are not available in %s", strings.Join(lacking, " and "), s.Path)
		s.Hint = "ask for them to be delegated, e.g. systemd-run --user --scope -p Delegate=yes mcpwarden ..."
	case !s.Writable:
		s.Reason = fmt.Sprintf("%s is not delegated to uid %d (not writable)", s.Path, os.Geteuid())
		s.Hint = "start mcpwarden in a delegated cgroup, e.g. systemd-run --user --scope -p Delegate=yes mcpwarden ..."
	default:
		s.Available = true
	}
	return s
}

// cgroupMounts finds the cgroup v2 mount point in a mountinfo table and
// whether any cgroup v1 hierarchy is mounted.
func cgroupMounts(mountinfo string) (v2 string, v1 bool) {
	for line := range strings.Lines(mountinfo) {
		// Fields: ID parent major:minor root mountpoint options
		// [optional...] - fstype source super-options.
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		fields, fstype := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(fstype) == 0 {
			continue
		}
		switch fstype[0] {
		case "cgroup2":
			if v2 == "" {
				v2 = unescapeMountinfo(fields[4])
			}
		case "cgroup":
			v1 = true
		}
	}
	return v2, v1
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) the
// kernel writes in mountinfo paths.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ownCgroupV2 returns the calling process's cgroup v2 path, relative to
// the cgroup v2 mount.
func ownCgroupV2() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("cannot read /proc/self/cgroup: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if rel, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			return rel, nil
		}
	}
	return "", errors.New("the process is in no cgroup v2 (no 0:: line in /proc/self/cgroup)")
}

// readFields returns the space-separated words of a file, empty when it
// cannot be read.
func readFields(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return []string{}
	}
	return strings.Fields(string(b))
}
