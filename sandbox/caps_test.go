package sandbox

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// dropPrivileges runs on a thread of the test process that then ends
// (a goroutine that exits while locked takes its thread with it). As
// root, this shows the securebits at work: a child that execs as uid 0
// gets no capabilities.
func TestDropPrivileges(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs CAP_SETPCAP; the sandbox tests cover unprivileged users")
	}
	done := make(chan error, 1)
	var status []byte
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := dropPrivileges(); err != nil {
			done <- err
			return
		}
		var err error
		status, err = exec.Command("/bin/cat", "/proc/self/status").Output()
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fields := statusFields(string(status))
	for _, f := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if fields[f] != "0000000000000000" {
			t.Errorf("child of uid %s: %s = %s", strings.Fields(fields["Uid"])[0], f, fields[f])
		}
	}
	if fields["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs = %s", fields["NoNewPrivs"])
	}
	// The rest of the process keeps its capabilities.
	if err := checkNoPrivileges(); err == nil {
		t.Error("another thread lost its privileges too")
	}
}
