package e2e_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The benchmarks measure sequential tools/call round trips of a Go SDK
// client, directly and through mcpwarden (which decodes, checks and
// audits every call), against the recorder's safe_echo and
// server-everything's echo. Compare CallDirect with CallProxied.

func BenchmarkCallDirect(b *testing.B) {
	b.Run("recorder", func(b *testing.B) {
		benchCalls(b, []string{recorderBin}, "safe_echo", map[string]any{"text": "ping"})
	})
	b.Run("everything", func(b *testing.B) {
		benchCalls(b, everythingArgv(b), "echo", map[string]any{"message": "ping"})
	})
}

func BenchmarkCallProxied(b *testing.B) {
	proxied := func(b *testing.B, argv ...string) []string {
		auditLog := filepath.Join(b.TempDir(), "audit.jsonl")
		return wardenArgv(writeProfile(b, allowAllProfile), auditLog, nil, argv...)
	}
	b.Run("recorder", func(b *testing.B) {
		benchCalls(b, proxied(b, recorderBin), "safe_echo", map[string]any{"text": "ping"})
	})
	b.Run("everything", func(b *testing.B) {
		benchCalls(b, proxied(b, everythingArgv(b)...), "echo", map[string]any{"message": "ping"})
	})
}

func benchCalls(b *testing.B, argv []string, tool string, args map[string]any) {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	cmd, _ := newCommand(b, filepath.Base(argv[0]), argv)
	cs := connectGo(b, ctx, newGoClient(nil), cmd, "")
	params := &mcp.CallToolParams{Name: tool, Arguments: args}
	call := func() {
		res, err := cs.CallTool(ctx, params)
		if err != nil || res.IsError {
			b.Fatalf("%s: %v %v", tool, err, res)
		}
	}
	call()           // the first call pays for lazy initialization on both sides
	b.ReportAllocs() // the client's allocations; the processes are not measured
	for b.Loop() {
		call()
	}
}
