package sandbox

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The seccomp filter is a denylist: every syscall not named here is
// allowed. It refuses what Docker's default profile refuses to a
// container without capabilities, plus kernel interfaces an MCP server
// never needs and that have a long record of privilege escalations.
//
// Refused calls fail with EPERM rather than killing the process, so a
// server that probes for a feature (io_uring, userfaultfd, bpf) falls
// back instead of dying. Only a syscall made through a foreign ABI
// (32-bit int 0x80 or x32 on amd64) kills the process: no MCP server
// makes one, and libseccomp's per-architecture check is what stops the
// filter from being bypassed through a second syscall table.
//
// The filter is loaded with TSYNC, on every thread of the calling
// process. The init loads it last, just before starting the server
// from its locked thread; the Go runtime may run the init's remaining
// work (reaping, forwarding signals) on any thread, and a filter on one
// thread only would leave the others able to start processes outside
// it. The init needs none of the refused calls after that point.

// seccompRefused lists the syscalls refused with EPERM whatever their
// arguments. Names that do not exist on the running architecture are
// skipped by libseccomp.
func seccompRefused() []string {
	return []string{
		// Leave or rebuild the sandbox's namespaces and mounts.
		"unshare", "setns", "listns",
		"mount", "umount", "umount2", "pivot_root", "chroot",
		"open_tree", "open_tree_attr", "move_mount", "mount_setattr",
		"fsopen", "fsconfig", "fsmount", "fspick", "statmount", "listmount",

		// Read or write other processes.
		"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
		"kcmp", "pidfd_getfd",

		// Large kernel attack surface that no server needs.
		"bpf", "perf_event_open", "userfaultfd",
		"io_uring_setup", "io_uring_enter", "io_uring_register",
		"keyctl", "add_key", "request_key",
		"fanotify_init", "lookup_dcookie", "lsm_set_self_attr",
		"open_by_handle_at", "name_to_handle_at",

		// Change the machine's state.
		"reboot", "kexec_load", "kexec_file_load",
		"init_module", "finit_module", "delete_module",
		"create_module", "get_kernel_syms", "query_module",
		"acct", "swapon", "swapoff", "syslog", "vhangup",
		"settimeofday", "stime", "clock_settime", "adjtimex", "clock_adjtime",
		"sethostname", "setdomainname", "quotactl", "quotactl_fd",
		"iopl", "ioperm", "vm86", "vm86old",

		// NUMA placement, which moves pages, other processes' too; Docker
		// allows it only with CAP_SYS_NICE, which the server never has.
		"mbind", "set_mempolicy", "get_mempolicy", "set_mempolicy_home_node",
		"migrate_pages", "move_pages",

		// Obsolete or never implemented.
		"_sysctl", "sysfs", "ustat", "uselib", "nfsservctl",
		"afs_syscall", "getpmsg", "putpmsg", "security", "tuxcall", "vserver",
	}
}

// SeccompDenied returns the names of the syscalls the sandbox refuses
// whatever their arguments, sorted. All fail with EPERM except clone3,
// which fails with ENOSYS so that libc falls back to clone, where the
// namespace flags can be inspected. Syscalls refused only for some
// arguments are described by SeccompArgumentRules.
func SeccompDenied() []string {
	names := append(seccompRefused(), "clone3")
	slices.Sort(names)
	return slices.Compact(names)
}

// SeccompArgumentRules describes, one line each, the syscalls the
// sandbox refuses with EPERM only for some arguments.
func SeccompArgumentRules() []string {
	return []string{
		"clone: any namespace flag (CLONE_NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWCGROUP)",
		"ioctl: TIOCSTI and TIOCLINUX (typing into a terminal)",
		"personality: any value but PER_LINUX, PER_LINUX32, UNAME26 and the 0xffffffff query",
		"socket: AF_VSOCK (reaches the host past the network namespace)",
		"socket: IPPROTO_MPTCP and SCTP (not covered by Landlock's TCP rules)",
		"sendto, sendmsg, sendmmsg: MSG_FASTOPEN (connects without connect(2))",
		fmt.Sprintf("the %d syscall numbers after the newest this build knows: ENOSYS", futureSyscalls),
	}
}

// futureSyscalls is how many syscall numbers past the newest one this
// build knows fail with ENOSYS. A denylist cannot refuse what it does not
// know; this makes new kernel interfaces look absent for some years of
// kernel releases, so programs take their fallback path.
const futureSyscalls = 64

// loadSeccomp sets no_new_privs and loads a program from compileSeccomp
// into every thread of the calling process (TSYNC), as libseccomp's own
// load does, without the library: the init only loads.
func loadSeccomp(prog []byte) error {
	const entry = 8 // sizeof(struct sock_filter)
	n := len(prog) / entry
	if len(prog)%entry != 0 || n == 0 || n > bpfMaxInstructions {
		return fmt.Errorf("a filter of %d bytes is not a BPF program", len(prog))
	}
	insns := make([]unix.SockFilter, n)
	for i := range insns {
		b := prog[i*entry:]
		insns[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b[0:]),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:]),
		}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("setting no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(n), Filter: &insns[0]}
	tid, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(insns)
	if errno != 0 {
		return fmt.Errorf("loading the filter: %w", errno)
	}
	if tid != 0 {
		return fmt.Errorf("loading the filter: thread %d could not take it", tid)
	}
	return nil
}

// bpfMaxInstructions is BPF_MAXINSNS, the longest program the kernel loads.
const bpfMaxInstructions = 4096

// newestKnownSyscall is the highest syscall number of the running
// architecture known to golang.org/x/sys at build time.
const newestKnownSyscall = unix.SYS_RSEQ_SLICE_YIELD

// argCond is one masked-equality test on a syscall argument: the rule
// matches when arg&mask == value. Comparing under a mask of the
// argument's C width matters: the kernel truncates an int argument to
// 32 bits, so an exact 64-bit comparison could be dodged by setting the
// upper half.
type argCond struct {
	arg   uint
	mask  uint64
	value uint64
}

// argRule refuses name when all of conds hold.
type argRule struct {
	name  string
	conds []argCond
}

const mask32 = 0xffffffff

func seccompArgRules() []argRule {
	var rules []argRule
	cloneFlags := uint(0)
	if runtime.GOARCH == "s390x" || runtime.GOARCH == "s390" {
		cloneFlags = 1 // clone's first two arguments are swapped there
	}
	// CLONE_NEWTIME shares its bit with the exit signal in clone's flags,
	// so it can only be asked for through clone3 (refused) or unshare.
	for _, flag := range []uint64{
		unix.CLONE_NEWNS, unix.CLONE_NEWUTS, unix.CLONE_NEWIPC, unix.CLONE_NEWUSER,
		unix.CLONE_NEWPID, unix.CLONE_NEWNET, unix.CLONE_NEWCGROUP,
	} {
		rules = append(rules, argRule{"clone", []argCond{{cloneFlags, flag, flag}}})
	}
	for _, cmd := range []uint64{unix.TIOCSTI, unix.TIOCLINUX} {
		rules = append(rules, argRule{"ioctl", []argCond{{1, mask32, cmd}}})
	}
	for _, c := range personalityDenyConds() {
		rules = append(rules, argRule{"personality", []argCond{c}})
	}
	rules = append(rules,
		argRule{"socket", []argCond{{0, mask32, unix.AF_VSOCK}}},
		argRule{"socket", []argCond{{2, mask32, unix.IPPROTO_MPTCP}}},
		argRule{"socket", []argCond{{2, mask32, unix.IPPROTO_SCTP}}},
		// With protocol 0, SOCK_SEQPACKET in an inet family is SCTP.
		argRule{"socket", []argCond{{0, mask32, unix.AF_INET}, {1, 0xf, unix.SOCK_SEQPACKET}}},
		argRule{"socket", []argCond{{0, mask32, unix.AF_INET6}, {1, 0xf, unix.SOCK_SEQPACKET}}},
		argRule{"sendto", []argCond{{3, unix.MSG_FASTOPEN, unix.MSG_FASTOPEN}}},
		argRule{"sendmsg", []argCond{{2, unix.MSG_FASTOPEN, unix.MSG_FASTOPEN}}},
		argRule{"sendmmsg", []argCond{{3, unix.MSG_FASTOPEN, unix.MSG_FASTOPEN}}},
	)
	return rules
}

// personalityDenyConds returns tests on personality's argument, any one
// of which matching means the value is not one Docker allows: PER_LINUX
// (0), UNAME26 (8), PER_LINUX32 (0x20000), PER_LINUX32|UNAME26 or the
// query 0xffffffff. libseccomp allows one test per argument and rule, so
// "not one of five values" is spelled as a union of single masked tests.
//
// The kernel reads the argument as 32 bits. Call the bits 3 and 17 the
// allowed bits and the other 30 the flag bits. A value is allowed when
// its flag bits are all clear, or when every bit is set. So it is refused
// when its flag bits are neither all clear nor all set, which holds
// exactly when, walking the flag bits in a circle, some set bit is
// followed by a clear one (30 tests); or when the flag bits are all set
// but an allowed bit is clear (2 tests, using flag bit 0 as the witness).
func personalityDenyConds() []argCond {
	var flagBits []uint
	for b := uint(0); b < 32; b++ {
		if b != 3 && b != 17 {
			flagBits = append(flagBits, b)
		}
	}
	var conds []argCond
	for i, b := range flagBits {
		next := flagBits[(i+1)%len(flagBits)]
		conds = append(conds, argCond{0, 1<<b | 1<<next, 1 << b})
	}
	for _, allowed := range []uint{3, 17} {
		conds = append(conds, argCond{0, 1<<allowed | 1, 1})
	}
	return conds
}

// isSyscallName reports whether s looks like a syscall name, so that a
// typo such as "mount " is reported as such rather than as unknown.
func isSyscallName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', 'a' <= r && r <= 'z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// recentSyscalls maps syscalls newer than the oldest libseccomp this
// builds against (2.5.4, Linux 5.19's table) to their numbers here.
func recentSyscalls() map[string]int {
	return map[string]int{
		"cachestat":         unix.SYS_CACHESTAT,
		"fchmodat2":         unix.SYS_FCHMODAT2,
		"map_shadow_stack":  unix.SYS_MAP_SHADOW_STACK,
		"futex_wake":        unix.SYS_FUTEX_WAKE,
		"futex_wait":        unix.SYS_FUTEX_WAIT,
		"futex_requeue":     unix.SYS_FUTEX_REQUEUE,
		"statmount":         unix.SYS_STATMOUNT,
		"listmount":         unix.SYS_LISTMOUNT,
		"lsm_get_self_attr": unix.SYS_LSM_GET_SELF_ATTR,
		"lsm_set_self_attr": unix.SYS_LSM_SET_SELF_ATTR,
		"lsm_list_modules":  unix.SYS_LSM_LIST_MODULES,
		"mseal":             unix.SYS_MSEAL,
		"setxattrat":        unix.SYS_SETXATTRAT,
		"getxattrat":        unix.SYS_GETXATTRAT,
		"listxattrat":       unix.SYS_LISTXATTRAT,
		"removexattrat":     unix.SYS_REMOVEXATTRAT,
		"open_tree_attr":    unix.SYS_OPEN_TREE_ATTR,
		"file_getattr":      unix.SYS_FILE_GETATTR,
		"file_setattr":      unix.SYS_FILE_SETATTR,
		"listns":            unix.SYS_LISTNS,
		"rseq_slice_yield":  unix.SYS_RSEQ_SLICE_YIELD,
	}
}
