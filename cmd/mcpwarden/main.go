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
)

// version is the release of mcpwarden; set with -ldflags "-X main.version=..." by releases.
var version = "0.1.0-dev"

// initBuildID is the Go build ID of the mcpwarden-init built with this
// binary, set with -ldflags "-X main.initBuildID=..." by make build; the
// sandbox starts that small executable as its init when it is installed
// beside this one (see sandbox.InitName).
var initBuildID string

const usage = `mcpwarden runs an MCP server behind a policy-enforcing proxy.

Usage:
  mcpwarden run [flags] -- CMD [ARGS...]   run an MCP server under a profile
  mcpwarden check [--json]                 what this kernel and user can enforce
  mcpwarden profile list                   list the built-in profiles
  mcpwarden profile show NAME|FILE         print a profile
  mcpwarden profile validate FILE...       check profile files
  mcpwarden pin list|show|accept|forget    review tool definitions that changed since they were pinned
  mcpwarden audit [summary|verify]         read, summarise and verify the audit logs
  mcpwarden wrap|unwrap [--client NAME]    make MCP client configs run every stdio server under mcpwarden, or undo it
  mcpwarden version                        print the version

Examples:
  mcpwarden run -- npx -y @modelcontextprotocol/server-filesystem ~/work
  mcpwarden run --profile ./readonly.toml --audit-log /tmp/fs.jsonl -- npx -y @modelcontextprotocol/server-filesystem ~/work

Run "mcpwarden run --help" for the flags of run.
`

func main() {
	// The same binary is the sandbox's init when it re-executes itself.
	if sandbox.IsInit(os.Args) {
		os.Exit(sandbox.InitMain())
	}
	os.Exit(dispatch(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
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
	case "version", "--version":
		fmt.Fprintf(stdout, "mcpwarden %s\n", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	diag(stderr, "unknown command %q (try \"mcpwarden help\")", args[0])
	return 2
}

// diag writes one diagnostic line to stderr with the mcpwarden: prefix.
// Newlines inside are flattened so that one message stays one line.
func diag(w io.Writer, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	msg = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(msg)
	fmt.Fprintf(w, "mcpwarden: %s\n", msg)
}
