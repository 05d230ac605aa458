package proxy

import (
	"bytes"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/mcpwarden/mcpwarden/jsonrpc"
)

// Versions are the MCP protocol versions whose message shapes mcpwarden
// knows. A session on any other version is refused: the policy could not be
// sure it sees every way a tool can be called.
var versions = []string{"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"}

func knownVersion(v string) bool { return slices.Contains(versions, v) }

// batchesAllowed reports whether a protocol version has JSON-RPC batches:
// 2025-03-26 added them and 2025-06-18 removed them again.
func batchesAllowed(v string) bool { return v == "2025-03-26" }

func versionList() string { return strings.Join(versions, ", ") }

func quoteVersion(v string) string {
	if v == "" {
		return "(not yet negotiated)"
	}
	return `"` + v + `"`
}

// metaKeyVersion carries the protocol version on each request in the
// stateless protocol (2026-07-28).
const metaKeyVersion = "io.modelcontextprotocol/protocolVersion"

// metaVersion returns params._meta["io.modelcontextprotocol/protocolVersion"].
func metaVersion(params jsontext.Value) string {
	if params.Kind() != '{' || !bytes.Contains(params, []byte(metaKeyVersion)) {
		return ""
	}
	f := make([]jsontext.Value, 1)
	if jsonrpc.Fields(params, []string{"_meta"}, f) != nil || f[0].Kind() != '{' {
		return ""
	}
	if jsonrpc.Fields(f[0], []string{metaKeyVersion}, f) != nil || f[0] == nil {
		return ""
	}
	var v string
	if jsonUnquote(f[0], &v) != nil {
		return "\x00invalid" // refused as unknown
	}
	return v
}

func jsonUnquote(v jsontext.Value, s *string) error { return json.Unmarshal(v, s) }
