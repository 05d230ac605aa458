// Command recorder is an MCP server on stdio for mcpwarden's end-to-end
// tests. It appends every byte it receives on stdin to the file named by
// the environment variable RECORD_FILE before its MCP SDK parses it, so
// that a test can prove what mcpwarden forwarded, and what it did not.
//
// It offers a harmless tool (safe_echo), tools a profile is expected to
// deny (delete_everything, Delete_Everything, erase_disks), a slow tool
// (sleep), public and secret resources and prompts. Lines it adds itself
// to the record file start with "recorder: " (stdin EOF, signals).
//
// Flags change its behaviour for lifecycle tests:
//
//	-exit-code N   exit with status N once stdin ends (default 0)
//	-page-size N   list at most N items a page (default: the SDK's)
//	-noise         write lines that are not JSON-RPC to stdout, at start and
//	               from the "noise" tool
//	-blast N       no SDK: answer initialize and tools/list minimally and
//	               every other request with a tools/call result whose text
//	               is N bytes, encoded once and written with one write, so
//	               that benchmarks of large results measure the path to the
//	               client, not the SDK's encoder
//
// RECORDER_ECHO_DESCRIPTION, when set, replaces the description of
// safe_echo, so that a test can play a server that changes a tool's
// definition between runs.
//
// On SIGTERM it records "recorder: got SIGTERM" and exits with status 143.
// At start it writes "recorder: ready" to stderr.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	exitCode := flag.Int("exit-code", 0, "exit status once stdin ends")
	pageSize := flag.Int("page-size", 0, "list at most this many items a page (0: the SDK's default)")
	noise := flag.Bool("noise", false, "write lines that are not JSON-RPC to stdout")
	blastSize := flag.Int("blast", -1, "answer every call with a result of this many bytes of text, without the SDK")
	flag.Parse()
	if *blastSize >= 0 {
		os.Exit(blast(os.Stdin, os.Stdout, *blastSize))
	}
	os.Exit(run(*exitCode, *pageSize, *noise))
}

func run(exitCode, pageSize int, noise bool) int {
	rec, err := openRecord(os.Getenv("RECORD_FILE"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "recorder: %v\n", err)
		return 1
	}
	defer rec.close()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		<-sigs
		rec.event("got SIGTERM")
		os.Exit(143)
	}()

	out := &lockedWriter{w: os.Stdout}
	if noise {
		out.line("recorder noise: this line is not JSON-RPC")
	}
	fmt.Fprintln(os.Stderr, "recorder: ready")

	server := newServer(out, pageSize, noise)
	t := &mcp.IOTransport{Reader: &teeReader{r: os.Stdin, rec: rec}, Writer: out}
	if err := server.Run(context.Background(), t); err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(os.Stderr, "recorder: %v\n", err)
	}
	return exitCode
}

// record is the append-only file of what arrived on stdin.
type record struct {
	mu sync.Mutex
	f  *os.File // nil when RECORD_FILE is unset
}

func openRecord(path string) (*record, error) {
	if path == "" {
		return &record{}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("record file: %w", err)
	}
	return &record{f: f}, nil
}

func (r *record) write(b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		_, _ = r.f.Write(b)
	}
}

// event records something that happened to the recorder, on a line of its own.
func (r *record) event(what string) { r.write([]byte("recorder: " + what + "\n")) }

func (r *record) close() {
	if r.f != nil {
		_ = r.f.Close()
	}
}

// teeReader records each chunk before the SDK sees it, so nothing the
// server acts on escapes the record.
type teeReader struct {
	r   io.Reader
	rec *record
	eof sync.Once
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.rec.write(p[:n])
	}
	if err != nil {
		t.eof.Do(func() { t.rec.event(fmt.Sprintf("stdin ended: %v", err)) })
	}
	return n, err
}

func (t *teeReader) Close() error { return nil }

// lockedWriter keeps the SDK's messages and the noise lines whole.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) line(s string) { _, _ = l.Write([]byte(s + "\n")) }

func (l *lockedWriter) Close() error { return nil }

type echoIn struct {
	Text string `json:"text" jsonschema:"the text to echo"`
}

type sleepIn struct {
	MS int `json:"ms" jsonschema:"how long to sleep, in milliseconds"`
}

type noArgs struct{}

// bigText returns n bytes of text that looks like a tool's output: log
// lines, tabs and quotes that JSON must escape, some non-ASCII letters,
// and no secret.
func bigText(n int) string {
	const unit = "2026-12-01T10:00:00Z INFO served path=/api/v1/items/42 status=200 user=r\u00e9mi\n" +
		"\tThe quick brown fox jumps over the lazy dog; caf\u00e9 \u2014 \"quoted\" text 1234567890.\n"
	whole := strings.Repeat(unit, n/len(unit))
	return whole + strings.Repeat(" ", n-len(whole))
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

func newServer(out *lockedWriter, pageSize int, noise bool) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "recorder", Version: "1.0.0"}, &mcp.ServerOptions{PageSize: max(pageSize, 0)})
	desc := "Returns its text."
	if d := os.Getenv("RECORDER_ECHO_DESCRIPTION"); d != "" {
		desc = d
	}
	mcp.AddTool(s, &mcp.Tool{Name: "safe_echo", Description: desc},
		func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			return text(in.Text), nil, nil
		})
	for _, name := range []string{"delete_everything", "Delete_Everything", "erase_disks"} {
		mcp.AddTool(s, &mcp.Tool{Name: name, Description: "A destructive tool that a profile should hide."},
			func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
				return text(name + " ran"), nil, nil
			})
	}
	mcp.AddTool(s, &mcp.Tool{Name: "sleep", Description: "Sleeps, then answers."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in sleepIn) (*mcp.CallToolResult, any, error) {
			select {
			case <-time.After(time.Duration(in.MS) * time.Millisecond):
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
			return text("slept"), nil, nil
		})
	if noise {
		mcp.AddTool(s, &mcp.Tool{Name: "noise", Description: "Writes a line that is not JSON-RPC to stdout."},
			func(context.Context, *mcp.CallToolRequest, noArgs) (*mcp.CallToolResult, any, error) {
				out.line("recorder noise: from the noise tool")
				return text("made noise"), nil, nil
			})
	}
	addResources(s)
	addPrompts(s)
	return s
}

func addResources(s *mcp.Server) {
	for _, r := range []struct{ uri, body string }{
		{"rec://public/info", "public information"},
		{"rec://secret/key", "the secret key"},
	} {
		s.AddResource(&mcp.Resource{URI: r.uri, Name: r.uri, MIMEType: "text/plain"},
			func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{
					{URI: r.uri, MIMEType: "text/plain", Text: r.body},
				}}, nil
			})
	}
}

func addPrompts(s *mcp.Server) {
	for _, name := range []string{"greeting", "secret_plan"} {
		s.AddPrompt(&mcp.Prompt{Name: name, Description: "A prompt named " + name},
			func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
				return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{
					{Role: "user", Content: &mcp.TextContent{Text: "prompt " + name}},
				}}, nil
			})
	}
}

// blast is the -blast mode: a minimal MCP server on raw lines.
func blast(in io.Reader, out io.Writer, size int) int {
	text, err := json.Marshal(bigText(size))
	if err != nil {
		fmt.Fprintf(os.Stderr, "recorder: %v\n", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "recorder: ready")
	result := append(append([]byte(`,"result":{"content":[{"type":"text","text":`), text...), "}]}}\n"...)
	br := bufio.NewReader(in)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			return 0
		}
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal(line, &req) != nil || req.ID == nil {
			continue // notifications
		}
		var body []byte
		switch req.Method {
		case "initialize":
			body = []byte(`,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"recorder","version":"1.0.0"}}}` + "\n")
		case "tools/list":
			body = []byte(`,"result":{"tools":[{"name":"big","description":"Returns a large text.","inputSchema":{"type":"object"}}]}}` + "\n")
		default:
			body = result
		}
		msg := append(append([]byte(`{"jsonrpc":"2.0","id":`), req.ID...), body...)
		if _, err := out.Write(msg); err != nil {
			return 0
		}
	}
}
