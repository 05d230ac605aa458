package e2e_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/mcpwarden/mcpwarden/telemetry/otlptest"
)

// memoryTelemetryArgv is server-memory under mcpwarden with the delete
// tools denied, and the environment that points its telemetry at base.
func memoryTelemetryArgv(t *testing.T, base string, extraEnv ...string) (argv, env []string, auditLog string) {
	store := filepath.Join(t.TempDir(), "memory.jsonl")
	auditLog = filepath.Join(t.TempDir(), "audit.jsonl")
	prof := writeProfile(t, "[tools]\ndeny = [\"delete_*\"]\n", grant{write: []string{filepath.Dir(store)}, env: []string{"MEMORY_FILE_PATH"}})
	argv = wardenArgv(prof, auditLog, nil, "node", npmServer(t, "server-memory"))
	env = append([]string{"MEMORY_FILE_PATH=" + store, "OTEL_EXPORTER_OTLP_ENDPOINT=" + base,
		"OTEL_SERVICE_NAME=warden-e2e", "OTEL_SDK_DISABLED=false"}, extraEnv...)
	return argv, env, auditLog
}

// TestTelemetrySpansAndCounters runs server-memory behind mcpwarden with
// OTLP export to a receiver that decodes the requests with the
// collector's generated service types: an allowed and a denied call
// arrive as spans with the MCP attributes, mcpwarden's decision and the
// right status, and the counters arrive when mcpwarden exits.
func TestTelemetrySpansAndCounters(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	recv, err := otlptest.Start(false)
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	argv, env, auditLog := memoryTelemetryArgv(t, recv.URL, "OTEL_BSP_SCHEDULE_DELAY=100")
	cmd, stderr := newCommand(t, "mcpwarden", argv, env...)
	cs := connectGo(t, ctx, newGoClient(nil), cmd, "")

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_graph", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("read_graph: %v", err)
	}
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "delete_entities",
		Arguments: map[string]any{"entityNames": []string{"x"}}})
	expectRPCError(t, "delete_entities", err, -32602, "Unknown tool: delete_entities")

	// Spans are sent while mcpwarden runs, after the batch delay.
	spans := waitSpans(t, ctx, recv, 2)
	recs := waitAudit(t, ctx, auditLog, func(r []auditRecord) bool { return len(auditFor(r, "outcome", "delete_entities")) == 1 })
	session := recs[0].Session

	allowed, a := findSpan(t, spans, "read_graph")
	for k, want := range map[string]string{
		"mcp.method.name": "tools/call", "gen_ai.tool.name": "read_graph", "gen_ai.operation.name": "execute_tool",
		"mcp.session.id": session, "network.transport": "pipe", "mcpwarden.decision": "allow", "mcpwarden.outcome": "ok",
		"jsonrpc.request.id": string(auditFor(recs, "decision", "read_graph")[0].ID),
	} {
		if a[k] != want {
			t.Errorf("allowed span: %s = %q, want %q (all: %v)", k, a[k], want, a)
		}
	}
	if allowed.Name != "tools/call read_graph" || allowed.Kind != tracepb.Span_SPAN_KIND_SERVER ||
		allowed.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR || allowed.EndTimeUnixNano < allowed.StartTimeUnixNano {
		t.Errorf("allowed span: name %q kind %v status %v", allowed.Name, allowed.Kind, allowed.Status)
	}
	denied, a := findSpan(t, spans, "delete_entities")
	if a["mcpwarden.decision"] != "deny" || a["mcpwarden.outcome"] != "denied" || a["error.type"] != "denied" || a["mcpwarden.reason"] == "" {
		t.Errorf("denied span attributes: %v", a)
	}
	if denied.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || denied.Status.GetMessage() == "" {
		t.Errorf("denied span status: %v", denied.Status)
	}
	if res := recv.Resource(); res["service.name"] != "warden-e2e" || res["mcpwarden.server"] != "e2e" {
		t.Errorf("resource: %v", res)
	}
	for _, s := range spans {
		if strings.Contains(s.String(), "entityNames") {
			t.Errorf("tool arguments were exported: %v", s)
		}
	}

	// Metrics go out at the 60 s interval or when mcpwarden exits.
	if err := cs.Close(); err != nil {
		t.Logf("closing the session: %v", err)
	}
	calls := waitMetric(t, ctx, recv, "mcpwarden.calls")
	got := map[string]int64{}
	for _, p := range calls.GetSum().DataPoints {
		a := otlptest.Attrs(p.Attributes)
		got[a["gen_ai.tool.name"]+" "+a["mcpwarden.decision"]+" "+a["mcpwarden.outcome"]] += p.GetAsInt()
	}
	if got["read_graph allow ok"] != 1 || got["delete_entities deny denied"] != 1 {
		t.Errorf("calls counter: %v", got)
	}
	if h := recv.LastMetric("mcp.server.operation.duration"); h == nil || len(h.GetHistogram().DataPoints) != len(calls.GetSum().DataPoints) {
		t.Errorf("duration histogram: %v", h)
	}
	if errs := recv.Errors(); len(errs) > 0 {
		t.Errorf("the receiver refused requests: %v", errs)
	}
	if strings.Contains(stderr.String(), "telemetry") {
		t.Errorf("telemetry diagnostics with a working collector:\n%s", stderr.String())
	}
}

// TestTelemetryCollectorDown: with the collector unreachable or accepting
// and never answering, every call is still answered, and mcpwarden exits
// once its bounded final flush gives up, saying what it could not send.
// The export timeout is set to ten minutes, so only the flush bound can
// end a hanging export before the test's own deadline.
func TestTelemetryCollectorDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := "http://" + ln.Addr().String()
	ln.Close()
	hanging, err := otlptest.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hanging.Close) // after the parallel subtests, unlike defer
	for name, base := range map[string]string{"unreachable": closedPort, "hanging": hanging.URL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			argv, env, _ := memoryTelemetryArgv(t, base,
				"OTEL_BSP_SCHEDULE_DELAY=20", "OTEL_BSP_MAX_QUEUE_SIZE=8", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2",
				"OTEL_METRIC_EXPORT_INTERVAL=20", "OTEL_EXPORTER_OTLP_TIMEOUT=600000")
			c := startRaw(t, argv, env...)
			c.initialize(ctx, "2025-06-18", nil)
			const n = 40
			for i := range n {
				tool, args := "read_graph", map[string]any{}
				if i%2 == 1 {
					tool, args = "delete_entities", map[string]any{"entityNames": []string{"x"}}
				}
				m := c.call(ctx, i, "tools/call", map[string]any{"name": tool, "arguments": args}, nil, nil)
				if (i%2 == 0) != (m.Error == nil) {
					t.Fatalf("call %d (%s): result %s error %v", i, tool, m.Result, m.Error)
				}
			}
			c.closeInput()
			if code := c.wait(ctx); code != 0 {
				t.Errorf("exit status %d", code)
			}
			out := c.stderr.String()
			if !strings.Contains(out, "mcpwarden: telemetry: exporting spans to "+base) ||
				!strings.Contains(out, "records could not be exported") {
				t.Errorf("stderr does not report the failed export:\n%s", out)
			}
		})
	}
}

func waitSpans(t *testing.T, ctx context.Context, r *otlptest.Receiver, n int) []*tracepb.Span {
	t.Helper()
	for {
		if s := r.Spans(); len(s) >= n {
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d spans arrived, want %d; receiver errors: %v", len(r.Spans()), n, r.Errors())
		case <-r.Arrived():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitMetric(t *testing.T, ctx context.Context, r *otlptest.Receiver, name string) *metricspb.Metric {
	t.Helper()
	for {
		if m := r.LastMetric(name); m != nil {
			return m
		}
		select {
		case <-ctx.Done():
			t.Fatalf("metric %s never arrived; receiver errors: %v", name, r.Errors())
		case <-r.Arrived():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func findSpan(t *testing.T, spans []*tracepb.Span, tool string) (*tracepb.Span, map[string]string) {
	t.Helper()
	for _, s := range spans {
		if a := otlptest.Attrs(s.Attributes); a["gen_ai.tool.name"] == tool {
			return s, a
		}
	}
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name
	}
	t.Fatalf("no span for %s among %s", tool, fmt.Sprint(names))
	return nil, nil
}
