package audit

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkLogWrite measures one typical decision record: a tool call with
// small arguments, the work the proxy does before forwarding every call.
func BenchmarkLogWrite(b *testing.B) {
	l, err := Open(filepath.Join(b.TempDir(), "audit.jsonl"), "filesystem", "e967817a717b512068b3e37d")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	r := Record{Event: EventDecision, Method: "tools/call", RequestID: "7", Target: "read_text_file",
		Arguments: []byte(`{"path":"/home/me/work/notes.txt","head":20}`), Decision: DecisionAllow,
		Reason: "allowed by tools.allow \"*\"", Duration: 1500 * time.Microsecond}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Write(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogWriteShared alternates two Logs on one file, as two sessions
// of a server do, so that every write finds the file grown by the other
// and reads its end back.
func BenchmarkLogWriteShared(b *testing.B) {
	path := filepath.Join(b.TempDir(), "audit.jsonl")
	var logs [2]*Log
	for i := range logs {
		l, err := Open(path, "filesystem", "e967817a717b512068b3e37d")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		logs[i] = l
	}
	r := Record{Event: EventDecision, Method: "tools/call", RequestID: "7", Target: "read_text_file",
		Arguments: []byte(`{"path":"/home/me/work/notes.txt","head":20}`), Decision: DecisionAllow}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := logs[i%2].Write(r); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
