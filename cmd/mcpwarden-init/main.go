// Command mcpwarden-init is the init stage of mcpwarden's sandbox, in an
// executable of its own: mcpwarden run starts it as the first process of
// the sandbox's namespaces, where it builds the sandbox and starts the
// server (see package sandbox).
//
// mcpwarden's own binary can play this part too, and does when this file
// is not installed beside it or comes from another build; this one links
// only the sandbox, so it starts in a fraction of the time.
package main

import (
	"fmt"
	"os"

	"github.com/mcpwarden/mcpwarden/sandbox"
)

func main() {
	if !sandbox.IsInit(os.Args) {
		fmt.Fprintln(os.Stderr, "mcpwarden-init: the sandbox's init stage; it is started by \"mcpwarden run\", not by hand")
		os.Exit(2)
	}
	os.Exit(sandbox.InitMain())
}
