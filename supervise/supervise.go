// Package supervise starts the MCP server as a child process and owns its
// life: signals reach it, it is stopped in stages when the client leaves,
// and nothing it started outlives mcpwarden.
package supervise

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process is a running server.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}

	mu    sync.Mutex
	state *os.ProcessState
	err   error
}

// Start starts cmd, a command the caller prepared (the sandbox's init),
// as the leader of a process group or session of its own, with its stdin
// and stdout as pipes returned to the caller and its stderr going to
// stderr. The server is killed if mcpwarden dies without stopping it.
func Start(cmd *exec.Cmd, stderr io.Writer) (p *Process, stdin io.WriteCloser, stdout io.ReadCloser, err error) {
	prepare(cmd, stderr)
	// Plain pipes rather than exec's StdoutPipe: Wait closes those as soon
	// as the server exits, losing what it wrote last and never read.
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("server stdin: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, nil, nil, fmt.Errorf("server stdout: %w", err)
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	started := make(chan error, 1)
	go func() {
		// Never unlocked: the forking thread must live as long as
		// mcpwarden, or the server would get its death signal early.
		runtime.LockOSThread()
		started <- cmd.Start()
		select {}
	}()
	err = <-started
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, nil, nil, fmt.Errorf("starting %q: %w", cmd.Args[0], err)
	}
	// The pipes stay with the runtime's poller: a goroutine waiting on
	// one parks instead of holding a thread blocked in read(2), which the
	// runtime's monitor would keep retaking every 20 µs. Measured with
	// BenchmarkCallProxied pinned to one CPU, blocking pipes and stdio
	// cost about 4% more per call.
	p = &Process{cmd: cmd, done: make(chan struct{})}
	go p.wait()
	return p, inW, outR, nil
}

func prepare(cmd *exec.Cmd, stderr io.Writer) {
	cmd.Stderr = stderr
	// Pdeathsig fires when the thread that forked dies, not the process:
	// Start forks from a locked thread that is never reused. A group of
	// its own (or a session, which the sandbox's init gets) lets the
	// server's children be signalled with it.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	if !cmd.SysProcAttr.Setsid {
		cmd.SysProcAttr.Setpgid = true
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

func (p *Process) wait() {
	err := p.cmd.Wait()
	p.mu.Lock()
	p.state, p.err = p.cmd.ProcessState, err
	p.mu.Unlock()
	// Whatever the server left behind in its group goes with it.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	close(p.done)
}

// Done is closed when the server has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Signal sends sig to the server's process group.
func (p *Process) Signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// Stop ends the server in stages, giving it grace at each: it should
// already be leaving because its input was closed; then SIGTERM; then
// SIGKILL. It returns when the server is gone.
func (p *Process) Stop(grace time.Duration) {
	for _, sig := range []syscall.Signal{0, syscall.SIGTERM, syscall.SIGKILL} {
		if sig != 0 {
			p.Signal(sig)
		}
		select {
		case <-p.done:
			return
		case <-time.After(grace):
		}
	}
	<-p.done
}

// ExitCode returns the server's exit status as a shell reports it: the
// status, or 128+N for death by signal N. It is valid after Done.
func (p *Process) ExitCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		return 1
	}
	if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return p.state.ExitCode()
}

// Describe says how the server ended, for messages: "exited with status
// 1" or "was killed by signal 9 (killed)". It is valid after Done.
func (p *Process) Describe() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == nil {
		return "ended"
	}
	if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("was killed by signal %d (%v)", int(ws.Signal()), ws.Signal())
	}
	code := p.state.ExitCode()
	if code > 128 && code <= 128+64 {
		// The sandbox's init reports a server killed by signal N as
		// 128+N, as a shell does.
		sig := syscall.Signal(code - 128)
		return fmt.Sprintf("exited with status %d (killed by signal %d, %v)", code, int(sig), sig)
	}
	return fmt.Sprintf("exited with status %d", code)
}

// Pollable returns f, one of the process's standard files (fd), as a file
// served by the runtime's poller when it is a pipe or a socket (what an MCP
// client hands a stdio server), so that waiting for the client costs no
// blocked thread either. The descriptor is set non-blocking, which its
// other holders see too: that is why a terminal, which a shell shares, is
// left as it is.
func Pollable(f *os.File, fd int) *os.File {
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil {
		return f
	}
	if kind := st.Mode & syscall.S_IFMT; kind != syscall.S_IFIFO && kind != syscall.S_IFSOCK {
		return f
	}
	if syscall.SetNonblock(fd, true) != nil {
		return f
	}
	return os.NewFile(uintptr(fd), f.Name())
}

// PipeBuffer is the kernel buffer WidenPipe asks for: the most an
// unprivileged process may set by default (/proc/sys/fs/pipe-max-size).
// A 64 MiB result crosses a pipe of this size about three times faster
// than one of the default 64 KiB, which needs a wake-up of each side for
// every 64 KiB.
const PipeBuffer = 1 << 20

// WidenPipe gives s, a pipe end (an *os.File), a kernel buffer of
// PipeBuffer bytes. Anything else is left alone. The kernel counts the
// buffer against the user's pipe-user-pages-soft allowance whether or
// not it fills, so mcpwarden widens only the pipes that carry large
// messages; past the allowance the kernel refuses (EPERM) and the pipe
// keeps its size, which costs speed and nothing else.
func WidenPipe(s any) error {
	c, ok := s.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("widening a pipe: %w", err)
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		var st syscall.Stat_t
		if syscall.Fstat(int(fd), &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
			return
		}
		if _, err := unix.FcntlInt(fd, unix.F_SETPIPE_SZ, PipeBuffer); err != nil {
			ferr = fmt.Errorf("widening a pipe to %d bytes: %w", PipeBuffer, err)
		}
	})
	if err != nil {
		return fmt.Errorf("widening a pipe: %w", err)
	}
	return ferr
}
