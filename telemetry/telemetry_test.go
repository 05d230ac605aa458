package telemetry

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/telemetry/otlptest"
)

func env(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestFromEnvOffByDefault(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"nothing":           {},
		"service name only": {"OTEL_SERVICE_NAME": "x", "OTEL_EXPORTER_OTLP_HEADERS": "a=b"},
		"disabled":          {"OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"},
		"both signals none": {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none"},
	} {
		if cfg, _ := FromEnv(env(vars)); cfg != nil {
			t.Errorf("%s: telemetry on: %+v", name, cfg)
		}
	}
}

func TestFromEnvEndpoints(t *testing.T) {
	cfg, w := FromEnv(env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":         "http://collector:4318/",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "https://m.example/custom/path",
		"OTEL_EXPORTER_OTLP_HEADERS":          "Authorization=Bearer%20abc, x-tenant = t1 ,broken",
		"OTEL_EXPORTER_OTLP_METRICS_HEADERS":  "x-only=metrics",
		"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT":   "250",
		"OTEL_EXPORTER_OTLP_TIMEOUT":          "soon",
		"OTEL_EXPORTER_OTLP_COMPRESSION":      "gzip",
		"OTEL_RESOURCE_ATTRIBUTES":            "service.name=ignored,deployment.environment=prod%2Ceu",
		"OTEL_SERVICE_NAME":                   "warden",
	}))
	if cfg == nil {
		t.Fatalf("telemetry off; warnings %q", w)
	}
	if cfg.Traces.URL != "http://collector:4318/v1/traces" {
		t.Errorf("traces URL %q", cfg.Traces.URL)
	}
	if cfg.Metrics.URL != "https://m.example/custom/path" {
		t.Errorf("a signal's own endpoint is used as it is: %q", cfg.Metrics.URL)
	}
	if cfg.Traces.Headers["Authorization"] != "Bearer abc" || cfg.Traces.Headers["x-tenant"] != "t1" || len(cfg.Traces.Headers) != 2 {
		t.Errorf("trace headers %q", cfg.Traces.Headers)
	}
	if cfg.Metrics.Headers["x-only"] != "metrics" || len(cfg.Metrics.Headers) != 1 {
		t.Errorf("a signal's own headers replace the general ones: %q", cfg.Metrics.Headers)
	}
	if cfg.Traces.Timeout != 250*time.Millisecond || cfg.Metrics.Timeout != defaultTimeout {
		t.Errorf("timeouts %v %v", cfg.Traces.Timeout, cfg.Metrics.Timeout)
	}
	if !cfg.Traces.Gzip || !cfg.Metrics.Gzip {
		t.Error("gzip not taken from the general variable")
	}
	if cfg.Resource[0] != (Attr{"service.name", "warden"}) || cfg.Resource[1] != (Attr{"deployment.environment", "prod,eu"}) {
		t.Errorf("resource %q", cfg.Resource)
	}
	joined := strings.Join(w, "\n")
	for _, want := range []string{`"broken"`, `OTEL_EXPORTER_OTLP_TIMEOUT="soon"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("no warning about %s in %q", want, w)
		}
	}
}

func TestFromEnvUnusableSignals(t *testing.T) {
	cfg, w := FromEnv(env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://127.0.0.1:4318",
		"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
	}))
	if cfg == nil || cfg.Traces.URL != "" || cfg.Metrics.URL == "" {
		t.Fatalf("want traces off (grpc) and metrics on: %+v", cfg)
	}
	if len(w) != 1 || !strings.Contains(w[0], "http/protobuf") {
		t.Errorf("warnings %q", w)
	}
	for _, bad := range []string{"ftp://x", "127.0.0.1:4318", "http://", "::"} {
		cfg, w := FromEnv(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": bad}))
		if cfg != nil || len(w) != 2 {
			t.Errorf("endpoint %q: cfg %+v, warnings %q", bad, cfg, w)
		}
	}
	cfg, w = FromEnv(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:1", "OTEL_TRACES_EXPORTER": "zipkin", "OTEL_BSP_MAX_QUEUE_SIZE": "-1"}))
	if cfg == nil || cfg.Traces.URL != "" || cfg.QueueSize != defaultQueueSize || len(w) != 2 {
		t.Errorf("cfg %+v warnings %q", cfg, w)
	}
}

// testConfig exports both signals to r, with short delays so a test does
// not wait for the specification's defaults.
func testConfig(base string) *Config {
	cfg, _ := FromEnv(env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": base,
		"OTEL_EXPORTER_OTLP_HEADERS":  "x-token=s3cret",
		"OTEL_BSP_SCHEDULE_DELAY":     "50",
	}))
	return cfg
}

type diags struct {
	mu    sync.Mutex
	lines []string
}

func (d *diags) add(s string) { d.mu.Lock(); d.lines = append(d.lines, s); d.mu.Unlock() }
func (d *diags) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.lines, "\n")
}

func decision(id, tool, decision, reason string) audit.Record {
	return audit.Record{Event: audit.EventDecision, Method: "tools/call", RequestID: id, Target: tool,
		Decision: decision, Reason: reason, Arguments: []byte(`{"secret":"x"}`)}
}

func outcome(id, tool, outcome, msg string) audit.Record {
	return audit.Record{Event: audit.EventOutcome, Method: "tools/call", RequestID: id, Target: tool, Outcome: outcome, ErrorMessage: msg}
}

func spanByID(t *testing.T, spans []*tracepb.Span, id string) (*tracepb.Span, map[string]string) {
	t.Helper()
	for _, s := range spans {
		if a := otlptest.Attrs(s.Attributes); a["jsonrpc.request.id"] == id {
			return s, a
		}
	}
	t.Fatalf("no span for request %s among %d", id, len(spans))
	return nil, nil
}

func TestSpansAndMetricsReachReceiver(t *testing.T) {
	r, err := otlptest.Start(false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var d diags
	e, err := Start(testConfig(r.URL), "memory", "sess1", d.add)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	e.Observe(decision("1", "read_graph", "allow", "allowed by tools.allow"), at(0), "2025-11-25")
	e.Observe(outcome("1", "read_graph", "ok", ""), at(30), "2025-11-25")
	e.Observe(decision(`"b\u0021"`, "delete_entities", "deny", "denied by tools.deny"), at(40), "2025-11-25")
	e.Observe(outcome(`"b\u0021"`, "delete_entities", "denied", "denied by tools.deny"), at(40), "2025-11-25")
	d3, o3 := decision("3", "search_nodes", "allow", ""), outcome("3", "search_nodes", "isError", "")
	d3.Guards = []string{"approved: by the user"}
	o3.Guards = []string{"approved: by the user", "hidden text stripped"}
	e.Observe(d3, at(50), "2025-11-25")
	e.Observe(o3, at(1550), "2025-11-25")
	e.Observe(audit.Record{Event: audit.EventGuard, Method: "tools/list", Target: "x"}, at(60), "2025-11-25") // not a call
	// A refusal of invalid params has no outcome record; it ends where
	// it was decided.
	e.Observe(decision("4", "search_nodes", "deny", "invalid params: x"), at(70), "2025-11-25")
	e.Close()

	spans := r.Spans()
	if len(spans) != 4 {
		t.Fatalf("%d spans, want 4; diagnostics: %s; receiver errors %v", len(spans), d.String(), r.Errors())
	}
	s, a := spanByID(t, spans, "1")
	if s.Name != "tools/call read_graph" || s.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("span name %q kind %v", s.Name, s.Kind)
	}
	want := map[string]string{"mcp.method.name": "tools/call", "gen_ai.tool.name": "read_graph", "gen_ai.operation.name": "execute_tool",
		"mcp.session.id": "sess1", "network.transport": "pipe", "mcp.protocol.version": "2025-11-25", "mcpwarden.decision": "allow", "mcpwarden.outcome": "ok"}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("allowed span: %s = %q, want %q", k, a[k], v)
		}
	}
	if _, ok := a["error.type"]; ok || s.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("an answered call is marked failed: %v %v", a, s.Status)
	}
	if got := time.Duration(s.EndTimeUnixNano - s.StartTimeUnixNano); got != 30*time.Millisecond {
		t.Errorf("span lasts %v, want the 30ms from decision to outcome", got)
	}
	for _, sp := range spans {
		for _, kv := range sp.Attributes {
			if strings.Contains(kv.String(), "secret") {
				t.Errorf("arguments exported: %v", kv)
			}
		}
	}

	s, a = spanByID(t, spans, "b!")
	if a["mcpwarden.decision"] != "deny" || a["error.type"] != "denied" || a["mcpwarden.reason"] != "denied by tools.deny" {
		t.Errorf("denied span attributes %v", a)
	}
	if s.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || s.Status.GetMessage() != "denied by tools.deny" {
		t.Errorf("denied span status %v", s.Status)
	}
	if _, a = spanByID(t, spans, "3"); a["error.type"] != "tool_error" || a["mcpwarden.guards"] != "approved: by the user,hidden text stripped" {
		t.Errorf("isError span: %v", a)
	}
	s, a = spanByID(t, spans, "4")
	if a["mcpwarden.outcome"] != "" || a["error.type"] != "denied" || s.EndTimeUnixNano != s.StartTimeUnixNano {
		t.Errorf("refusal without outcome: %v, %d..%d", a, s.StartTimeUnixNano, s.EndTimeUnixNano)
	}
	if res := r.Resource(); res["service.name"] != "mcpwarden" || res["mcpwarden.server"] != "memory" {
		t.Errorf("resource %v", res)
	}
	for _, req := range r.Requests() {
		if req.Headers.Get("x-token") != "s3cret" {
			t.Errorf("%s without the configured header", req.Path)
		}
	}

	calls := r.LastMetric("mcpwarden.calls")
	if calls == nil {
		t.Fatalf("no calls counter; diagnostics %s", d.String())
	}
	got := map[string]int64{}
	for _, p := range calls.GetSum().DataPoints {
		a := otlptest.Attrs(p.Attributes)
		got[a["gen_ai.tool.name"]+"/"+a["mcpwarden.decision"]+"/"+a["mcpwarden.outcome"]] += p.GetAsInt()
	}
	wantCalls := map[string]int64{"read_graph/allow/ok": 1, "delete_entities/deny/denied": 1, "search_nodes/allow/isError": 1, "search_nodes/deny/": 1}
	if fmt.Sprint(got) != fmt.Sprint(wantCalls) {
		t.Errorf("calls %v, want %v", got, wantCalls)
	}
	if !calls.GetSum().IsMonotonic || calls.GetSum().AggregationTemporality != metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE {
		t.Error("calls is not a cumulative monotonic sum")
	}
	h := r.LastMetric("mcp.server.operation.duration")
	if h == nil || h.Unit != "s" {
		t.Fatalf("duration histogram %v", h)
	}
	for _, p := range h.GetHistogram().DataPoints {
		a := otlptest.Attrs(p.Attributes)
		if a["gen_ai.tool.name"] == "search_nodes" && a["mcpwarden.outcome"] == "isError" {
			// 1.5 s falls in the bucket (1, 2].
			if p.Count != 1 || p.BucketCounts[7] != 1 || p.GetSum() != 1.5 || len(p.ExplicitBounds) != 14 {
				t.Errorf("histogram point %v", p)
			}
		}
	}
	if d.String() != "" {
		t.Errorf("diagnostics from a working export: %s", d.String())
	}
}

func TestGzipArrives(t *testing.T) {
	r, err := otlptest.Start(false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cfg := testConfig(r.URL)
	cfg.Traces.Gzip, cfg.Metrics.Gzip = true, true
	e, err := Start(cfg, "s", "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Observe(decision("1", "t", "allow", ""), time.Now(), "2025-11-25")
	e.Observe(outcome("1", "t", "ok", ""), time.Now(), "2025-11-25")
	e.Close()
	if len(r.Spans()) != 1 || r.LastMetric("mcpwarden.calls") == nil || len(r.Errors()) != 0 {
		t.Fatalf("spans %d, errors %v", len(r.Spans()), r.Errors())
	}
	for _, req := range r.Requests() {
		if req.Headers.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s not compressed", req.Path)
		}
	}
}

// TestUnreachableCollector: with nothing listening, every Observe returns,
// Close returns, and the loss is reported without the credentials of the
// endpoint URL or the headers.
func TestUnreachableCollector(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var d diags
	e, err := Start(testConfig("http://user:hunter2@"+addr), "s", "x", d.add)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		e.Observe(decision(fmt.Sprint(i), "t", "allow", ""), time.Now(), "2025-11-25")
		e.Observe(outcome(fmt.Sprint(i), "t", "ok", ""), time.Now(), "2025-11-25")
	}
	e.Close()
	// Close returns within its bound even when the exporter's goroutine
	// has not finished; on a loaded machine the last diagnostic can come
	// just after.
	out := d.String()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out, "could not be exported") && time.Now().Before(deadline); out = d.String() {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out, "exporting spans to http://user:xxxxx@"+addr) || !strings.Contains(out, "100 records could not be exported") {
		t.Errorf("diagnostics: %s", out)
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, "s3cret") {
		t.Errorf("a credential in the diagnostics: %s", out)
	}
}

// TestHangingCollector: a collector that accepts and never answers holds
// the exporter's goroutine; the queue fills, further records are dropped
// and counted, Observe never blocks, and Close gives up after its bound.
func TestHangingCollector(t *testing.T) {
	r, err := otlptest.Start(true)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cfg := testConfig(r.URL)
	cfg.QueueSize, cfg.BatchSize = 16, 4
	cfg.FlushTimeout = 200 * time.Millisecond
	var d diags
	e, err := Start(cfg, "s", "x", d.add)
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	for i := range n {
		e.Observe(decision(fmt.Sprint(i), "t", "allow", ""), time.Now(), "2025-11-25")
		e.Observe(outcome(fmt.Sprint(i), "t", "ok", ""), time.Now(), "2025-11-25")
	}
	if e.queueDrops.Load() == 0 {
		t.Error("no record dropped although the queue holds 16 and the collector never answers")
	}
	e.Close()
	if !strings.Contains(d.String(), "dropped on a full queue") {
		t.Errorf("diagnostics: %s", d.String())
	}
}

func TestPendingAndSeriesAreBounded(t *testing.T) {
	r, err := otlptest.Start(false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cfg := testConfig(r.URL)
	cfg.QueueSize = 1 << 16
	e, err := Start(cfg, "s", "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Decisions that never get an outcome, and tool names made up by a
	// client, each of them a new attribute set.
	const n = maxPending + 500
	for i := range n {
		e.Observe(decision(fmt.Sprint(i), fmt.Sprintf("made_up_%d", i), "deny", "unknown tool"), time.Now(), "2025-11-25")
	}
	e.Close()
	if got := len(r.Spans()); got != n {
		t.Errorf("%d spans, want %d: each decision becomes a span even past the pending bound", got, n)
	}
	calls := r.LastMetric("mcpwarden.calls")
	if calls == nil {
		t.Fatal("no calls counter")
	}
	var total int64
	other := false
	for _, p := range calls.GetSum().DataPoints {
		total += p.GetAsInt()
		other = other || otlptest.Attrs(p.Attributes)["gen_ai.tool.name"] == otherTarget
	}
	if pts := len(calls.GetSum().DataPoints); pts > maxSeries+1 || !other || total != n {
		t.Errorf("%d series (bound %d), _OTHER present %v, total %d of %d", pts, maxSeries, other, total, n)
	}
}

func TestNilExporter(t *testing.T) {
	var e *Exporter
	e.Observe(decision("1", "t", "allow", ""), time.Now(), "2025-11-25")
	e.Close()
	if e.Observer() != nil {
		t.Error("a nil exporter hands out an observer")
	}
	if StartFromEnv(env(nil), "s", "x", func(s string) { t.Errorf("diagnostic while off: %s", s) }) != nil {
		t.Error("telemetry on without configuration")
	}
}

func TestStartFromEnvBadCertificate(t *testing.T) {
	var d diags
	e := StartFromEnv(env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":    "https://127.0.0.1:1",
		"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem",
	}), "s", "x", d.add)
	if e != nil || !strings.Contains(d.String(), "ca.pem") || !strings.Contains(d.String(), "telemetry is off") {
		t.Errorf("exporter %v, diagnostics %s", e, d.String())
	}
}

func BenchmarkObserve(b *testing.B) {
	r, err := otlptest.Start(false)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	cfg := testConfig(r.URL)
	e, err := Start(cfg, "s", "x", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	rec := decision("1", "t", "allow", "")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		e.Observe(rec, now, "2025-11-25")
	}
}

// TestRetries: a 503 is retried and the batch arrives; a 400 is not.
func TestRetries(t *testing.T) {
	var mu sync.Mutex
	var traceReqs, metricReqs int
	var spans int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/v1/traces":
			traceReqs++
			if traceReqs == 1 {
				w.Header().Set("Retry-After", "0")
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			body, _ := io.ReadAll(r.Body)
			var req coltracepb.ExportTraceServiceRequest
			if err := proto.Unmarshal(body, &req); err != nil {
				t.Errorf("retried body: %v", err)
			}
			for _, rs := range req.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					spans += len(ss.Spans)
				}
			}
		case "/v1/metrics":
			metricReqs++
			http.Error(w, "bad metrics", http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	var d diags
	e, err := Start(testConfig(srv.URL), "s", "x", d.add)
	if err != nil {
		t.Fatal(err)
	}
	e.Observe(decision("1", "t", "allow", ""), time.Now(), "2025-11-25")
	e.Observe(outcome("1", "t", "ok", ""), time.Now(), "2025-11-25")
	e.Close()
	mu.Lock()
	defer mu.Unlock()
	if traceReqs != 2 || spans != 1 {
		t.Errorf("%d trace requests, %d spans; want the 503 retried once and the span delivered", traceReqs, spans)
	}
	if metricReqs != 1 || !strings.Contains(d.String(), "collector answered 400: bad metrics") {
		t.Errorf("%d metric requests; diagnostics %s", metricReqs, d.String())
	}
	if strings.Contains(d.String(), "spans") {
		t.Errorf("a delivered batch was reported lost: %s", d.String())
	}
}
