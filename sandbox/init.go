package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwarded are the signals the init passes on to the server's process
// group.
var forwarded = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP,
	syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
}

// hostname is the sandbox's host name: the host's would say whose
// machine this is.
const hostname = "mcpwarden"

// InitMain runs the sandbox's init; see the package documentation. It is
// for the process that [Command] starts, which [IsInit] recognises, and
// returns the status to exit with.
func InitMain() int {
	// Capabilities, securebits, no_new_privs and the seccomp filter are
	// per thread, and the server inherits those of the thread that starts
	// it: all of that happens on this thread, which is never unlocked.
	runtime.LockOSThread()
	// Signals that come during set-up wait in the channel for the server.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwarded...)
	children := make(chan os.Signal, 1)
	signal.Notify(children, syscall.SIGCHLD)

	if os.Getpid() != 1 {
		return fail(errors.New("the init must be started by mcpwarden, as PID 1 of a new PID namespace"))
	}
	if err := markStrayFiles(); err != nil {
		return fail(err)
	}
	srv, err := setUp()
	if err != nil {
		return fail(err)
	}
	// The resource limits come last: they bind the init too, whose set-up
	// (Landlock, seccomp) allocates more than starting the server does.
	if err := applyRlimits(srv.limits); err != nil {
		return fail(err)
	}
	server, err := start(srv)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && errors.Is(pe.Err, unix.ENOENT) {
			return report(ExitNotFound, err)
		}
		return report(ExitCannotRun, err)
	}
	// The server has the standard input and output now; the caller must
	// see their end of file when the server closes them, not when the init
	// exits.
	if err := detachStdio(); err != nil {
		warn(err)
	}
	return supervise(server, sigs, children)
}

// closeRangeCloexec is CLOSE_RANGE_CLOEXEC (linux/close_range.h).
const closeRangeCloexec = 1 << 2

// markStrayFiles sets close-on-exec on every descriptor above standard
// error. Go leaves the descriptors a program inherited open across exec:
// one that mcpwarden's own parent leaked would otherwise reach the server,
// and with it a directory, socket or file outside the sandbox.
func markStrayFiles() error {
	if unix.CloseRange(3, math.MaxUint32, closeRangeCloexec) == nil {
		return nil
	}
	// Before Linux 5.11: one at a time. /proc is still the host's here.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("listing open files: %w", err)
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && !errors.Is(err, unix.EBADF) {
			return fmt.Errorf("closing inherited file %d: %w", fd, err)
		}
	}
	return nil
}

// server is what set-up leaves for starting the server.
type server struct {
	path   string
	argv   []string
	env    []string
	dir    string
	limits Limits
}

// setUp builds the sandbox around the calling process: everything but
// starting the server.
func setUp() (*server, error) {
	ch := os.NewFile(configFD, "config")
	defer ch.Close()
	cfg, err := decodeConfig(ch)
	if err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := unix.Sethostname([]byte(hostname)); err != nil {
		return nil, fmt.Errorf("setting host name: %w", err)
	}
	if cfg.Network != NetworkHost {
		if err := loopbackUp(); err != nil {
			return nil, err
		}
	}
	if cfg.Network == NetworkProxy {
		if err := handOverEgress(); err != nil {
			return nil, err
		}
	}
	cwd, err := unix.Getwd()
	if err != nil {
		cwd = ""
	}
	v, err := planView(cfg, ids{os.Getuid(), os.Getgid()}, cwd)
	if err != nil {
		return nil, fmt.Errorf("planning the file system view: %w", err)
	}
	if err := buildView(v); err != nil {
		return nil, fmt.Errorf("building the file system view: %w", err)
	}
	if err := dropPrivileges(); err != nil {
		return nil, fmt.Errorf("dropping privileges: %w", err)
	}
	// The server runs as the init's uid: without this it could read the
	// init's memory through /proc/1/mem (the host's files the init read
	// while building the view, the unfiltered /etc/passwd among them) and
	// reopen the host files the init holds through /proc/1/fd.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("making the init undumpable: %w", err)
	}
	policy := landlockPolicy{read: v.read, write: v.write, hostNetwork: cfg.Network == NetworkHost,
		connectTCP: egressConnectPorts(cfg.Network)}
	// Its warnings depend on the kernel alone, and Command has returned
	// them to the caller already.
	if _, err := restrictLandlockPolicy(policy, cfg.BestEffort); err != nil {
		return nil, err
	}
	// Compiled by the caller while the view was being built.
	prog, err := readFrame(ch, frameProgram)
	if err == nil {
		err = loadSeccomp(prog)
	}
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	env := cfg.Env
	if env == nil {
		env = []string{}
	}
	return &server{path: v.exe, argv: cfg.Argv, env: env, dir: v.dir, limits: cfg.Limits}, nil
}

// start starts the server from the calling (locked) thread, in a session
// of its own, with the init's standard files.
func start(s *server) (*os.Process, error) {
	cmd := &exec.Cmd{
		Path:        s.path,
		Args:        s.argv,
		Env:         s.env,
		Dir:         s.dir,
		Stdin:       os.Stdin,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", s.argv[0], err)
	}
	return cmd.Process, nil
}

// supervise forwards signals to the server's process group and reaps
// every process that ends in the namespace, until the server ends; then it
// kills what is left and returns the server's status.
func supervise(srv *os.Process, sigs, children <-chan os.Signal) int {
	// Reaping and forwarding happen in this one loop, so the server's pid
	// cannot be reaped, and reused, between deciding to signal and
	// signalling it.
	for {
		if code, done := reap(srv.Pid); done {
			_ = unix.Kill(-1, unix.SIGKILL)
			return code
		}
		select {
		case <-children:
		case sig := <-sigs:
			s := sig.(syscall.Signal)
			if err := unix.Kill(-srv.Pid, s); err != nil {
				_ = unix.Kill(srv.Pid, s)
			}
		}
	}
}

// reap collects every child that has ended, and reports the server's
// status once it is among them.
func reap(serverPid int) (code int, done bool) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return 0, false
		}
		if pid == serverPid {
			return exitCode(ws), true
		}
	}
}

// exitCode turns a wait status into a shell's exit status.
func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// detachStdio points the init's standard input and output at /dev/null.
func detachStdio() error {
	null, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening /dev/null: %w", err)
	}
	defer unix.Close(null)
	for _, fd := range []int{0, 1} {
		if err := unix.Dup3(null, fd, 0); err != nil {
			return fmt.Errorf("closing standard file %d: %w", fd, err)
		}
	}
	return nil
}

// loopbackUp brings up lo in the new network namespace: servers that talk
// to themselves over 127.0.0.1 keep working, and nothing else is there.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bringing up loopback: %w", err)
	}
	return nil
}

// errPrefix starts every line the init writes.
const errPrefix = "mcpwarden: sandbox: "

// fail reports a set-up error and returns ExitSetup.
func fail(err error) int { return report(ExitSetup, err) }

// report writes err as one line on standard error and returns code.
func report(code int, err error) int {
	fmt.Fprintf(os.Stderr, "%s%s\n", errPrefix, oneLine(err.Error()))
	return code
}

// warn writes a warning as one line on standard error.
func warn(err error) {
	fmt.Fprintf(os.Stderr, "%swarning: %s\n", errPrefix, oneLine(err.Error()))
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}
