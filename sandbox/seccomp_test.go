package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// helperEnv turns a helper test into the body of a subprocess; its value
// names the scenario. Seccomp and Landlock cannot be lifted once applied,
// so every test that applies them re-executes the test binary.
const helperEnv = "MCPWARDEN_SANDBOX_TEST_HELPER"

// runHelper runs the helper test named test in a fresh copy of the test
// binary with scenario and the extra environment, and fails t with the
// helper's output unless the helper passed. setsid puts the helper in a
// session of its own, so that it can take a controlling terminal.
func runHelper(t *testing.T, test, scenario string, env []string, setsid bool) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.v", "-test.count=1")
	// The race detector otherwise lingers a second at every exit.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+scenario, "GORACE="+gorace), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: setsid}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper %s (%s): %v\n%s", test, scenario, err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+test) {
		t.Fatalf("helper %s (%s) did not pass:\n%s", test, scenario, out)
	}
	return string(out)
}

// helperScenario returns the scenario a helper test runs, skipping the
// test when it runs as an ordinary test.
func helperScenario(t *testing.T) string {
	t.Helper()
	s := os.Getenv(helperEnv)
	if s == "" {
		t.Skip("runs only as a subprocess of another test")
	}
	return s
}

func rawErrno(nr uintptr, args ...uintptr) unix.Errno {
	var a [6]uintptr
	copy(a[:], args)
	_, _, errno := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	return errno
}

func TestSeccompDeniedList(t *testing.T) {
	names := SeccompDenied()
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("SeccompDenied() is not sorted and unique: %v", names)
	}
	must := []string{
		"unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
		"fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "ptrace", "process_vm_readv",
		"process_vm_writev", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
		"io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key", "kexec_load",
		"kexec_file_load", "init_module", "finit_module", "delete_module", "open_by_handle_at",
		"name_to_handle_at", "acct", "swapon", "swapoff", "reboot", "syslog", "settimeofday",
		"clock_settime", "adjtimex", "clock_adjtime", "quotactl", "lookup_dcookie", "vhangup",
		"nfsservctl", "uselib", "ustat", "sysfs", "_sysctl", "iopl", "ioperm", "create_module",
		"get_kernel_syms", "query_module", "fanotify_init", "kcmp", "mbind", "set_mempolicy",
		"move_pages", "clone3", "pidfd_getfd", "sethostname", "setdomainname",
	}
	for _, name := range must {
		if !slices.Contains(names, name) {
			t.Errorf("SeccompDenied() lacks %s", name)
		}
	}
	for _, name := range names {
		if _, err := syscallNumber(name); err != nil {
			t.Errorf("denied syscall %s does not resolve: %v", name, err)
		}
	}
	if len(SeccompArgumentRules()) == 0 {
		t.Error("SeccompArgumentRules() is empty")
	}
}

func TestSeccompExtraDenyNames(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  string // substring of the error; "" for success
	}{
		{nil, ""},
		{[]string{"uname", "getcwd"}, ""},
		{[]string{"mount"}, ""}, // already refused: no conflict
		{[]string{"clone3"}, ""},
		{[]string{"ioctl", "personality", "socket"}, ""},
		{[]string{"open_tree_attr"}, ""}, // newer than libseccomp 2.5.4
		{[]string{"uname", "frobnicate"}, `"frobnicate"`},
		{[]string{""}, `""`},
		{[]string{"mount "}, `"mount "`},
		{[]string{"9p"}, `"9p"`},
	} {
		filter, err := newSeccompFilter(tc.names)
		if filter != nil {
			filter.Release()
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("newSeccompFilter(%q): %v", tc.names, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("newSeccompFilter(%q) = %v, want an error naming %s", tc.names, err, tc.want)
		}
	}
}

func TestSeccompFilterSize(t *testing.T) {
	filter, err := newSeccompFilter([]string{"uname"})
	if err != nil {
		t.Fatal(err)
	}
	defer filter.Release()
	path := filepath.Join(t.TempDir(), "filter.bpf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := filter.ExportBPF(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The kernel refuses programs longer than BPF_MAXINSNS (4096).
	insns := st.Size() / 8
	t.Logf("filter: %d BPF instructions", insns)
	if insns == 0 || insns > 4096 {
		t.Errorf("filter has %d instructions, want 1..4096", insns)
	}
}

// personalityAllowed is Docker's rule, stated directly.
func personalityAllowed(v uint64) bool {
	switch uint32(v) {
	case 0, 8, 0x20000, 0x20008, 0xffffffff:
		return true
	}
	return false
}

func TestPersonalityDenyConds(t *testing.T) {
	conds := personalityDenyConds()
	refused := func(v uint64) bool {
		return slices.ContainsFunc(conds, func(c argCond) bool { return v&c.mask == c.value })
	}
	var values []uint64
	for i := range 32 {
		for j := i; j < 33; j++ {
			v := uint64(1)<<i | uint64(1)<<j&0xffffffff
			values = append(values, v, ^v&0xffffffff, v|1<<40)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		values = append(values, rng.Uint64(), uint64(rng.Uint32()))
	}
	values = append(values, 0, 8, 0x20000, 0x20008, 0xffffffff, 0x1_00000000, 0xfffe000f, 0x0400000, 0x0040000)
	for _, v := range values {
		if refused(v) == personalityAllowed(v) {
			t.Fatalf("personality(%#x): refused=%v, Docker allows=%v", v, refused(v), personalityAllowed(v))
		}
	}
}

// TestSeccompEnforced installs the filter in a subprocess and tries to
// get past it; TestSeccompControl runs the same attempts unfiltered to
// show that each one would have returned something else.
func TestSeccompEnforced(t *testing.T) {
	t.Log(runHelper(t, "TestHelperSeccomp", "enforce", nil, true))
}

func TestSeccompControl(t *testing.T) {
	t.Log(runHelper(t, "TestHelperSeccomp", "control", nil, true))
}

// attempt is one syscall the filter must refuse.
type attempt struct {
	name string
	call func() unix.Errno
	want unix.Errno // under the filter
	// control says how the call may end unfiltered: skip it (it would
	// have side effects) or accept EPERM from the kernel itself.
	noControl, controlMayEPERM bool
}

func TestHelperSeccomp(t *testing.T) {
	scenario := helperScenario(t)
	pty := openControllingPty(t)
	unprivileged := os.Geteuid() != 0
	attempts := seccompAttempts(pty, unprivileged)

	switch scenario {
	case "enforce":
		if err := installSeccomp([]string{"uname"}); err != nil {
			t.Fatalf("installSeccomp: %v", err)
		}
		for _, a := range attempts {
			if got := a.call(); got != a.want {
				t.Errorf("%s: errno %v (%d), want %v", a.name, got, got, a.want)
			}
		}
		checkEveryDeniedSyscall(t)
	case "control":
		for _, a := range attempts {
			if a.noControl {
				continue
			}
			got := a.call()
			t.Logf("unfiltered %s: %v", a.name, got)
			if got == a.want && !(a.controlMayEPERM && got == unix.EPERM) {
				t.Errorf("unfiltered %s already fails with %v: the attempt proves nothing", a.name, got)
			}
		}
	case "runtimes":
		if err := installSeccomp(nil); err != nil {
			t.Fatalf("installSeccomp: %v", err)
		}
		checkRuntimes(t)
	default:
		t.Fatalf("unknown scenario %q", scenario)
	}
	checkOrdinaryWork(t, pty)
}

func seccompAttempts(pty int, unprivileged bool) []attempt {
	bad := uintptr(1) // an address no call can read: EFAULT once past the filter
	c := byte('x')
	attempts := []attempt{
		{name: "unshare(CLONE_NEWUSER)", want: unix.EPERM, call: func() unix.Errno {
			// A multithreaded process gets EINVAL from the kernel.
			return rawErrno(unix.SYS_UNSHARE, unix.CLONE_NEWUSER)
		}},
		{name: "mount", want: unix.EPERM, call: func() unix.Errno {
			return rawErrno(unix.SYS_MOUNT, bad, bad, bad, 0, 0)
		}},
		{name: "ptrace(PTRACE_TRACEME)", want: unix.EPERM, noControl: true, call: func() unix.Errno {
			return rawErrno(unix.SYS_PTRACE, unix.PTRACE_TRACEME)
		}},
		{name: "ptrace(PTRACE_ATTACH, no such pid)", want: unix.EPERM, call: func() unix.Errno {
			return rawErrno(unix.SYS_PTRACE, unix.PTRACE_ATTACH, 1<<30)
		}},
		{name: "bpf", want: unix.EPERM, controlMayEPERM: unprivileged, call: func() unix.Errno {
			return rawErrno(unix.SYS_BPF, unix.BPF_PROG_LOAD, 0, 0)
		}},
		{name: "perf_event_open", want: unix.EPERM, call: func() unix.Errno {
			return rawErrno(unix.SYS_PERF_EVENT_OPEN, 0, 0, ^uintptr(0), ^uintptr(0), 0)
		}},
		{name: "io_uring_setup", want: unix.EPERM, call: func() unix.Errno {
			return rawErrno(unix.SYS_IO_URING_SETUP, 1, 0)
		}},
		{name: "userfaultfd", want: unix.EPERM, controlMayEPERM: unprivileged, call: func() unix.Errno {
			return rawErrno(unix.SYS_USERFAULTFD, 0xffff)
		}},
		{name: "keyctl", want: unix.EPERM, call: func() unix.Errno {
			return rawErrno(unix.SYS_KEYCTL, 0xffff)
		}},
		{name: "clone3", want: unix.ENOSYS, call: func() unix.Errno {
			return rawErrno(unix.SYS_CLONE3, 0, 0)
		}},
		{name: "setns", want: unix.EPERM, call: func() unix.Errno {
			return rawErrno(unix.SYS_SETNS, ^uintptr(0), 0)
		}},
		{name: "ioctl(TIOCSTI)", want: unix.EPERM, call: func() unix.Errno {
			return rawErrno(unix.SYS_IOCTL, uintptr(pty), unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
		}},
		{name: "ioctl(TIOCSTI) with the upper half set", want: unix.EPERM, call: func() unix.Errno {
			return rawErrno(unix.SYS_IOCTL, uintptr(pty), 0xdead_0000_0000|unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
		}},
		{name: "ioctl(TIOCLINUX)", want: unix.EPERM, call: func() unix.Errno {
			return rawErrno(unix.SYS_IOCTL, uintptr(pty), unix.TIOCLINUX, uintptr(unsafe.Pointer(&c)))
		}},
		{name: "personality(READ_IMPLIES_EXEC)", want: unix.EPERM, call: func() unix.Errno {
			defer rawErrno(unix.SYS_PERSONALITY, 0)
			return rawErrno(unix.SYS_PERSONALITY, 0x0400000)
		}},
		{name: "personality(ADDR_NO_RANDOMIZE)", want: unix.EPERM, call: func() unix.Errno {
			defer rawErrno(unix.SYS_PERSONALITY, 0)
			return rawErrno(unix.SYS_PERSONALITY, 0x0040000)
		}},
		{name: "uname (denied by the profile)", want: unix.EPERM, call: func() unix.Errno {
			var u unix.Utsname
			return rawErrno(unix.SYS_UNAME, uintptr(unsafe.Pointer(&u)))
		}},
		{name: "socket(AF_VSOCK)", want: unix.EPERM, call: func() unix.Errno {
			return socketErrno(unix.AF_VSOCK, unix.SOCK_STREAM, 0)
		}},
		{name: "socket(IPPROTO_MPTCP)", want: unix.EPERM, call: func() unix.Errno {
			return socketErrno(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_MPTCP)
		}},
		{name: "socket(IPPROTO_SCTP)", want: unix.EPERM, call: func() unix.Errno {
			return socketErrno(unix.AF_INET6, unix.SOCK_STREAM, unix.IPPROTO_SCTP)
		}},
		{name: "socket(AF_INET, SOCK_SEQPACKET)", want: unix.EPERM, call: func() unix.Errno {
			return socketErrno(unix.AF_INET, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		}},
		{name: "sendto(MSG_FASTOPEN)", want: unix.EPERM, call: func() unix.Errno {
			return rawErrno(unix.SYS_SENDTO, ^uintptr(0), 0, 0, unix.MSG_FASTOPEN, 0, 0)
		}},
		{name: "sendmsg(MSG_FASTOPEN)", want: unix.EPERM, call: func() unix.Errno {
			return rawErrno(unix.SYS_SENDMSG, ^uintptr(0), 0, unix.MSG_FASTOPEN)
		}},
		{name: "a syscall newer than this build", want: unix.ENOSYS, noControl: true, call: func() unix.Errno {
			return rawErrno(newestKnownSyscall + 1)
		}},
	}
	// Every namespace flag on its own; CLONE_SIGHAND without CLONE_VM
	// makes the kernel refuse the call with EINVAL before it creates
	// anything, should the filter let it through.
	for _, flag := range []uintptr{
		unix.CLONE_NEWNS, unix.CLONE_NEWUTS, unix.CLONE_NEWIPC, unix.CLONE_NEWUSER,
		unix.CLONE_NEWPID, unix.CLONE_NEWNET, unix.CLONE_NEWCGROUP,
	} {
		attempts = append(attempts, attempt{name: fmt.Sprintf("clone(%#x)", flag), want: unix.EPERM,
			call: func() unix.Errno { return rawErrno(unix.SYS_CLONE, flag|unix.CLONE_SIGHAND) }})
	}
	return attempts
}

func socketErrno(domain, typ, proto int) unix.Errno {
	fd, err := unix.Socket(domain, typ, proto)
	if err == nil {
		unix.Close(fd)
		return 0
	}
	var errno unix.Errno
	errors.As(err, &errno)
	return errno
}

// checkEveryDeniedSyscall calls every refused syscall that exists here
// with arguments the kernel would reject (address 1, flags 1), so that a
// gap in the filter shows up as an errno other than EPERM without doing
// harm.
func checkEveryDeniedSyscall(t *testing.T) {
	t.Helper()
	for _, name := range SeccompDenied() {
		nr, err := syscallNumber(name)
		if err != nil || nr < 0 {
			continue // not on this architecture
		}
		want := unix.EPERM
		if name == "clone3" {
			want = unix.ENOSYS
		}
		if got := rawErrno(uintptr(nr), 1, 1, 1, 1, 1, 1); got != want {
			t.Errorf("%s (%d): errno %v, want %v", name, nr, got, want)
		}
	}
}

// checkOrdinaryWork shows that what servers do still works.
func checkOrdinaryWork(t *testing.T, pty int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("data"), 0o600); err != nil {
		t.Errorf("write a file: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "data" {
		t.Errorf("read a file: %q, %v", b, err)
	}
	if err := exec.Command("/bin/true").Run(); err != nil {
		t.Errorf("fork+exec /bin/true: %v", err)
	}
	for _, s := range [][3]int{
		{unix.AF_INET, unix.SOCK_STREAM, 0},
		{unix.AF_INET6, unix.SOCK_DGRAM, 0},
		{unix.AF_UNIX, unix.SOCK_STREAM, 0},
		{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_TCP},
	} {
		if errno := socketErrno(s[0], s[1], s[2]); errno != 0 {
			t.Errorf("socket%v: %v", s, errno)
		}
	}
	// Go's Listen tries Multipath TCP first and must fall back.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Errorf("net.Listen: %v", err)
	} else {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Errorf("net.Dial: %v", err)
		} else {
			conn.Close()
		}
		ln.Close()
	}
	mem, err := unix.Mmap(-1, 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Errorf("mmap: %v", err)
	} else {
		mem[0] = 1
		unix.Munmap(mem)
	}
	var word uint32
	if errno := rawErrno(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&word)), futexWakePrivate, 1); errno != 0 {
		t.Errorf("futex: %v", errno)
	}
	if _, err := unix.Getrandom(make([]byte, 16), 0); err != nil {
		t.Errorf("getrandom: %v", err)
	}
	for _, p := range []uintptr{0xffffffff, 0x20000, 0x0} {
		if errno := rawErrno(unix.SYS_PERSONALITY, p); errno != 0 {
			t.Errorf("personality(%#x): %v", p, errno)
		}
	}
	if _, err := unix.IoctlGetTermios(pty, unix.TCGETS); err != nil {
		t.Errorf("ioctl(TCGETS) on a terminal: %v", err)
	}
	if errno := rawErrno(unix.SYS_CLONE, unix.CLONE_SIGHAND); errno != unix.EINVAL {
		t.Errorf("clone without namespace flags reached the kernel with %v, want EINVAL", errno)
	}
}

// TestSeccompRuntimes runs the interpreters MCP servers are written for
// under the filter.
func TestSeccompRuntimes(t *testing.T) {
	t.Log(runHelper(t, "TestHelperSeccomp", "runtimes", nil, true))
}

// checkRuntimes runs node and python3, where installed, with threads,
// file I/O and a child process: glibc creates threads with clone3 and
// must fall back to clone; libuv tries io_uring and must fall back to
// its thread pool.
func checkRuntimes(t *testing.T) {
	t.Helper()
	for _, rt := range []struct{ name, script string }{
		{"node", `const fs = require("fs"), cp = require("child_process");
const { Worker } = require("worker_threads");
fs.readFile("/proc/self/status", (err) => {
	if (err) throw err;
	cp.execFileSync("/bin/true");
	new Worker("require('os').cpus()", { eval: true }).on("exit", (c) => process.exit(c));
});`},
		{"python3", `import subprocess, threading
t = threading.Thread(target=lambda: open("/proc/self/status").read())
t.start(); t.join()
subprocess.run(["/bin/true"], check=True)`},
	} {
		path, err := exec.LookPath(rt.name)
		if err != nil {
			t.Logf("%s not installed", rt.name)
			continue
		}
		flag := "-e"
		if rt.name == "python3" {
			flag = "-c"
		}
		if out, err := exec.Command(path, flag, rt.script).CombinedOutput(); err != nil {
			t.Errorf("%s under the filter: %v\n%s", rt.name, err, out)
		}
	}
}

// openControllingPty opens a new pseudo-terminal and makes it the
// calling process's controlling terminal, so that TIOCSTI on it works
// unfiltered, for root and others alike. It returns the terminal's fd.
func openControllingPty(t *testing.T) int {
	t.Helper()
	// Closing a controlling terminal hangs up its session.
	signal.Ignore(syscall.SIGHUP)
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	fd := int(ptmx.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	if err := unix.IoctlSetInt(int(tty.Fd()), unix.TIOCSCTTY, 0); err != nil {
		t.Fatalf("TIOCSCTTY: %v", err)
	}
	return int(tty.Fd())
}

// foreignABIProgram returns a static amd64 ELF executable that makes
// one syscall through a foreign ABI (the i386 int 0x80 gate, or the x32
// syscall numbers) and exits with the low byte of its result. Under the
// filter it must be killed by SIGSYS instead.
func foreignABIProgram(x32 bool) []byte {
	const base, codeOff = 0x400000, 64 + 56
	var code []byte
	if x32 {
		code = []byte{
			0xb8, 0x10, 0x01, 0x00, 0x40, // mov eax, 0x40000000|272 (x32 unshare)
			0xbf, 0x00, 0x00, 0x00, 0x10, // mov edi, CLONE_NEWUSER
			0x0f, 0x05, // syscall
		}
	} else {
		code = []byte{
			0xb8, 0x36, 0x01, 0x00, 0x00, // mov eax, 310 (i386 unshare)
			0xbb, 0x00, 0x00, 0x00, 0x10, // mov ebx, CLONE_NEWUSER
			0xcd, 0x80, // int 0x80
		}
	}
	code = append(code,
		0x89, 0xc7, // mov edi, eax
		0xb8, 0xe7, 0x00, 0x00, 0x00, // mov eax, 231 (exit_group)
		0x0f, 0x05, // syscall
	)
	size := uint64(codeOff + len(code))
	le := binary.LittleEndian
	elf := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	elf = le.AppendUint16(elf, 2)    // ET_EXEC
	elf = le.AppendUint16(elf, 0x3e) // EM_X86_64
	elf = le.AppendUint32(elf, 1)
	elf = le.AppendUint64(elf, base+codeOff) // entry
	elf = le.AppendUint64(elf, 64)           // program headers
	elf = le.AppendUint64(elf, 0)            // no section headers
	elf = le.AppendUint32(elf, 0)
	elf = le.AppendUint16(elf, 64) // header size
	elf = le.AppendUint16(elf, 56) // program header size
	elf = le.AppendUint16(elf, 1)
	elf = le.AppendUint16(elf, 0)
	elf = le.AppendUint16(elf, 0)
	elf = le.AppendUint16(elf, 0)
	elf = le.AppendUint32(elf, 1) // PT_LOAD
	elf = le.AppendUint32(elf, 5) // R+X
	elf = le.AppendUint64(elf, 0)
	elf = le.AppendUint64(elf, base)
	elf = le.AppendUint64(elf, base)
	elf = le.AppendUint64(elf, size)
	elf = le.AppendUint64(elf, size)
	elf = le.AppendUint64(elf, 0x1000)
	return append(elf, code...)
}

func TestSeccompForeignABI(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the foreign-ABI programs are amd64 code")
	}
	dir := t.TempDir()
	env := []string{}
	for _, x32 := range []bool{false, true} {
		name := "i386"
		if x32 {
			name = "x32"
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, foreignABIProgram(x32), 0o755); err != nil {
			t.Fatal(err)
		}
		env = append(env, "MCPWARDEN_TEST_ABI_"+strings.ToUpper(name)+"="+path)
		// Unfiltered, the program runs to its exit: the kernel either
		// serves the call or has no such ABI (ENOSYS, or SIGSEGV for int
		// 0x80 without IA-32 emulation).
		err := exec.Command(path).Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("unfiltered %s program: %v", name, err)
		}
		if exit != nil && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGSYS {
			t.Fatalf("unfiltered %s program died of SIGSYS", name)
		}
		t.Logf("unfiltered %s program: %v", name, err)
	}
	t.Log(runHelper(t, "TestHelperSeccompForeignABI", "foreign-abi", env, false))
}

func TestHelperSeccompForeignABI(t *testing.T) {
	helperScenario(t)
	if err := installSeccomp(nil); err != nil {
		t.Fatalf("installSeccomp: %v", err)
	}
	for _, name := range []string{"I386", "X32"} {
		err := exec.Command(os.Getenv("MCPWARDEN_TEST_ABI_" + name)).Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Errorf("%s program under the filter: %v, want death by SIGSYS", name, err)
			continue
		}
		if ws := exit.Sys().(syscall.WaitStatus); ws.Signal() != syscall.SIGSYS {
			t.Errorf("%s program under the filter ended with %v, want death by SIGSYS", name, ws)
		}
	}
}

// futexWakePrivate is FUTEX_WAKE|FUTEX_PRIVATE_FLAG.
const futexWakePrivate = 1 | 128

// installSeccomp compiles and loads the filter into the calling process,
// as the caller and the init do between them.
func installSeccomp(extraDeny []string) error {
	prog, err := compileSeccomp(extraDeny)
	if err != nil {
		return err
	}
	return loadSeccomp(prog)
}
