package main

import (
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"

	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/egress"
	"github.com/mcpwarden/mcpwarden/profile"
	"github.com/mcpwarden/mcpwarden/sandbox"
)

// egressRun is the egress proxy of a sandbox with network = "proxy": the
// channel the init sends its listener on, the policy, and once serving,
// the server. A nil *egressRun stands for any other network mode, and
// its methods do nothing.
type egressRun struct {
	ch     *sandbox.Egress
	policy *egress.Policy
	srv    *egress.Server
	l      net.Listener
	served chan error
}

// newEgress prepares the proxy for prof, or returns nil when prof does
// not ask for one.
func newEgress(prof *profile.Profile) (*egressRun, error) {
	if prof.Sandbox.Network != sandbox.NetworkProxy {
		return nil, nil
	}
	pol, err := egress.NewPolicy(prof.Sandbox.AllowHosts, prof.Sandbox.AllowPrivate, nil)
	if err != nil {
		return nil, fmt.Errorf("profile %s: sandbox: %w", prof.Origin, err)
	}
	ch, err := sandbox.NewEgress()
	if err != nil {
		return nil, err
	}
	return &egressRun{ch: ch, policy: pol}, nil
}

// channel is what sandbox.Config.Egress gets.
func (e *egressRun) channel() *sandbox.Egress {
	if e == nil {
		return nil
	}
	return e.ch
}

// proxyURL is the proxy as the server reaches it inside the sandbox.
func proxyURL(scheme string) string {
	return fmt.Sprintf("%s://127.0.0.1:%d", scheme, sandbox.EgressPort)
}

// env returns the server's environment with the proxy variables set,
// replacing any the user's environment passed through. Lower-case
// variants are read by curl, wget, Python and Go before or instead of
// upper-case ones; npm reads npm_config_*; Node's own fetch reads the
// standard ones when NODE_USE_ENV_PROXY is set (Node 24 and later).
// ALL_PROXY names the HTTP proxy too, not SOCKS, though the proxy speaks
// both on its port: Python's httpx (the HTTP client of the MCP Python SDK
// and most Python servers) builds a transport for every proxy variable
// when it starts, and one for socks5h:// fails without the optional
// socksio package, so the server would fail before its first request.
// A client that wants SOCKS can be pointed at socks5h://127.0.0.1:3128.
// NO_PROXY names the sandbox's own loopback, which is the server's and
// not the host's: a request there must not reach the proxy, which would
// connect to the host's loopback if allow_private opened it.
func (e *egressRun) env(env []string) []string {
	if e == nil {
		return env
	}
	httpURL := proxyURL("http")
	set := map[string]string{
		"HTTPS_PROXY": httpURL, "HTTP_PROXY": httpURL, "ALL_PROXY": httpURL,
		"NO_PROXY":               "localhost,127.0.0.1,::1",
		"NODE_USE_ENV_PROXY":     "1",
		"npm_config_proxy":       httpURL,
		"npm_config_https_proxy": httpURL,
	}
	for _, k := range []string{"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"} {
		set[strings.ToLower(k)] = set[k]
	}
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if _, ours := set[name]; !ours {
			out = append(out, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		out = append(out, k+"="+set[k])
	}
	return out
}

// serve takes the listener from the started sandbox and serves it,
// writing an audit record for every connection and a diagnostic for
// every refusal.
func (e *egressRun) serve(log *audit.Log, stderr io.Writer) error {
	if e == nil {
		return nil
	}
	l, err := e.ch.Listener()
	if err != nil {
		return err
	}
	srv, err := egress.New(egress.Config{Policy: e.policy, Audit: func(r egress.Record) {
		switch {
		case !r.Allowed && strings.HasPrefix(r.Reason, "refused: "):
			diag(stderr, "egress: %s", r.Reason)
		case !r.Allowed:
			diag(stderr, "egress: refused %s: %s", egressTarget(r), r.Reason)
		}
		if err := log.Write(egressRecord(r)); err != nil {
			diag(stderr, "egress: %v", err)
		}
	}})
	if err != nil {
		l.Close()
		return err
	}
	e.srv, e.l, e.served = srv, l, make(chan error, 1)
	go func() { e.served <- srv.Serve(l) }()
	return nil
}

// close stops the proxy and releases the channel.
func (e *egressRun) close() {
	if e == nil {
		return
	}
	if e.l != nil {
		e.l.Close()
		e.srv.Close()
		<-e.served // after Close, Serve returns nil or the accept error of the closed listener
	}
	e.ch.Close()
}

func egressTarget(r egress.Record) string {
	if r.Host == "" {
		return "a connection"
	}
	return fmt.Sprintf("%s:%d", r.Host, r.Port)
}

// egressRecord turns the proxy's record into an audit record.
func egressRecord(r egress.Record) audit.Record {
	rec := audit.Record{Event: audit.EventEgress, Target: egressTarget(r), Reason: r.Reason, Duration: r.Duration,
		Decision: audit.DecisionDeny,
		Egress:   &audit.Egress{Protocol: r.Protocol, BytesUp: r.Up, BytesDown: r.Down}}
	if r.Allowed {
		rec.Decision = audit.DecisionAllow
	}
	if r.Addr.IsValid() {
		rec.Egress.Address = r.Addr.String()
	}
	return rec
}
