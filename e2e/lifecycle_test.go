package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// allowAllRecorder is a profile that hides nothing of the recorder.
const allowAllRecorder = "[tools]\nallow = [\"*\"]\n"

// waitRecord polls the recorder's record file until it contains s.
func waitRecord(t testing.TB, ctx context.Context, path, s string) {
	t.Helper()
	for {
		data, _ := os.ReadFile(path)
		if bytes.Contains(data, []byte(s)) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the recorder never received %q; it has:\n%s", s, data)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestLifecycleServerKilledMidCall kills the server while a Go SDK
// client waits for a tool call: the call ends with mcpwarden's error
// saying how the server ended, instead of hanging, and mcpwarden exits
// with 128+9 as a shell would report the server's death.
func TestLifecycleServerKilledMidCall(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	record := filepath.Join(t.TempDir(), "record.jsonl")
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd, _ := newCommand(t, "mcpwarden", wardenArgv(writeProfile(t, allowAllRecorder, recordGrant(record)), auditLog, nil, recorderBin),
		"RECORD_FILE="+record)
	cs := connectGo(t, ctx, newGoClient(nil), cmd, "")

	errc := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sleep", Arguments: map[string]any{"ms": 600000}})
		errc <- err
	}()
	waitRecord(t, ctx, record, `"name":"sleep"`)
	server := waitDescendant(t, ctx, cmd.Process.Pid, "recorder")
	if err := syscall.Kill(server.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		t.Fatal("the call never ended after the server was killed")
	}
	var werr *jsonrpc.Error
	if !errors.As(err, &werr) || werr.Code != -32000 || !saysKilled(werr.Message) {
		t.Errorf("call during the server's death: got %v, want JSON-RPC error -32000 saying the server was killed by signal 9", err)
	}
	_ = cs.Close()
	if code := exitStatus(cmd.ProcessState); code != 128+9 {
		t.Errorf("mcpwarden exited with status %d, want %d", code, 128+9)
	}
	recs := readAudit(t, auditLog)
	if o := auditFor(recs, "outcome", "sleep"); len(o) != 1 || o[0].Outcome != "server_exited" {
		t.Errorf("want one server_exited outcome for sleep, got:\n%s", dumpAudit(recs))
	}
}

// TestLifecycleAnswersEveryRequestInFlight kills the server with several
// requests in flight: each gets exactly one error answer with its id.
func TestLifecycleAnswersEveryRequestInFlight(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	record := filepath.Join(t.TempDir(), "record.jsonl")
	auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
	c := startRaw(t, wardenArgv(writeProfile(t, allowAllRecorder, recordGrant(record)), auditLog, nil, recorderBin), "RECORD_FILE="+record)
	c.initialize(ctx, "2025-06-18", nil)
	ids := []string{`1`, `"two"`, `3`}
	for _, id := range ids {
		c.write([]byte(`{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":600000}}}`))
	}
	c.write([]byte(`{"jsonrpc":"2.0","id":4,"method":"ping"}`))
	waitRecord(t, ctx, record, `"id":4,"method":"ping"`)
	if err := syscall.Kill(waitDescendant(t, ctx, c.cmd.Process.Pid, "recorder").pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	answered := map[string]int{}
	for _, line := range c.drain(ctx) {
		m := mustDecode(t, line)
		id := string(m.ID)
		answered[id]++
		if id == "4" {
			continue // the ping may have been answered before the kill
		}
		if m.Error == nil || m.Error.Code != -32000 || !saysKilled(m.Error.Message) {
			t.Errorf("answer to %s: want error -32000 about signal 9, got %s", id, line)
		}
	}
	for _, id := range ids {
		if answered[id] != 1 {
			t.Errorf("request %s got %d answers, want 1 (answers: %v)", id, answered[id], answered)
		}
	}
	if code := c.wait(ctx); code != 137 {
		t.Errorf("mcpwarden exited with status %d, want 137", code)
	}
	recs := readAudit(t, auditLog)
	if o := auditFor(recs, "outcome", "sleep"); len(o) != len(ids) {
		t.Errorf("want %d outcomes for sleep, got:\n%s", len(ids), dumpAudit(recs))
	}
}

// TestLifecycleClientEOF closes mcpwarden's stdin: the server sees the end
// of its input and exits, and mcpwarden exits with the server's status.
func TestLifecycleClientEOF(t *testing.T) {
	t.Parallel()
	for _, status := range []int{0, 3} {
		t.Run(fmt.Sprint("status ", status), func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			record := filepath.Join(t.TempDir(), "record.jsonl")
			argv := wardenArgv(writeProfile(t, allowAllRecorder, recordGrant(record)), filepath.Join(t.TempDir(), "audit.jsonl"), nil,
				recorderBin, "-exit-code", fmt.Sprint(status))
			c := startRaw(t, argv, "RECORD_FILE="+record)
			c.initialize(ctx, "2025-06-18", nil)
			c.closeInput()
			if extra := c.drain(ctx); len(extra) > 0 {
				t.Errorf("unexpected output after the end of input: %q", extra)
			}
			if code := c.wait(ctx); code != status {
				t.Errorf("mcpwarden exited with status %d, want the server's %d", code, status)
			}
			waitRecord(t, ctx, record, "recorder: stdin ended: EOF")
		})
	}
}

// TestLifecycleStubbornServer runs a server that ignores the end of its
// input and SIGTERM, with a child of its own: after the grace stages
// mcpwarden kills everything it started and exits with 128+9.
func TestLifecycleStubbornServer(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	script := `trap "" TERM; echo "stubborn: ready" >&2; sleep 1000 & wait; wait`
	argv := wardenArgv(writeProfile(t, allowAllRecorder), filepath.Join(t.TempDir(), "audit.jsonl"),
		[]string{"--grace", "200ms"}, "/bin/sh", "-c", script)
	c := startRaw(t, argv)
	server := waitDescendant(t, ctx, c.cmd.Process.Pid, "sh")
	sleeper := waitDescendant(t, ctx, c.cmd.Process.Pid, "sleep")
	if sleeper.pgrp != server.pgrp {
		t.Errorf("the server's child %d is in group %d, not the server's %d", sleeper.pid, sleeper.pgrp, server.pgrp)
	}
	started := descendants(t, c.cmd.Process.Pid)

	c.closeInput()
	if code := c.wait(ctx); code != 128+9 {
		t.Errorf("mcpwarden exited with status %d, want %d (SIGKILL)", code, 128+9)
	}
	for _, p := range allProcs(t) {
		if !p.alive() {
			continue
		}
		if p.pgrp == server.pgrp || slices.ContainsFunc(started, func(s proc) bool { return s.pid == p.pid }) {
			t.Errorf("process %d (%s, group %d, state %c) outlived mcpwarden", p.pid, p.comm, p.pgrp, p.state)
		}
	}
	if !strings.Contains(c.stderr.String(), "stubborn: ready") {
		t.Errorf("the server's stderr did not pass through: %q", c.stderr.String())
	}
}

// saysKilled reports whether an error message tells that the server was
// killed by SIGKILL: by the signal, or by the status 128+9 a shell shows.
func saysKilled(msg string) bool {
	return strings.Contains(msg, "signal 9") || strings.Contains(msg, "137")
}

// TestLifecycleSignalsReachServer sends mcpwarden a signal: it reaches the
// server, which decides how to end, and mcpwarden exits with its status.
func TestLifecycleSignalsReachServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sig    syscall.Signal
		status int
	}{
		{syscall.SIGTERM, 143}, // the recorder records it and exits 143
		{syscall.SIGINT, 128 + 2},
		{syscall.SIGHUP, 128 + 1},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			record := filepath.Join(t.TempDir(), "record.jsonl")
			argv := wardenArgv(writeProfile(t, allowAllRecorder, recordGrant(record)), filepath.Join(t.TempDir(), "audit.jsonl"), nil, recorderBin)
			c := startRaw(t, argv, "RECORD_FILE="+record)
			c.initialize(ctx, "2025-06-18", nil)
			if err := c.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if code := c.wait(ctx); code != tc.status {
				t.Errorf("mcpwarden exited with status %d, want %d", code, tc.status)
			}
			if tc.sig == syscall.SIGTERM {
				waitRecord(t, ctx, record, "recorder: got SIGTERM")
			}
		})
	}
}

// TestLifecycleServerOutputNoise has the server write lines that are not
// JSON-RPC to its stdout: mcpwarden reports them on its stderr with its
// prefix and never forwards them, while the server's own stderr passes
// through unchanged.
func TestLifecycleServerOutputNoise(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	argv := wardenArgv(writeProfile(t, allowAllRecorder), filepath.Join(t.TempDir(), "audit.jsonl"), nil, recorderBin, "-noise")
	c := startRaw(t, argv)
	c.initialize(ctx, "2025-06-18", nil)
	resp := c.call(ctx, 1, "tools/call", map[string]any{"name": "noise", "arguments": map[string]any{}}, nil, nil)
	if resp.Error != nil {
		t.Fatalf("noise tool: %s", resp.Error.Message)
	}
	c.closeInput()
	for _, line := range c.drain(ctx) {
		mustDecode(t, line)
	}
	if code := c.wait(ctx); code != 0 {
		t.Errorf("mcpwarden exited with status %d", code)
	}

	stderr := c.stderr.String()
	for _, noise := range []string{"this line is not JSON-RPC", "from the noise tool"} {
		found := false
		for _, line := range strings.Split(stderr, "\n") {
			if strings.Contains(line, noise) {
				found = true
				if !strings.HasPrefix(line, "mcpwarden: ") {
					t.Errorf("noise reported without the prefix: %q", line)
				}
			}
		}
		if !found {
			t.Errorf("the noise %q is not reported on stderr:\n%s", noise, stderr)
		}
	}
	if !strings.Contains("\n"+stderr, "\nrecorder: ready\n") {
		t.Errorf("the server's stderr line did not pass through unchanged:\n%s", stderr)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(line, "mcpwarden: ") && !strings.HasPrefix(line, "recorder: ") {
			t.Errorf("stderr line from neither mcpwarden nor the server: %q", line)
		}
	}
}
