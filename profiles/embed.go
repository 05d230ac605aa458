// Package profiles holds the built-in mcpwarden profiles, one TOML file per
// MCP server, compiled into the binary so that a fresh installation can
// confine well-known servers without any configuration.
//
// The files are named NAME.toml, where NAME equals the file's server.name.
// Package profile parses and validates them; this package only carries the
// bytes.
package profiles

import (
	"embed"
	"io/fs"
)

// files is never written: embed.FS has no mutating methods.
//
//go:embed *.toml
var files embed.FS

// FS returns the built-in profile files, read-only, as NAME.toml at the
// root of the file system.
func FS() fs.FS { return files }
