// Command mcpwarden runs an MCP server behind a policy-enforcing proxy.
//
// Replace a server's command in an MCP client's configuration with
//
//	mcpwarden run --profile NAME -- <original command>
//
// and every JSON-RPC message between client and server is decoded
// strictly, checked against the profile and recorded in an audit log.
// This package only parses flags and wires the other packages together.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mcpwarden/mcpwarden/sandbox"
	"github.com/mcpwarden/mcpwarden/supervise"
)

// version is the release of mcpwarden; set with -ldflags "-X main.version=..." by releases.
var version = "0.1.0-dev"

// initBuildID is the Go build ID of the mcpwarden-init built with this
// binary, set with -ldflags "-X main.initBuildID=..." by make build; the
// sandbox starts that small executable as its init when it is installed
// beside this one (see sandbox.InitName).
var initBuildID string

func main() {
	// The same binary is the sandbox's init when it re-executes itself.
	if sandbox.IsInit(os.Args) {
		os.Exit(sandbox.InitMain())
	}
	os.Exit(dispatch(os.Args[1:], supervise.Pollable(os.Stdin, 0), supervise.Pollable(os.Stdout, 1), os.Stderr))
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageError(stderr, reference(), "no command given")
	}
	switch args[0] {
	case "run":
		return runCommand(args[1:], stdin, stdout, stderr)
	case "profile":
		return profileCommand(args[1:], stdout, stderr)
	case "check":
		return checkCommand(args[1:], stdout, stderr)
	case "pin":
		return pinCommand(args[1:], stdout, stderr)
	case "audit":
		return auditCommand(args[1:], stdout, stderr)
	case "wrap", "unwrap":
		return wrapCommand(args[1:], args[0] == "unwrap", stdout, stderr)
	case "completion":
		return completionCommand(args[1:], stdout, stderr)
	case "version", "--version":
		return versionCommand(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		return helpCommand(args[1:], stdout, stderr)
	case "__gendocs":
		return gendocsCommand(args[1:], stderr)
	}
	root := reference()
	var verbs []string
	for _, c := range visible(root.subs) {
		verbs = append(verbs, c.name)
	}
	if strings.HasPrefix(args[0], "-") {
		return usageError(stderr, root, "unknown flag %s: flags follow the command (mcpwarden COMMAND --flag)", args[0])
	}
	return usageError(stderr, root, "unknown command %q%s", args[0], suggestion(args[0], verbs))
}

func versionCommand(args []string, stdout, stderr io.Writer) int {
	if wantsHelp(args) {
		writeHelp(stdout, commandDoc("version"))
		return 0
	}
	if len(args) > 0 {
		return usageError(stderr, commandDoc("version"), "version takes no arguments, got %q", args[0])
	}
	fmt.Fprintf(stdout, "mcpwarden %s\n", version)
	return 0
}

// diag writes one diagnostic line to stderr with the mcpwarden: prefix.
// Newlines inside are flattened so that one message stays one line.
func diag(w io.Writer, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	msg = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(msg)
	fmt.Fprintf(w, "mcpwarden: %s\n", msg)
}
