package proxy

import (
	"bufio"
	"bytes"
	"io"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/filter"
)

// The benchmarks measure mcpwarden's own work on the path of a message,
// with the client and the server played in-process over pipes so that no
// process hop is counted: per call (decode, policy, guards, two audit
// records, forwarding), per byte of a large result, and the heap over a
// long run of small messages.

// benchSession is a proxy between an in-process client and server.
type benchSession struct {
	p       *Proxy
	toProxy io.WriteCloser // the client's writes
	answers *bufio.Reader  // what reaches the client
	server  io.WriteCloser // the server's writes
	calls   *bufio.Reader  // what reaches the server
	done    chan struct{}
}

// guardedCalls are the guards a profile has by default: secrets
// redacted and hidden text stripped.
func guardedCalls(tb testing.TB) *filter.Calls {
	calls, err := filter.NewCalls(filter.CallsConfig{Secrets: "redact", StripHidden: true})
	if err != nil {
		tb.Fatal(err)
	}
	return calls
}

func newBenchSession(tb testing.TB, calls *filter.Calls, maxMsg int) *benchSession {
	return newBenchSessionAudit(tb, calls, maxMsg, true)
}

// newBenchSessionAudit is newBenchSession with the audit log on or off,
// to tell its cost from the rest.
func newBenchSessionAudit(tb testing.TB, calls *filter.Calls, maxMsg int, audited bool) *benchSession {
	tb.Helper()
	policy, err := filter.New(filter.Rules{Allow: []string{"*"}, Deny: []string{"delete_*"}},
		filter.Rules{Allow: []string{"*"}}, filter.Rules{Allow: []string{"*"}})
	if err != nil {
		tb.Fatal(err)
	}
	al, err := audit.Open(filepath.Join(tb.TempDir(), "a.jsonl"), "bench", "s")
	if err != nil {
		tb.Fatal(err)
	}
	cr, cw := io.Pipe()
	or, ow := io.Pipe()
	sr, sw := io.Pipe()
	xr, xw := io.Pipe()
	s := &benchSession{toProxy: cw, answers: bufio.NewReaderSize(or, 64<<10), server: xw,
		calls: bufio.NewReaderSize(sr, 64<<10), done: make(chan struct{})}
	cfg := Config{Policy: policy, Audit: al, Calls: calls, MaxMessageSize: maxMsg}
	if !audited {
		cfg.Audit = nil
	}
	s.p = New(cfg,
		Streams{ClientIn: cr, ClientOut: ow, ServerIn: sw, ServerOut: xr})
	go func() {
		defer close(s.done)
		s.p.Run(nil)
		ow.Close()
	}()
	tb.Cleanup(func() {
		cw.Close()
		xw.Close()
		<-s.done
		al.Close()
	})
	return s
}

// listTools answers the client's tools/list with echo and its schema, and
// dump, as a server does before it is called, so that calls are checked
// against the listing (a tool never listed would make the proxy list the
// tools itself first).
func (s *benchSession) listTools(tb testing.TB) {
	tb.Helper()
	s.send(tb, s.toProxy, `{"jsonrpc":"2.0","id":"list","method":"tools/list","params":{}}`)
	s.line(tb, s.calls)
	s.send(tb, s.server, `{"jsonrpc":"2.0","id":"list","result":{"tools":[{"name":"echo","description":"Echoes its message.",`+
		`"inputSchema":{"type":"object","properties":{"message":{"type":"string"}},"required":["message"]}},`+
		`{"name":"dump","description":"Returns a large text.","inputSchema":{"type":"object"}}]}}`)
	s.line(tb, s.answers)
}

func (s *benchSession) send(tb testing.TB, w io.Writer, line string) {
	if _, err := io.WriteString(w, line+"\n"); err != nil {
		tb.Fatal(err)
	}
}

// line reads one line of any length and returns its length, keeping no
// more than the reader's buffer of it.
func (s *benchSession) line(tb testing.TB, r *bufio.Reader) int {
	n := 0
	for {
		chunk, err := r.ReadSlice('\n')
		n += len(chunk)
		switch err {
		case nil:
			return n
		case bufio.ErrBufferFull:
			continue
		default:
			tb.Fatalf("reading: %v after %d bytes", err, n)
		}
	}
}

// echoServer answers each call with a small result carrying its id.
func (s *benchSession) echoServer() {
	for {
		line, err := s.calls.ReadSlice('\n')
		if err != nil {
			return
		}
		id := idOf(line)
		if _, err := io.WriteString(s.server, `{"result":{"content":[{"type":"text","text":"Echo: hello"}]},"jsonrpc":"2.0","id":`+id+"}\n"); err != nil {
			return
		}
	}
}

// idOf finds the id of a request that the benchmarks wrote, id first.
func idOf(line []byte) string {
	const key = `"id":`
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return "null"
	}
	rest := line[i+len(key):]
	return string(rest[:bytes.IndexAny(rest, ",}")])
}

func callLine(id int) string {
	return `{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`
}

// BenchmarkCallRoundTrip measures one tools/call and its answer: bare is
// the policy and the audit log alone, guarded adds the default guards
// (secrets in arguments and results, hidden text, the tool's schema), and
// unaudited is guarded without the audit log, whose two records a call
// are the difference.
func BenchmarkCallRoundTrip(b *testing.B) {
	for _, tc := range []struct {
		name    string
		calls   func(testing.TB) *filter.Calls
		audited bool
	}{
		{"bare", func(testing.TB) *filter.Calls { return nil }, true},
		{"guarded", guardedCalls, true},
		{"unaudited", guardedCalls, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := newBenchSessionAudit(b, tc.calls(b), 0, tc.audited)
			s.listTools(b)
			go s.echoServer()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.send(b, s.toProxy, callLine(i))
				s.line(b, s.answers)
			}
		})
	}
}

// largeText is n bytes of JSON string content that looks like a tool's
// output: lines of words, escaped newlines and tabs, some non-ASCII
// letters (which send hidden-text stripping down its full path), and no
// secret.
func largeText(n int) []byte {
	const para = `2026-12-01T10:00:00Z INFO request served path=/api/v1/items/42 status=200 bytes=5120 duration=3.2ms user=r\u00e9mi\n` +
		`\tThe quick brown fox jumps over the lazy dog; caf\u00e9 na\u00efve \u2014 \"quoted\" text, numbers 1234567890.\n`
	unit := para + "Stra\u00dfe " // a literal non-ASCII letter too
	return bytes.Repeat([]byte(unit), n/len(unit))
}

// BenchmarkLargeResult measures a 64 MiB tools/call result crossing the
// proxy, with the result guards off and on.
func BenchmarkLargeResult(b *testing.B) {
	const size = 64 << 20
	text := largeText(size)
	head := []byte(`{"jsonrpc":"2.0","id":`)
	mid := []byte(`,"result":{"content":[{"type":"text","text":"`)
	tail := []byte("\"}]}}\n")
	for _, tc := range []struct {
		name  string
		calls func(testing.TB) *filter.Calls
	}{
		{"guards_off", func(tb testing.TB) *filter.Calls {
			c, err := filter.NewCalls(filter.CallsConfig{Secrets: "off"})
			if err != nil {
				tb.Fatal(err)
			}
			return c
		}},
		{"guards_on", guardedCalls},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := newBenchSession(b, tc.calls(b), size+4096)
			s.listTools(b)
			go func() {
				for {
					line, err := s.calls.ReadSlice('\n')
					if err != nil {
						return
					}
					id := idOf(line)
					for _, part := range [][]byte{head, []byte(id), mid, text, tail} {
						if _, err := s.server.Write(part); err != nil {
							return
						}
					}
				}
			}()
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.send(b, s.toProxy, `{"jsonrpc":"2.0","id":`+strconv.Itoa(i)+`,"method":"tools/call","params":{"name":"dump","arguments":{}}}`)
				if n := s.line(b, s.answers); n < len(text) {
					b.Fatalf("answer of %d bytes, want the %d-byte result", n, len(text))
				}
			}
		})
	}
}

// BenchmarkSoak sends b.N small calls (run it with -benchtime=1000000x),
// 64 in flight at a time, and reports how much the live heap grew from
// the first thousand to the end: a proxy that keeps something of every
// message grows with b.N.
func BenchmarkSoak(b *testing.B) {
	s := newBenchSession(b, guardedCalls(b), 0)
	s.listTools(b)
	go s.echoServer()
	const window = 64
	const warmup = 1000
	sent := make(chan struct{}, window)
	go func() {
		for i := 0; i < b.N+warmup; i++ {
			sent <- struct{}{}
			if _, err := io.WriteString(s.toProxy, callLine(i)+"\n"); err != nil {
				return
			}
		}
	}()
	var before, after runtime.MemStats
	b.ReportAllocs()
	for i := 0; i < b.N+warmup; i++ {
		if i == warmup {
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ResetTimer()
		}
		line, err := s.answers.ReadString('\n')
		if err != nil || !strings.Contains(line, `"Echo: hello"`) {
			b.Fatalf("answer %d: %q %v", i, line, err)
		}
		<-sent
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<10), "heap-growth-KiB")
	b.ReportMetric(float64(s.p.fromClient.Len()), "in-flight-left")
}
