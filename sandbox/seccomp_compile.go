//go:build cgo

package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The filter is compiled with libseccomp, which takes cgo; mcpwarden
// compiles it, and the init, which only loads the program it is sent, is
// built without cgo (a static executable that starts without the dynamic
// loader). See seccomp_nocgo.go.

// compileSeccomp builds the sandbox's seccomp filter and returns it as the
// kernel takes it (struct sock_filter entries in the host's byte order),
// for loadSeccomp. extraDeny names further syscalls (from the profile) to
// fail with EPERM; an unknown name is an error naming it. The filter also
// binds the init, so extraDeny must not name what the init needs to start
// and reap the server (execve, clone, wait4, kill, futex and the like):
// start-up then fails. Nor should it name what the server's runtime
// needs: node, for one, aborts without uname.
func compileSeccomp(extraDeny []string) ([]byte, error) {
	filter, err := newSeccompFilter(extraDeny)
	if err != nil {
		return nil, err
	}
	defer filter.Release()
	// ExportBPFMem needs libseccomp 2.6; Debian 12 has 2.5, which exports
	// to a descriptor only.
	fd, err := unix.MemfdCreate("mcpwarden-seccomp", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("exporting the filter: %w", err)
	}
	f := os.NewFile(uintptr(fd), "mcpwarden-seccomp")
	defer f.Close()
	if err := filter.ExportBPF(f); err != nil {
		return nil, fmt.Errorf("exporting the filter: %w", err)
	}
	prog, err := io.ReadAll(io.NewSectionReader(f, 0, bpfMaxInstructions*8+1))
	if err != nil {
		return nil, fmt.Errorf("exporting the filter: %w", err)
	}
	return prog, nil
}

// newSeccompFilter builds the filter compileSeccomp exports.
func newSeccompFilter(extraDeny []string) (*seccomp.ScmpFilter, error) {
	extra, err := resolveSyscalls(extraDeny)
	if err != nil {
		return nil, err
	}
	filter, err := seccomp.NewFilter(seccomp.ActAllow)
	if err != nil {
		return nil, fmt.Errorf("creating a filter: %w", err)
	}
	if err := configureSeccompFilter(filter, extra); err != nil {
		filter.Release()
		return nil, err
	}
	return filter, nil
}

// errnoAction makes the refused syscall return errno.
func errnoAction(errno unix.Errno) seccomp.ScmpAction {
	return seccomp.ActErrno.SetReturnCode(int16(errno))
}

func configureSeccompFilter(filter *seccomp.ScmpFilter, extra []namedSyscall) error {
	// NewFilter already asks for TSYNC; no_new_privs is libseccomp's
	// default too, but the filter's safety rests on it, so say so.
	if err := filter.SetNoNewPrivsBit(true); err != nil {
		return fmt.Errorf("setting no_new_privs: %w", err)
	}
	if err := filter.SetBadArchAction(seccomp.ActKillProcess); err != nil {
		return fmt.Errorf("setting the foreign-architecture action: %w", err)
	}
	// A binary tree keeps every syscall's cost logarithmic in the rules.
	if err := filter.SetOptimize(2); err != nil {
		return fmt.Errorf("setting the optimisation level: %w", err)
	}
	refused, err := addRefusals(filter, extra)
	if err != nil {
		return err
	}
	for nr := newestKnownSyscall + 1; nr <= newestKnownSyscall+futureSyscalls; nr++ {
		if err := filter.AddRule(seccomp.ScmpSyscall(nr), errnoAction(unix.ENOSYS)); err != nil {
			return fmt.Errorf("refusing future syscall %d: %w", nr, err)
		}
	}
	return addArgRules(filter, refused)
}

// addRefusals adds the syscalls refused whatever their arguments, the
// sandbox's and the profile's, and returns them.
func addRefusals(filter *seccomp.ScmpFilter, extra []namedSyscall) (map[seccomp.ScmpSyscall]bool, error) {
	all, err := resolveSyscalls(SeccompDenied())
	if err != nil {
		return nil, err
	}
	refused := map[seccomp.ScmpSyscall]bool{}
	for _, s := range append(all, extra...) {
		if refused[s.nr] {
			continue
		}
		action := errnoAction(unix.EPERM)
		if s.name == "clone3" {
			action = errnoAction(unix.ENOSYS)
		}
		if err := filter.AddRule(s.nr, action); err != nil {
			return nil, fmt.Errorf("refusing %s: %w", s.name, err)
		}
		refused[s.nr] = true
	}
	return refused, nil
}

// addArgRules adds the refusals that depend on arguments, except for
// syscalls already refused outright.
func addArgRules(filter *seccomp.ScmpFilter, refused map[seccomp.ScmpSyscall]bool) error {
	for _, r := range seccompArgRules() {
		nr, err := syscallNumber(r.name)
		if err != nil {
			return err
		}
		if refused[nr] {
			continue
		}
		if err := addArgRule(filter, nr, r.conds); err != nil {
			return fmt.Errorf("restricting %s: %w", r.name, err)
		}
	}
	return nil
}

func addArgRule(filter *seccomp.ScmpFilter, nr seccomp.ScmpSyscall, conds []argCond) error {
	scmpConds := make([]seccomp.ScmpCondition, 0, len(conds))
	for _, c := range conds {
		cond, err := seccomp.MakeCondition(c.arg, seccomp.CompareMaskedEqual, c.mask, c.value)
		if err != nil {
			return err
		}
		scmpConds = append(scmpConds, cond)
	}
	return filter.AddRuleConditional(nr, errnoAction(unix.EPERM), scmpConds)
}

// namedSyscall is a syscall resolved for the native architecture.
type namedSyscall struct {
	name string
	nr   seccomp.ScmpSyscall
}

// resolveSyscalls resolves syscall names, failing on the first name that
// is not a syscall.
func resolveSyscalls(names []string) ([]namedSyscall, error) {
	nrs := make([]namedSyscall, 0, len(names))
	for _, name := range names {
		if !isSyscallName(name) {
			return nil, fmt.Errorf("%q is not a syscall name", name)
		}
		nr, err := syscallNumber(name)
		if err != nil {
			return nil, err
		}
		nrs = append(nrs, namedSyscall{name, nr})
	}
	return nrs, nil
}

// syscallNumber resolves name for the native architecture. A syscall
// libseccomp knows but this architecture lacks resolves to a negative
// pseudo-number, which libseccomp accepts in rules and ignores.
func syscallNumber(name string) (seccomp.ScmpSyscall, error) {
	nr, err := seccomp.GetSyscallFromName(name)
	if err == nil {
		return nr, nil
	}
	if n, ok := recentSyscalls()[name]; ok {
		return seccomp.ScmpSyscall(n), nil
	}
	if errors.Is(err, seccomp.ErrSyscallDoesNotExist) {
		return 0, fmt.Errorf("unknown syscall %q", name)
	}
	return 0, fmt.Errorf("resolving syscall %q: %w", name, err)
}

// seccompLibrary returns the version of the libseccomp mcpwarden is
// linked with and its API level for this kernel.
func seccompLibrary() (version string, api int, err error) {
	major, minor, micro := seccomp.GetLibraryVersion()
	level, err := seccomp.GetAPI()
	return fmt.Sprintf("%d.%d.%d", major, minor, micro), int(level), err
}
