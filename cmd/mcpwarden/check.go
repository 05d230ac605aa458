package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mcpwarden/mcpwarden/profile"
	"github.com/mcpwarden/mcpwarden/sandbox"
)

// checkFlagSet is the flag set of "mcpwarden check", binding into asJSON.
func checkFlagSet(asJSON *bool) *flag.FlagSet {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.BoolVar(asJSON, "json", false, "print the report as JSON")
	return fs
}

// checkReport is what "check --json" prints.
type checkReport struct {
	Features sandbox.Features `json:"features"`
	Complete bool             `json:"complete"`
	Profiles []profileReport  `json:"profiles"`
}

// profileReport says what one profile gets on this machine.
type profileReport struct {
	Name    string   `json:"name"`
	Gets    []string `json:"gets"`
	Missing []string `json:"missing,omitempty"`
}

func checkCommand(args []string, stdout, stderr io.Writer) int {
	asJSON := new(bool)
	fs := checkFlagSet(asJSON)
	if code := parseFlags("check", fs, args, stdout, stderr); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, commandDoc("check"), "check takes no arguments, got %q", fs.Arg(0))
	}
	f := sandbox.Probe()
	r := checkReport{Features: f, Complete: f.Complete()}
	ps, err := profile.Builtins()
	if err != nil {
		diag(stderr, "%v", err)
		return 1
	}
	for _, p := range ps {
		r.Profiles = append(r.Profiles, profileOutlook(p, f))
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return 1
		}
	} else {
		printCheck(stdout, r)
	}
	if !r.Complete {
		return 1
	}
	return 0
}

func printCheck(w io.Writer, r checkReport) {
	f := r.Features
	fmt.Fprintf(w, "kernel %s\n", f.Kernel)
	line := func(name string, ok bool, detail, reason, hint string) {
		mark := "yes"
		if !ok {
			mark = "NO "
		}
		fmt.Fprintf(w, "  %-16s %s %s\n", name, mark, detail)
		if reason != "" {
			fmt.Fprintf(w, "  %-16s     why: %s\n", "", reason)
		}
		if hint != "" {
			fmt.Fprintf(w, "  %-16s     fix: %s\n", "", hint)
		}
	}
	line("user namespaces", f.UserNamespaces.Available, "", f.UserNamespaces.Reason, f.UserNamespaces.Hint)
	ll := fmt.Sprintf("ABI %d", f.Landlock.ABI)
	if len(f.Landlock.Missing) > 0 {
		ll += "; lacks " + strings.Join(f.Landlock.Missing, ", ")
	}
	line("landlock", f.Landlock.Available, ll, f.Landlock.Reason, f.Landlock.Hint)
	tcp, tcpWhy, tcpFix := landlockTCP(f)
	line("landlock tcp", tcp, "network = \"proxy\": TCP connect only to the egress proxy's port", tcpWhy, tcpFix)
	line("seccomp", f.Seccomp.Available, fmt.Sprintf("libseccomp %s, API %d", f.Seccomp.Library, f.Seccomp.API), f.Seccomp.Reason, f.Seccomp.Hint)
	line("cgroup v2 limits", f.Cgroup.Available, fmt.Sprintf("layout %s", f.Cgroup.Layout), f.Cgroup.Reason, f.Cgroup.Hint)
	fmt.Fprintln(w, "profiles:")
	for _, p := range r.Profiles {
		fmt.Fprintf(w, "  %-12s gets: %s\n", p.Name, strings.Join(p.Gets, ", "))
		if len(p.Missing) > 0 {
			fmt.Fprintf(w, "  %-12s lacks: %s\n", "", strings.Join(p.Missing, ", "))
		}
	}
}

// profileOutlook says which protections a profile gets with these
// features. Without user namespaces a profile cannot start except with
// --best-effort, which is said too.
func profileOutlook(p *profile.Profile, f sandbox.Features) profileReport {
	r := profileReport{Name: p.Server.Name}
	add := func(ok bool, what string) {
		if ok {
			r.Gets = append(r.Gets, what)
		} else {
			r.Missing = append(r.Missing, what)
		}
	}
	add(f.UserNamespaces.Available, "namespaces and private file system view")
	if p.Sandbox.Network != sandbox.NetworkHost {
		add(f.UserNamespaces.Available, "no network ("+p.Sandbox.Network+")")
	}
	add(f.Landlock.Available, fmt.Sprintf("landlock (ABI %d)", f.Landlock.ABI))
	if p.Sandbox.Network == sandbox.NetworkProxy {
		tcp, _, _ := landlockTCP(f)
		add(tcp, "landlock TCP rule: connect only to the egress proxy")
	}
	add(f.Seccomp.Available, "seccomp")
	r.Gets = append(r.Gets, "rlimits")
	add(f.Cgroup.Available, "cgroup memory/pids limits")
	return r
}

// landlockTCP says whether Landlock can restrict TCP connect (ABI 4),
// the second wall behind the network namespace with network = "proxy".
func landlockTCP(f sandbox.Features) (ok bool, why, fix string) {
	if f.Landlock.ABI >= 4 {
		return true, "", ""
	}
	return false, fmt.Sprintf("Landlock ABI %d has no TCP rules (ABI 4)", f.Landlock.ABI),
		"Linux 6.7 or later; until then the network namespace alone keeps a proxied server from connecting elsewhere"
}
