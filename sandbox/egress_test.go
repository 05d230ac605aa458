package sandbox

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// proxyConfig runs script with bash (for /dev/tcp) in a sandbox with
// network = "proxy", and returns the channel its listener comes on.
func proxyConfig(t *testing.T, script string) (Config, *Egress) {
	t.Helper()
	eg, err := NewEgress()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eg.Close() })
	cfg := shConfig(t, script)
	cfg.Argv = []string{"/bin/bash", "-c", script}
	cfg.Network = NetworkProxy
	cfg.Egress = eg
	return cfg, eg
}

// startProxySandbox starts cfg and returns the listener the init sent,
// with the server's output collected in the buffers until wait returns.
func startProxySandbox(t *testing.T, cfg Config, eg *Egress) (l net.Listener, wait func() result) {
	t.Helper()
	cmd := command(t, cfg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l, err := eg.Listener()
	if err != nil {
		_ = cmd.Wait()
		t.Fatalf("Listener: %v; stderr: %s", err, stderr.String())
	}
	t.Cleanup(func() { l.Close() })
	return l, func() result {
		_ = cmd.Wait()
		return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	}
}

// The server reaches 127.0.0.1:EgressPort in its namespace, and the
// connection arrives on the listener the caller holds outside.
func TestEgressListenerReachesCaller(t *testing.T) {
	cfg, eg := proxyConfig(t, fmt.Sprintf(`exec 3<>/dev/tcp/127.0.0.1/%d && echo ping >&3 && read -r l <&3 && echo "got $l"`, EgressPort))
	l, wait := startProxySandbox(t, cfg, eg)
	if a := l.Addr().String(); a != fmt.Sprintf("127.0.0.1:%d", EgressPort) {
		t.Errorf("listener address %s", a)
	}
	served := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			served <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(testTimeout))
		line, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Fprint(c, "pong\n")
		served <- line
	}()
	r := wait()
	if got := <-served; got != "ping\n" {
		t.Errorf("the caller read %q, want ping", got)
	}
	if r.code != 0 || r.stdout != "got pong\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// Landlock (ABI 4) leaves the server the proxy's port alone: another
// loopback port is EACCES, not ECONNREFUSED, and so is binding.
func TestEgressLandlockOnlyProxyPort(t *testing.T) {
	if abi, _ := landlockABI(); abi < 4 {
		t.Skipf("Landlock ABI %d has no TCP rules (ABI 4, Linux 6.7)", abi)
	}
	cfg, eg := proxyConfig(t, `exec 3<>/dev/tcp/127.0.0.1/3129; echo "connect $?"`)
	_, wait := startProxySandbox(t, cfg, eg)
	r := wait()
	if !strings.Contains(r.stderr, "Permission denied") || !strings.Contains(r.stdout, "connect 1") {
		t.Fatalf("connecting to port 3129: stdout %q, stderr %q; want Permission denied (Landlock)", r.stdout, r.stderr)
	}
	// Control: without Landlock's network rules (host network, a port
	// nothing listens on) the same connect is refused by the peer.
	ctl := shConfig(t, `exec 3<>/dev/tcp/127.0.0.1/1; echo "connect $?"`)
	ctl.Argv = []string{"/bin/bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/1; echo "connect $?"`}
	ctl.Network = NetworkHost
	if c := run(t, ctl, ""); !strings.Contains(c.stderr, "Connection refused") {
		t.Errorf("control: stderr %q, want Connection refused", c.stderr)
	}
}

// Neither the listening socket nor the channel reaches the server.
func TestEgressDescriptorsNotInherited(t *testing.T) {
	cfg, eg := proxyConfig(t, `ls -l /proc/$$/fd/`)
	_, wait := startProxySandbox(t, cfg, eg)
	r := wait()
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "1 -> ") {
		t.Fatalf("no descriptor listing:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "socket:") {
		t.Fatalf("the server holds a socket:\n%s", r.stdout)
	}
}

// When the init ends without sending the listener (its end of the
// channel closes), the wait ends with an error rather than hanging.
func TestEgressListenerFailsWithoutInit(t *testing.T) {
	eg, err := NewEgress()
	if err != nil {
		t.Fatal(err)
	}
	defer eg.Close()
	if _, err := eg.Listener(); err == nil || !strings.Contains(err.Error(), "ended before") {
		t.Fatalf("Listener error = %v, want the sandbox ended", err)
	}
}
