package audit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEgressRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	l, err := Open(path, "srv", "sess")
	if err != nil {
		t.Fatal(err)
	}
	err = l.Write(Record{Event: EventEgress, Target: "api.example.com:443", Decision: DecisionAllow, Duration: 1500 * time.Millisecond,
		Egress: &Egress{Protocol: "connect", Address: "93.184.215.14", BytesUp: 517, BytesDown: 4096}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(b))), &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	want := map[string]any{"event": "egress", "target": "api.example.com:443", "decision": "allow", "protocol": "connect",
		"address": "93.184.215.14", "bytes_up": 517.0, "bytes_down": 4096.0, "duration_ms": 1500.0}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v (line %s)", k, m[k], v, b)
		}
	}
}
