package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// pyServe is the JSON-RPC loop of the Python stand-in servers, in
// Python's standard library alone: newline-delimited JSON-RPC on stdio.
// serve(info, tools, call) answers initialize with serverInfo info,
// tools/list with tools, and tools/call with call(name, arguments).
const pyServe = `import json, sys
def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()
def serve(info, tools, call):
    for line in sys.stdin:
        m = json.loads(line)
        if "id" not in m:
            continue
        method, rid = m.get("method"), m["id"]
        if method == "initialize":
            send({"jsonrpc": "2.0", "id": rid, "result": {"protocolVersion": m["params"]["protocolVersion"],
                  "capabilities": {"tools": {}}, "serverInfo": info}})
        elif method == "tools/list":
            send({"jsonrpc": "2.0", "id": rid, "result": {"tools": tools}})
        elif method == "tools/call":
            send({"jsonrpc": "2.0", "id": rid, "result": call(m["params"]["name"], m["params"].get("arguments", {}))})
        else:
            send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}})
`

// pythonServer is a minimal MCP server with one tool that reports what
// the interpreter sees around it.
const pythonServer = pyServe + `import os
def look(name, args):
    seen = {"secret": os.environ.get("PY_SECRET", ""), "pid": os.getpid(),
            "shadow": os.path.exists("/etc/shadow"), "python": sys.version.split()[0]}
    return {"content": [{"type": "text", "text": json.dumps(seen)}]}
serve({"name": "py", "version": "1"}, [{"name": "look", "inputSchema": {"type": "object"}}], look)
`

// TestPythonServerInSandbox runs a Python server from the system's
// interpreter under the base set of a profile that grants nothing else:
// the interpreter and its standard library work, the environment is
// scrubbed, and the server sees the sandbox, not the host.
func TestPythonServerInSandbox(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("%s: %v (Debian's python3 is part of the base system)", python, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	script := filepath.Join(t.TempDir(), "server.py")
	if err := os.WriteFile(script, []byte(pythonServer), 0o644); err != nil {
		t.Fatal(err)
	}
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	argv := wardenArgv(writeProfile(t, allowAllProfile), auditLog, nil, python, script)
	cmd, _ := newCommand(t, "mcpwarden", argv, "PY_SECRET=do-not-leak")
	cs := connectGo(t, ctx, newGoClient(nil), cmd, "2025-06-18")
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "look", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("look: %v %v", err, res)
	}
	got := toolText(res)
	for _, want := range []string{`"secret": ""`, `"shadow": false`, `"python": "3.`} {
		if !strings.Contains(got, want) {
			t.Errorf("the Python server saw %s; want %s", got, want)
		}
	}
	if strings.Contains(got, `"pid": 1,`) {
		t.Errorf("the Python server is PID 1: %s", got)
	}
}
