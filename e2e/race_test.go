//go:build race

package e2e_test

// raceEnabled reports that the tests run with the race detector, so the
// binaries under test are built with it too.
const raceEnabled = true
