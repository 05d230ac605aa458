package e2e_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// TestEverythingTaskTools covers the tools of server-everything that the
// Go SDK cannot reach, because they need MCP tasks (SEP-1686): a task
// augmented tools/call polled with tasks/get and finished by tasks/result
// (during which the server elicits input), and tools for which the server
// sends the client sampling and elicitation requests that the client runs
// as tasks of its own. A raw client speaks for both sides, directly and
// through mcpwarden, and the results must agree.
func TestEverythingTaskTools(t *testing.T) {
	t.Parallel()
	var direct, proxied map[string]string
	t.Run("sessions", func(t *testing.T) {
		t.Run("direct", func(t *testing.T) {
			t.Parallel()
			direct = runTaskTools(t, false)
		})
		t.Run("proxied", func(t *testing.T) {
			t.Parallel()
			proxied = runTaskTools(t, true)
		})
	})
	if direct == nil || proxied == nil {
		t.Fatal("a session failed; nothing to compare")
	}
	for key, want := range direct {
		if got := proxied[key]; got != want {
			t.Errorf("%s differs:\n direct:  %s\n proxied: %s", key, want, got)
		}
	}
}

// taskClientCaps declares that the client runs sampling and elicitation
// requests as tasks.
var taskClientCaps = map[string]any{
	"sampling":    map[string]any{},
	"elicitation": map[string]any{"form": map[string]any{}},
	"roots":       map[string]any{},
	"tasks": map[string]any{"requests": map[string]any{
		"sampling":    map[string]any{"createMessage": map[string]any{}},
		"elicitation": map[string]any{"create": map[string]any{}},
	}},
}

func runTaskTools(t *testing.T, viaWarden bool) map[string]string {
	ctx := testContext(t)
	argv := everythingArgv(t)
	if viaWarden {
		auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
		argv = wardenArgv(writeProfile(t, allowAllProfile), auditLog, nil, argv...)
	}
	c := startRaw(t, argv)
	c.initialize(ctx, "2025-11-25", taskClientCaps)
	waitForTools(t, ctx, c, "trigger-sampling-request-async", "trigger-elicitation-request-async")

	out := map[string]string{}
	client := &taskClient{t: t, tasks: map[string]any{}}
	for _, tool := range []struct{ name, want string }{
		{"trigger-sampling-request-async", "sampled as a client task"},
		{"trigger-elicitation-request-async", "Grace Hopper"},
	} {
		resp := c.call(ctx, tool.name, "tools/call", map[string]any{
			"name": tool.name, "arguments": map[string]any{"prompt": "say hello"},
		}, client.handle, nil)
		out[tool.name] = checkToolResult(t, tool.name, resp, tool.want)
	}
	out["simulate-research-query"] = researchTask(t, ctx, c, client)
	// server-everything keeps running after its input ends while its
	// task store holds tasks; the cleanup stops it.
	return out
}

// waitForTools lists tools until all names appear: server-everything
// registers them once the client has said it is initialized.
func waitForTools(t *testing.T, ctx context.Context, c *rawConn, names ...string) {
	t.Helper()
	for i := 0; ; i++ {
		resp := c.call(ctx, "list-"+string(rune('a'+i%26)), "tools/list", map[string]any{}, nil, nil)
		var res struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
		}
		if resp.Error != nil || json.Unmarshal(resp.Result, &res) != nil {
			t.Fatalf("tools/list: %+v", resp)
		}
		have := 0
		for _, tool := range res.Tools {
			if slices.Contains(names, tool.Name) {
				have++
			}
		}
		if have == len(names) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("tools %q never appeared", names)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// taskClient answers the server's requests as a client that runs them as
// tasks: it creates a task, reports it completed, and hands over its result.
type taskClient struct {
	t     *testing.T
	tasks map[string]any // taskId -> result
}

func (tc *taskClient) handle(m rpcMsg) (any, *rpcError) {
	var p struct {
		TaskID string         `json:"taskId"`
		Task   map[string]any `json:"task"`
		Mode   string         `json:"mode"`
	}
	if m.Params != nil {
		if err := json.Unmarshal(m.Params, &p); err != nil {
			tc.t.Errorf("params of %s: %v", m.Method, err)
		}
	}
	now := time.Now().UTC().Format(time.RFC3339)
	task := func(id, status string) map[string]any {
		return map[string]any{"taskId": id, "status": status, "ttl": 60000, "createdAt": now, "lastUpdatedAt": now, "pollInterval": 100}
	}
	switch m.Method {
	case "sampling/createMessage", "elicitation/create":
		result := tc.result(m.Method)
		if p.Task == nil {
			return result, nil // a plain request: answer at once
		}
		id := "client-task-" + strings.ReplaceAll(m.Method, "/", "-")
		tc.tasks[id] = result
		return map[string]any{"task": task(id, "working")}, nil
	case "tasks/get":
		if _, ok := tc.tasks[p.TaskID]; !ok {
			return nil, &rpcError{Code: -32602, Message: "no such task"}
		}
		return task(p.TaskID, "completed"), nil
	case "tasks/result":
		r, ok := tc.tasks[p.TaskID]
		if !ok {
			return nil, &rpcError{Code: -32602, Message: "no such task"}
		}
		return r, nil
	case "roots/list":
		return map[string]any{"roots": []any{}}, nil
	case "ping":
		return map[string]any{}, nil
	}
	return nil, &rpcError{Code: -32601, Message: "not supported by the test client"}
}

func (tc *taskClient) result(method string) any {
	if method == "sampling/createMessage" {
		return map[string]any{"role": "assistant", "model": "e2e-model", "stopReason": "endTurn",
			"content": map[string]any{"type": "text", "text": "sampled as a client task"}}
	}
	return map[string]any{"action": "accept", "content": map[string]any{
		"name": "Grace Hopper", "interpretation": "programming", "favoriteColor": "Blue", "agreeToTerms": true}}
}

// researchTask runs simulate-research-query as a task: the call returns a
// task, tasks/get reports its progress, and tasks/result delivers the
// server's elicitation (the query is ambiguous) and then the result.
func researchTask(t *testing.T, ctx context.Context, c *rawConn, client *taskClient) string {
	resp := c.call(ctx, "research", "tools/call", map[string]any{
		"name": "simulate-research-query", "arguments": map[string]any{"topic": "python", "ambiguous": true},
		"task": map[string]any{"ttl": 60000},
	}, client.handle, nil)
	var created struct {
		Task struct {
			TaskID string `json:"taskId"`
			Status string `json:"status"`
		} `json:"task"`
	}
	if resp.Error != nil || json.Unmarshal(resp.Result, &created) != nil || created.Task.TaskID == "" {
		t.Fatalf("task-augmented tools/call: want a task, got %+v (%s)", resp.Error, resp.Result)
	}
	id := created.Task.TaskID
	seen := []string{created.Task.Status}
	for i := 0; ; i++ {
		get := c.call(ctx, "get-"+string(rune('a'+i%26)), "tasks/get", map[string]any{"taskId": id}, client.handle, nil)
		var st struct {
			Status string `json:"status"`
		}
		if get.Error != nil || json.Unmarshal(get.Result, &st) != nil {
			t.Fatalf("tasks/get: %+v", get.Error)
		}
		if st.Status != seen[len(seen)-1] {
			seen = append(seen, st.Status)
		}
		if st.Status == "input_required" || st.Status == "completed" || st.Status == "failed" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("research task never needed input nor ended; statuses %q", seen)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if !slices.Contains(seen, "input_required") {
		t.Errorf("research task statuses %q: want input_required for the ambiguous query", seen)
	}
	result := c.call(ctx, "result", "tasks/result", map[string]any{"taskId": id}, client.handle, nil)
	return checkToolResult(t, "simulate-research-query", result, "programming")
}

// checkToolResult requires a successful tool result containing want and
// returns it normalized for comparison.
func checkToolResult(t *testing.T, name string, resp rpcMsg, want string) string {
	t.Helper()
	if resp.Error != nil {
		t.Errorf("%s: error %d %s", name, resp.Error.Code, resp.Error.Message)
		return "error"
	}
	var res struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(resp.Result, &res); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		text.WriteString(c.Text)
	}
	if res.IsError || !strings.Contains(text.String(), want) {
		t.Errorf("%s: want a result containing %q, got %s", name, want, resp.Result)
	}
	v := jsontext.Value(resp.Result)
	return normalize(t, v)
}
