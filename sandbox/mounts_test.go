package sandbox

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writeFiles creates files (path relative to dir → contents) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// visibleOf runs a check of each path inside the sandbox and returns
// those that exist there.
func visibleOf(t *testing.T, cfg Config, paths ...string) []string {
	t.Helper()
	var script strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&script, "if test -e '%s' || test -L '%s'; then echo '%s'; fi\n", p, p, p)
	}
	cfg.Argv = []string{"/bin/sh", "-c", script.String()}
	return strings.Fields(mustRun(t, cfg).stdout)
}

func TestSecretsAbsent(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"secret": "s"})
	cfg := shConfig(t, "")
	writeFiles(t, cfg.Home, map[string]string{"secret": "s", ".ssh/id_ed25519": "k"})
	paths := []string{
		"/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ssh", "/etc/machine-id", "/etc/security",
		"/etc/ssl/private/x", "/root/.bash_history", "/home", "/var", "/run", "/srv", "/boot", "/sys",
		filepath.Join(outside, "secret"), outside,
		filepath.Join(cfg.Home, "secret"), filepath.Join(cfg.Home, ".ssh"),
	}
	if root := os.Getenv("HOME"); root != "" && root != "/" {
		paths = append(paths, root+"/.profile")
	}
	if got := visibleOf(t, cfg, paths...); len(got) > 0 {
		t.Fatalf("visible inside the sandbox: %v", got)
	}
	// Control: what the profile lists is there.
	cfg.Read = []string{outside}
	if got := visibleOf(t, cfg, filepath.Join(outside, "secret")); len(got) != 1 {
		t.Fatalf("a listed file is not visible")
	}
}

func TestReadOnlyAndWritable(t *testing.T) {
	ro, rw := t.TempDir(), t.TempDir()
	writeFiles(t, ro, map[string]string{"file": "ro data"})
	cfg := shConfig(t, fmt.Sprintf(`
cd %[1]s
cat file; echo
touch new 2>/dev/null && echo "created in read"
rm -f file 2>/dev/null; test -e file || echo "removed from read"
echo x >>file 2>/dev/null && echo "appended in read"
mkdir d 2>/dev/null && echo "mkdir in read"
cd %[2]s
echo data >new && mkdir sub && echo ok >sub/f && echo written
`, ro, rw))
	cfg.Read, cfg.Write = []string{ro}, []string{rw}
	r := mustRun(t, cfg)
	if r.stdout != "ro data\nwritten\n" {
		t.Fatalf("output %q, stderr %q", r.stdout, r.stderr)
	}
	if data, err := os.ReadFile(filepath.Join(rw, "new")); err != nil || string(data) != "data\n" {
		t.Fatalf("the host sees %q, %v in the write directory", data, err)
	}
}

func TestSystemDirectoriesReadOnly(t *testing.T) {
	var script strings.Builder
	for _, p := range []string{"/x", "/etc/x", "/usr/x", "/dev/x", "/proc/x", "/bin/x", "/etc/passwd", "/etc/hosts"} {
		fmt.Fprintf(&script, "(echo >>%s) 2>/dev/null && echo 'wrote %s'\n", p, p)
	}
	script.WriteString("mkdir /etc/d 2>/dev/null && echo 'mkdir /etc/d'\ntrue\n")
	if r := mustRun(t, shConfig(t, script.String())); r.stdout != "" {
		t.Fatalf("writable: %s", r.stdout)
	}
}

// A link inside a writable directory that points outside it leads
// nowhere: the view holds only what was listed.
func TestSymlinksLeadNowhere(t *testing.T) {
	outside, rw := t.TempDir(), t.TempDir()
	writeFiles(t, outside, map[string]string{"secret": "s"})
	rel, err := filepath.Rel(rw, outside)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"abs": outside, "rel": rel, "shadow": "/etc/shadow", "file": filepath.Join(outside, "secret")}
	for name, to := range links {
		if err := os.Symlink(to, filepath.Join(rw, name)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := shConfig(t, "")
	cfg.Write = []string{rw}
	got := visibleOf(t, cfg,
		filepath.Join(rw, "abs", "secret"), filepath.Join(rw, "rel", "secret"),
		filepath.Join(rw, "file"), filepath.Join(rw, "shadow"), outside)
	// The links themselves are there (test -L); their targets are not.
	for _, p := range got {
		if strings.Contains(p, "secret") || p == outside {
			t.Errorf("reachable through a link: %s", p)
		}
	}
	r := run(t, shConfig(t, "cat "+filepath.Join(rw, "file")+" "+filepath.Join(rw, "abs", "secret")), "")
	if r.code == 0 || strings.Contains(r.stdout, "s") {
		t.Fatalf("read through links: status %d, output %q", r.code, r.stdout)
	}
}

// A listed path that is itself a link is shown where it leads, and the
// link is recreated where the sandbox owns the directory.
func TestListedLinkResolved(t *testing.T) {
	base := t.TempDir()
	writeFiles(t, base, map[string]string{"real/file": "data"})
	link := filepath.Join(base, "link")
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	cfg := shConfig(t, fmt.Sprintf("cat %s/file %s/real/file", link, base))
	cfg.Read = []string{link}
	if r := mustRun(t, cfg); r.stdout != "datadata" {
		t.Fatalf("output %q", r.stdout)
	}
}

func TestHide(t *testing.T) {
	rw := t.TempDir()
	writeFiles(t, rw, map[string]string{"keys/id": "key", "keys/inner/x": "x", "token": "tok", "public": "p"})
	cfg := shConfig(t, fmt.Sprintf(`
cd %s
ls -A keys
cat token
echo overwrite >token 2>/dev/null
touch keys/new 2>/dev/null && echo "created in hidden"
test -e keys/inner/x && echo "inner visible"
cat public
`, rw))
	cfg.Write = []string{rw, filepath.Join(rw, "keys", "inner")}
	cfg.Hide = []string{filepath.Join(rw, "keys"), filepath.Join(rw, "token"), filepath.Join(rw, "missing")}
	r := mustRun(t, cfg)
	if r.stdout != "p" {
		t.Fatalf("output %q (want only the public file's contents); stderr %q", r.stdout, r.stderr)
	}
	if data, _ := os.ReadFile(filepath.Join(rw, "token")); string(data) != "tok" {
		t.Fatalf("hidden file changed to %q", data)
	}
}

func TestPrivateTmp(t *testing.T) {
	host, err := os.CreateTemp("", "mcpwarden-host-")
	if err != nil {
		t.Fatal(err)
	}
	host.Close()
	defer os.Remove(host.Name())
	inside := filepath.Join(os.TempDir(), "mcpwarden-inside-"+strconv.Itoa(os.Getpid()))
	defer os.Remove(inside)
	r := mustRun(t, shConfig(t, fmt.Sprintf(`test -e %s && echo visible; echo x >%s && echo written; ls -A /tmp`, host.Name(), inside)))
	if strings.Contains(r.stdout, "visible") || !strings.Contains(r.stdout, "written") {
		t.Fatalf("output %q", r.stdout)
	}
	if _, err := os.Stat(inside); err == nil {
		t.Fatal("a file written to the sandbox's /tmp appeared on the host")
	}
}

func TestNetwork(t *testing.T) {
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("needs bash for /dev/tcp")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	script := fmt.Sprintf(`
while read -r l; do case "$l" in *:*) echo "iface ${l%%%%:*}";; esac; done </proc/net/dev
(exec 3<>/dev/tcp/127.0.0.1/%d) 2>/dev/null && echo connected; true`, port)
	cfg := shConfig(t, "")
	cfg.Argv = []string{"/bin/bash", "-c", script}

	t.Run("none", func(t *testing.T) {
		r := mustRun(t, cfg)
		if r.stdout != "iface lo\n" {
			t.Fatalf("output %q; want only lo and no connection", r.stdout)
		}
	})
	t.Run("host", func(t *testing.T) {
		cfg.Network = NetworkHost
		r := mustRun(t, cfg)
		if !strings.Contains(r.stdout, "connected") {
			t.Fatalf("output %q; want the host's network", r.stdout)
		}
	})
}

// Kernel knobs under /proc stay read-only, which matters most when root
// runs mcpwarden: uid 0 inside is uid 0 outside.
func TestProcKnobsReadOnly(t *testing.T) {
	script := `
(echo h >/proc/sysrq-trigger) 2>/dev/null && echo "sysrq written"
v=$(cat /proc/sys/vm/overcommit_ratio); (echo "$v" >/proc/sys/vm/overcommit_ratio) 2>/dev/null && echo "sysctl written"
(echo 1 >/proc/irq/default_smp_affinity) 2>/dev/null && echo "irq written"
for f in /proc/keys /proc/timer_list /proc/kcore /proc/sched_debug; do test -s $f && echo "readable $f"; done
for d in /proc/acpi /proc/scsi /proc/asound; do test -d $d && ls -A $d; done
true`
	if r := mustRun(t, shConfig(t, script)); r.stdout != "" {
		t.Fatalf("output %q", r.stdout)
	}
}

func TestDevMinimal(t *testing.T) {
	script := `
ls -A /dev | tr '\n' ' '; echo
echo x >/dev/null && head -c 4 /dev/urandom | wc -c
echo x >/dev/shm/f && echo shm
(touch /dev/x) 2>/dev/null && echo "created in /dev"
true`
	r := mustRun(t, shConfig(t, script))
	want := "fd full null random shm stderr stdin stdout urandom zero \n4\nshm\n"
	if r.stdout != want {
		t.Fatalf("output %q, want %q; stderr %q", r.stdout, want, r.stderr)
	}
}

func TestEtcAccounts(t *testing.T) {
	r := mustRun(t, shConfig(t, `cut -d: -f3 /etc/passwd; echo --; cut -d: -f3 /etc/group; echo --; id -un`))
	parts := strings.Split(r.stdout, "--\n")
	if len(parts) != 3 {
		t.Fatalf("output %q", r.stdout)
	}
	for i, keep := range [][]string{{"0", strconv.Itoa(os.Getuid()), "65534"}, {"0", strconv.Itoa(os.Getgid()), "65534"}} {
		for _, id := range strings.Fields(parts[i]) {
			if !slices.Contains(keep, id) {
				t.Errorf("account %s of the host shows in the sandbox", id)
			}
		}
	}
	if strings.TrimSpace(parts[2]) == "" {
		t.Error("the user has no name inside")
	}
}

func TestFilterIDFile(t *testing.T) {
	in := "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n" +
		"bob:x:1001:1001::/home/bob:/bin/sh\nbroken\n# comment\nnobody:x:65534:65534::/:/bin/false\n"
	got := string(filterIDFile([]byte(in), []int{0, 1000, 65534}))
	want := "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestWorkDir(t *testing.T) {
	ro, rw := t.TempDir(), t.TempDir()
	tests := []struct {
		name  string
		read  []string
		write []string
		args  []string
		want  string
	}{
		{"first write directory", []string{ro}, []string{rw}, nil, rw},
		{"argument directory", []string{ro}, nil, []string{"x", ro}, ro},
		{"fallback", nil, nil, nil, "/tmp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := shConfig(t, "")
			cfg.Argv = append([]string{"/bin/sh", "-c", "pwd"}, tt.args...)
			cfg.Read, cfg.Write = tt.read, tt.write
			if r := mustRun(t, cfg); r.stdout != tt.want+"\n" {
				t.Fatalf("working directory %q, want %q", r.stdout, tt.want)
			}
		})
	}
}

func TestHomePrivate(t *testing.T) {
	cfg := shConfig(t, `echo x >"$HOME/f" && cat "$HOME/f"; ls -A "$HOME"`)
	cfg.Env = append(cfg.Env, "HOME="+cfg.Home)
	writeFiles(t, cfg.Home, map[string]string{".bashrc": "host"})
	r := mustRun(t, cfg)
	if r.stdout != "x\nf\n" {
		t.Fatalf("output %q", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(cfg.Home, "f")); err == nil {
		t.Fatal("the private home wrote to the host's")
	}
	// Listed, the home is the host's.
	cfg.Write = []string{cfg.Home}
	if r := mustRun(t, cfg); !strings.Contains(r.stdout, ".bashrc") {
		t.Fatalf("listed home: output %q", r.stdout)
	}
}

// The executable's directory is shown so that its neighbours can be
// loaded, but an executable in the home directory shows only itself.
func TestExecutableShown(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"lib.txt": "neighbour"})
	server := filepath.Join(dir, "server")
	if err := os.WriteFile(server, []byte("#!/bin/sh\ncat \"$(dirname \"$0\")/lib.txt\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := shConfig(t, "")
	cfg.Argv = []string{server}
	if r := mustRun(t, cfg); r.stdout != "neighbour" {
		t.Fatalf("output %q", r.stdout)
	}

	home := cfg.Home
	writeFiles(t, home, map[string]string{"secret": "s"})
	inHome := filepath.Join(home, "server")
	if err := os.WriteFile(inHome, []byte("#!/bin/sh\ntest -e \"$(dirname \"$0\")/secret\" && echo visible; echo ran\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.Argv = []string{inHome}
	if r := mustRun(t, cfg); r.stdout != "ran\n" {
		t.Fatalf("executable in home: output %q", r.stdout)
	}
}

func TestPlanDropsRedundantMounts(t *testing.T) {
	cfg := Config{Argv: []string{"/bin/sh"}, Read: []string{"/usr", "/usr/lib", "/bin", "/etc/hosts"}}
	v, err := planView(cfg, ids{os.Getuid(), os.Getgid()}, "/")
	if err != nil {
		t.Fatal(err)
	}
	targets := make(map[string]int)
	for _, m := range v.mounts {
		targets[m.target]++
		if m.target == "/usr/lib" || m.target == "/usr/bin" {
			t.Errorf("%s is mounted again inside /usr", m.target)
		}
		if m.kind == bindRO && m.target != "/" && !strings.HasPrefix(m.target, "/etc/") && m.target != "/usr" &&
			!slices.Contains(baseDirs, m.target) {
			t.Errorf("unexpected read-only mount %s", m.target)
		}
	}
	for target, n := range targets {
		if n > 1 {
			t.Errorf("%s mounted %d times", target, n)
		}
	}
	if v.dir != "/tmp" {
		t.Errorf("working directory %q", v.dir)
	}
}

// A server that makes a user namespace of its own (with every capability
// in it) still cannot undo the view: not unmount a hidden path, not
// remount a read-only one writable, not mount over the system's files.
func TestViewCannotBeUndone(t *testing.T) {
	if _, err := os.Stat("/usr/bin/unshare"); err != nil {
		t.Skip("needs unshare(1)")
	}
	ro, rw := t.TempDir(), t.TempDir()
	writeFiles(t, rw, map[string]string{"keys/id": "secret"})
	script := fmt.Sprintf(`
umount -l %[2]s/keys; umount -l /etc/ssl/private
mount -o remount,bind,rw %[1]s
mount -t tmpfs x /etc
cat %[2]s/keys/id
touch %[1]s/new
test -e /etc/hosts || echo "etc replaced"
true`, ro, rw)
	cfg := shConfig(t, "")
	cfg.Argv = []string{"/usr/bin/unshare", "-Urm", "--propagation", "unchanged", "/bin/sh", "-c", script}
	cfg.Read, cfg.Write, cfg.Hide = []string{ro}, []string{rw}, []string{filepath.Join(rw, "keys")}
	r := run(t, cfg, "")
	if strings.Contains(r.stdout, "secret") || strings.Contains(r.stdout, "replaced") {
		t.Fatalf("the view was undone: %q", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(ro, "new")); err == nil {
		t.Fatal("wrote to a read-only directory")
	}
	// Without a user namespace of its own, the same.
	cfg.Argv = []string{"/bin/sh", "-c", script}
	r = run(t, cfg, "")
	if strings.Contains(r.stdout, "secret") || strings.Contains(r.stdout, "replaced") {
		t.Fatalf("the view was undone: %q", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(ro, "new")); err == nil {
		t.Fatal("wrote to a read-only directory")
	}
}
