package e2e_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"

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

// startReceiver starts an OTLP receiver (one that never answers when
// hang is set) that is closed when t and its subtests are done.
func startReceiver(t *testing.T, hang bool) *otlptest.Receiver {
	t.Helper()
	recv, err := otlptest.Start(hang)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(recv.Close)
	return recv
}

// TestTelemetrySpansAndCounters runs server-memory behind mcpwarden with
// OTLP export to a receiver that decodes the requests with the
// collector's generated service types: an allowed and a denied call
// arrive as spans with the MCP attributes, mcpwarden's decision and the
// right status, and the counters arrive when mcpwarden exits.
func TestTelemetrySpansAndCounters(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	recv := startReceiver(t, false)
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
		"jsonrpc.request.id":   string(auditFor(recs, "decision", "read_graph")[0].ID),
		"mcp.protocol.version": cs.InitializeResult().ProtocolVersion,
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
	hanging := startReceiver(t, true) // closed after the parallel subtests
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

// TestTelemetryRealCollector sends mcpwarden's export to the OpenTelemetry
// Collector's own OTLP receiver (e2e/otelcol), which decodes it with the
// collector's pdata code and hands it on as the collector's JSON: an
// allowed and a denied call arrive as spans, and the counters as metrics.
func TestTelemetryRealCollector(t *testing.T) {
	t.Parallel()
	col := otelcolBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx := testContext(t)
	collector := startRaw(t, []string{col, "-addr", addr})
	waitListening(t, ctx, collector, addr)

	argv, env, _ := memoryTelemetryArgv(t, "http://"+addr, "OTEL_EXPORTER_OTLP_COMPRESSION=gzip")
	c := startRaw(t, argv, env...)
	c.initialize(ctx, "2025-11-25", nil)
	if m := c.call(ctx, 1, "tools/call", map[string]any{"name": "read_graph", "arguments": map[string]any{}}, nil, nil); m.Error != nil {
		t.Fatalf("read_graph: %v", m.Error)
	}
	if m := c.call(ctx, "del", "tools/call", map[string]any{"name": "delete_entities", "arguments": map[string]any{"entityNames": []string{"x"}}}, nil, nil); m.Error == nil {
		t.Fatalf("delete_entities was not refused: %s", m.Result)
	}
	c.closeInput()
	if code := c.wait(ctx); code != 0 {
		t.Fatalf("mcpwarden exit status %d", code)
	}
	collector.closeInput()
	var spans []*tracepb.Span
	var metrics []*metricspb.Metric
	for _, line := range collector.drain(ctx) {
		var batch struct {
			Signal string         `json:"signal"`
			Data   jsontext.Value `json:"data"`
		}
		if err := json.Unmarshal(line, &batch); err != nil {
			t.Fatalf("collector output %q: %v", line, err)
		}
		switch batch.Signal {
		case "traces":
			var td tracepb.TracesData
			if err := protojson.Unmarshal(batch.Data, &td); err != nil {
				t.Fatalf("collector traces JSON: %v\n%s", err, batch.Data)
			}
			for _, rs := range td.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					spans = append(spans, ss.Spans...)
				}
			}
		case "metrics":
			var md metricspb.MetricsData
			if err := protojson.Unmarshal(batch.Data, &md); err != nil {
				t.Fatalf("collector metrics JSON: %v\n%s", err, batch.Data)
			}
			for _, rm := range md.ResourceMetrics {
				for _, sm := range rm.ScopeMetrics {
					metrics = append(metrics, sm.Metrics...)
				}
			}
		}
	}
	s, a := findSpan(t, spans, "read_graph")
	if s.Name != "tools/call read_graph" || a["jsonrpc.request.id"] != "1" || a["mcpwarden.outcome"] != "ok" || a["mcp.method.name"] != "tools/call" ||
		a["mcp.protocol.version"] != "2025-11-25" {
		t.Errorf("allowed span through the collector: %q %v", s.Name, a)
	}
	s, a = findSpan(t, spans, "delete_entities")
	if a["jsonrpc.request.id"] != "del" || a["mcpwarden.decision"] != "deny" || s.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("denied span through the collector: %v %v", a, s.Status)
	}
	var calls int64
	histogram := false
	for _, m := range metrics {
		switch m.Name {
		case "mcpwarden.calls":
			calls = 0
			for _, p := range m.GetSum().DataPoints {
				calls += p.GetAsInt()
			}
		case "mcp.server.operation.duration":
			histogram = len(m.GetHistogram().GetDataPoints()) == 2
		}
	}
	if calls != 2 || !histogram {
		t.Errorf("metrics through the collector: %d calls counted, histogram with two series %v", calls, histogram)
	}
	if out := c.stderr.String(); strings.Contains(out, "telemetry") {
		t.Errorf("telemetry diagnostics with a working collector:\n%s", out)
	}
}

// otelcolBinary returns the collector receiver of e2e/otelcol, named by
// MCPWARDEN_OTELCOL or built here: it is a module of its own, so that the
// collector's dependencies stay out of mcpwarden's.
func otelcolBinary(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("MCPWARDEN_OTELCOL"); path != "" {
		return path
	}
	out := filepath.Join(t.TempDir(), "otelcol")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = "otelcol"
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building e2e/otelcol: %v\n%s", err, b)
	}
	return out
}

// waitListening waits until something accepts connections on addr, or
// the process c that should be listening has exited.
func waitListening(t *testing.T, ctx context.Context, c *rawConn, addr string) {
	t.Helper()
	for {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("nothing listens on %s", addr)
		case <-c.exited:
			t.Fatalf("%s exited before listening on %s", c.cmd.Args[0], addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestTelemetryCredentialsStayOutside: the collector's token in
// OTEL_EXPORTER_OTLP_HEADERS is used by mcpwarden, outside the sandbox,
// and never reaches the server, whose get-env shows its whole
// environment.
func TestTelemetryCredentialsStayOutside(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	recv := startReceiver(t, false)
	const token = "collector-token-8d1f"
	argv := wardenArgv(writeProfile(t, "[tools]\nallow = [\"get-env\"]\n"), filepath.Join(t.TempDir(), "audit.jsonl"), nil, everythingArgv(t)...)
	cmd, _ := newCommand(t, "mcpwarden", argv, "OTEL_EXPORTER_OTLP_ENDPOINT="+recv.URL,
		"OTEL_EXPORTER_OTLP_HEADERS=x-collector-token="+token, "OTEL_BSP_SCHEDULE_DELAY=50", "OTEL_SDK_DISABLED=false")
	cs := connectGo(t, ctx, newGoClient(nil), cmd, "")
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get-env", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("get-env: %v", err)
	}
	text := toolText(res)
	if strings.Contains(text, token) || strings.Contains(text, "OTEL_") {
		t.Errorf("the sandboxed server sees the telemetry settings: %s", text)
	}
	waitSpans(t, ctx, recv, 1)
	for _, req := range recv.Requests() {
		if req.Headers.Get("x-collector-token") != token {
			t.Errorf("%s reached the collector without the configured header", req.Path)
		}
	}
}
