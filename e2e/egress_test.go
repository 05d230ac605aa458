package e2e_test

// The egress suite runs a sandboxed server with network = "proxy" against
// test hosts in network namespaces the test creates: mcpwarden runs in
// namespace C (through `ip netns exec`, which also gives it C's own
// /etc/hosts), joined by a veth pair to namespace H, where HTTPS test
// hosts listen on addresses that exist only there. The server (the
// escaper) reaches the allowed host through HTTPS_PROXY, is refused the
// others, and gets nothing when it ignores the proxy variables and
// connects directly.

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sys/unix"

	"github.com/mcpwarden/mcpwarden/urlguard"
)

// Addresses of the test network; they exist only in its namespaces.
const (
	egressClientAddr  = "11.0.0.1"
	egressAllowedAddr = "11.0.0.2"
	egressOtherAddr   = "11.0.0.3"
	egressPrivateAddr = "10.0.0.2"
)

// egressNet creates namespaces C and H and returns C's name.
func egressNet(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the test creates network namespaces with ip netns")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs ip (iproute2) to create test network namespaces")
	}
	base := fmt.Sprintf("mcpw-e2e-%d", os.Getpid())
	c, h := base+"-c", base+"-h"
	etc := filepath.Join("/etc/netns", c)
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", c).Run()
		_ = exec.Command("ip", "netns", "del", h).Run()
		_ = os.RemoveAll(etc)
	})
	// ip netns exec bind-mounts these over /etc/hosts and
	// /etc/resolv.conf for mcpwarden: the test names resolve to the test
	// addresses, and nothing else resolves.
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	hosts := fmt.Sprintf("127.0.0.1 localhost\n%s example.com\n%s other.example.com\n%s private.example.com\n",
		egressAllowedAddr, egressOtherAddr, egressPrivateAddr)
	if err := os.WriteFile(filepath.Join(etc, "hosts"), []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"netns", "add", c}, {"netns", "add", h},
		{"link", "add", "vc", "netns", c, "type", "veth", "peer", "name", "vh", "netns", h},
		{"-n", c, "link", "set", "lo", "up"}, {"-n", h, "link", "set", "lo", "up"},
		{"-n", c, "addr", "add", egressClientAddr + "/24", "dev", "vc"},
		{"-n", h, "addr", "add", egressAllowedAddr + "/24", "dev", "vh"},
		{"-n", h, "addr", "add", egressOtherAddr + "/32", "dev", "vh"},
		{"-n", h, "addr", "add", egressPrivateAddr + "/32", "dev", "vh"},
		{"-n", c, "link", "set", "vc", "up"}, {"-n", h, "link", "set", "vh", "up"},
		{"-n", c, "route", "add", egressPrivateAddr + "/32", "dev", "vc"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return base
}

// inNetns runs f on a thread in namespace ns; sockets it makes stay there.
func inNetns(t *testing.T, ns string, f func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Errorf("setns back: %v", err) // the thread stays locked and is retired
		return
	}
	runtime.UnlockOSThread()
}

// egressHosts starts an HTTPS host on port 443 of each address in H, each
// answering with its address, and returns the PEM file of their
// certificate (httptest's, valid for example.com and *.example.com).
func egressHosts(t *testing.T, h string) string {
	t.Helper()
	var caFile string
	for _, addr := range []string{egressAllowedAddr, egressOtherAddr, egressPrivateAddr} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "served-by %s", addr)
		}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.Listener.Close()
		var err error
		inNetns(t, h, func() { srv.Listener, err = net.Listen("tcp", addr+":443") })
		if err != nil {
			t.Fatal(err)
		}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		if caFile == "" {
			caFile = filepath.Join(t.TempDir(), "ca.pem")
			b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
			if err := os.WriteFile(caFile, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return caFile
}

// proxyProfile writes a profile with network = "proxy" and allowHosts,
// granting g.
func proxyProfile(t *testing.T, allowHosts, allowPrivate []string, g ...grant) string {
	t.Helper()
	path := writeProfile(t, "[tools]\nallow = [\"*\"]\n", g...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sb := fmt.Sprintf("network = \"proxy\"\nallow_hosts = %s\n", tomlList(allowHosts))
	if len(allowPrivate) > 0 {
		sb += fmt.Sprintf("allow_private = %s\n", tomlList(allowPrivate))
	}
	s := strings.Replace(string(b), "network = \"none\"\n", sb, 1)
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// egressAudit is an egress line of the audit log.
type egressAudit struct {
	Event     string `json:"event"`
	Target    string `json:"target"`
	Decision  string `json:"decision"`
	Reason    string `json:"reason"`
	Protocol  string `json:"protocol"`
	Address   string `json:"address"`
	BytesUp   int64  `json:"bytes_up"`
	BytesDown int64  `json:"bytes_down"`
}

func readEgressAudit(t *testing.T, path string) map[string]egressAudit {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]egressAudit{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		var r egressAudit
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if r.Event == "egress" {
			out[r.Target] = r
		}
	}
	return out
}

// TestEgressProxy runs the scenario with mcpwarden as root and, since
// most people run it so, as an unprivileged user (uid 65534, through user
// namespaces), in the same test network.
func TestEgressProxy(t *testing.T) {
	base := egressNet(t)
	c, h := base+"-c", base+"-h"
	caFile := egressHosts(t, h)
	t.Run("Root", func(t *testing.T) {
		prof := proxyProfile(t, []string{"example.com:443", "private.example.com:443"}, nil, grant{read: []string{caFile}})
		auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
		egressScenario(t, c, caFile, auditLog, append([]string{"ip", "netns", "exec", c}, wardenArgv(prof, auditLog, nil, escaperBin)...))
	})
	t.Run("Nobody", func(t *testing.T) {
		dir := nobodyDir(t)
		ca := copyInto(t, caFile, dir)
		prof := copyInto(t, proxyProfile(t, []string{"example.com:443", "private.example.com:443"}, nil, grant{read: []string{ca}}), dir)
		warden := copyInto(t, wardenBin, dir)
		if init := filepath.Join(filepath.Dir(wardenBin), "mcpwarden-init"); fileExists(init) {
			copyInto(t, init, dir)
		}
		escaper := copyInto(t, escaperBin, dir)
		auditLog := filepath.Join(dir, "state", "audit.jsonl")
		argv := []string{"ip", "netns", "exec", c, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			"env", "-i", "PATH=/usr/bin:/bin", "HOME=" + filepath.Join(dir, "state"),
			warden, "run", "--profile", prof, "--audit-log", auditLog, "--pin-dir", filepath.Join(dir, "state", "pins"), "--", escaper}
		egressScenario(t, c, ca, auditLog, argv)
	})
}

// nobodyDir is a directory uid 65534 can read, with a "state"
// subdirectory it owns.
func nobodyDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mcpwarden-egress-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	return dir
}

// copyInto copies src into dir, keeping its mode, readable by all.
func copyInto(t *testing.T, src, dir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, b, st.Mode().Perm()|0o444); err != nil {
		t.Fatal(err)
	}
	return dst
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// egressScenario starts argv (mcpwarden running the escaper in namespace
// c) and checks what the escaper reaches.
func egressScenario(t *testing.T, c, caFile, auditLog string, argv []string) {
	ctx, cancel := context.WithTimeout(testContext(t), 2*time.Minute)
	defer cancel()
	cmd, stderr := newCommand(t, "mcpwarden", argv)
	cs := connectGo(t, ctx, newGoClient(&mcp.ClientOptions{}), cmd, "")

	fetch := func(url string) escapeStep {
		r, _ := callEscaper(t, ctx, cs, "fetch", map[string]any{"addr": url, "paths": []string{caFile}})
		return r.step(t, "GET ")
	}
	t.Run("AllowedHostOverHTTPS", func(t *testing.T) {
		s := fetch("https://example.com/")
		if !s.OK || !strings.HasPrefix(s.Out, "200 ") || !strings.Contains(s.Out, "served-by "+egressAllowedAddr) {
			t.Fatalf("GET https://example.com/: %v", s)
		}
	})
	t.Run("DeniedHostRefused", func(t *testing.T) {
		if s := fetch("https://other.example.com/"); s.OK {
			t.Fatalf("reached a host outside allow_hosts: %v", s)
		}
	})
	t.Run("PrivateAddressRefused", func(t *testing.T) {
		if s := fetch("https://private.example.com/"); s.OK {
			t.Fatalf("reached a private address through a name in allow_hosts: %v", s)
		}
	})
	t.Run("DirectConnectionGetsNothing", func(t *testing.T) {
		for _, addr := range []string{egressAllowedAddr + ":443", egressOtherAddr + ":443", "127.0.0.1:3129"} {
			r, _ := callEscaper(t, ctx, cs, "connect", map[string]any{"network": "tcp4", "addr": addr})
			s := r.step(t, "connect tcp ")
			if s.OK {
				t.Errorf("direct connection to %s worked", addr)
			}
			t.Logf("direct connection to %s: %s (%s)", addr, s.Errno, s.Err)
		}
		r, _ := callEscaper(t, ctx, cs, "connect", map[string]any{"network": "bind4", "addr": "127.0.0.1:8080"})
		if s := r.step(t, "bind and listen "); s.OK {
			t.Error("the server could listen on a TCP port")
		}
		// Control: from mcpwarden's own namespace the hosts answer.
		for _, addr := range []string{egressAllowedAddr + ":443", egressPrivateAddr + ":443"} {
			var conn net.Conn
			var err error
			inNetns(t, c, func() { conn, err = net.DialTimeout("tcp", addr, 5*time.Second) })
			if err != nil {
				t.Fatalf("control: %s from namespace C: %v", addr, err)
			}
			conn.Close()
		}
	})
	_ = cs.Close()
	_ = cmd.Wait()

	recs := readEgressAudit(t, auditLog)
	if r := recs["example.com:443"]; r.Decision != "allow" || r.Address != egressAllowedAddr || r.Protocol != "connect" || r.BytesUp == 0 || r.BytesDown == 0 {
		t.Errorf("audit of example.com:443: %+v", r)
	}
	if r := recs["other.example.com:443"]; r.Decision != "deny" || !strings.Contains(r.Reason, "allow_hosts") {
		t.Errorf("audit of other.example.com:443: %+v", r)
	}
	if r := recs["private.example.com:443"]; r.Decision != "deny" || !strings.Contains(r.Reason, egressPrivateAddr) {
		t.Errorf("audit of private.example.com:443: %+v", r)
	}
	if !strings.Contains(stderr.String(), "mcpwarden: egress: refused: other.example.com:443") {
		t.Errorf("no refusal on stderr:\n%s", stderr)
	}
}

// TestNpxThroughEgressProxy is the first run users make: `npx -y
// @modelcontextprotocol/server-memory` with an empty npm cache, inside the
// sandbox, where the only way to the registry is the egress proxy with
// allow_hosts = ["registry.npmjs.org:443"]. It needs the real registry and
// is skipped, saying so, where it cannot be reached.
func TestNpxThroughEgressProxy(t *testing.T) {
	const pkg = "@modelcontextprotocol/server-memory@2026.8.31"
	const registry = "registry.npmjs.org"
	ctx, cancel := context.WithTimeout(testContext(t), 4*time.Minute)
	defer cancel()
	conn, err := net.DialTimeout("tcp", registry+":443", 5*time.Second)
	if err != nil {
		t.Skipf("the npm registry is not reachable from here (%v): the npx path through the proxy is not shown", err)
	}
	conn.Close()
	// Where the registry is a mirror on a non-public address, the
	// profile has to say so, as a user's would.
	var private []string
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", registry)
	if err != nil {
		t.Fatalf("resolving %s: %v", registry, err)
	}
	for _, a := range addrs {
		if ok, why := urlguard.IsPublic(a); !ok {
			t.Logf("%s: %s; allowing it with allow_private, as a profile for this network would", registry, why)
			private = append(private, netip.PrefixFrom(a, a.BitLen()).String())
		}
	}
	cache := t.TempDir()
	env := []string{"npm_config_cache=" + cache, "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false"}
	g := grant{write: []string{cache}, env: []string{"npm_config_cache", "npm_config_update_notifier", "npm_config_fund", "npm_config_audit"},
		read: []string{"/etc/ssl", "/etc/ca-certificates", "/usr/share/ca-certificates"}}
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		env = append(env, "npm_config_cafile=/etc/ssl/certs/ca-certificates.crt")
		g.env = append(g.env, "npm_config_cafile")
	}
	prof := proxyProfile(t, []string{registry + ":443"}, private, g)
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd, stderr := newCommand(t, "mcpwarden", wardenArgv(prof, auditLog, nil, "npx", "-y", pkg), env...)
	cs := connectGo(t, ctx, newGoClient(&mcp.ClientOptions{}), cmd, "")
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v\nstderr: %s", err, stderr)
	}
	found := false
	for _, tl := range tools.Tools {
		found = found || tl.Name == "create_entities"
	}
	if !found {
		t.Fatalf("server-memory's tools missing: %v", tools.Tools)
	}
	_ = cs.Close()
	_ = cmd.Wait()
	if r := readEgressAudit(t, auditLog)[registry+":443"]; r.Decision != "allow" || r.BytesDown == 0 {
		t.Errorf("audit of %s:443: %+v", registry, r)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) == 0 {
		t.Error("the npm cache is empty: npx did not download through the proxy")
	}
}
