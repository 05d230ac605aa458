package proxy

import (
	"io"
	"strings"
	"testing"
)

// TestManyCallsLeaveNothingBehind runs twenty thousand calls, some of them
// pipelined, through the proxy with the default guards and checks that
// nothing of them stays: no request tracked in either direction, no
// approval waiting, no tool learned beyond the one listed, no warning
// remembered. What a session keeps must not grow with its calls.
func TestManyCallsLeaveNothingBehind(t *testing.T) {
	const calls, window = 20000, 16
	s := newBenchSession(t, guardedCalls(t), 0)
	s.listTools(t)
	go s.echoServer()
	sent := make(chan struct{}, window)
	go func() {
		for i := range calls {
			sent <- struct{}{}
			if _, err := io.WriteString(s.toProxy, callLine(i)+"\n"); err != nil {
				return
			}
		}
	}()
	for i := range calls {
		line, err := s.answers.ReadString('\n')
		if err != nil || !strings.Contains(line, `"Echo: hello"`) {
			t.Fatalf("answer %d: %q %v", i, line, err)
		}
		<-sent
	}
	if n := s.p.fromClient.Len(); n != 0 {
		t.Errorf("%d client requests still tracked", n)
	}
	if n := s.p.fromServer.Len(); n != 0 {
		t.Errorf("%d server requests still tracked", n)
	}
	s.p.approvals.mu.Lock()
	waiting := len(s.p.approvals.waiting)
	s.p.approvals.mu.Unlock()
	if waiting != 0 {
		t.Errorf("%d approvals waiting", waiting)
	}
	s.p.tools.mu.Lock()
	tools := len(s.p.tools.tools)
	s.p.tools.mu.Unlock()
	if tools != 2 {
		t.Errorf("%d tools learned, want the two listed", tools)
	}
	s.p.listing.mu.Lock()
	held := len(s.p.listing.parked) + len(s.p.listing.resuming)
	s.p.listing.mu.Unlock()
	if held != 0 {
		t.Errorf("%d calls held for a listing", held)
	}
	warned := 0
	s.p.warned.Range(func(any, any) bool { warned++; return true })
	if warned != 0 {
		t.Errorf("%d warnings remembered", warned)
	}
}
