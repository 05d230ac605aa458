// Command escaper is an MCP server on stdio for mcpwarden's escape tests.
// Each of its tools attempts one way out of the sandbox it runs in and
// reports exactly what happened, step by step: the operation, whether it
// worked, the errno when it did not, and what it read or counted. It
// judges nothing: the tests decide from the report whether the sandbox
// held, and which layer stopped the attempt.
//
// Run outside any sandbox, the same tools are the tests' controls: what
// fails inside must work, or fail differently, outside.
//
// Probes: besides the real attempt, the tools that call a system call the
// seccomp filter refuses make the same call with arguments the kernel
// itself rejects (a path that does not exist, a bad descriptor, unknown
// flags). The kernel answers those with ENOENT, EBADF or EINVAL; only a
// filter that refuses the call before the kernel looks at it answers
// EPERM. Steps made that way are marked "probe".
//
// With the single argument "x32-unshare" it makes one system call through
// the x32 ABI, prints the errno and exits: the x32_abi tool runs it as a
// child, since a filter that catches it kills the caller.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "x32-unshare" {
		os.Exit(x32Unshare())
	}
	server := newServer()
	if err := server.Run(context.Background(), &mcp.StdioTransport{}); err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(os.Stderr, "escaper: %v\n", err)
		os.Exit(1)
	}
}

// input holds the arguments of every tool; each uses a few.
type input struct {
	Paths     []string `json:"paths,omitempty" jsonschema:"files or directories to act on"`
	Dir       string   `json:"dir,omitempty" jsonschema:"a directory the server may write"`
	Network   string   `json:"network,omitempty" jsonschema:"tcp4, tcp6, unix, udp4, udp6 or bind4"`
	Addr      string   `json:"addr,omitempty" jsonschema:"an address: host:port, or @name for an abstract UNIX socket"`
	Pid       int      `json:"pid,omitempty" jsonschema:"a process id"`
	Name      string   `json:"name,omitempty" jsonschema:"which system call to attempt"`
	Limit     int64    `json:"limit,omitempty" jsonschema:"a safety cap on what is counted or allocated"`
	ProbeOnly bool     `json:"probe_only,omitempty" jsonschema:"make only the probes with invalid arguments"`
	Append    bool     `json:"append,omitempty" jsonschema:"write: append a line to files that exist"`
}

// report is what a tool answers, as JSON text.
type report struct {
	Steps  []step            `json:"steps"`
	Values map[string]string `json:"values,omitempty"`
}

// step is one operation and its outcome.
type step struct {
	Op    string `json:"op"`
	Probe bool   `json:"probe,omitempty"`
	OK    bool   `json:"ok"`
	Errno string `json:"errno,omitempty"`
	Err   string `json:"err,omitempty"`
	Out   string `json:"out,omitempty"`
}

// add records op's outcome.
func (r *report) add(op string, err error, out string) {
	r.Steps = append(r.Steps, step{Op: op, OK: err == nil, Errno: errnoName(err), Err: errText(err), Out: out})
}

// probe records the outcome of a call made with invalid arguments.
func (r *report) probe(op string, err error) {
	r.add(op, err, "")
	r.Steps[len(r.Steps)-1].Probe = true
}

func (r *report) set(key string, value any) {
	if r.Values == nil {
		r.Values = make(map[string]string)
	}
	r.Values[key] = fmt.Sprint(value)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// errnoName returns the symbolic name of the errno in err ("ENOENT").
func errnoName(err error) string {
	var e syscall.Errno
	if !errors.As(err, &e) {
		return ""
	}
	if e == 0 {
		return ""
	}
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return "errno " + strconv.Itoa(int(e))
}

// errno turns a raw system call's error number into an error.
func errno(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

type tool struct {
	name, desc string
	run        func(in input) report
}

func tools() []tool {
	return []tool{
		{"read", "Opens and reads each path.", readPaths},
		{"list", "Lists each directory.", listPaths},
		{"write", "Creates each path, or opens it for writing if it exists (changing it only with append).", writePaths},
		{"link", "Hard-links and renames each path into dir.", linkPaths},
		{"climb", "Changes to dir, then to .. forty times, then reads paths[0] relative to where it ended.", climb},
		{"connect", "Connects (or, for UDP, sends a datagram) to addr over network.", connect},
		{"syscall", "Attempts the refused system call name.", attemptSyscall},
		{"procs", "Lists the processes in /proc.", procs},
		{"fds", "Lists the open descriptors in each /proc/PID/fd directory, with their targets.", fds},
		{"reopen", "Opens each path (a /proc/PID/fd link, say) for reading, then for writing.", reopen},
		{"peek_memory", "Searches the memory of process pid for each of paths (as strings) through /proc, and opens it for writing.", peekMemory},
		{"signal", "Signals process pid.", signalPid},
		{"status", "Reports the credentials, capabilities and confinement of this process.", status},
		{"setuid", "Runs each set-user-ID program and reports its credentials.", setuidExec},
		{"rlimit", "Reports the resource limits and tries to raise each hard limit.", rlimits},
		{"x32_abi", "Makes a system call through the x32 ABI in a child.", x32ABI},
		{"fork_bomb", "Forks until fork fails or limit children run, then kills them.", forkBomb},
		{"fill_memory", "Maps and touches memory until mmap fails or limit bytes.", fillMemory},
		{"fill_disk", "Writes paths[0] until write fails or limit bytes, then removes it.", fillDisk},
		{"open_files", "Opens /dev/null until open fails or limit descriptors.", openFiles},
		{"environ", "Reports the environment.", environ},
		{"fetch", "GETs the URL addr through the proxy the environment names (HTTPS_PROXY), trusting the PEM certificates in paths[0].", fetch},
	}
}

func newServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "escaper", Version: "1.0.0"}, nil)
	for _, t := range tools() {
		run := t.run
		mcp.AddTool(s, &mcp.Tool{Name: t.name, Description: t.desc},
			func(_ context.Context, _ *mcp.CallToolRequest, in input) (*mcp.CallToolResult, any, error) {
				out, err := json.Marshal(run(in))
				if err != nil {
					return nil, nil, err
				}
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(out)}}}, nil, nil
			})
	}
	return s
}

// readLimit bounds what a read reports.
const readLimit = 64 << 10

// readFile opens path read-only and returns up to readLimit bytes.
func readFile(path string) (string, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, readLimit))
	return string(b), err
}

func readPaths(in input) report {
	var r report
	for _, p := range in.Paths {
		out, err := readFile(p)
		r.add("read "+p, err, out)
	}
	return r
}

func listPaths(in input) report {
	var r report
	for _, p := range in.Paths {
		entries, err := os.ReadDir(p)
		names := make([]string, len(entries))
		for i, e := range entries {
			names[i] = e.Name()
		}
		r.add("list "+p, err, strings.Join(names, "\n"))
	}
	return r
}

// writePaths creates each path with a marker, or opens an existing one
// for writing without writing to it unless in.Append: a sandbox that
// fails must not cost the host a file.
func writePaths(in input) report {
	var r report
	for _, p := range in.Paths {
		fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
		if err == nil {
			_, err = unix.Write(fd, []byte("written by the escaper\n"))
			unix.Close(fd)
			r.add("create "+p, err, "")
			continue
		}
		if !errors.Is(err, unix.EEXIST) {
			r.add("create "+p, err, "")
			continue
		}
		fd, err = unix.Open(p, unix.O_WRONLY|unix.O_APPEND|unix.O_CLOEXEC, 0)
		if err != nil {
			r.add("open for writing "+p, err, "")
			continue
		}
		if in.Append {
			_, err = unix.Write(fd, []byte("appended by the escaper\n"))
			r.add("append to "+p, err, "")
		} else {
			r.add("open for writing "+p, nil, "")
		}
		unix.Close(fd)
	}
	return r
}

func linkPaths(in input) report {
	var r report
	for i, p := range in.Paths {
		dst := filepath.Join(in.Dir, fmt.Sprintf("linked-%d", i))
		r.add("link "+p+" "+dst, unix.Linkat(unix.AT_FDCWD, p, unix.AT_FDCWD, dst, unix.AT_SYMLINK_FOLLOW), "")
		dst = filepath.Join(in.Dir, fmt.Sprintf("renamed-%d", i))
		r.add("rename "+p+" "+dst, unix.Rename(p, dst), "")
	}
	return r
}

// climb is the way out of a chroot: walk up from dir further than any
// tree is deep, and read from wherever that is.
func climb(in input) report {
	var r report
	old, err := os.Getwd()
	if err != nil {
		r.add("getwd", err, "")
		return r
	}
	defer os.Chdir(old)
	if err := unix.Chdir(in.Dir); err != nil {
		r.add("chdir "+in.Dir, err, "")
		return r
	}
	for range 40 {
		if err := unix.Chdir(".."); err != nil {
			r.add("chdir ..", err, "")
			return r
		}
	}
	cwd, err := unix.Getwd()
	r.add("getwd after climbing", err, cwd)
	for _, p := range in.Paths {
		rel := strings.TrimPrefix(p, "/")
		out, err := readFile(rel)
		r.add("read "+rel, err, out)
	}
	return r
}

// connect makes one connection attempt with raw sockets, so that the
// report has the errno the kernel gave.
func connect(in input) report {
	var r report
	switch in.Network {
	case "unix":
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			r.add("socket AF_UNIX", err, "")
			return r
		}
		defer unix.Close(fd)
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: in.Addr})
		if err == nil {
			_, err = unix.Write(fd, []byte("escaper\n"))
		}
		r.add("connect unix "+in.Addr, err, "")
		return r
	case "tcp4", "tcp6", "udp4", "udp6", "bind4":
		return inetAttempt(in)
	}
	r.add("network "+in.Network, unix.EINVAL, "")
	return r
}

func inetAttempt(in input) report {
	var r report
	sa, family, err := sockaddr(in.Addr)
	if err != nil {
		r.add("address "+in.Addr, err, "")
		return r
	}
	typ := unix.SOCK_STREAM
	if strings.HasPrefix(in.Network, "udp") {
		typ = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		r.add("socket "+in.Network, err, "")
		return r
	}
	defer unix.Close(fd)
	switch in.Network {
	case "bind4":
		err = unix.Bind(fd, sa)
		if err == nil {
			err = unix.Listen(fd, 1)
		}
		r.add("bind and listen tcp "+in.Addr, err, "")
	case "udp4", "udp6":
		r.add("sendto udp "+in.Addr, unix.Sendto(fd, []byte("escaper\n"), 0, sa), "")
	default:
		err = unix.Connect(fd, sa)
		if err == nil {
			_, err = unix.Write(fd, []byte("escaper\n"))
		}
		r.add("connect tcp "+in.Addr, err, "")
	}
	return r
}

func sockaddr(addr string) (unix.Sockaddr, int, error) {
	host, portText, err := splitHostPort(addr)
	if err != nil {
		return nil, 0, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, 0, err
	}
	ip, err := parseIP(host)
	if err != nil {
		return nil, 0, err
	}
	if len(ip) == 4 {
		sa := &unix.SockaddrInet4{Port: port}
		copy(sa.Addr[:], ip)
		return sa, unix.AF_INET, nil
	}
	sa := &unix.SockaddrInet6{Port: port}
	copy(sa.Addr[:], ip)
	return sa, unix.AF_INET6, nil
}

func splitHostPort(addr string) (string, string, error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", "", fmt.Errorf("address %q has no port", addr)
	}
	return strings.Trim(addr[:i], "[]"), addr[i+1:], nil
}

// parseIP parses a dotted IPv4 address or an IPv6 address, returning 4
// or 16 bytes.
func parseIP(s string) ([]byte, error) {
	if !strings.Contains(s, ":") {
		parts := strings.Split(s, ".")
		if len(parts) != 4 {
			return nil, fmt.Errorf("bad IPv4 address %q", s)
		}
		ip := make([]byte, 4)
		for i, p := range parts {
			n, err := strconv.ParseUint(p, 10, 8)
			if err != nil {
				return nil, fmt.Errorf("bad IPv4 address %q", s)
			}
			ip[i] = byte(n)
		}
		return ip, nil
	}
	// Enough of IPv6 for the tests: "::1" and full forms with "::".
	head, tail, compressed := strings.Cut(s, "::")
	var words []string
	if head != "" {
		words = strings.Split(head, ":")
	}
	var tailWords []string
	if tail != "" {
		tailWords = strings.Split(tail, ":")
	}
	if compressed {
		for len(words)+len(tailWords) < 8 {
			words = append(words, "0")
		}
	}
	words = append(words, tailWords...)
	if len(words) != 8 {
		return nil, fmt.Errorf("bad IPv6 address %q", s)
	}
	ip := make([]byte, 16)
	for i, w := range words {
		n, err := strconv.ParseUint(w, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("bad IPv6 address %q", s)
		}
		ip[2*i], ip[2*i+1] = byte(n>>8), byte(n)
	}
	return ip, nil
}

// nowhere is a path that exists nowhere, for probes.
const nowhere = "/nonexistent-mcpwarden-escape"

// farPid is a process id no process has (above the largest pid_max).
const farPid = 1<<22 + 1

// attemptSyscall makes the real attempt at a refused system call (unless
// in.ProbeOnly) and its probe.
func attemptSyscall(in input) report {
	var r report
	f, ok := syscallAttempts()[in.Name]
	if !ok {
		r.add("unknown system call "+in.Name, unix.EINVAL, "")
		return r
	}
	f(in, &r)
	return r
}

func syscallAttempts() map[string]func(input, *report) {
	return map[string]func(input, *report){
		"unshare":           tryUnshare,
		"mount":             tryMount,
		"umount":            tryUmount,
		"pivot_root":        tryPivotRoot,
		"chroot":            tryChroot,
		"ptrace":            tryPtrace,
		"process_vm_readv":  tryProcessVMReadv,
		"tiocsti":           tryTIOCSTI,
		"io_uring_setup":    tryIOUring,
		"bpf":               tryBPF,
		"perf_event_open":   tryPerfEventOpen,
		"keyctl":            tryKeyctl,
		"userfaultfd":       tryUserfaultfd,
		"open_by_handle_at": tryOpenByHandle,
	}
}

// truePath is a program that does nothing, for starting in namespaces.
func truePath() string {
	for _, p := range []string{"/usr/bin/true", "/bin/true"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "/bin/true"
}

func tryUnshare(in input, r *report) {
	if !in.ProbeOnly {
		cmd := exec.Command(truePath())
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		}
		r.add("clone(CLONE_NEWUSER|CLONE_NEWNS) running "+truePath()+" as uid 0", cmd.Run(), "")
	}
	// The process has several threads: the kernel refuses a new user
	// namespace to it with EINVAL.
	_, _, e := syscall.RawSyscall(unix.SYS_UNSHARE, unix.CLONE_NEWUSER, 0, 0)
	r.probe("unshare(CLONE_NEWUSER) from a multithreaded process", errno(e))
	_, _, e = syscall.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
	r.probe("clone3(NULL, 0)", errno(e))
}

func tryMount(in input, r *report) {
	if !in.ProbeOnly {
		dir := filepath.Join(in.Dir, "mnt")
		_ = os.Mkdir(dir, 0o755)
		r.add("mount tmpfs on "+dir, unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"), "")
		fd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
		if err == nil {
			unix.Close(fd)
		}
		r.add("fsopen tmpfs", err, "")
		fd, err = unix.OpenTree(unix.AT_FDCWD, "/", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err == nil {
			unix.Close(fd)
		}
		r.add("open_tree(/, OPEN_TREE_CLONE)", err, "")
	}
	r.probe("mount on "+nowhere, unix.Mount("none", nowhere, "tmpfs", 0, ""))
}

// tryUmount detaches the mount at paths[0] (a hidden directory) and reads
// paths[1:] (what it hides) afterwards.
func tryUmount(in input, r *report) {
	if !in.ProbeOnly && len(in.Paths) > 0 {
		r.add("umount2 "+in.Paths[0]+" MNT_DETACH", unix.Unmount(in.Paths[0], unix.MNT_DETACH), "")
		for _, p := range in.Paths[1:] {
			out, err := readFile(p)
			r.add("read "+p, err, out)
		}
	}
	r.probe("umount2 / with unknown flags", unix.Unmount("/", 0x7f00))
}

func tryPivotRoot(in input, r *report) {
	if !in.ProbeOnly {
		old := filepath.Join(in.Dir, "old-root")
		_ = os.Mkdir(old, 0o755)
		r.add("pivot_root "+in.Dir+" "+old, unix.PivotRoot(in.Dir, old), "")
	}
	r.probe("pivot_root "+nowhere, unix.PivotRoot(nowhere, nowhere))
}

func tryChroot(in input, r *report) {
	if !in.ProbeOnly {
		r.add("chroot "+in.Dir, unix.Chroot(in.Dir), "")
	}
	r.probe("chroot "+nowhere, unix.Chroot(nowhere))
}

func tryPtrace(in input, r *report) {
	if !in.ProbeOnly {
		pids := []int{1}
		if ppid := os.Getppid(); ppid != 1 {
			pids = append(pids, ppid)
		}
		for _, pid := range pids {
			err := unix.PtraceAttach(pid)
			if err == nil {
				_ = unix.PtraceDetach(pid)
			}
			r.add(fmt.Sprintf("ptrace(PTRACE_ATTACH, %d)", pid), err, "")
		}
	}
	r.probe(fmt.Sprintf("ptrace(PTRACE_ATTACH, %d)", farPid), unix.PtraceAttach(farPid))
}

func tryProcessVMReadv(in input, r *report) {
	buf := make([]byte, 8)
	local := []unix.Iovec{{Base: &buf[0], Len: 8}}
	remote := []unix.RemoteIovec{{Base: 0x10000, Len: 8}}
	if !in.ProbeOnly {
		_, err := unix.ProcessVMReadv(1, local, remote, 0)
		r.add("process_vm_readv(1)", err, "")
	}
	_, err := unix.ProcessVMReadv(farPid, local, remote, 0)
	r.probe(fmt.Sprintf("process_vm_readv(%d)", farPid), err)
}

func tryTIOCSTI(in input, r *report) {
	c := byte('x')
	if !in.ProbeOnly {
		for fd := range 3 {
			_, _, e := syscall.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
			r.add(fmt.Sprintf("ioctl(%d, TIOCSTI)", fd), errno(e), "")
		}
		fd, err := unix.Open("/dev/tty", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err == nil {
			_, _, e := syscall.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
			err = errno(e)
			unix.Close(fd)
		}
		r.add("open /dev/tty and TIOCSTI", err, "")
	}
	_, _, e := syscall.Syscall(unix.SYS_IOCTL, ^uintptr(0), unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
	r.probe("ioctl(-1, TIOCSTI)", errno(e))
}

func tryIOUring(in input, r *report) {
	var params [120]byte // struct io_uring_params
	if !in.ProbeOnly {
		fd, _, e := syscall.Syscall(unix.SYS_IO_URING_SETUP, 4, uintptr(unsafe.Pointer(&params)), 0)
		if e == 0 {
			unix.Close(int(fd))
		}
		r.add("io_uring_setup(4)", errno(e), "")
	}
	_, _, e := syscall.Syscall(unix.SYS_IO_URING_SETUP, 0, uintptr(unsafe.Pointer(&params)), 0)
	r.probe("io_uring_setup(0)", errno(e))
}

func tryBPF(in input, r *report) {
	var attr [128]byte
	if !in.ProbeOnly {
		// BPF_MAP_CREATE of a one-element array map.
		for i, v := range []uint32{unix.BPF_MAP_TYPE_ARRAY, 4, 4, 1} {
			*(*uint32)(unsafe.Pointer(&attr[4*i])) = v
		}
		fd, _, e := syscall.Syscall(unix.SYS_BPF, unix.BPF_MAP_CREATE, uintptr(unsafe.Pointer(&attr)), uintptr(len(attr)))
		if e == 0 {
			unix.Close(int(fd))
		}
		r.add("bpf(BPF_MAP_CREATE, array)", errno(e), "")
	}
	// Non-zero bytes past the attribute union the kernel knows: E2BIG.
	big := make([]byte, 4096)
	big[len(big)-1] = 1
	_, _, e := syscall.Syscall(unix.SYS_BPF, unix.BPF_MAP_CREATE, uintptr(unsafe.Pointer(&big[0])), uintptr(len(big)))
	r.probe("bpf with a 4096-byte attribute ending in a non-zero byte", errno(e))
}

func tryPerfEventOpen(in input, r *report) {
	if !in.ProbeOnly {
		attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_CPU_CLOCK}
		attr.Size = uint32(unsafe.Sizeof(attr))
		fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err == nil {
			unix.Close(fd)
		}
		r.add("perf_event_open(software cpu clock, self)", err, "")
	}
	_, _, e := syscall.Syscall6(unix.SYS_PERF_EVENT_OPEN, 0, 0, ^uintptr(0), ^uintptr(0), 0, 0)
	r.probe("perf_event_open(NULL)", errno(e))
}

func tryKeyctl(in input, r *report) {
	if !in.ProbeOnly {
		id, err := unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_SESSION_KEYRING, 0, 0, 0)
		r.add("keyctl(KEYCTL_GET_KEYRING_ID, session keyring)", err, strconv.Itoa(id))
		_, err = unix.AddKey("user", "mcpwarden-escape", []byte("x"), unix.KEY_SPEC_PROCESS_KEYRING)
		r.add("add_key(user, process keyring)", err, "")
	}
	_, _, e := syscall.Syscall(unix.SYS_KEYCTL, 0xffff, 0, 0)
	r.probe("keyctl(0xffff)", errno(e))
}

// uffdUserModeOnly is UFFD_USER_MODE_ONLY, which lets an unprivileged
// process past the vm.unprivileged_userfaultfd check.
const uffdUserModeOnly = 1

func tryUserfaultfd(in input, r *report) {
	if !in.ProbeOnly {
		fd, _, e := syscall.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|uffdUserModeOnly, 0, 0)
		if e == 0 {
			unix.Close(int(fd))
		}
		r.add("userfaultfd(UFFD_USER_MODE_ONLY)", errno(e), "")
	}
	_, _, e := syscall.Syscall(unix.SYS_USERFAULTFD, uffdUserModeOnly|0x4000, 0, 0)
	r.probe("userfaultfd with an unknown flag", errno(e))
}

// tryOpenByHandle is the "shocker" way out of a container: a file handle
// names an inode on the file system, whatever the mount view shows.
func tryOpenByHandle(in input, r *report) {
	if !in.ProbeOnly {
		h, mnt, err := unix.NameToHandleAt(unix.AT_FDCWD, "/etc/hosts", 0)
		r.add("name_to_handle_at /etc/hosts", err, "")
		if err == nil {
			root, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err == nil {
				fd, err := unix.OpenByHandleAt(root, h, unix.O_RDONLY|unix.O_CLOEXEC)
				if err == nil {
					unix.Close(fd)
				}
				unix.Close(root)
				r.add(fmt.Sprintf("open_by_handle_at (mount id %d)", mnt), err, "")
			}
		}
	}
	_, _, err := unix.NameToHandleAt(unix.AT_FDCWD, nowhere, 0)
	r.probe("name_to_handle_at "+nowhere, err)
}

// procs lists every process /proc shows, with its name and command line.
func procs(input) report {
	var r report
	r.set("pid", os.Getpid())
	r.set("ppid", os.Getppid())
	sid, _ := unix.Getsid(0)
	r.set("sid", sid)
	r.set("pgid", unix.Getpgrp())
	entries, err := os.ReadDir("/proc")
	if err != nil {
		r.add("list /proc", err, "")
		return r
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	for _, pid := range pids {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			r.add(fmt.Sprintf("pid %d", pid), err, "")
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		r.add(fmt.Sprintf("pid %d", pid), nil, strings.TrimSpace(string(comm))+"\t"+strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " "))
	}
	return r
}

func fds(in input) report {
	var r report
	for _, dir := range in.Paths {
		entries, err := os.ReadDir(dir)
		if err != nil {
			r.add("list "+dir, err, "")
			continue
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			target, err := os.Readlink(p)
			r.add("readlink "+p, err, target)
		}
	}
	return r
}

// reopen opens each path read-only (reading what it can), write-only
// and read-write; nothing is written.
func reopen(in input) report {
	var r report
	for _, p := range in.Paths {
		out, err := readFile(p)
		r.add("open for reading "+p, err, out)
		for _, mode := range []struct {
			name string
			flag int
		}{{"writing", unix.O_WRONLY}, {"reading and writing", unix.O_RDWR}} {
			fd, err := unix.Open(p, mode.flag|unix.O_CLOEXEC, 0)
			if err == nil {
				unix.Close(fd)
			}
			r.add("open for "+mode.name+" "+p, err, "")
		}
	}
	return r
}

// peekMemory reads process pid's memory through /proc/PID/mem, looking
// for each of paths (strings, despite the name) in it, and opens that
// file for writing. Mappings larger than 64MiB (the race detector's
// shadow, reserved heap) are skipped, and at most 512MiB is read.
func peekMemory(in input) report {
	var r report
	mem := fmt.Sprintf("/proc/%d/mem", in.Pid)
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", in.Pid))
	r.add(fmt.Sprintf("read /proc/%d/maps", in.Pid), err, fmt.Sprintf("%d bytes", len(maps)))
	fd, err := unix.Open(mem, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	r.add("open for reading "+mem, err, "")
	if err == nil {
		scanned, found := scanMemory(fd, string(maps), in.Paths)
		unix.Close(fd)
		r.set("scanned", scanned)
		r.set("found", strings.Join(found, "\n"))
	}
	wfd, err := unix.Open(mem, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(wfd)
	}
	r.add("open for reading and writing "+mem, err, "")
	return r
}

// scanMemory reads the readable mappings listed in maps from the
// /proc/PID/mem descriptor fd and returns how many bytes it read and which
// needles it found.
func scanMemory(fd int, maps string, needles []string) (int64, []string) {
	const most, biggest = 512 << 20, 64 << 20
	var scanned int64
	seen := make(map[string]bool)
	for line := range strings.SplitSeq(maps, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[1], "r") {
			continue
		}
		startText, endText, _ := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(startText, 16, 64)
		end, err2 := strconv.ParseUint(endText, 16, 64)
		if err1 != nil || err2 != nil || end-start > biggest || scanned+int64(end-start) > most {
			continue
		}
		buf := make([]byte, end-start)
		n, _ := unix.Pread(fd, buf, int64(start))
		if n <= 0 {
			continue
		}
		scanned += int64(n)
		for _, needle := range needles {
			if needle != "" && bytes.Contains(buf[:n], []byte(needle)) {
				seen[needle] = true
			}
		}
	}
	var found []string
	for _, needle := range needles {
		if seen[needle] {
			found = append(found, needle)
		}
	}
	return scanned, found
}

// signalPid checks whether pid can be addressed at all, and signals it
// only when it cannot be found: a pid that names one of the sandbox's own
// processes is reported, not killed.
func signalPid(in input) report {
	var r report
	err := unix.Kill(in.Pid, 0)
	r.add(fmt.Sprintf("kill(%d, 0)", in.Pid), err, "")
	if err == nil {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", in.Pid))
		r.set("found", strings.ReplaceAll(string(comm), "\x00", " "))
		return r
	}
	r.add(fmt.Sprintf("kill(%d, SIGTERM)", in.Pid), unix.Kill(in.Pid, unix.SIGTERM), "")
	r.add(fmt.Sprintf("kill(-%d, SIGTERM)", in.Pid), unix.Kill(-in.Pid, unix.SIGTERM), "")
	fd, err := unix.PidfdOpen(in.Pid, 0)
	if err == nil {
		unix.Close(fd)
	}
	r.add(fmt.Sprintf("pidfd_open(%d)", in.Pid), err, "")
	return r
}

// statusFields are the lines of /proc/self/status that status reports.
var statusFields = []string{"Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters"}

// status reports this process's credentials and confinement as values;
// its steps are the attempts to regain a capability.
func status(input) report {
	var r report
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		r.set("error", err)
	}
	for k, v := range statusValues(string(data)) {
		r.set(k, v)
	}
	if bits, err := unix.PrctlRetInt(unix.PR_GET_SECUREBITS, 0, 0, 0, 0); err == nil {
		r.set("securebits", fmt.Sprintf("%#x", bits))
	}
	host, _ := os.Hostname()
	r.set("hostname", host)
	cwd, _ := os.Getwd()
	r.set("cwd", cwd)
	// A capability can only be raised into the effective set from the
	// permitted one: try, to show the sets are empty for real.
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	all := [2]unix.CapUserData{{Effective: ^uint32(0), Permitted: ^uint32(0)}, {Effective: ^uint32(0), Permitted: ^uint32(0)}}
	r.add("capset(all)", unix.Capset(&hdr, &all[0]), "")
	r.add("prctl(PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN)", unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, unix.CAP_SYS_ADMIN, 0, 0), "")
	r.add("prctl(PR_SET_SECUREBITS, 0)", unix.Prctl(unix.PR_SET_SECUREBITS, 0, 0, 0, 0), "")
	return r
}

func statusValues(data string) map[string]string {
	out := make(map[string]string)
	for line := range strings.SplitSeq(data, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			for _, f := range statusFields {
				if k == f {
					out[k] = strings.Join(strings.Fields(v), " ")
				}
			}
		}
	}
	return out
}

// setuidExec starts each set-user-ID program and reads its credentials
// right after execve, from /proc, before reaping it: the kernel decides
// them at execve, whatever the program does next.
func setuidExec(in input) report {
	var r report
	for _, p := range in.Paths {
		st, err := os.Stat(p)
		if err != nil {
			r.add("stat "+p, err, "")
			continue
		}
		r.add("stat "+p, nil, st.Mode().String())
		// No arguments and a standard input that never ends: su and its
		// kind then wait for a password with the credentials exec gave
		// them, instead of printing usage and exiting (and dropping them)
		// before the status is read.
		stdin, hold, err := os.Pipe()
		if err != nil {
			r.add("exec "+p, err, "")
			continue
		}
		cmd := exec.Command(p)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, nil, nil
		if err := cmd.Start(); err != nil {
			stdin.Close()
			hold.Close()
			r.add("exec "+p, err, "")
			continue
		}
		time.Sleep(50 * time.Millisecond)
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		vals := statusValues(string(data))
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		stdin.Close()
		hold.Close()
		r.add("exec "+p, err, fmt.Sprintf("Uid=%s CapEff=%s CapPrm=%s NoNewPrivs=%s", vals["Uid"], vals["CapEff"], vals["CapPrm"], vals["NoNewPrivs"]))
		r.set(filepath.Base(p)+".Uid", vals["Uid"])
		r.set(filepath.Base(p)+".CapEff", vals["CapEff"])
		r.set(filepath.Base(p)+".CapPrm", vals["CapPrm"])
	}
	r.set("mount of /usr", mountOptions("/usr"))
	return r
}

// mountOptions returns the per-mount options of the mount at target, from
// /proc/self/mountinfo.
func mountOptions(target string) string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err.Error()
	}
	opts := "not a mount point"
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 5 && f[4] == target {
			opts = f[5] // the last one mounted there is the one in use
		}
	}
	return opts
}

var rlimitNames = []struct {
	name     string
	resource int
}{
	{"NOFILE", unix.RLIMIT_NOFILE}, {"NPROC", unix.RLIMIT_NPROC}, {"DATA", unix.RLIMIT_DATA},
	{"AS", unix.RLIMIT_AS}, {"FSIZE", unix.RLIMIT_FSIZE}, {"CPU", unix.RLIMIT_CPU}, {"CORE", unix.RLIMIT_CORE},
}

func rlimits(input) report {
	var r report
	for _, l := range rlimitNames {
		var lim unix.Rlimit
		if err := unix.Getrlimit(l.resource, &lim); err != nil {
			r.add("getrlimit "+l.name, err, "")
			continue
		}
		r.set(l.name, fmt.Sprintf("%d %d", lim.Cur, lim.Max))
		if lim.Max == unix.RLIM_INFINITY {
			continue
		}
		raised := unix.Rlimit{Cur: lim.Max + 1, Max: lim.Max + 1}
		err := unix.Setrlimit(l.resource, &raised)
		if err == nil {
			_ = unix.Setrlimit(l.resource, &lim)
		}
		r.add("raise "+l.name+" above its hard limit", err, "")
	}
	return r
}

// x32Unshare asks for a user namespace through the x32 system call table;
// a filter that checks only the x86-64 numbers would let it through.
func x32Unshare() int {
	const x32Bit = 0x40000000
	_, _, e := syscall.RawSyscall(x32Bit|unix.SYS_UNSHARE, unix.CLONE_NEWUSER, 0, 0)
	fmt.Println(errnoName(errno(e)))
	return 0
}

func x32ABI(input) report {
	var r report
	if runtime.GOARCH != "amd64" {
		r.add("x32 ABI on "+runtime.GOARCH, unix.ENOSYS, "")
		return r
	}
	cmd := exec.Command("/proc/self/exe", "x32-unshare")
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	r.add("unshare(CLONE_NEWUSER) through the x32 ABI, in a child", err, strings.TrimSpace(out.String()))
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.set("signal", unix.SignalName(ws.Signal()))
	}
	return r
}

// prewarmThreads makes the Go runtime start n threads and keep them idle,
// so that it need not create one while the process limit is exhausted.
func prewarmThreads(n int) {
	done := make(chan struct{})
	for range n {
		go func() {
			runtime.LockOSThread()
			<-done
			runtime.UnlockOSThread()
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(done)
	time.Sleep(10 * time.Millisecond)
}

// forkBomb forks children that only wait, until fork fails, in.Limit
// children run, or ten seconds pass; then kills and reaps them all. The
// children are raw forks of this process that never return to the Go
// runtime: they loop in pause(2) until killed.
func forkBomb(in input) report {
	var r report
	limit := int(in.Limit)
	if limit <= 0 {
		limit = 1024
	}
	prewarmThreads(8)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var pids []int
	var ferr error
	start := time.Now()
	for len(pids) < limit && time.Since(start) < 10*time.Second {
		pid, _, e := syscall.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
		if e != 0 {
			ferr = e
			break
		}
		if pid == 0 {
			for {
				syscall.RawSyscall(unix.SYS_PAUSE, 0, 0, 0)
			}
		}
		pids = append(pids, int(pid))
	}
	elapsed := time.Since(start)
	for _, pid := range pids {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
	for _, pid := range pids {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
	}
	r.add(fmt.Sprintf("fork until it fails (at most %d)", limit), ferr, "")
	r.set("children", len(pids))
	r.set("seconds", fmt.Sprintf("%.2f", elapsed.Seconds()))
	r.set("threads", threadCount())
	return r
}

func threadCount() string {
	data, _ := os.ReadFile("/proc/self/status")
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// fillMemory maps private memory 16MiB at a time, touching every page,
// until mmap fails or in.Limit bytes are mapped; then unmaps it all.
func fillMemory(in input) report {
	var r report
	const chunk = 16 << 20
	limit := in.Limit
	if limit <= 0 {
		limit = 8 << 30
	}
	var maps [][]byte
	var total int64
	var merr error
	for total < limit {
		b, err := unix.Mmap(-1, 0, chunk, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			merr = err
			break
		}
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		maps = append(maps, b)
		total += chunk
	}
	data, _ := os.ReadFile("/proc/self/status")
	for line := range strings.SplitSeq(string(data), "\n") {
		for _, k := range []string{"VmData", "VmRSS", "VmPeak"} {
			if v, ok := strings.CutPrefix(line, k+":"); ok {
				r.set(k, strings.TrimSpace(v))
			}
		}
	}
	for _, b := range maps {
		_ = unix.Munmap(b)
	}
	r.add(fmt.Sprintf("mmap 16MiB chunks until it fails (at most %d bytes)", limit), merr, "")
	r.set("mapped", total)
	return r
}

// fillDisk writes 1MiB blocks to paths[0] until a write fails or
// in.Limit bytes are written, reports the size reached, and removes it.
func fillDisk(in input) report {
	var r report
	if len(in.Paths) == 0 {
		r.add("fill_disk needs a path", unix.EINVAL, "")
		return r
	}
	path := in.Paths[0]
	limit := in.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		r.add("create "+path, err, "")
		return r
	}
	defer unix.Unlink(path)
	defer unix.Close(fd)
	block := bytes.Repeat([]byte{'x'}, 1<<20)
	var written int64
	var werr error
	for written < limit {
		n, err := unix.Write(fd, block)
		written += int64(max(n, 0))
		if err != nil {
			werr = err
			break
		}
	}
	r.add(fmt.Sprintf("write 1MiB blocks until it fails (at most %d bytes)", limit), werr, "")
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err == nil {
		r.set("size", st.Size)
	}
	r.set("written", written)
	return r
}

// openFiles opens /dev/null until open fails or in.Limit descriptors are
// open, then closes them.
func openFiles(in input) report {
	var r report
	limit := int(in.Limit)
	if limit <= 0 {
		limit = 1 << 20
	}
	before, _ := os.ReadDir("/proc/self/fd")
	var fds []int
	var oerr error
	for len(fds) < limit {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			oerr = err
			break
		}
		fds = append(fds, fd)
	}
	highest := -1
	if len(fds) > 0 {
		highest = fds[len(fds)-1]
	}
	for _, fd := range fds {
		unix.Close(fd)
	}
	r.add(fmt.Sprintf("open /dev/null until it fails (at most %d)", limit), oerr, "")
	r.set("opened", len(fds))
	r.set("open_before", len(before)-1) // less the one ReadDir used
	r.set("highest_fd", highest)
	return r
}

func environ(input) report {
	var r report
	r.add("environ", nil, strings.Join(os.Environ(), "\n"))
	return r
}

// fetch is what an HTTP client library does by default: it follows the
// proxy variables. The step's output is the status and body.
func fetch(in input) report {
	var r report
	pool := x509.NewCertPool()
	if len(in.Paths) > 0 {
		pem, err := os.ReadFile(in.Paths[0])
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			r.add("read CA "+in.Paths[0], err, "")
			return r
		}
	}
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(in.Addr)
	if err != nil {
		r.add("GET "+in.Addr, err, "")
		return r
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, readLimit))
	r.add("GET "+in.Addr, err, fmt.Sprintf("%d %s", resp.StatusCode, body))
	return r
}
