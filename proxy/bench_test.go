package proxy

import (
	"bufio"
	"io"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/filter"
)

// BenchmarkCallRoundTrip measures mcpwarden's own work for one tools/call
// and its answer (decode, policy, two audit records, forwarding), with the
// client and server played in-process so that no process hop is counted.
func BenchmarkCallRoundTrip(b *testing.B) {
	policy, err := filter.New(filter.Rules{Allow: []string{"*"}, Deny: []string{"delete_*"}},
		filter.Rules{Allow: []string{"*"}}, filter.Rules{Allow: []string{"*"}})
	if err != nil {
		b.Fatal(err)
	}
	al, err := audit.Open(filepath.Join(b.TempDir(), "a.jsonl"), "bench", "s")
	if err != nil {
		b.Fatal(err)
	}
	defer al.Close()
	cr, cw := io.Pipe()
	or, ow := io.Pipe()
	sr, sw := io.Pipe()
	xr, xw := io.Pipe()
	p := New(Config{Policy: policy, Audit: al}, Streams{ClientIn: cr, ClientOut: ow, ServerIn: sw, ServerOut: xr})
	go p.Run(nil)
	// The server echoes each call's id back with a small result.
	go func() {
		sc := bufio.NewScanner(sr)
		for i := 0; sc.Scan(); i++ {
			_, _ = io.WriteString(xw, `{"result":{"content":[{"type":"text","text":"Echo: hello"}]},"jsonrpc":"2.0","id":`+strconv.Itoa(i)+"}\n")
		}
	}()
	answers := bufio.NewScanner(or)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _ = io.WriteString(cw, `{"jsonrpc":"2.0","id":`+strconv.Itoa(i)+`,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}`+"\n")
		if !answers.Scan() {
			b.Fatal("no answer")
		}
	}
	b.StopTimer()
	cw.Close()
	xw.Close()
}
