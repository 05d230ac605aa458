//go:build !cgo

package sandbox

import "errors"

// errNoCompiler is what a build without cgo, the init stage's, says when
// asked for what only libseccomp does: the init is sent its filter
// compiled and never compiles or probes one itself.
var errNoCompiler = errors.New("this build of mcpwarden has no seccomp compiler (it was built without cgo, as only mcpwarden-init is)")

func compileSeccomp([]string) ([]byte, error) { return nil, errNoCompiler }

func seccompLibrary() (string, int, error) { return "", 0, errNoCompiler }
