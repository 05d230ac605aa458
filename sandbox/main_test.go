package sandbox

import (
	"os"
	"syscall"
	"testing"
)

// TestMain lets the test binary be the sandbox's init: Command re-executes
// /proc/self/exe, which in tests is this binary, not mcpwarden.
func TestMain(m *testing.M) {
	if IsInit(os.Args) {
		// syscall.Exit, not os.Exit: in a race-enabled binary os.Exit
		// lets the race detector sleep a second (atexit_sleep_ms) before
		// exiting, for every sandbox. Races are reported as they happen.
		syscall.Exit(InitMain())
	}
	os.Exit(m.Run())
}
