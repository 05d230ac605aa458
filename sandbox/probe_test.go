package sandbox

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	f := Probe()
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("uid %d: %s", os.Geteuid(), b)

	if f.Kernel == "" {
		t.Error("no kernel release")
	}
	type reasoned struct {
		name              string
		ok                bool
		reason, hint      string
		wantHintIfMissing bool
	}
	for _, r := range []reasoned{
		{"user namespaces", f.UserNamespaces.Available, f.UserNamespaces.Reason, f.UserNamespaces.Hint, true},
		{"landlock", f.Landlock.Available, f.Landlock.Reason, f.Landlock.Hint, true},
		{"seccomp", f.Seccomp.Available, f.Seccomp.Reason, f.Seccomp.Hint, true},
		{"cgroup", f.Cgroup.Available, f.Cgroup.Reason, f.Cgroup.Hint, false},
	} {
		if !r.ok && (r.reason == "" || r.wantHintIfMissing && r.hint == "") {
			t.Errorf("%s unavailable without a reason and hint: %q, %q", r.name, r.reason, r.hint)
		}
		if r.ok && r.reason != "" {
			t.Errorf("%s available with a reason: %q", r.name, r.reason)
		}
	}
	if f.Complete() != (f.UserNamespaces.Available && f.Landlock.Available && f.Seccomp.Available && f.Cgroup.Available) {
		t.Error("Complete() disagrees with the features")
	}

	abi, _ := landlockABI()
	if f.Landlock.ABI != abi || f.Landlock.Available != (abi >= landlockFullABI) {
		t.Errorf("landlock: %+v, kernel ABI %d", f.Landlock, abi)
	}
	// The other tests of this package need seccomp filters; so does the
	// sandbox on every kernel Landlock runs on.
	if !f.Seccomp.Available || f.Seccomp.Library == "" || f.Seccomp.API < seccompMinAPI {
		t.Errorf("seccomp: %+v", f.Seccomp)
	}
	if f.Cgroup.Available && (!f.Cgroup.Writable || f.Cgroup.Path == "") {
		t.Errorf("cgroup available but not writable: %+v", f.Cgroup)
	}

	// util-linux's unshare is a second opinion on user namespaces.
	if path, err := exec.LookPath("unshare"); err == nil {
		err := exec.Command(path, "--user", "--map-current-user", "--mount", "--pid", "--ipc", "--uts",
			"--cgroup", "--net", "--fork", "true").Run()
		if (err == nil) != f.UserNamespaces.Available {
			t.Errorf("unshare(1) says %v, Probe says available=%v", err, f.UserNamespaces.Available)
		}
	}

	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"kernel", "user_namespaces", "landlock", "seccomp", "cgroup"} {
		if _, ok := fields[key]; !ok {
			t.Errorf("JSON lacks %q", key)
		}
	}
	if !strings.Contains(string(b), `"abi":`) {
		t.Error("JSON lacks the Landlock ABI")
	}
}

// TestProbeUserNamespacesRefused shows that the probe notices when
// namespaces are refused, here by the sandbox's own seccomp filter as a
// container's would.
func TestProbeUserNamespacesRefused(t *testing.T) {
	t.Log(runHelper(t, "TestHelperProbe", "refused", nil, false))
}

func TestHelperProbe(t *testing.T) {
	helperScenario(t)
	if err := installSeccomp(nil); err != nil {
		t.Fatal(err)
	}
	f := probeUserNamespaces()
	if f.Available || !strings.Contains(f.Reason, "seccomp") || f.Hint == "" {
		t.Errorf("probe under a seccomp filter: %+v", f)
	}
	t.Logf("%+v", f)
}

func TestCgroupMounts(t *testing.T) {
	for _, tc := range []struct {
		name, mountinfo string
		v2              string
		v1              bool
	}{
		{"unified", "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n", "/sys/fs/cgroup", false},
		{"hybrid", "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
			"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" +
			"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n", "/sys/fs/cgroup/unified", true},
		{"legacy", "32 31 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n", "", true},
		{"none", "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n", "", false},
		{"escaped", "35 24 0:30 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n", "/mnt/my cgroups", false},
		{"garbage", "not a mountinfo line\n - \n", "", false},
	} {
		v2, v1 := cgroupMounts(tc.mountinfo)
		if v2 != tc.v2 || v1 != tc.v1 {
			t.Errorf("%s: cgroupMounts = %q, %v; want %q, %v", tc.name, v2, v1, tc.v2, tc.v1)
		}
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{
		"/plain":        "/plain",
		`/a\040b`:       "/a b",
		`/tab\011x`:     "/tab\tx",
		`/back\134path`: `/back\path`,
		`/short\04`:     `/short\04`,
		`/bad\999`:      `/bad\999`,
		`/end\`:         `/end\`,
	} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}
