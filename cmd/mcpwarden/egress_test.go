package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/mcpwarden/mcpwarden/profile"
	"github.com/mcpwarden/mcpwarden/sandbox"
)

func TestEgressEnv(t *testing.T) {
	var none *egressRun
	in := []string{"PATH=/usr/bin", "HTTPS_PROXY=http://evil:1", "https_proxy=http://evil:2", "NO_PROXY=*"}
	if got := none.env(in); !slices.Equal(got, in) {
		t.Errorf("without a proxy the environment changed: %q", got)
	}
	got := (&egressRun{}).env(in)
	want := map[string]string{
		"PATH": "/usr/bin", "HTTPS_PROXY": "http://127.0.0.1:3128", "https_proxy": "http://127.0.0.1:3128",
		"HTTP_PROXY": "http://127.0.0.1:3128", "http_proxy": "http://127.0.0.1:3128",
		"ALL_PROXY": "http://127.0.0.1:3128", "all_proxy": "http://127.0.0.1:3128",
		"NO_PROXY": "localhost,127.0.0.1,::1", "no_proxy": "localhost,127.0.0.1,::1",
		"NODE_USE_ENV_PROXY": "1", "npm_config_proxy": "http://127.0.0.1:3128", "npm_config_https_proxy": "http://127.0.0.1:3128",
	}
	seen := map[string]int{}
	for _, kv := range got {
		k, v, _ := strings.Cut(kv, "=")
		seen[k]++
		if want[k] != v {
			t.Errorf("%s=%s, want %q", k, v, want[k])
		}
	}
	for k := range want {
		if seen[k] != 1 {
			t.Errorf("%s set %d times", k, seen[k])
		}
	}
}

func TestCheckReportsLandlockTCP(t *testing.T) {
	p := &profile.Profile{Server: profile.Server{Name: "p"}, Sandbox: profile.Sandbox{Network: sandbox.NetworkProxy}}
	var f sandbox.Features
	f.Landlock.Available, f.Landlock.ABI = true, 3
	if ok, why, _ := landlockTCP(f); ok || !strings.Contains(why, "ABI 3") {
		t.Errorf("ABI 3: ok %v, why %q", ok, why)
	}
	r := profileOutlook(p, f)
	if !slices.ContainsFunc(r.Missing, func(s string) bool { return strings.Contains(s, "TCP") }) {
		t.Errorf("ABI 3, proxy profile: missing %q", r.Missing)
	}
	f.Landlock.ABI = 4
	r = profileOutlook(p, f)
	if !slices.ContainsFunc(r.Gets, func(s string) bool { return strings.Contains(s, "TCP") }) {
		t.Errorf("ABI 4, proxy profile: gets %q", r.Gets)
	}
}
