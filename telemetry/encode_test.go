package telemetry

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/mcpwarden/mcpwarden/audit"
)

// The reference: how the package built its messages with the generated
// OTLP types before it wrote the wire format itself, kept here as the
// oracle of the encoding tests. The random ids are parameters, and so is
// the order of the metric series, which a map gave at random.

func refClip(s string) string {
	if len(s) <= maxAttrBytes {
		return s
	}
	cut := maxAttrBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func refStr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: refClip(v)}}}
}

func refStrs(k string, vs []string) *commonpb.KeyValue {
	arr := &commonpb.ArrayValue{}
	for _, v := range vs {
		arr.Values = append(arr.Values, &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: refClip(v)}})
	}
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: arr}}}
}

func refResource(attrs []Attr, server string) *resourcepb.Resource {
	res := &resourcepb.Resource{}
	for _, a := range attrs {
		res.Attributes = append(res.Attributes, refStr(a.Key, a.Value))
	}
	if server != "" {
		res.Attributes = append(res.Attributes, refStr(attrServer, server))
	}
	return res
}

func refSpanName(r audit.Record) string {
	if (r.Method == "tools/call" || r.Method == "prompts/get") && r.Target != "" {
		return r.Method + " " + refClip(r.Target)
	}
	if r.Method == "" {
		return "mcp"
	}
	return r.Method
}

func refSpan(session string, r audit.Record, errType, version string, start, end time.Time, traceID, spanID []byte) *tracepb.Span {
	s := &tracepb.Span{
		TraceId:           traceID,
		SpanId:            spanID,
		Name:              refSpanName(r),
		Kind:              tracepb.Span_SPAN_KIND_SERVER,
		StartTimeUnixNano: uint64(start.UnixNano()),
		EndTimeUnixNano:   uint64(end.UnixNano()),
	}
	add := func(k, v string) {
		if v != "" {
			s.Attributes = append(s.Attributes, refStr(k, v))
		}
	}
	add(attrMethod, r.Method)
	switch r.Method {
	case "tools/call":
		add(attrTool, r.Target)
		add(attrOperation, "execute_tool")
	case "prompts/get":
		add(attrPrompt, r.Target)
	default:
		add(attrResource, r.Target)
	}
	add(attrRequestID, requestID(r.RequestID))
	add(attrSession, session)
	add(attrVersion, version)
	add(attrTransport, "pipe")
	add(attrDecision, r.Decision)
	add(attrReason, r.Reason)
	add(attrOutcome, r.Outcome)
	add(attrErrorType, errType)
	if len(r.Guards) > 0 {
		s.Attributes = append(s.Attributes, refStrs(attrGuards, r.Guards))
	}
	if len(r.Warnings) > 0 {
		s.Attributes = append(s.Attributes, refStrs(attrWarnings, r.Warnings))
	}
	if errType != "" {
		msg := r.ErrorMessage
		if msg == "" {
			msg = r.Reason
		}
		s.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: refClip(msg)}
	}
	return s
}

func refSeriesAttributes(k series) []*commonpb.KeyValue {
	var out []*commonpb.KeyValue
	add := func(key, v string) {
		if v != "" {
			out = append(out, refStr(key, v))
		}
	}
	add(attrMethod, k.method)
	switch k.method {
	case "tools/call":
		add(attrTool, k.target)
	case "prompts/get":
		add(attrPrompt, k.target)
	}
	add(attrDecision, k.decision)
	add(attrOutcome, k.outcome)
	add(attrErrorType, k.errorType)
	return out
}

func refMetrics(w *work, res *resourcepb.Resource, keys []series, now uint64) *metricspb.MetricsData {
	start := uint64(w.start.UnixNano())
	calls := &metricspb.Sum{AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE, IsMonotonic: true}
	durations := &metricspb.Histogram{AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE}
	for _, k := range keys {
		attrs := refSeriesAttributes(k)
		calls.DataPoints = append(calls.DataPoints, &metricspb.NumberDataPoint{
			Attributes: attrs, StartTimeUnixNano: start, TimeUnixNano: now,
			Value: &metricspb.NumberDataPoint_AsInt{AsInt: w.calls[k]},
		})
		h := w.hists[k]
		durations.DataPoints = append(durations.DataPoints, &metricspb.HistogramDataPoint{
			Attributes: attrs, StartTimeUnixNano: start, TimeUnixNano: now,
			Count: h.n, Sum: &h.sum, Min: &h.min, Max: &h.max,
			BucketCounts: append([]uint64(nil), h.counts...), ExplicitBounds: durationBounds,
		})
	}
	dropped := &metricspb.Sum{AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE, IsMonotonic: true}
	for _, d := range []struct {
		reason string
		n      int64
	}{{"queue_full", w.e.queueDrops.Load()}, {"export_failed", w.exportDrops}} {
		dropped.DataPoints = append(dropped.DataPoints, &metricspb.NumberDataPoint{
			Attributes: []*commonpb.KeyValue{refStr(attrDropped, d.reason)}, StartTimeUnixNano: start, TimeUnixNano: now,
			Value: &metricspb.NumberDataPoint_AsInt{AsInt: d.n},
		})
	}
	return &metricspb.MetricsData{ResourceMetrics: []*metricspb.ResourceMetrics{{
		Resource: res,
		ScopeMetrics: []*metricspb.ScopeMetrics{{Scope: &commonpb.InstrumentationScope{Name: scopeName}, Metrics: []*metricspb.Metric{
			{Name: metricCalls, Unit: "{call}", Description: "Requests mcpwarden decided on, by tool, decision and outcome.",
				Data: &metricspb.Metric_Sum{Sum: calls}},
			{Name: metricDuration, Unit: "s", Description: "Time from mcpwarden's decision on a request to its answer.",
				Data: &metricspb.Metric_Histogram{Histogram: durations}},
			{Name: metricDropped, Unit: "{record}", Description: "Audit records that could not be exported as spans.",
				Data: &metricspb.Metric_Sum{Sum: dropped}},
		}}},
	}}}
}

// sameWire decodes got with the generated decoder, into a message of
// want's type, and checks that it is want field by field, and that got is
// byte for byte what the generated encoder writes for want.
func sameWire(t *testing.T, what string, got []byte, want proto.Message) proto.Message {
	t.Helper()
	decoded := want.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(got, decoded); err != nil {
		t.Fatalf("%s: the generated decoder refuses the encoding: %v", what, err)
	}
	if !proto.Equal(decoded, want) {
		t.Fatalf("%s: decoded\n%s\nwant\n%s", what, prototext.Format(decoded), prototext.Format(want))
	}
	wantBytes, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, wantBytes) {
		t.Errorf("%s: the same message in other bytes:\n got %x\nwant %x", what, got, wantBytes)
	}
	return decoded
}

func testWork(session, server string, resource []Attr) *work {
	return newWork(&Exporter{session: session, server: server, cfg: Config{Resource: resource}})
}

// spanCase is a call as finish hands it to appendSpan.
type spanCase struct {
	name       string
	session    string
	r          audit.Record
	version    string
	start, end time.Time
}

func spanCases() []spanCase {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	long := "a" + strings.Repeat("é", 1000) // clipped inside a two-byte character
	emoji := strings.Repeat("🔧", 300) + "x" // clipped inside a four-byte one
	var many []string
	for i := range 40 { // a span longer than 16 KiB: a three-byte length
		many = append(many, fmt.Sprintf("%d:%s", i, strings.Repeat("g", 1100)))
	}
	return []spanCase{
		{"allowed", "sess1", audit.Record{Method: "tools/call", RequestID: "1", Target: "read_graph", Decision: "allow",
			Reason: "allowed by tools.allow", Outcome: "ok"}, "2025-11-25", t0, t0.Add(30 * time.Millisecond)},
		{"denied, string id", "sess1", audit.Record{Method: "tools/call", RequestID: `"b\u0021"`, Target: "delete_entities",
			Decision: "deny", Reason: "denied by tools.deny", Outcome: "denied"}, "2025-11-25", t0, t0},
		{"isError, guards and warnings, no message", "s", audit.Record{Method: "tools/call", RequestID: "3", Target: "search",
			Decision: "allow", Outcome: "isError", Guards: []string{"approved: by the user", "hidden text stripped"},
			Warnings: []string{"w1"}}, "", t0, t0.Add(1500 * time.Millisecond)},
		{"unicode", "séance-😀", audit.Record{Method: "tools/call", RequestID: `"идентификатор"`, Target: "読む_🔧",
			Decision: "allow", Outcome: "error", ErrorMessage: "échec — 失败 🚫\t\n"}, "2025-06-18", t0, t0.Add(time.Second)},
		{"empty array elements", "s", audit.Record{Method: "tools/call", RequestID: "0", Target: "t", Decision: "allow",
			Outcome: "ok", Guards: []string{"", "x", ""}, Warnings: []string{""}}, "", t0, t0},
		{"notification", "", audit.Record{Method: "notifications/cancelled", Decision: "allow"}, "", t0, t0},
		{"no method", "", audit.Record{Decision: "deny", Reason: "not JSON-RPC"}, "", t0, t0},
		{"prompt", "s", audit.Record{Method: "prompts/get", RequestID: "7", Target: "greet", Decision: "allow", Outcome: "ok"}, "", t0, t0},
		{"resource", "s", audit.Record{Method: "resources/read", RequestID: "8", Target: "file:///etc/passwd",
			Decision: "deny", Reason: "resources.deny"}, "", t0, t0},
		{"outcome without decision", "s", audit.Record{Method: "tools/call", RequestID: "9", Target: "t",
			Outcome: "server_exited", ErrorMessage: "the server exited"}, "", t0.Add(-time.Hour), t0},
		{"clipped", "s", audit.Record{Method: "tools/call", RequestID: "10", Target: long, Decision: "deny",
			Reason: emoji, ErrorMessage: strings.Repeat("m", 5000), Outcome: "denied"}, "", t0, t0},
		{"long span", "s", audit.Record{Method: "tools/call", RequestID: "11", Target: "t", Decision: "allow",
			Outcome: "ok", Guards: many}, "", t0, t0},
		{"large request id", "s", audit.Record{Method: "tools/call", RequestID: "18446744073709551615123", Target: "t",
			Decision: "allow", Outcome: "ok"}, "", t0, t0},
		{"zero times", "s", audit.Record{Method: "tools/call", RequestID: "12", Target: "t", Decision: "allow",
			Outcome: "ok"}, "", time.Unix(0, 0), time.Unix(0, 1)},
		{"extreme times", "s", audit.Record{Method: "tools/call", RequestID: "13", Target: "t", Decision: "allow",
			Outcome: "ok"}, "", time.Unix(-1, 0), time.Unix(0, math.MaxInt64)},
	}
}

// TestSpanEncoding: each span is what the generated types made of it.
func TestSpanEncoding(t *testing.T) {
	var prev []byte
	for _, c := range spanCases() {
		w := testWork(c.session, "srv", nil)
		errType := errorType(c.r)
		got := w.appendSpan(nil, c.r, errType, c.version, c.start, c.end)
		// A Span field alone is a ScopeSpans message with one span.
		var ss tracepb.ScopeSpans
		if err := proto.Unmarshal(got, &ss); err != nil || len(ss.Spans) != 1 {
			t.Fatalf("%s: %v, %d spans", c.name, err, len(ss.Spans))
		}
		s := ss.Spans[0]
		if len(s.TraceId) != 16 || len(s.SpanId) != 8 || bytes.Equal(s.TraceId, make([]byte, 16)) {
			t.Errorf("%s: trace id %x, span id %x", c.name, s.TraceId, s.SpanId)
		}
		if bytes.Equal(s.TraceId, prev) {
			t.Errorf("%s: the trace id of the span before", c.name)
		}
		prev = s.TraceId
		want := refSpan(c.session, c.r, errType, c.version, c.start, c.end, s.TraceId, s.SpanId)
		sameWire(t, c.name, got, &tracepb.ScopeSpans{Spans: []*tracepb.Span{want}})
	}
}

// TestTracesBody: a batch is an ExportTraceServiceRequest with the
// resource, the scope and the spans in the order they ended, for a batch
// long enough that its outer lengths take three bytes, and for an empty
// resource.
func TestTracesBody(t *testing.T) {
	for _, c := range []struct {
		name     string
		server   string
		resource []Attr
		n        int
	}{
		{"resource attributes", "mémoire", []Attr{{"service.name", "warden"}, {"deployment.environment", ""}, {"région", "東京"}}, 600},
		{"empty resource", "", nil, 1},
	} {
		w := testWork("sess", c.server, c.resource)
		cases := spanCases()
		for i := range c.n {
			sc := cases[i%len(cases)]
			w.spans = w.appendSpan(w.spans, sc.r, errorType(sc.r), sc.version, sc.start, sc.end)
		}
		got := w.tracesBody()
		var decoded coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(got, &decoded); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		spans := decoded.GetResourceSpans()[0].GetScopeSpans()[0].GetSpans()
		if len(spans) != c.n {
			t.Fatalf("%s: %d spans, want %d", c.name, len(spans), c.n)
		}
		var want []*tracepb.Span
		for i, s := range spans {
			sc := cases[i%len(cases)]
			want = append(want, refSpan("sess", sc.r, errorType(sc.r), sc.version, sc.start, sc.end, s.TraceId, s.SpanId))
		}
		sameWire(t, c.name, got, &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
			Resource:   refResource(c.resource, c.server),
			ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: scopeName}, Spans: want}},
		}}})
	}
}

// TestMetricsBody: the calls counter, the duration histogram and the
// dropped counter are what the generated types made of the same sums:
// zero counts and durations (written, since those fields have presence),
// bucket edges, negative durations, large integers, unicode, and the
// series bound.
func TestMetricsBody(t *testing.T) {
	call := func(method, target, decision, outcome string) audit.Record {
		return audit.Record{Method: method, Target: target, Decision: decision, Outcome: outcome}
	}
	for _, c := range []struct {
		name  string
		fill  func(w *work)
		start time.Time
		now   uint64
	}{
		{"calls, no drops", func(w *work) {
			w.count(call("tools/call", "read_graph", "allow", "ok"), "", 0)
			w.count(call("tools/call", "read_graph", "allow", "ok"), "", 10*time.Millisecond) // on a bound: its bucket
			w.count(call("tools/call", "read_graph", "allow", "ok"), "", 10*time.Millisecond+1)
			w.count(call("tools/call", "search", "allow", "isError"), "tool_error", 1500*time.Millisecond)
			w.count(call("tools/call", "読む_🔧", "deny", ""), "denied", 301*time.Second)    // past the last bound
			w.count(call("prompts/get", "greet", "allow", "ok"), "", -5*time.Millisecond) // a clock stepped back
			w.count(call("resources/read", "file:///x", "allow", "ok"), "", time.Millisecond)
			w.count(call("", "", "deny", ""), "denied", 0)
		}, time.Date(2026, 3, 1, 12, 0, 0, 1, time.UTC), 1772366400000000000},
		{"drops, no calls", func(w *work) {
			w.e.queueDrops.Store(3)
		}, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), 1772366460000000000},
		{"large integers", func(w *work) {
			k := series{method: "tools/call", target: "t", decision: "allow", outcome: "ok"}
			w.calls[k] = math.MaxInt64
			counts := make([]uint64, len(durationBounds)+1)
			for i := range counts {
				counts[i] = math.MaxUint64 - uint64(i)
			}
			w.hists[k] = &hist{counts: counts, n: math.MaxUint64, sum: math.MaxFloat64, min: math.SmallestNonzeroFloat64, max: math.Inf(1)}
			w.e.queueDrops.Store(math.MaxInt64)
			w.exportDrops = 1 << 40
		}, time.Unix(0, math.MaxInt64), math.MaxUint64},
		{"zero times", func(w *work) {
			w.count(call("tools/call", "t", "allow", "ok"), "", time.Second)
		}, time.Unix(0, 0), 0},
		{"series bound", func(w *work) {
			for i := range maxSeries + 50 {
				w.count(call("tools/call", fmt.Sprintf("made_up_%d", i), "deny", ""), "denied", time.Duration(i)*time.Millisecond)
			}
		}, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), 1772366460000000000},
	} {
		resource := []Attr{{"service.name", "warden"}, {"empty", ""}}
		w := testWork("sess", "srv", resource)
		w.start = c.start
		c.fill(w)
		keys := make([]series, 0, len(w.calls))
		for k := range w.calls {
			keys = append(keys, k)
		}
		got := w.metricsBody(c.now)
		// The points come in the order of the series; the reference
		// takes it from what was decoded.
		var decoded colmetricspb.ExportMetricsServiceRequest
		if err := proto.Unmarshal(got, &decoded); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		metrics := decoded.GetResourceMetrics()[0].GetScopeMetrics()[0].GetMetrics()
		if len(metrics) != 3 {
			t.Fatalf("%s: %d metrics", c.name, len(metrics))
		}
		keys = keys[:0]
		for _, p := range metrics[0].GetSum().GetDataPoints() {
			keys = append(keys, seriesOf(p.Attributes))
		}
		want := refMetrics(w, refResource(resource, "srv"), keys, c.now)
		sameWire(t, c.name, got, &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: want.ResourceMetrics})
		if len(keys) != len(w.calls) {
			t.Errorf("%s: %d points for %d series", c.name, len(keys), len(w.calls))
		}
		for i := 1; i < len(keys); i++ {
			if keys[i-1].compare(keys[i]) >= 0 {
				t.Errorf("%s: series %v before %v", c.name, keys[i-1], keys[i])
			}
		}
	}
}

// seriesOf reads a series back from its attributes.
func seriesOf(kvs []*commonpb.KeyValue) series {
	var k series
	for _, kv := range kvs {
		v := kv.GetValue().GetStringValue()
		switch kv.Key {
		case attrMethod:
			k.method = v
		case attrTool, attrPrompt:
			k.target = v
		case attrDecision:
			k.decision = v
		case attrOutcome:
			k.outcome = v
		case attrErrorType:
			k.errorType = v
		}
	}
	return k
}

// TestInvalidUTF8: a protobuf string must be valid UTF-8, and the
// generated decoder refuses a message with one that is not; bad bytes in a
// resource attribute (from a percent-encoded OTEL_RESOURCE_ATTRIBUTES) or
// in a record arrive as U+FFFD, where the generated encoder refused to
// write the request at all.
func TestInvalidUTF8(t *testing.T) {
	bad := func(s string) string { return s + "\xff" }
	resource := []Attr{{"service.name", bad("warden")}, {bad("k"), bad("")}}
	w := testWork(bad("sess"), bad("srv"), resource)
	r := audit.Record{Method: bad("tools/call"), RequestID: bad(`"id`), Target: "read\xc3", Decision: "deny",
		Reason: bad("r"), Outcome: "denied", ErrorMessage: bad("m"), Guards: []string{"\x80"}, Warnings: []string{bad("w")}}
	r2 := r
	r2.Method = "tools/call"
	t0 := time.Unix(1772366400, 0)
	w.spans = w.appendSpan(w.spans, r, errorType(r), bad("v"), t0, t0)
	w.spans = w.appendSpan(w.spans, r2, errorType(r2), "", t0, t0)
	var decoded coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(w.tracesBody(), &decoded); err != nil {
		t.Fatalf("the generated decoder refuses the traces: %v", err)
	}
	rs := decoded.ResourceSpans[0]
	if kv := rs.Resource.Attributes[1]; kv.Key != "k\uFFFD" || kv.Value.GetStringValue() != "\uFFFD" {
		t.Errorf("resource attribute %v", kv)
	}
	spans := rs.ScopeSpans[0].Spans
	if spans[1].Name != "tools/call read\uFFFD" || spans[1].Status.Message != "m\uFFFD" {
		t.Errorf("span %v", spans[1])
	}
	w.count(r2, "denied", 0)
	var m colmetricspb.ExportMetricsServiceRequest
	if err := proto.Unmarshal(w.metricsBody(1), &m); err != nil {
		t.Fatalf("the generated decoder refuses the metrics: %v", err)
	}
}

// FuzzSpanEncoding: whatever the record holds, the span decodes with the
// generated decoder; when its strings are valid UTF-8 it is, byte for
// byte, what the generated encoder wrote.
func FuzzSpanEncoding(f *testing.F) {
	f.Add("tools/call", "read_graph", `"x\u0041"`, "allow", "reason", "isError", "msg", "guard", int64(1772366400000000000), int64(5e6))
	f.Add("", "", "", "", "", "", "", "", int64(0), int64(0))
	f.Add("prompts/get", "é\xff", "1e3", "deny", "\x80", "denied", "", "", int64(-1), int64(-1))
	f.Fuzz(func(t *testing.T, method, target, id, decision, reason, outcome, msg, guard string, start, dur int64) {
		r := audit.Record{Method: method, Target: target, RequestID: id, Decision: decision, Reason: reason,
			Outcome: outcome, ErrorMessage: msg}
		if guard != "" {
			r.Guards = []string{guard, guard}
		}
		w := testWork("sess", "srv", nil)
		t0 := time.Unix(0, start)
		got := w.appendSpan(nil, r, errorType(r), "2025-11-25", t0, t0.Add(time.Duration(dur)))
		var ss tracepb.ScopeSpans
		if err := proto.Unmarshal(got, &ss); err != nil || len(ss.Spans) != 1 {
			t.Fatalf("%v, %d spans", err, len(ss.Spans))
		}
		for _, s := range []string{method, target, id, decision, reason, outcome, msg, guard} {
			if !utf8.ValidString(s) {
				return
			}
		}
		s := ss.Spans[0]
		want := refSpan("sess", r, errorType(r), "2025-11-25", t0, t0.Add(time.Duration(dur)), s.TraceId, s.SpanId)
		sameWire(t, "span", got, &tracepb.ScopeSpans{Spans: []*tracepb.Span{want}})
	})
}

// TestNoProtobufRuntime: the package links neither the protobuf runtime
// nor the generated OTLP types (nor gRPC), whose initialisation mcpwarden
// would pay at every start; its tests may.
func TestNoProtobufRuntime(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the package's dependencies")
	}
	out, err := exec.Command(goCmd, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		for _, banned := range []string{"google.golang.org/protobuf/", "go.opentelemetry.io/", "google.golang.org/grpc"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("the telemetry package links %s", dep)
			}
		}
	}
}

// BenchmarkSpanBatch: a full batch of spans made into a request body, by
// the package and by the generated types it used before.
func BenchmarkSpanBatch(b *testing.B) {
	cases := spanCases()[:4]
	w := testWork("0f3c2a9e-sess", "memory", []Attr{{"service.name", "mcpwarden"}})
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i := range defaultBatchSize {
				c := cases[i%len(cases)]
				w.spans = w.appendSpan(w.spans, c.r, errorType(c.r), c.version, c.start, c.end)
			}
			_ = w.tracesBody()
			w.spans = nil
		}
	})
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		res := refResource(w.e.cfg.Resource, w.e.server)
		for b.Loop() {
			var spans []*tracepb.Span
			for i := range defaultBatchSize {
				c := cases[i%len(cases)]
				ids := make([]byte, 24)
				_, _ = rand.Read(ids)
				spans = append(spans, refSpan(w.e.session, c.r, errorType(c.r), c.version, c.start, c.end, ids[:16], ids[16:]))
			}
			_, _ = proto.Marshal(&tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{Resource: res,
				ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: scopeName}, Spans: spans}}}}})
		}
	})
}

// BenchmarkMetrics: an export of 200 series, by the package and by the
// generated types.
func BenchmarkMetrics(b *testing.B) {
	w := testWork("sess", "memory", []Attr{{"service.name", "mcpwarden"}})
	for i := range 200 {
		w.count(audit.Record{Method: "tools/call", Target: fmt.Sprintf("tool_%d", i%50), Decision: "allow",
			Outcome: []string{"ok", "isError", "error", "cancelled"}[i/50]}, "", time.Duration(i)*time.Millisecond)
	}
	keys := make([]series, 0, len(w.calls))
	for k := range w.calls {
		keys = append(keys, k)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = w.metricsBody(1)
		}
	})
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		res := refResource(w.e.cfg.Resource, w.e.server)
		for b.Loop() {
			_, _ = proto.Marshal(refMetrics(w, res, keys, 1))
		}
	})
}
