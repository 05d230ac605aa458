// Package sandbox starts an MCP server confined by the kernel, so that a
// compromised server cannot read the user's secrets, write outside the
// folders it was given, reach a network it was not given, see or signal
// other processes, gain privileges, or exhaust the machine.
//
// The confinement works for an unprivileged user (through user namespaces)
// as well as for root. [Command] builds an [exec.Cmd] that re-executes the
// running binary as the sandbox's init: the first process of fresh user,
// mount, PID, IPC, UTS, cgroup and (unless the network is "host") network
// namespaces. The program must therefore call [IsInit] first thing in main
// and hand over to [InitMain] when it returns true.
//
// The init builds a new root file system that holds only what the server
// needs (see [Config]), applies resource limits, drops every capability,
// locks the securebits, sets no_new_privs, applies Landlock and seccomp, and
// then starts the server as its only child, in a session of its own. It
// stays behind as PID 1 of the namespace: it reaps orphans, forwards
// SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the server's
// process group, and when the server exits it kills whatever the server
// left and exits with the server's status.
//
// Exit status of the init, as seen by the caller:
//
//   - the server's exit status when it exits;
//   - 128+N when signal N killed the server, the number a shell reports,
//     so the caller need not tell the two apart;
//   - [ExitSetup] (125) when the sandbox could not be built, [ExitCannotRun]
//     (126) when the server's executable could not be run, and
//     [ExitNotFound] (127) when it does not exist. In these cases the init
//     has written one line starting with "mcpwarden: sandbox: " to its
//     standard error, which the caller should report as a start-up error.
//
// Warnings (a Landlock feature the kernel lacks, with Config.BestEffort)
// come back from [Command]; the init writes any it alone discovers to its
// standard error as lines starting with "mcpwarden: sandbox: warning: ".
package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// InitArg is the first argument that tells a re-executed mcpwarden binary
// to run as the sandbox's init.
const InitArg = "__mcpwarden_sandbox_init"

// Exit statuses of the init that do not come from the server.
const (
	// ExitSetup means the sandbox could not be built; the server did not run.
	ExitSetup = 125
	// ExitCannotRun means the server's executable exists but could not be run.
	ExitCannotRun = 126
	// ExitNotFound means the server's executable does not exist in the sandbox.
	ExitNotFound = 127
)

// Network modes of [Config.Network].
const (
	NetworkNone  = "none"  // a private network namespace with only loopback
	NetworkHost  = "host"  // the host's network namespace
	NetworkProxy = "proxy" // loopback only, and the egress listener (see Egress)
)

// configFD is the descriptor on which the init finds its Config: the first
// of exec.Cmd.ExtraFiles.
const configFD = 3

// Config describes one sandboxed server. Paths are absolute and already
// expanded by the caller ("~" and "{arg_dirs}" resolved); symbolic links in
// them are resolved by the sandbox when it builds the file system view.
type Config struct {
	// Argv is the server's command line; Argv[0] is an absolute path.
	Argv []string
	// Env is the server's whole environment, already scrubbed (see [Env]).
	Env []string

	// Read lists files and directories the server may read and execute.
	// Missing ones are skipped.
	Read []string
	// Write lists files and directories the server may also modify.
	// Missing ones are skipped.
	Write []string
	// Hide lists paths that are covered with an empty read-only directory
	// (or, for a file, an empty file) wherever they are visible in the view.
	Hide []string

	// Network is NetworkNone (also when empty), NetworkHost or
	// NetworkProxy, which needs Egress.
	Network string
	// Egress receives the egress proxy's listener with NetworkProxy.
	Egress *Egress
	// Limits bounds the resources the server may use.
	Limits Limits
	// SeccompDeny names extra system calls that fail with EPERM.
	SeccompDeny []string
	// BestEffort turns a sandbox feature the kernel lacks from a start-up
	// error into a warning.
	BestEffort bool
	// Home is the user's home directory: HOME inside the sandbox. Unless it
	// lies in Read or Write, it is an empty, private, writable directory.
	Home string
	// InitBuildID is the Go build ID of the init executable built with the
	// running binary (see [InitName]). When the file beside the running
	// binary has it, the init runs from there, which starts faster; when
	// empty or not found, the running binary starts itself as the init.
	InitBuildID string
}

// Command returns the command that runs cfg's server in a sandbox, and
// warnings about parts of the sandbox that will not be enforced. The caller
// sets Stdin, Stdout and Stderr, which the server inherits, and starts it.
//
// The init gets SIGKILL when the thread that started it ends (Pdeathsig),
// and everything in the sandbox dies with the init: start the command from
// a locked OS thread that lives as long as the sandbox should. The command
// holds two descriptors of the calling process (the encoded Config, and
// the cgroup when one is used) until it is garbage collected.
func Command(cfg Config) (cmd *exec.Cmd, warnings []string, err error) {
	if err := cfg.validate(); err != nil {
		return nil, nil, err
	}
	// The init meets the same Landlock ABI; finding out here makes a
	// missing feature a start-up error before anything runs, and returns
	// the warnings to the caller rather than to the init's stderr.
	abi, abiErr := landlockABI()
	_, warnings, err = planLandlock(abi, abiErr, cfg.Network == NetworkHost, cfg.BestEffort)
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox: %w", err)
	}
	egressFile, err := egressFiles(cfg)
	if err != nil {
		return nil, nil, err
	}
	extraDeny := slices.Clone(cfg.SeccompDeny)
	conf, err := openChannel(cfg, func() ([]byte, error) { return compileSeccomp(extraDeny) })
	if err != nil {
		return nil, nil, err
	}
	attr := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS | syscall.CLONE_NEWCGROUP,
		// Identity maps: the server keeps the caller's uid, so files it
		// writes belong to the caller and nothing else can be assumed.
		UidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}},
		// A new session has no controlling terminal, so nothing inside can
		// push input into the user's terminal (TIOCSTI), and the init leads
		// a process group the caller can signal as a whole.
		Setsid:    true,
		Pdeathsig: syscall.SIGKILL,
		// A non-zero uid loses its capabilities at execve; these survive it
		// as ambient capabilities for the init's set-up, which drops them.
		AmbientCaps: []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_NET_ADMIN, unix.CAP_SETPCAP},
	}
	if cfg.Network != NetworkHost {
		attr.Cloneflags |= syscall.CLONE_NEWNET
	}
	cg, err := newCgroup(cfg.Limits)
	if err != nil {
		conf.Close()
		return nil, nil, err
	}
	files := append([]*os.File{conf}, egressFile...)
	if cg != nil {
		attr.UseCgroupFD = true
		attr.CgroupFD = int(cg.Fd())
		// Also passed to the init (which does not keep it open across
		// exec): that keeps the file alive, so no finalizer closes the
		// descriptor CgroupFD names before the command starts.
		files = append(files, cg)
	}
	lw, err := checkLimits(cg != nil, cfg.BestEffort)
	if err != nil {
		conf.Close()
		if cg != nil {
			cg.Close()
		}
		return nil, nil, fmt.Errorf("sandbox: %w", err)
	}
	warnings = append(warnings, lw...)
	path, name := "/proc/self/exe", "mcpwarden"
	if exe := openInit(cfg.InitBuildID); exe != nil {
		name = InitName
		// Started through the descriptor that was checked, so that the
		// file cannot be swapped between the check and execve. The init
		// marks it close-on-exec with every other stray descriptor.
		files = append(files, exe)
		path = fmt.Sprintf("/proc/self/fd/%d", configFD+len(files)-1)
	}
	cmd = &exec.Cmd{
		Path: path,
		Args: []string{name, InitArg},
		// The init needs no environment; the server gets cfg.Env.
		Env:         []string{},
		ExtraFiles:  files,
		SysProcAttr: attr,
	}
	return cmd, warnings, nil
}

// IsInit reports whether args, the program's arguments, ask it to run as
// the sandbox's init.
func IsInit(args []string) bool {
	return len(args) == 2 && args[1] == InitArg
}

// validate checks what can be checked without the file system.
func (c *Config) validate() error {
	if len(c.Argv) == 0 {
		return errors.New("sandbox: no server command")
	}
	if !filepath.IsAbs(c.Argv[0]) {
		return fmt.Errorf("sandbox: server command %q is not an absolute path", c.Argv[0])
	}
	for _, s := range c.Argv {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("sandbox: server argument %q contains a NUL byte", s)
		}
	}
	for _, kv := range c.Env {
		if strings.IndexByte(kv, 0) >= 0 || strings.IndexByte(kv, '=') <= 0 {
			return fmt.Errorf("sandbox: environment entry %q is not NAME=value", kv)
		}
	}
	lists := []struct {
		name  string
		paths []string
	}{{"read", c.Read}, {"write", c.Write}, {"hide", c.Hide}}
	for _, l := range lists {
		for _, p := range l.paths {
			if err := checkPath(p); err != nil {
				return fmt.Errorf("sandbox: %s path %q: %w", l.name, p, err)
			}
		}
	}
	if c.Home != "" {
		if err := checkPath(c.Home); err != nil {
			return fmt.Errorf("sandbox: home %q: %w", c.Home, err)
		}
	}
	switch c.Network {
	case "", NetworkNone, NetworkHost, NetworkProxy:
	default:
		return fmt.Errorf(`sandbox: network %q is unknown (use "none", "proxy" or "host")`, c.Network)
	}
	return c.Limits.validate()
}

func checkPath(p string) error {
	switch {
	case !filepath.IsAbs(p):
		return errors.New("not an absolute path")
	case strings.IndexByte(p, 0) >= 0:
		return errors.New("contains a NUL byte")
	}
	return nil
}
