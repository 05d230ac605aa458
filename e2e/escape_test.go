package e2e_test

// The escape suite attacks the sandbox through the real command line: the
// escaper (e2e/escaper) runs under `mcpwarden run` with a strict profile
// and tries, one tool call at a time, to get out. Before it starts, the
// test plants what an attacker would be after: secrets outside the
// directories the profile grants, a fake ~/.ssh, a file in the host's
// /tmp, TCP and UDP listeners on the host's loopback, an abstract UNIX
// socket, and a symbolic link in the work directory that points one level
// out of it (the CVE-2025-53109 class).
//
// Each attempt is a subtest. It must fail inside, and its log says which
// layer stopped it, from the errno: ENOENT is the mount view (the path
// does not exist in the sandbox), EROFS a read-only mount, EXDEV a mount
// boundary, EACCES Landlock, EPERM seccomp (proven where the kernel would
// have answered the probe differently) or missing capabilities,
// ECONNREFUSED and ENETUNREACH the network namespace, ESRCH the PID
// namespace. Where it is cheap, the same attempt is made by the escaper
// running outside the sandbox as a control, on a fixture of its own, and
// must succeed there (or fail differently), so that the test could fail.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The limits of the escape profile.
const (
	escapeMemory    = 512 << 20
	escapeProcesses = 64
	escapeOpenFiles = 256
	escapeFileSize  = 8 << 20
	escapeCPU       = 60
)

// Layers of the sandbox, as the subtests' logs name them.
const (
	layerMount    = "mount view"
	layerReadOnly = "read-only mount"
	layerBoundary = "mount boundary"
	layerLandlock = "Landlock"
	layerSeccomp  = "seccomp"
	layerNoCaps   = "no capabilities"
	layerNetNS    = "network namespace"
	layerPidNS    = "PID namespace"
	layerRlimit   = "rlimit"
	layerHide     = "hide mount"
	layerNoDump   = "undumpable init (/proc/1 closed to the server)"
)

// escapeReport is what an escaper tool answers.
type escapeReport struct {
	Steps  []escapeStep      `json:"steps"`
	Values map[string]string `json:"values"`
}

// escapeStep is one operation the escaper made and its outcome.
type escapeStep struct {
	Op    string `json:"op"`
	Probe bool   `json:"probe"`
	OK    bool   `json:"ok"`
	Errno string `json:"errno"`
	Err   string `json:"err"`
	Out   string `json:"out"`
}

func (s escapeStep) String() string {
	if s.OK {
		return fmt.Sprintf("%s: ok %q", s.Op, clip(s.Out))
	}
	return fmt.Sprintf("%s: %s (%s)", s.Op, s.Errno, s.Err)
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// attempts returns the steps that are real attempts, not probes.
func (r escapeReport) attempts() []escapeStep {
	var out []escapeStep
	for _, s := range r.Steps {
		if !s.Probe {
			out = append(out, s)
		}
	}
	return out
}

// probes returns the steps made with invalid arguments.
func (r escapeReport) probes() []escapeStep {
	var out []escapeStep
	for _, s := range r.Steps {
		if s.Probe {
			out = append(out, s)
		}
	}
	return out
}

// step returns the step whose operation starts with prefix.
func (r escapeReport) step(t testing.TB, prefix string) escapeStep {
	t.Helper()
	for _, s := range r.Steps {
		if strings.HasPrefix(s.Op, prefix) {
			return s
		}
	}
	t.Fatalf("no step %q in the report:\n%s", prefix, r)
	return escapeStep{}
}

func (r escapeReport) String() string {
	var b strings.Builder
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Values)) {
		fmt.Fprintf(&b, "  %s = %s\n", k, r.Values[k])
	}
	return b.String()
}

// fixture is what a test plants on the host before the escaper starts.
type fixture struct {
	base       string // holds work and secret
	work       string // the only directory the profile lets the server write
	secret     string // outside read and write, one level above work
	farSecret  string // in another temporary directory
	home       string // HOME for mcpwarden
	homeKey    string // home/.ssh/id_rsa, under a hidden path
	homeCreds  string // home/.aws/credentials, likewise
	shared     string // a directory in the profile's read list
	public     string // shared/public.txt: readable inside
	hiddenDir  string // shared/.ssh: in hide
	hiddenKey  string // shared/.ssh/id_ed25519
	hiddenFile string // shared/token.txt: in hide
	hostTmp    string // a file in the host's /tmp
	linkRel    string // work/escape-rel -> ../secret.txt
	linkAbs    string // work/escape-abs -> secret, absolute
	unixSock   string // shared/agent.sock: a host UNIX socket listening
	envSecret  string // a secret in mcpwarden's environment

	secrets map[string]string // path (or name) -> contents, for leak checks
	public0 string            // contents of public

	tcp4, tcp6, abstract, named *connLog
	udp4, udp6                  *packetLog
}

// connLog accepts connections on a listener and records each.
type connLog struct {
	ln   net.Listener
	mu   sync.Mutex
	seen []string
}

func listen(t testing.TB, network, addr string) *connLog {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		if network == "tcp6" {
			t.Logf("no IPv6 loopback on the host (%v): the IPv6 attempts are skipped", err)
			return nil
		}
		t.Fatalf("listening on %s %s: %v", network, addr, err)
	}
	c := &connLog{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(time.Second))
			buf := make([]byte, 64)
			n, _ := conn.Read(buf)
			c.mu.Lock()
			c.seen = append(c.seen, fmt.Sprintf("%s %q", conn.RemoteAddr(), buf[:n]))
			c.mu.Unlock()
			conn.Close()
		}
	}()
	return c
}

func (c *connLog) addr() string { return c.ln.Addr().String() }

// connections returns what was recorded once the host had time to accept.
func (c *connLog) connections() []string {
	time.Sleep(100 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seen)
}

// packetLog records the datagrams a UDP socket receives.
type packetLog struct {
	pc   net.PacketConn
	mu   sync.Mutex
	seen []string
}

func listenUDP(t testing.TB, network, addr string) *packetLog {
	t.Helper()
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		if network == "udp6" {
			return nil
		}
		t.Fatalf("listening on %s %s: %v", network, addr, err)
	}
	p := &packetLog{pc: pc}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			p.mu.Lock()
			p.seen = append(p.seen, fmt.Sprintf("%s %q", from, buf[:n]))
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *packetLog) addr() string { return p.pc.LocalAddr().String() }

func (p *packetLog) packets() []string {
	time.Sleep(300 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

func randomText(t testing.TB, kind string) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "MCPWARDEN-SECRET-" + kind + "-" + hex.EncodeToString(b[:])
}

// plant lays out a fixture on the host.
func plant(t testing.TB) *fixture {
	t.Helper()
	base := t.TempDir()
	home := t.TempDir()
	shared := t.TempDir()
	fx := &fixture{
		base:       base,
		work:       filepath.Join(base, "work"),
		secret:     filepath.Join(base, "secret.txt"),
		farSecret:  filepath.Join(t.TempDir(), "far-secret.txt"),
		home:       home,
		homeKey:    filepath.Join(home, ".ssh", "id_rsa"),
		homeCreds:  filepath.Join(home, ".aws", "credentials"),
		shared:     shared,
		public:     filepath.Join(shared, "public.txt"),
		hiddenDir:  filepath.Join(shared, ".ssh"),
		hiddenKey:  filepath.Join(shared, ".ssh", "id_ed25519"),
		hiddenFile: filepath.Join(shared, "token.txt"),
		unixSock:   filepath.Join(shared, "agent.sock"),
		secrets:    make(map[string]string),
		envSecret:  randomText(t, "env"),
	}
	for _, d := range []string{fx.work, filepath.Dir(fx.homeKey), filepath.Dir(fx.homeCreds), fx.hiddenDir} {
		mustMkdir(t, d)
	}
	for _, p := range []string{fx.secret, fx.farSecret, fx.homeKey, fx.homeCreds, fx.hiddenKey, fx.hiddenFile} {
		fx.secrets[p] = randomText(t, filepath.Base(p))
		mustWrite(t, p, fx.secrets[p])
	}
	fx.secrets["environment"] = fx.envSecret
	fx.public0 = "public text, readable inside the sandbox\n"
	mustWrite(t, fx.public, fx.public0)

	// A file in the host's own /tmp, whatever TMPDIR says.
	f, err := os.CreateTemp("/tmp", "mcpwarden-escape-host-")
	if err != nil {
		t.Fatal(err)
	}
	fx.hostTmp = f.Name()
	t.Cleanup(func() { os.Remove(fx.hostTmp) })
	fx.secrets[fx.hostTmp] = randomText(t, "host-tmp")
	if _, err := f.WriteString(fx.secrets[fx.hostTmp]); err != nil {
		t.Fatal(err)
	}
	f.Close()

	fx.linkRel = filepath.Join(fx.work, "escape-rel")
	fx.linkAbs = filepath.Join(fx.work, "escape-abs")
	mustSymlink(t, "../secret.txt", fx.linkRel)
	mustSymlink(t, fx.secret, fx.linkAbs)

	fx.tcp4 = listen(t, "tcp4", "127.0.0.1:0")
	fx.tcp6 = listen(t, "tcp6", "[::1]:0")
	fx.abstract = listen(t, "unix", "@mcpwarden-escape-"+randomText(t, "abstract"))
	fx.named = listen(t, "unix", fx.unixSock)
	fx.udp4 = listenUDP(t, "udp4", "127.0.0.1:0")
	fx.udp6 = listenUDP(t, "udp6", "[::1]:0")
	return fx
}

func mustMkdir(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// escapeProfile writes the profile the escaper runs under.
func escapeProfile(t testing.TB, fx *fixture) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("[server]\nname = \"escape\"\n\n[sandbox]\nnetwork = \"none\"\n")
	fmt.Fprintf(&b, "read = %s\n", tomlList(append(slices.Clone(systemRead), fx.shared)))
	fmt.Fprintf(&b, "write = %s\n", tomlList([]string{fx.work}))
	fmt.Fprintf(&b, "hide = %s\n", tomlList([]string{"~/.ssh", "~/.aws", fx.hiddenDir, fx.hiddenFile}))
	fmt.Fprintf(&b, "env = %s\n\n", tomlList([]string{"PATH", "HOME", "LANG"}))
	fmt.Fprintf(&b, "[sandbox.limits]\nmemory = \"%dMiB\"\nprocesses = %d\nopen_files = %d\nfile_size = \"%dMiB\"\ncpu_seconds = %d\n\n",
		escapeMemory>>20, escapeProcesses, escapeOpenFiles, escapeFileSize>>20, escapeCPU)
	b.WriteString("[tools]\nallow = [\"*\"]\n")
	path := filepath.Join(t.TempDir(), "escape.toml")
	mustWrite(t, path, b.String())
	return path
}

// escapeRun is one escaper in the sandbox and one outside.
type escapeRun struct {
	ctx    context.Context
	fx     *fixture // planted for the sandboxed escaper
	ctl    *fixture // planted for the control
	in     *mcp.ClientSession
	out    *mcp.ClientSession
	warden *exec.Cmd
	stderr *lockedBuffer
	audit  string

	mu      sync.Mutex
	answers []string // every answer of the sandboxed escaper
}

func startEscapeRun(t *testing.T) *escapeRun {
	t.Helper()
	ctx := testContext(t)
	e := &escapeRun{ctx: ctx, fx: plant(t), ctl: plant(t)}
	e.audit = filepath.Join(t.TempDir(), "audit.jsonl")
	argv := wardenArgv(escapeProfile(t, e.fx), e.audit, nil, escaperBin)
	e.warden, e.stderr = newCommand(t, "mcpwarden", argv, "HOME="+e.fx.home, "AWS_SECRET_ACCESS_KEY="+e.fx.envSecret)
	e.in = connectGo(t, ctx, newGoClient(nil), e.warden, "")
	ctl, _ := newCommand(t, "escaper (control)", []string{escaperBin}, "HOME="+e.ctl.home)
	e.out = connectGo(t, ctx, newGoClient(nil), ctl, "")
	return e
}

// inside calls an escaper tool in the sandbox.
func (e *escapeRun) inside(t testing.TB, tool string, args map[string]any) escapeReport {
	t.Helper()
	r, text := callEscaper(t, e.ctx, e.in, tool, args)
	e.mu.Lock()
	e.answers = append(e.answers, text)
	e.mu.Unlock()
	t.Logf("inside: %s\n%s", tool, r)
	return r
}

// outside calls an escaper tool outside the sandbox.
func (e *escapeRun) outside(t testing.TB, tool string, args map[string]any) escapeReport {
	t.Helper()
	r, _ := callEscaper(t, e.ctx, e.out, tool, args)
	t.Logf("control outside: %s\n%s", tool, r)
	return r
}

func callEscaper(t testing.TB, ctx context.Context, cs *mcp.ClientSession, tool string, args map[string]any) (escapeReport, string) {
	t.Helper()
	if args == nil {
		args = map[string]any{}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("escaper tool %s: %v", tool, err)
	}
	text := toolText(res)
	if res.IsError {
		t.Fatalf("escaper tool %s failed: %s", tool, text)
	}
	var r escapeReport
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		t.Fatalf("escaper tool %s: %v\n%s", tool, err, text)
	}
	return r, text
}

// stopped checks that every real attempt in r failed with an errno that
// layers names, and logs the layer that stopped each.
func stopped(t testing.TB, r escapeReport, layers map[string]string) {
	t.Helper()
	if len(r.attempts()) == 0 {
		t.Errorf("no attempt was made:\n%s", r)
	}
	for _, s := range r.attempts() {
		if s.OK {
			t.Errorf("ESCAPED: %s", s)
			continue
		}
		layer, ok := layers[s.Errno]
		if !ok {
			t.Errorf("%s: failed with %s, not with any of %v", s.Op, s.Errno, slices.Sorted(maps.Keys(layers)))
			continue
		}
		t.Logf("stopped by %s: %s", layer, s)
	}
}

// worked checks that every real attempt of a control succeeded.
func worked(t testing.TB, r escapeReport) {
	t.Helper()
	for _, s := range r.attempts() {
		if !s.OK {
			t.Errorf("control: %s failed outside the sandbox too, so the test proves nothing: %s", s.Op, s)
		}
	}
}

// seccompProbe checks the probes of a refused system call: EPERM inside
// (ENOSYS for clone3) and, for the layer to be proven, something else
// outside, where the kernel itself looked at the arguments.
func (e *escapeRun) seccompProbe(t *testing.T, inside escapeReport, name string) {
	t.Helper()
	out := e.outside(t, "syscall", map[string]any{"name": name, "probe_only": true, "dir": e.ctl.work})
	for i, p := range inside.probes() {
		want := "EPERM"
		if strings.HasPrefix(p.Op, "clone3") {
			want = "ENOSYS"
		}
		if p.Errno != want {
			t.Errorf("probe %s: %s inside, want %s from the seccomp filter", p.Op, p.Errno, want)
			continue
		}
		if i >= len(out.probes()) {
			t.Errorf("the control made no probe %d", i)
			continue
		}
		if o := out.probes()[i]; o.Errno == want {
			t.Logf("probe %s: %s inside and outside: the kernel refuses this user the call anyway, seccomp is not proven the first layer", p.Op, p.Errno)
		} else {
			t.Logf("probe %s: %s inside, %s outside: seccomp refused the call before the kernel read its arguments", p.Op, p.Errno, o.Errno)
		}
	}
}

// noHostFile checks that a path the escaper wrote inside does not exist
// on the host.
func noHostFile(t testing.TB, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("ESCAPED: %s exists on the host after the attempt (lstat: %v)", p, err)
			os.Remove(p)
		}
	}
}

func isRoot() bool { return os.Geteuid() == 0 }

// TestEscape runs every escape attempt against one sandboxed escaper.
// The subtests run in order: the resource attacks come last, so that
// nothing they leave behind could make an earlier attempt fail for the
// wrong reason.
func TestEscape(t *testing.T) {
	t.Parallel()
	e := startEscapeRun(t)
	for _, a := range escapeAttempts() {
		if !t.Run(a.name, func(t *testing.T) { a.run(e, t) }) && a.fatal {
			break
		}
	}
	t.Run("NoSecretInAnyAnswer", func(t *testing.T) { e.checkNoLeak(t) })
	t.Run("WardenSurvived", func(t *testing.T) { e.checkAlive(t) })
}

type escapeAttempt struct {
	name  string
	run   func(*escapeRun, *testing.T)
	fatal bool // stop the suite if it fails: the sandbox may be gone
}

func escapeAttempts() []escapeAttempt {
	return []escapeAttempt{
		{"ReadSecretByPath", (*escapeRun).readSecretByPath, false},
		{"ReadSecretViaSymlink", (*escapeRun).readSecretViaSymlink, false},
		{"ReadSecretViaProc", (*escapeRun).readSecretViaProc, false},
		{"ReadSecretViaDotDot", (*escapeRun).readSecretViaDotDot, false},
		{"ReadShadow", (*escapeRun).readShadow, false},
		{"ListSSH", (*escapeRun).listSSH, false},
		{"HostTmpNotVisible", (*escapeRun).hostTmpNotVisible, false},
		{"WriteOutside", (*escapeRun).writeOutside, false},
		{"HardLinkAndRename", (*escapeRun).hardLinkAndRename, false},
		{"ConnectTCP4", (*escapeRun).connectTCP4, false},
		{"ConnectTCP6", (*escapeRun).connectTCP6, false},
		{"ConnectAbstractUnix", (*escapeRun).connectAbstract, false},
		{"ConnectNamedUnixSocket", (*escapeRun).connectNamed, false},
		{"SendUDP", (*escapeRun).sendUDP, false},
		{"Unshare", syscallAttempt("unshare"), false},
		{"Mount", syscallAttempt("mount"), false},
		{"UmountHide", (*escapeRun).umountHide, false},
		{"PivotRoot", syscallAttempt("pivot_root"), false},
		{"Chroot", syscallAttempt("chroot"), false},
		{"Ptrace", syscallAttempt("ptrace"), false},
		{"ProcessVMReadv", syscallAttempt("process_vm_readv"), false},
		{"TIOCSTI", (*escapeRun).tiocsti, false},
		{"IOUringSetup", syscallAttempt("io_uring_setup"), false},
		{"BPF", syscallAttempt("bpf"), false},
		{"PerfEventOpen", syscallAttempt("perf_event_open"), false},
		{"Keyctl", syscallAttempt("keyctl"), false},
		{"Userfaultfd", syscallAttempt("userfaultfd"), false},
		{"OpenByHandleAt", syscallAttempt("open_by_handle_at"), false},
		{"X32ABI", (*escapeRun).x32ABI, false},
		{"HostPIDs", (*escapeRun).hostPIDs, false},
		{"InitDescriptors", (*escapeRun).initDescriptors, false},
		{"InitMemory", (*escapeRun).initMemory, false},
		{"SignalWarden", (*escapeRun).signalWarden, false},
		{"Capabilities", (*escapeRun).capabilities, false},
		{"SetuidBinary", (*escapeRun).setuidBinary, false},
		{"RaiseRlimit", (*escapeRun).raiseRlimit, false},
		{"Environment", (*escapeRun).environment, false},
		{"OpenFiles", (*escapeRun).openFiles, false},
		{"FillDisk", (*escapeRun).fillDisk, false},
		{"FillMemory", (*escapeRun).fillMemory, true},
		{"ForkBomb", (*escapeRun).forkBomb, true},
	}
}

var notThere = map[string]string{"ENOENT": layerMount}

// notThereOrNoDump is for paths through /proc/1: the undumpable init
// refuses them (EACCES) before the mount view would (ENOENT).
var notThereOrNoDump = map[string]string{"ENOENT": layerMount, "EACCES": layerNoDump}

func (e *escapeRun) readSecretByPath(t *testing.T) {
	stopped(t, e.inside(t, "read", map[string]any{"paths": []string{e.fx.secret, e.fx.farSecret, e.audit}}), notThere)
	r := e.outside(t, "read", map[string]any{"paths": []string{e.ctl.secret, e.ctl.farSecret}})
	worked(t, r)
	if !strings.Contains(r.Steps[0].Out, e.ctl.secrets[e.ctl.secret]) {
		t.Errorf("control: read %q, want the secret", r.Steps[0].Out)
	}
}

func (e *escapeRun) readSecretViaSymlink(t *testing.T) {
	// The links exist inside (the work directory is shown); their
	// targets do not.
	l := e.inside(t, "list", map[string]any{"paths": []string{e.fx.work}})
	if s := l.step(t, "list"); !s.OK || !strings.Contains(s.Out, "escape-rel") {
		t.Errorf("the planted links are not in the work directory inside: %s", s)
	}
	stopped(t, e.inside(t, "read", map[string]any{"paths": []string{e.fx.linkRel, e.fx.linkAbs}}), notThere)
	worked(t, e.outside(t, "read", map[string]any{"paths": []string{e.ctl.linkRel, e.ctl.linkAbs}}))
}

func (e *escapeRun) readSecretViaProc(t *testing.T) {
	paths := []string{
		"/proc/1/root" + e.fx.secret,
		"/proc/self/root/.." + e.fx.secret,
		"/proc/self/cwd/../secret.txt",
		"/proc/1/cwd/../../../../.." + e.fx.secret,
	}
	stopped(t, e.inside(t, "read", map[string]any{"paths": paths}), notThereOrNoDump)
	worked(t, e.outside(t, "read", map[string]any{"paths": []string{"/proc/self/root/.." + e.ctl.secret}}))
}

func (e *escapeRun) readSecretViaDotDot(t *testing.T) {
	paths := []string{
		e.fx.work + "/../secret.txt",
		e.fx.work + "/../../../../../../../.." + e.fx.secret,
		e.fx.work + "/escape-rel/../secret.txt",
	}
	stopped(t, e.inside(t, "read", map[string]any{"paths": paths}), map[string]string{"ENOENT": layerMount, "ENOTDIR": layerMount})
	r := e.inside(t, "climb", map[string]any{"dir": e.fx.work, "paths": []string{e.fx.secret, e.fx.farSecret}})
	if cwd := r.step(t, "getwd after climbing"); cwd.Out != "/" {
		t.Errorf("climbing from the work directory ended at %q, not at the sandbox's root", cwd.Out)
	}
	for _, s := range r.Steps {
		if strings.HasPrefix(s.Op, "read") {
			if s.OK {
				t.Errorf("ESCAPED: %s", s)
			} else if s.Errno != "ENOENT" {
				t.Errorf("%s: %s, want ENOENT", s.Op, s.Errno)
			} else {
				t.Logf("stopped by %s: %s", layerMount, s)
			}
		}
	}
	worked(t, e.outside(t, "read", map[string]any{"paths": []string{e.ctl.work + "/../secret.txt"}}))
}

func (e *escapeRun) readShadow(t *testing.T) {
	paths := []string{"/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ssh", "/etc/machine-id", "/root/.bash_history"}
	stopped(t, e.inside(t, "read", map[string]any{"paths": paths}), notThere)
	p := e.inside(t, "read", map[string]any{"paths": []string{"/etc/passwd"}})
	var shown []string
	for _, line := range otherAccounts(t) {
		if strings.Contains(p.Steps[0].Out, line) {
			shown = append(shown, line)
		}
	}
	// The sandbox's /etc/passwd keeps only root, the caller and nobody.
	if len(shown) > 0 {
		t.Errorf("%d other accounts of the host are visible inside, e.g. %q", len(shown), shown[0])
	} else if p.Steps[0].OK {
		t.Logf("stopped by the sandbox's filtered /etc/passwd: no other account of the host inside")
	}
	r := e.outside(t, "read", map[string]any{"paths": []string{"/etc/shadow"}})
	if isRoot() {
		worked(t, r)
	} else if s := r.Steps[0]; s.OK || s.Errno != "EACCES" {
		t.Errorf("control: /etc/shadow outside as uid %d: %s, want EACCES", os.Geteuid(), s)
	}
}

func (e *escapeRun) listSSH(t *testing.T) {
	// The home directory is private and empty: ~/.ssh is absent.
	r := e.inside(t, "list", map[string]any{"paths": []string{filepath.Dir(e.fx.homeKey), filepath.Dir(e.fx.homeCreds), e.fx.home}})
	for _, s := range r.Steps[:2] {
		if s.OK && s.Out != "" {
			t.Errorf("ESCAPED: %s", s)
		} else {
			t.Logf("stopped by %s (private home): %s", layerMount, s)
		}
	}
	if s := r.Steps[2]; !s.OK || s.Out != "" {
		t.Errorf("the home directory inside should be empty and listable: %s", s)
	}
	// In a directory the profile shows, hide covers the key directory
	// with an empty one and the token with an empty file.
	r = e.inside(t, "list", map[string]any{"paths": []string{e.fx.hiddenDir, e.fx.shared}})
	if s := r.Steps[0]; !s.OK || s.Out != "" {
		t.Errorf("%s: want an empty directory", s)
	} else {
		t.Logf("stopped by %s: %s is an empty directory", layerHide, e.fx.hiddenDir)
	}
	if s := r.Steps[1]; !s.OK || !strings.Contains(s.Out, "public.txt") {
		t.Errorf("the shared directory is not readable inside, so the test proves nothing: %s", s)
	}
	r = e.inside(t, "read", map[string]any{"paths": []string{e.fx.homeKey, e.fx.homeCreds, e.fx.hiddenKey, e.fx.hiddenFile, e.fx.public}})
	for _, s := range r.Steps[:3] {
		if s.OK {
			t.Errorf("ESCAPED: %s", s)
		} else if s.Errno != "ENOENT" {
			t.Errorf("%s: %s, want ENOENT", s.Op, s.Errno)
		} else {
			t.Logf("stopped by %s: %s", layerHide+"/"+layerMount, s)
		}
	}
	if s := r.Steps[3]; !s.OK || s.Out != "" {
		t.Errorf("%s: want an empty file", s)
	} else {
		t.Logf("stopped by %s: %s reads as an empty file", layerHide, e.fx.hiddenFile)
	}
	if s := r.Steps[4]; !s.OK || s.Out != e.fx.public0 {
		t.Errorf("reading the public file inside: %s", s)
	}
	c := e.outside(t, "list", map[string]any{"paths": []string{filepath.Dir(e.ctl.homeKey), e.ctl.hiddenDir}})
	worked(t, c)
	for _, s := range c.Steps {
		if s.Out == "" {
			t.Errorf("control: %s lists nothing outside", s.Op)
		}
	}
}

func (e *escapeRun) hostTmpNotVisible(t *testing.T) {
	stopped(t, e.inside(t, "read", map[string]any{"paths": []string{e.fx.hostTmp}}), notThere)
	marker := fmt.Sprintf("/tmp/mcpwarden-escape-marker-%d", time.Now().UnixNano())
	r := e.inside(t, "write", map[string]any{"paths": []string{marker}})
	if s := r.Steps[0]; !s.OK {
		t.Errorf("the sandbox's private /tmp is not writable: %s", s)
	}
	noHostFile(t, marker)
	t.Logf("the sandbox's /tmp is private: %s written inside is not on the host", marker)
	worked(t, e.outside(t, "read", map[string]any{"paths": []string{e.ctl.hostTmp}}))
}

func (e *escapeRun) writeOutside(t *testing.T) {
	created := []string{
		"/usr/mcpwarden-escape", "/usr/bin/mcpwarden-escape",
		"/etc/mcpwarden-escape", "/mcpwarden-escape",
		filepath.Join(e.fx.shared, "planted.txt"),
		filepath.Join(e.fx.hiddenDir, "authorized_keys"),
		e.fx.farSecret + ".planted",
	}
	existing := []string{"/etc/hosts", "/etc/passwd", e.fx.public, "/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches"}
	layers := map[string]string{"ENOENT": layerMount, "EROFS": layerReadOnly}
	if !isRoot() {
		// The permission check comes before the read-only mount's.
		layers["EACCES"] = "file permissions (the file is root's)"
	}
	stopped(t, e.inside(t, "write", map[string]any{"paths": append(slices.Clone(created), existing...)}), layers)
	noHostFile(t, created...)
	// /proc itself is mounted writable; Landlock lets the sandbox only
	// read it.
	stopped(t, e.inside(t, "write", map[string]any{"paths": []string{"/proc/self/oom_score_adj", "/proc/self/attr/current", "/proc/1/oom_score_adj"}}),
		map[string]string{"EACCES": layerLandlock})
	// The parents of the work directory, the home directory and /tmp are
	// the sandbox's own: writable or not, nothing written there reaches
	// the host.
	private := []string{
		filepath.Join(e.fx.base, "planted.txt"),
		filepath.Join(e.fx.home, ".bashrc"),
		filepath.Join(e.fx.home, ".ssh"),
	}
	for _, s := range e.inside(t, "write", map[string]any{"paths": private}).Steps {
		t.Logf("stopped by the sandbox's private file systems: %s; not on the host", s)
	}
	noHostFile(t, private[:2]...)
	if _, err := os.Lstat(filepath.Join(e.fx.home, ".ssh", "authorized_keys")); err == nil {
		t.Errorf("ESCAPED: a file appeared in the host's ~/.ssh")
	}
	// The hidden file is the null device: it can be written, and the
	// writes vanish.
	r := e.inside(t, "write", map[string]any{"paths": []string{e.fx.hiddenFile}, "append": true})
	if data, err := os.ReadFile(e.fx.hiddenFile); err != nil || string(data) != e.fx.secrets[e.fx.hiddenFile] {
		t.Errorf("ESCAPED: the hidden file changed on the host: %q, %v", data, err)
	} else {
		t.Logf("stopped by %s: %s (the null device, the host file is unchanged)", layerHide, r.Steps[0])
	}
	worked(t, e.outside(t, "write", map[string]any{"paths": []string{filepath.Join(e.ctl.shared, "planted.txt"), e.ctl.farSecret + ".planted"}}))
}

func (e *escapeRun) hardLinkAndRename(t *testing.T) {
	// rename(2) checks that both paths are on one mount before it looks
	// the source up: EXDEV.
	stopped(t, e.inside(t, "link", map[string]any{"dir": e.fx.work, "paths": []string{e.fx.secret, e.fx.farSecret}}),
		map[string]string{"ENOENT": layerMount, "EXDEV": layerBoundary})
	// A file the sandbox can read, on the same host file system as the
	// work directory, is still behind a mount boundary.
	stopped(t, e.inside(t, "link", map[string]any{"dir": e.fx.work, "paths": []string{e.fx.public}}),
		map[string]string{"EXDEV": layerBoundary})
	for p, text := range e.fx.secrets {
		if text == "" || p == "environment" {
			continue
		}
		if data, err := os.ReadFile(p); err != nil || string(data) != text {
			t.Errorf("%s changed on the host: %q, %v", p, data, err)
		}
	}
	entries, _ := os.ReadDir(e.fx.work)
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), "linked-") || strings.HasPrefix(en.Name(), "renamed-") {
			t.Errorf("ESCAPED: %s appeared in the work directory", en.Name())
		}
	}
	worked(t, e.outside(t, "link", map[string]any{"dir": e.ctl.work, "paths": []string{e.ctl.secret}}))
}

var netLayers = map[string]string{"EACCES": layerLandlock, "ECONNREFUSED": layerNetNS, "ENETUNREACH": layerNetNS}

func (e *escapeRun) connectTCP(t *testing.T, network string, in, out *connLog) {
	if in == nil || out == nil {
		t.Skip("no IPv6 loopback on the host")
	}
	stopped(t, e.inside(t, "connect", map[string]any{"network": network, "addr": in.addr()}), netLayers)
	if c := in.connections(); len(c) != 0 {
		t.Errorf("ESCAPED: the host listener %s accepted %v", in.addr(), c)
	}
	worked(t, e.outside(t, "connect", map[string]any{"network": network, "addr": out.addr()}))
	if c := out.connections(); len(c) != 1 {
		t.Errorf("control: the host listener accepted %v, want one connection", c)
	}
}

func (e *escapeRun) connectTCP4(t *testing.T) {
	e.connectTCP(t, "tcp4", e.fx.tcp4, e.ctl.tcp4)
	// Nor can the sandbox listen.
	stopped(t, e.inside(t, "connect", map[string]any{"network": "bind4", "addr": "127.0.0.1:0"}), netLayers)
}

func (e *escapeRun) connectTCP6(t *testing.T) { e.connectTCP(t, "tcp6", e.fx.tcp6, e.ctl.tcp6) }

func (e *escapeRun) connectAbstract(t *testing.T) {
	// Abstract names belong to a network namespace: the sandbox's has
	// none of the host's (ECONNREFUSED); Landlock's scoping would answer
	// EPERM for a peer it could find.
	stopped(t, e.inside(t, "connect", map[string]any{"network": "unix", "addr": e.fx.abstract.addr()}),
		map[string]string{"ECONNREFUSED": layerNetNS, "EPERM": layerLandlock})
	if c := e.fx.abstract.connections(); len(c) != 0 {
		t.Errorf("ESCAPED: the host's abstract socket accepted %v", c)
	}
	worked(t, e.outside(t, "connect", map[string]any{"network": "unix", "addr": e.ctl.abstract.addr()}))
}

// connectNamed connects to a UNIX socket a host process listens on in a
// directory the profile shows read-only, as an agent's socket in a shown
// home directory would be. Named sockets do not belong to a network
// namespace, and a read-only mount does not stop connect(2): only
// Landlock's LANDLOCK_ACCESS_FS_RESOLVE_UNIX (ABI 9) does.
func (e *escapeRun) connectNamed(t *testing.T) {
	r := e.inside(t, "connect", map[string]any{"network": "unix", "addr": e.fx.unixSock})
	got := e.fx.named.connections()
	abi := landlockABI()
	s := r.Steps[0]
	switch {
	case !s.OK:
		t.Logf("stopped by %s: %s", layerLandlock, s)
	case abi >= 9:
		t.Errorf("ESCAPED: Landlock ABI %d can refuse it, yet %s (host saw %v)", abi, s, got)
	default:
		t.Logf("NOT STOPPED (kernel limit, Landlock ABI %d < 9 has no RESOLVE_UNIX): %s; the host listener saw %v", abi, s, got)
	}
}

// landlockABI asks the kernel for its Landlock ABI version.
func landlockABI() int {
	const sysLandlockCreateRuleset = 444
	const createRulesetVersion = 1
	v, _, e := syscall.Syscall(sysLandlockCreateRuleset, 0, 0, createRulesetVersion)
	if e != 0 {
		return 0
	}
	return int(v)
}

func (e *escapeRun) sendUDP(t *testing.T) {
	// UDP is not Landlock's: the network namespace alone stops it. The
	// sandbox's 127.0.0.1 is its own loopback, so the datagram is sent
	// and lands nowhere; any other address has no route.
	r := e.inside(t, "connect", map[string]any{"network": "udp4", "addr": e.fx.udp4.addr()})
	t.Logf("inside: %s", r.Steps[0])
	if p := e.fx.udp4.packets(); len(p) != 0 {
		t.Errorf("ESCAPED: the host's UDP socket %s received %v", e.fx.udp4.addr(), p)
	} else {
		t.Logf("stopped by %s: the host's UDP socket received nothing", layerNetNS)
	}
	if e.fx.udp6 != nil {
		e.inside(t, "connect", map[string]any{"network": "udp6", "addr": e.fx.udp6.addr()})
		if p := e.fx.udp6.packets(); len(p) != 0 {
			t.Errorf("ESCAPED: the host's UDP socket %s received %v", e.fx.udp6.addr(), p)
		}
	}
	stopped(t, e.inside(t, "connect", map[string]any{"network": "udp4", "addr": "192.0.2.1:53"}), map[string]string{"ENETUNREACH": layerNetNS})
	worked(t, e.outside(t, "connect", map[string]any{"network": "udp4", "addr": e.ctl.udp4.addr()}))
	if p := e.ctl.udp4.packets(); len(p) != 1 {
		t.Errorf("control: the host's UDP socket received %v, want one datagram", p)
	}
}

// syscallAttempt makes the real attempt at a refused system call and its
// probes inside, and the probes outside.
func syscallAttempt(name string) func(*escapeRun, *testing.T) {
	return func(e *escapeRun, t *testing.T) {
		r := e.inside(t, "syscall", map[string]any{"name": name, "dir": e.fx.work})
		stopped(t, r, map[string]string{"EPERM": layerSeccomp + "/" + layerNoCaps, "ENOSYS": layerSeccomp})
		e.seccompProbe(t, r, name)
	}
}

func (e *escapeRun) umountHide(t *testing.T) {
	r := e.inside(t, "syscall", map[string]any{"name": "umount", "paths": []string{e.fx.hiddenDir, e.fx.hiddenKey}})
	stopped(t, r, map[string]string{"EPERM": layerSeccomp + "/" + layerNoCaps, "ENOENT": layerHide})
	e.seccompProbe(t, r, "umount")
}

func (e *escapeRun) tiocsti(t *testing.T) {
	r := e.inside(t, "syscall", map[string]any{"name": "tiocsti"})
	stopped(t, r, map[string]string{"EPERM": layerSeccomp, "ENOENT": layerMount + " (no /dev/tty)"})
	e.seccompProbe(t, r, "tiocsti")
	p := e.inside(t, "procs", nil)
	if sid, err := strconv.Atoi(p.Values["sid"]); err != nil || sid != p.pid() {
		t.Errorf("the escaper does not lead a session of its own (sid %q, pid %d): a terminal could be reached", p.Values["sid"], p.pid())
	}
}

func (r escapeReport) pid() int {
	n, _ := strconv.Atoi(r.Values["pid"])
	return n
}

func (e *escapeRun) x32ABI(t *testing.T) {
	r := e.inside(t, "x32_abi", nil)
	if sig := r.Values["signal"]; sig != "SIGSYS" {
		t.Errorf("a system call through the x32 ABI: %s, signal %q; want the child killed by SIGSYS", r.Steps[0], sig)
	} else {
		t.Logf("stopped by %s: the child was killed by SIGSYS", layerSeccomp)
	}
	t.Logf("outside: %s", e.outside(t, "x32_abi", nil).Steps[0])
}

// hostPIDs lists /proc inside: only the sandbox's init and the escaper
// (and what it started) are there.
func (e *escapeRun) hostPIDs(t *testing.T) {
	r := e.inside(t, "procs", nil)
	if r.pid() == 1 {
		t.Errorf("the server runs as PID 1 of its namespace")
	}
	var others []string
	for _, s := range r.Steps {
		cmdline := s.Out
		switch {
		case !s.OK:
			continue // ended while listed
		case s.Op == "pid 1":
			if !strings.Contains(cmdline, "__mcpwarden_sandbox_init") {
				t.Errorf("PID 1 inside is not the sandbox's init: %q", cmdline)
			}
		case strings.Contains(cmdline, escaperBin):
		default:
			others = append(others, s.Op+" "+cmdline)
		}
	}
	if len(others) > 0 {
		t.Errorf("ESCAPED: processes of the host are visible inside: %v", others)
	}
	if len(r.Steps) > 4 {
		t.Errorf("%d processes visible inside, want the init and the escaper", len(r.Steps))
	}
	t.Logf("stopped by %s: /proc shows %d processes, PID 1 is the sandbox's init", layerPidNS, len(r.Steps))
	// kill(1) addresses the sandbox's init, never the host's.
	k := e.inside(t, "signal", map[string]any{"pid": 1})
	if !strings.Contains(k.Values["found"], "__mcpwarden_sandbox_init") {
		t.Errorf("pid 1 inside is %q, not the sandbox's init", k.Values["found"])
	}
}

// initDescriptors looks through the init's descriptors, cwd and root for
// a way back to the host.
// initDescriptors goes through the init, which shares the server's
// user, Landlock domain and seccomp filter, and so can be inspected
// through /proc: its descriptors, root and working directory.
func (e *escapeRun) initDescriptors(t *testing.T) {
	r := e.inside(t, "fds", map[string]any{"paths": []string{"/proc/1/fd"}})
	var links []string
	for _, s := range r.Steps {
		switch {
		case !s.OK || !strings.HasPrefix(s.Out, "/"):
		case s.Out == "/dev/null":
		case strings.HasPrefix(s.Out, "/proc/"):
			t.Logf("the init holds the sandbox's own %s open as %s", s.Out, strings.TrimPrefix(s.Op, "readlink "))
		default:
			t.Logf("the init holds %s open as %s: a file outside the view", s.Out, strings.TrimPrefix(s.Op, "readlink "))
			links = append(links, strings.TrimPrefix(s.Op, "readlink "))
		}
	}
	if len(links) > 0 {
		// Opening a /proc/PID/fd link opens the file it names, wherever
		// that is: the mount view does not stand in the way.
		stopped(t, e.inside(t, "reopen", map[string]any{"paths": links}), map[string]string{"EACCES": layerNoDump + " or " + layerLandlock})
	}
	stopped(t, e.inside(t, "read", map[string]any{"paths": []string{"/proc/1/root" + e.fx.farSecret, "/proc/1/cwd" + e.fx.secret}}), notThereOrNoDump)
}

// initMemory reads the init's memory through /proc/1/mem and looks for
// the planted secrets and the host's accounts in it.
func (e *escapeRun) initMemory(t *testing.T) {
	var needles []string
	for _, text := range e.fx.secrets {
		if text != "" {
			needles = append(needles, text)
		}
	}
	others := otherAccounts(t)
	needles = append(needles, others...)
	m := e.inside(t, "peek_memory", map[string]any{"pid": 1, "paths": needles})
	if s := m.step(t, "open for reading and writing"); s.OK {
		t.Errorf("ESCAPED: the init's memory can be written: %s", s)
	} else {
		t.Logf("stopped by %s: %s", layerLandlock, s)
	}
	var accounts []string
	for _, found := range strings.Split(m.Values["found"], "\n") {
		switch {
		case found == "":
		case slices.Contains(others, found):
			accounts = append(accounts, found)
		default:
			t.Errorf("ESCAPED: a secret is in the init's memory: %q", found)
		}
	}
	// The init read the host's whole /etc/passwd and /etc/group to filter
	// them, and holds the configuration and the host's cgroup files: the
	// server must not be able to read it. A non-dumpable init would refuse
	// its memory (and its /proc/1/fd links) to a server without
	// capabilities.
	if s := m.step(t, "open for reading /proc/1/mem"); s.OK {
		t.Errorf("WEAKNESS: the server can read the init's memory through /proc/1/mem (%s bytes read): the init is dumpable and shares the server's uid and Landlock domain; %d of the host's other accounts are in it, e.g. %q",
			m.Values["scanned"], len(accounts), append(accounts, "")[0])
	} else {
		t.Logf("stopped: %s", s)
	}
}

// otherAccounts returns the host's /etc/passwd lines for users other than
// root, the caller and nobody: what the sandbox's filtered copy leaves out.
func otherAccounts(t testing.TB) []string {
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Logf("reading /etc/passwd: %v", err)
		return nil
	}
	var out []string
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 || f[2] == "0" || f[2] == "65534" || f[2] == strconv.Itoa(os.Getuid()) {
			continue
		}
		out = append(out, line)
	}
	return out
}

func (e *escapeRun) signalWarden(t *testing.T) {
	pid := e.warden.Process.Pid
	r := e.inside(t, "signal", map[string]any{"pid": pid})
	if found := r.Values["found"]; found != "" {
		if strings.Contains(found, " run ") {
			t.Fatalf("ESCAPED: mcpwarden (host pid %d) is visible inside: %q", pid, found)
		}
		t.Logf("host pid %d names a sandbox process inside (%q), not mcpwarden", pid, found)
	} else {
		stopped(t, r, map[string]string{"ESRCH": layerPidNS, "EPERM": layerLandlock})
	}
	if err := e.warden.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("mcpwarden is gone: %v", err)
	}
	c := e.outside(t, "signal", map[string]any{"pid": pid})
	if !strings.Contains(c.Values["found"], wardenBin) {
		t.Errorf("control: outside, pid %d is %q, want mcpwarden", pid, c.Values["found"])
	}
}

const noCaps = "0000000000000000"

// capSysResource is CAP_SYS_RESOURCE's bit.
const capSysResource = 24

func (e *escapeRun) capabilities(t *testing.T) {
	r := e.inside(t, "status", nil)
	want := map[string]string{
		"CapInh": noCaps, "CapPrm": noCaps, "CapEff": noCaps, "CapBnd": noCaps, "CapAmb": noCaps,
		"NoNewPrivs": "1", "Seccomp": "2", "hostname": "mcpwarden",
		"cwd": e.fx.work,
		// NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED, NO_CAP_AMBIENT_RAISE
		// and their locks.
		"securebits": "0xef",
	}
	for k, v := range want {
		if got := r.Values[k]; got != v {
			t.Errorf("%s = %q inside, want %q", k, got, v)
		}
	}
	if u := r.Values["Uid"]; u != strings.Repeat(strconv.Itoa(os.Getuid())+" ", 3)+strconv.Itoa(os.Getuid()) {
		t.Errorf("Uid %q inside, want the caller's uid %d everywhere", u, os.Getuid())
	}
	stopped(t, r, map[string]string{"EPERM": layerNoCaps})
	t.Logf("capabilities all zero, NoNewPrivs 1, Seccomp 2 (%s filters), securebits %s", r.Values["Seccomp_filters"], r.Values["securebits"])
	c := e.outside(t, "status", nil)
	t.Logf("control outside: CapEff %s, Seccomp %s", c.Values["CapEff"], c.Values["Seccomp"])
}

func (e *escapeRun) setuidBinary(t *testing.T) {
	var bins []string
	for _, p := range []string{"/usr/bin/su", "/usr/bin/passwd", "/usr/bin/newgrp", "/usr/bin/mount"} {
		if st, err := os.Stat(p); err == nil && st.Mode()&os.ModeSetuid != 0 {
			bins = append(bins, p)
		}
	}
	if len(bins) == 0 {
		t.Skip("no set-user-ID program on the host")
	}
	uid := strconv.Itoa(os.Getuid())
	r := e.inside(t, "setuid", map[string]any{"paths": bins})
	for _, b := range bins {
		name := filepath.Base(b)
		if u := r.Values[name+".Uid"]; u != strings.Repeat(uid+" ", 3)+uid {
			t.Errorf("ESCAPED: %s ran with Uid %q inside", b, u)
		}
		if c := r.Values[name+".CapEff"]; c != noCaps || r.Values[name+".CapPrm"] != noCaps {
			t.Errorf("ESCAPED: %s ran with CapEff %q CapPrm %q inside", b, c, r.Values[name+".CapPrm"])
		}
	}
	opts := r.Values["mount of /usr"]
	if !strings.Contains(opts, "nosuid") {
		t.Errorf("/usr is mounted %q inside, without nosuid", opts)
	}
	t.Logf("stopped by nosuid mount (%s), no_new_privs and locked securebits: %v ran as uid %s with no capabilities", opts, bins, uid)
	c := e.outside(t, "setuid", map[string]any{"paths": bins[:1]})
	name := filepath.Base(bins[0])
	if isRoot() {
		if c.Values[name+".CapEff"] == noCaps {
			t.Errorf("control: %s outside as root has no capabilities", bins[0])
		}
	} else if !strings.Contains(" "+c.Values[name+".Uid"]+" ", " 0 ") {
		t.Errorf("control: %s outside ran with Uid %q, want euid 0", bins[0], c.Values[name+".Uid"])
	}
}

func (e *escapeRun) raiseRlimit(t *testing.T) {
	r := e.inside(t, "rlimit", nil)
	want := map[string]string{
		"NOFILE": fmt.Sprintf("%d %d", escapeOpenFiles, escapeOpenFiles),
		"NPROC":  fmt.Sprintf("%d %d", escapeProcesses, escapeProcesses),
		"DATA":   fmt.Sprintf("%d %d", escapeMemory, escapeMemory),
		"FSIZE":  fmt.Sprintf("%d %d", escapeFileSize, escapeFileSize),
		"CPU":    fmt.Sprintf("%d %d", escapeCPU, escapeCPU+1),
		"CORE":   "0 0",
	}
	for k, v := range want {
		if got := r.Values[k]; got != v {
			t.Errorf("RLIMIT_%s = %q inside, want %q", k, got, v)
		}
	}
	stopped(t, r, map[string]string{"EPERM": layerNoCaps})
	// With CAP_SYS_RESOURCE outside, the same calls work.
	if capEff, err := strconv.ParseUint(e.outside(t, "status", nil).Values["CapEff"], 16, 64); err == nil && capEff&(1<<capSysResource) != 0 {
		worked(t, e.outside(t, "rlimit", nil))
	} else {
		t.Logf("control skipped: the caller lacks CAP_SYS_RESOURCE outside too")
	}
}

func (e *escapeRun) environment(t *testing.T) {
	r := e.inside(t, "environ", nil)
	env := r.Steps[0].Out
	if strings.Contains(env, e.fx.envSecret) || strings.Contains(env, "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("ESCAPED: a variable the profile does not name reached the server:\n%s", env)
	}
	if !slices.Contains(strings.Split(env, "\n"), "HOME="+e.fx.home) {
		t.Errorf("HOME inside is not the user's home %s:\n%s", e.fx.home, env)
	}
	t.Logf("stopped by the environment filter: inside the server sees %q", strings.Split(env, "\n"))
}

func (e *escapeRun) openFiles(t *testing.T) {
	r := e.inside(t, "open_files", map[string]any{"limit": 100000})
	s := r.Steps[0]
	opened, _ := strconv.Atoi(r.Values["opened"])
	highest, _ := strconv.Atoi(r.Values["highest_fd"])
	if s.OK || s.Errno != "EMFILE" || highest != escapeOpenFiles-1 {
		t.Errorf("opening files: %s, %d opened, highest descriptor %d; want EMFILE at descriptor %d", s, opened, highest, escapeOpenFiles-1)
	} else {
		t.Logf("stopped by %s (RLIMIT_NOFILE): EMFILE after %d more descriptors, the highest %d", layerRlimit, opened, highest)
	}
}

func (e *escapeRun) fillDisk(t *testing.T) {
	path := filepath.Join(e.fx.work, "fill")
	r := e.inside(t, "fill_disk", map[string]any{"paths": []string{path}, "limit": 64 << 20})
	s := r.Steps[0]
	if s.OK || s.Errno != "EFBIG" || r.Values["size"] != strconv.Itoa(escapeFileSize) {
		t.Errorf("filling the disk: %s, size %s; want EFBIG at %d bytes", s, r.Values["size"], escapeFileSize)
	} else {
		t.Logf("stopped by %s (RLIMIT_FSIZE): EFBIG at %s bytes", layerRlimit, r.Values["size"])
	}
	noHostFile(t, path)
}

func (e *escapeRun) fillMemory(t *testing.T) {
	start := time.Now()
	r := e.inside(t, "fill_memory", map[string]any{"limit": 4 << 30})
	mapped, _ := strconv.ParseInt(r.Values["mapped"], 10, 64)
	s := r.Steps[0]
	if s.OK || s.Errno != "ENOMEM" {
		t.Errorf("filling memory: %s after %d bytes; want ENOMEM", s, mapped)
	}
	// What the escaper had mapped before counts too: at the stop, the
	// private memory is within one 16MiB chunk of the limit, never past it.
	kb, _ := strconv.ParseInt(strings.TrimSuffix(r.Values["VmData"], " kB"), 10, 64)
	if data := kb << 10; data > escapeMemory || data+16<<20 <= escapeMemory {
		t.Errorf("filling memory stopped at VmData %d MiB, want within 16MiB of the %d MiB limit", data>>20, escapeMemory>>20)
	} else {
		t.Logf("stopped by %s (RLIMIT_DATA): ENOMEM after mapping %d MiB, at VmData %d MiB, in %v", layerRlimit, mapped>>20, data>>20, time.Since(start).Round(time.Millisecond))
	}
	e.checkAlive(t)
}

func (e *escapeRun) forkBomb(t *testing.T) {
	const most = 1024
	start := time.Now()
	r := e.inside(t, "fork_bomb", map[string]any{"limit": most})
	children, _ := strconv.Atoi(r.Values["children"])
	s := r.Steps[0]
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the fork bomb took %v", took)
	}
	switch {
	case !s.OK && s.Errno == "EAGAIN" && children < escapeProcesses:
		t.Logf("stopped by %s (RLIMIT_NPROC, counted in the sandbox's user namespace): EAGAIN after %d children (escaper threads %s)", layerRlimit, children, r.Values["threads"])
	case isRoot() && s.OK:
		// The kernel exempts uid 0 of the initial user namespace from
		// RLIMIT_NPROC, and the sandbox keeps the caller's uid. Without a
		// delegated cgroup, mcpwarden refuses to start as root unless
		// --best-effort, which this run passed: the limit is then a
		// warning, on stderr and in every audit record.
		if firstLine(e.stderr.String(), "processes limit") == "" {
			t.Errorf("as root under --best-effort the fork bomb got %d children and mcpwarden did not warn", children)
		}
		t.Logf("as root the processes limit is not enforced under --best-effort (%d children); without it mcpwarden refuses to start:", children)
		e.rootRefusedWithoutBestEffort(t)
	default:
		t.Errorf("fork bomb: %s with %d children; want EAGAIN below %d", s, children, escapeProcesses)
	}
	e.checkAlive(t)
	// The host still starts processes promptly.
	begin := time.Now()
	if err := exec.Command("true").Run(); err != nil {
		t.Errorf("the host cannot start a process after the fork bomb: %v", err)
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("the host took %v to start a process after the fork bomb", took)
	}
}

// rootRefusedWithoutBestEffort shows that root cannot start a sandbox
// whose process limit cannot be enforced without saying --best-effort.
func (e *escapeRun) rootRefusedWithoutBestEffort(t *testing.T) {
	argv := []string{wardenBin, "run", "--profile", escapeProfile(t, e.fx), "--audit-log", filepath.Join(t.TempDir(), "a.jsonl"), "--", "/bin/true"}
	cmd := exec.CommandContext(e.ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "processes limit cannot be enforced") || !strings.Contains(string(out), "--best-effort") {
		t.Errorf("as root without --best-effort: err %v, output %q; want a refusal naming the processes limit and --best-effort", err, out)
		return
	}
	t.Logf("refused: %s", strings.TrimSpace(string(out)))
}

func firstLine(text, containing string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, containing) {
			return line
		}
	}
	return ""
}

// checkAlive checks that mcpwarden still runs and the escaper answers.
func (e *escapeRun) checkAlive(t *testing.T) {
	t.Helper()
	if err := e.warden.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("mcpwarden is gone: %v\nits stderr:\n%s", err, e.stderr.String())
	}
	if err := e.in.Ping(e.ctx, nil); err != nil {
		t.Fatalf("the sandboxed escaper no longer answers: %v\nmcpwarden's stderr:\n%s", err, e.stderr.String())
	}
}

// checkNoLeak checks that no secret's contents ever appeared in an answer
// from inside the sandbox.
func (e *escapeRun) checkNoLeak(t *testing.T) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, answer := range e.answers {
		for p, text := range e.fx.secrets {
			if text != "" && strings.Contains(answer, text) {
				t.Errorf("ESCAPED: the contents of %s appeared inside:\n%s", p, answer)
			}
		}
	}
}

// TestEscapeFilesystemServer runs the reference filesystem server under
// mcpwarden with its directory writable: it works there, and symbolic
// links planted in that directory do not take it one level out. The
// server refuses some paths itself; the same calls to the same server run
// outside the sandbox, on a copy of the layout, tell which refusals are
// the server's and which the kernel's. Either way the secret's contents
// must never appear in a result.
func TestEscapeFilesystemServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	in := plantFiles(t)
	out := plantFiles(t)
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	prof := writeProfile(t, "[tools]\nallow = [\"*\"]\n", grant{read: []string{"{arg_dirs}"}, write: []string{"{arg_dirs}"}})
	server := npmServer(t, "server-filesystem")
	noRoots := newGoClient(&mcp.ClientOptions{Capabilities: &mcp.ClientCapabilities{}})
	cmd, _ := newCommand(t, "mcpwarden", wardenArgv(prof, auditLog, nil, "node", server, in.dir))
	in.cs = connectGo(t, ctx, noRoots, cmd, "")
	ctl, _ := newCommand(t, "server-filesystem (control)", []string{"node", server, out.dir})
	out.cs = connectGo(t, ctx, noRoots, ctl, "")

	t.Run("Works", func(t *testing.T) {
		if text, ok := in.call(ctx, "read_text_file", map[string]any{"path": filepath.Join(in.dir, "hello.txt")}); !ok || !strings.Contains(text, "hello from the disk") {
			t.Errorf("read_text_file in its directory: %s", text)
		}
		written := filepath.Join(in.dir, "written.txt")
		if text, ok := in.call(ctx, "write_file", map[string]any{"path": written, "content": "written through mcpwarden\n"}); !ok {
			t.Errorf("write_file in its directory: %s", text)
		}
		if data, err := os.ReadFile(written); err != nil || string(data) != "written through mcpwarden\n" {
			t.Errorf("the written file on the host: %q, %v", data, err)
		}
	})

	t.Run("SymlinkOut", func(t *testing.T) {
		var all strings.Builder
		for _, a := range fsAttempts() {
			inText, inOK := in.call(ctx, a.tool, a.args(in))
			outText, _ := out.call(ctx, a.tool, a.args(out))
			all.WriteString(inText)
			layer := "the server (it refuses the same call outside the sandbox)"
			switch {
			case inOK && !strings.Contains(outText, out.secret):
				layer = "nothing: the call works and its answer holds no secret, inside or out"
			case strings.Contains(outText, out.secret):
				layer = "the kernel alone: outside the sandbox the server returns the secret"
			case in.normalize(inText) != out.normalize(outText):
				layer = "the kernel: the target does not exist in the sandbox (" + layerMount + "), and the server refused what was left"
			}
			t.Logf("%s %s: ok=%v, stopped by %s\n  inside:  %s\n  outside: %s", a.tool, a.what, inOK, layer,
				clip(strings.TrimSpace(in.normalize(inText))), clip(strings.TrimSpace(out.normalize(outText))))
		}
		if strings.Contains(all.String(), in.secret) {
			t.Errorf("ESCAPED: the secret one level out appeared in a result:\n%s", all.String())
		}
		if data, err := os.ReadFile(in.secretPath); err != nil || string(data) != in.secret {
			t.Errorf("ESCAPED: the secret on the host changed: %q, %v", data, err)
		}
		noHostFile(t, filepath.Join(in.base, "planted.txt"))
	})
}

// fsFiles is the layout the filesystem server is attacked on.
type fsFiles struct {
	base, dir          string // dir, the server's directory, is in base
	secret, secretPath string // base/secret.txt, one level out of dir
	cs                 *mcp.ClientSession
}

func plantFiles(t testing.TB) *fsFiles {
	base := t.TempDir()
	f := &fsFiles{base: base, dir: filepath.Join(base, "files"), secretPath: filepath.Join(base, "secret.txt"), secret: randomText(t, "filesystem")}
	mustMkdir(t, f.dir)
	mustWrite(t, f.secretPath, f.secret)
	mustWrite(t, filepath.Join(f.dir, "hello.txt"), "hello from the disk\n")
	mustSymlink(t, "../secret.txt", filepath.Join(f.dir, "escape-rel"))
	mustSymlink(t, f.secretPath, filepath.Join(f.dir, "escape-abs"))
	mustSymlink(t, base, filepath.Join(f.dir, "escape-dir"))
	return f
}

// call calls a tool and returns its text, or the error's.
func (f *fsFiles) call(ctx context.Context, name string, args map[string]any) (string, bool) {
	res, err := f.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "error: " + err.Error(), false
	}
	return toolText(res), !res.IsError
}

// normalize replaces the layout's paths and secret in text with
// placeholders, so that answers about two layouts compare.
func (f *fsFiles) normalize(text string) string {
	return strings.NewReplacer(f.secret, "SECRET", f.base, "BASE").Replace(text)
}

type fsAttempt struct {
	tool, what string
	args       func(f *fsFiles) map[string]any
}

func fsAttempts() []fsAttempt {
	path := func(rel string) func(*fsFiles) map[string]any {
		return func(f *fsFiles) map[string]any { return map[string]any{"path": filepath.Join(f.dir, rel)} }
	}
	return []fsAttempt{
		{"read_text_file", "escape-rel (-> ../secret.txt)", path("escape-rel")},
		{"read_text_file", "escape-abs (-> absolute secret)", path("escape-abs")},
		{"read_text_file", "escape-dir/secret.txt (-> the parent)", path("escape-dir/secret.txt")},
		{"read_text_file", "../secret.txt", func(f *fsFiles) map[string]any {
			return map[string]any{"path": f.dir + "/../secret.txt"}
		}},
		{"read_multiple_files", "both links", func(f *fsFiles) map[string]any {
			return map[string]any{"paths": []string{filepath.Join(f.dir, "escape-rel"), filepath.Join(f.dir, "escape-abs")}}
		}},
		{"read_media_file", "escape-rel", path("escape-rel")},
		{"get_file_info", "escape-rel", path("escape-rel")},
		{"list_directory", "escape-dir", path("escape-dir")},
		{"directory_tree", "its directory", path("")},
		{"search_files", "secret in its directory", func(f *fsFiles) map[string]any {
			return map[string]any{"path": f.dir, "pattern": "secret"}
		}},
		{"edit_file", "escape-rel, dry run", func(f *fsFiles) map[string]any {
			return map[string]any{"path": filepath.Join(f.dir, "escape-rel"), "dryRun": true,
				"edits": []map[string]any{{"oldText": f.secret, "newText": "overwritten"}}}
		}},
		{"write_file", "escape-abs", func(f *fsFiles) map[string]any {
			return map[string]any{"path": filepath.Join(f.dir, "escape-abs"), "content": "overwritten through a link"}
		}},
		{"write_file", "escape-dir/planted.txt", func(f *fsFiles) map[string]any {
			return map[string]any{"path": filepath.Join(f.dir, "escape-dir", "planted.txt"), "content": "planted through a link"}
		}},
	}
}
