package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// largeResult is the size of the text BenchmarkLargeResult asks for.
const largeResult = 64 << 20

// largeMessageLimit is the --max-message-size of the proxied runs: the
// result with its JSON escapes and envelope, with room to spare.
const largeMessageLimit = 80 << 20

// guardsOffProfile turns the result guards off.
const guardsOffProfile = `
[tools]
allow = ["*"]

[guards]
secrets = "off"
strip_hidden = false
`

// BenchmarkLargeResult moves a 64 MiB tools/call result from the
// recorder (in its -blast mode, without the SDK) to a raw client, directly and through mcpwarden with the
// result guards off and on (secret redaction and hidden-text stripping,
// the defaults). It reports mcpwarden's resident memory idle (after
// initialize and tools/list) and at its peak, against the message limit.
func BenchmarkLargeResult(b *testing.B) {
	proxied := func(b *testing.B, profile string) []string {
		auditLog := filepath.Join(b.TempDir(), "audit.jsonl")
		return wardenArgv(writeProfile(b, profile), auditLog,
			[]string{"--max-message-size", strconv.Itoa(largeMessageLimit)}, recorderBin, "-blast", strconv.Itoa(largeResult))
	}
	b.Run("direct", func(b *testing.B) { benchLarge(b, []string{recorderBin, "-blast", strconv.Itoa(largeResult)}, false) })
	b.Run("guards_off", func(b *testing.B) { benchLarge(b, proxied(b, guardsOffProfile), true) })
	b.Run("guards_on", func(b *testing.B) { benchLarge(b, proxied(b, allowAllProfile), true) })
}

func benchLarge(b *testing.B, argv []string, warden bool) {
	c := startStream(b, argv)
	c.handshake(b)
	var idle int64
	if warden {
		idle = vmKiB(b, c.cmd.Process.Pid, "VmRSS")
	}
	params := `{"name":"big","arguments":{"bytes":` + strconv.Itoa(largeResult) + `}}`
	c.request(b, `"warm"`, "tools/call", params) // the recorder builds its text once
	b.SetBytes(largeResult)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if n := c.request(b, strconv.Itoa(i), "tools/call", params); n < largeResult {
			b.Fatalf("answer of %d bytes, want at least %d", n, largeResult)
		}
	}
	b.StopTimer()
	if warden {
		b.ReportMetric(float64(idle)/1024, "idle-RSS-MiB")
		peak := vmKiB(b, c.cmd.Process.Pid, "VmHWM")
		b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
		b.ReportMetric(float64(peak<<10)/largeMessageLimit, "peak/max-message")
	}
}

// streamConn drives a process with raw lines and reads its answers
// without keeping them, so that a large one costs the client a pass over
// its bytes and nothing more.
type streamConn struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startStream(tb testing.TB, argv []string) *streamConn {
	tb.Helper()
	cmd, _ := newCommand(tb, filepath.Base(argv[0]), argv)
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			tb.Logf("%s: %v", argv[0], err)
		}
	})
	return &streamConn{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
}

func (c *streamConn) handshake(tb testing.TB) {
	tb.Helper()
	c.request(tb, `"init"`, "initialize", `{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}`)
	c.send(tb, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	c.request(tb, `"list"`, "tools/list", `{}`)
}

func (c *streamConn) send(tb testing.TB, line string) {
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		tb.Fatalf("writing: %v", err)
	}
}

// request sends a request and returns the size of the line that
// answers it, failing on an error answer.
func (c *streamConn) request(tb testing.TB, id, method, params string) int {
	tb.Helper()
	c.send(tb, `{"jsonrpc":"2.0","id":`+id+`,"method":"`+method+`","params":`+params+`}`)
	n := 0
	var head []byte
	for {
		chunk, err := c.out.ReadSlice('\n')
		if len(head) < 512 {
			head = append(head, chunk[:min(len(chunk), 512)]...)
		}
		n += len(chunk)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			tb.Fatalf("%s: reading the answer: %v", method, err)
		}
		break
	}
	if bytes.Contains(head, []byte(`"error":`)) || bytes.Contains(head, []byte(`"isError":true`)) {
		tb.Fatalf("%s: %s", method, head)
	}
	return n
}

// vmKiB reads a field (VmRSS, VmHWM) of /proc/PID/status, in KiB.
func vmKiB(tb testing.TB, pid int, field string) int64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kib
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
