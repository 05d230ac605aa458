package telemetry

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/mcpwarden/mcpwarden/audit"
)

// Attribute names from the OpenTelemetry semantic conventions for MCP and
// generative AI, and mcpwarden's own.
const (
	attrMethod    = "mcp.method.name"
	attrTool      = "gen_ai.tool.name"
	attrPrompt    = "gen_ai.prompt.name"
	attrResource  = "mcp.resource.uri"
	attrOperation = "gen_ai.operation.name"
	attrRequestID = "jsonrpc.request.id"
	attrSession   = "mcp.session.id"
	attrVersion   = "mcp.protocol.version"
	attrTransport = "network.transport"
	attrErrorType = "error.type"
	attrDecision  = "mcpwarden.decision"
	attrReason    = "mcpwarden.reason"
	attrOutcome   = "mcpwarden.outcome"
	attrGuards    = "mcpwarden.guards"
	attrWarnings  = "mcpwarden.warnings"
	attrServer    = "mcpwarden.server"
	attrDropped   = "mcpwarden.telemetry.drop_reason"
)

// Metric names. The histogram is the one the MCP conventions define for
// the receiving side of a request, which mcpwarden is for the client.
const (
	metricCalls    = "mcpwarden.calls"
	metricDuration = "mcp.server.operation.duration"
	metricDropped  = "mcpwarden.telemetry.dropped"
	scopeName      = "github.com/mcpwarden/mcpwarden/telemetry"
)

// durationBounds are the histogram buckets the MCP conventions ask for, in
// seconds.
var durationBounds = []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300}

// Bounds that keep memory and the collector's load finite whatever a
// client sends: a client can make up any number of tool names and ids.
const (
	maxPending   = 4096 // decisions waiting for their outcome
	maxSeries    = 1000 // attribute sets per metric; the rest are merged
	maxAttrBytes = 1024 // longest string attribute value
	otherTarget  = "_OTHER"
)

// work is the exporter goroutine's state.
type work struct {
	e        *Exporter
	pending  map[string]event // decisions by request id
	spans    []*tracepb.Span
	calls    map[series]int64
	hists    map[series]*hist
	start    time.Time
	resource *resourcepb.Resource
	scope    *commonpb.InstrumentationScope

	exportDrops           int64 // spans lost in failed exports
	tracesFailed, mFailed bool  // a failure was already reported
}

// series is the attribute set of one metric stream.
type series struct{ method, target, decision, outcome, errorType string }

type hist struct {
	counts        []uint64
	n             uint64
	sum, min, max float64
}

func newWork(e *Exporter) *work {
	res := &resourcepb.Resource{}
	for _, a := range e.cfg.Resource {
		res.Attributes = append(res.Attributes, str(a.Key, a.Value))
	}
	if e.server != "" {
		res.Attributes = append(res.Attributes, str(attrServer, e.server))
	}
	return &work{
		e: e, pending: map[string]event{},
		calls: map[series]int64{}, hists: map[series]*hist{},
		start: time.Now(), resource: res,
		scope: &commonpb.InstrumentationScope{Name: scopeName},
	}
}

// add pairs a decision with its outcome by request id; the proxy serves a
// single session, so the id alone names the call.
func (w *work) add(ev event) {
	r := ev.r
	switch {
	case r.Event == audit.EventDecision && r.RequestID == "":
		w.finish(&ev, nil, ev.at) // a notification: nothing will follow
	case r.Event == audit.EventDecision:
		if old, ok := w.pending[r.RequestID]; ok {
			delete(w.pending, r.RequestID)
			w.finish(&old, nil, ev.at)
		}
		if len(w.pending) >= maxPending {
			w.finish(&ev, nil, ev.at)
			return
		}
		w.pending[r.RequestID] = ev
	default:
		if d, ok := w.pending[r.RequestID]; ok {
			delete(w.pending, r.RequestID)
			w.finish(&d, &ev, ev.at)
			return
		}
		w.finish(nil, &ev, ev.at)
	}
}

// endPending ends the calls that never got an outcome record: a refusal
// answered at once ends where it was decided, anything else now.
func (w *work) endPending(now time.Time) {
	for id, d := range w.pending {
		delete(w.pending, id)
		end := now
		if d.r.Decision == audit.DecisionDeny {
			end = d.at
		}
		w.finish(&d, nil, end)
	}
}

// finish turns a call into a span and into metric points. Either record
// may be missing.
func (w *work) finish(dec, out *event, end time.Time) {
	var r audit.Record // what both records say about the request
	start := end
	if out != nil {
		r = out.r
		start = end.Add(-out.r.Duration)
	}
	if dec != nil {
		r.Method, r.RequestID, r.Target = dec.r.Method, dec.r.RequestID, dec.r.Target
		r.Decision, r.Reason, r.Warnings = dec.r.Decision, dec.r.Reason, dec.r.Warnings
		if out == nil || len(out.r.Guards) == 0 {
			r.Guards = dec.r.Guards // an outcome's notes include the decision's
		}
		start = dec.at
	}
	if out == nil {
		r.Outcome, r.ErrorMessage = "", ""
	}
	version := ""
	if out != nil {
		version = out.version
	}
	if dec != nil && dec.version != "" {
		version = dec.version
	}
	errType := errorType(r)
	w.count(r, errType, end.Sub(start))
	if w.e.traces == nil {
		return
	}
	w.spans = append(w.spans, w.span(r, errType, version, start, end))
}

// errorType is the low-cardinality error.type of a call that failed, or
// "" when it did not.
func errorType(r audit.Record) string {
	switch r.Outcome {
	case audit.OutcomeOK, audit.OutcomeInputRequired:
		return ""
	case audit.OutcomeIsError:
		return "tool_error" // the value the conventions give for isError
	case audit.OutcomeError:
		return "_OTHER"
	case "":
		if r.Decision == audit.DecisionDeny {
			return "denied"
		}
		return ""
	default:
		return r.Outcome // denied, server_exited, cancelled
	}
}

func (w *work) span(r audit.Record, errType, version string, start, end time.Time) *tracepb.Span {
	s := &tracepb.Span{
		TraceId:           randomID(16),
		SpanId:            randomID(8),
		Name:              spanName(r),
		Kind:              tracepb.Span_SPAN_KIND_SERVER,
		StartTimeUnixNano: uint64(start.UnixNano()),
		EndTimeUnixNano:   uint64(end.UnixNano()),
	}
	add := func(k, v string) {
		if v != "" {
			s.Attributes = append(s.Attributes, str(k, v))
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
	add(attrSession, w.e.session)
	add(attrVersion, version)
	add(attrTransport, "pipe")
	add(attrDecision, r.Decision)
	add(attrReason, r.Reason)
	add(attrOutcome, r.Outcome)
	add(attrErrorType, errType)
	if len(r.Guards) > 0 {
		s.Attributes = append(s.Attributes, strs(attrGuards, r.Guards))
	}
	if len(r.Warnings) > 0 {
		s.Attributes = append(s.Attributes, strs(attrWarnings, r.Warnings))
	}
	if errType != "" {
		msg := r.ErrorMessage
		if msg == "" {
			msg = r.Reason
		}
		s.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: clip(msg)}
	}
	return s
}

// spanName is "{mcp.method.name} {target}" for tools and prompts; a
// resource URI is left out of the name, as the conventions advise,
// because it has too many values.
func spanName(r audit.Record) string {
	if (r.Method == "tools/call" || r.Method == "prompts/get") && r.Target != "" {
		return r.Method + " " + clip(r.Target)
	}
	if r.Method == "" {
		return "mcp"
	}
	return r.Method
}

// requestID is the id's string form: a string id without its quotes, a
// number as written.
func requestID(raw string) string {
	if raw == "" || raw[0] != '"' {
		return raw
	}
	b, err := jsontext.AppendUnquote(nil, raw)
	if err != nil {
		return raw
	}
	return string(b)
}

func (w *work) count(r audit.Record, errType string, d time.Duration) {
	k := series{method: r.Method, target: r.Target, decision: r.Decision, outcome: r.Outcome, errorType: errType}
	if r.Method != "tools/call" && r.Method != "prompts/get" {
		k.target = "" // resource URIs would make a stream per URI
	}
	if _, ok := w.calls[k]; !ok && len(w.calls) >= maxSeries {
		k.target = otherTarget
	}
	w.calls[k]++
	h := w.hists[k]
	if h == nil {
		h = &hist{counts: make([]uint64, len(durationBounds)+1), min: d.Seconds(), max: d.Seconds()}
		w.hists[k] = h
	}
	sec := d.Seconds()
	i := 0
	for i < len(durationBounds) && sec > durationBounds[i] {
		i++
	}
	h.counts[i]++
	h.n++
	h.sum += sec
	h.min, h.max = min(h.min, sec), max(h.max, sec)
}

func (w *work) sendSpans() {
	if len(w.spans) == 0 {
		return
	}
	spans := w.spans
	w.spans = nil
	msg := &tracepb.TracesData{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   w.resource,
		ScopeSpans: []*tracepb.ScopeSpans{{Scope: w.scope, Spans: spans}},
	}}}
	if err := w.e.traces.send(w.e.ctx, msg); err != nil {
		w.exportDrops += int64(len(spans))
		if !w.tracesFailed {
			w.tracesFailed = true
			w.e.diag(fmt.Sprintf("telemetry: exporting spans to %s: %v (further failures are counted, not reported)", redacted(w.e.cfg.Traces.URL), err))
		}
	}
}

// sendMetrics sends the cumulative sums since start; a failed export
// loses nothing but the time of its points, since the next one carries
// the same sums.
func (w *work) sendMetrics() {
	if w.e.metrics == nil {
		return
	}
	queue := w.e.queueDrops.Load()
	if len(w.calls) == 0 && queue == 0 && w.exportDrops == 0 {
		return
	}
	start, now := uint64(w.start.UnixNano()), uint64(time.Now().UnixNano())
	calls := &metricspb.Sum{AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE, IsMonotonic: true}
	durations := &metricspb.Histogram{AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE}
	for k, n := range w.calls {
		attrs := k.attributes()
		calls.DataPoints = append(calls.DataPoints, &metricspb.NumberDataPoint{
			Attributes: attrs, StartTimeUnixNano: start, TimeUnixNano: now,
			Value: &metricspb.NumberDataPoint_AsInt{AsInt: n},
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
	}{{"queue_full", queue}, {"export_failed", w.exportDrops}} {
		dropped.DataPoints = append(dropped.DataPoints, &metricspb.NumberDataPoint{
			Attributes: []*commonpb.KeyValue{str(attrDropped, d.reason)}, StartTimeUnixNano: start, TimeUnixNano: now,
			Value: &metricspb.NumberDataPoint_AsInt{AsInt: d.n},
		})
	}
	msg := &metricspb.MetricsData{ResourceMetrics: []*metricspb.ResourceMetrics{{
		Resource: w.resource,
		ScopeMetrics: []*metricspb.ScopeMetrics{{Scope: w.scope, Metrics: []*metricspb.Metric{
			{Name: metricCalls, Unit: "{call}", Description: "Requests mcpwarden decided on, by tool, decision and outcome.",
				Data: &metricspb.Metric_Sum{Sum: calls}},
			{Name: metricDuration, Unit: "s", Description: "Time from mcpwarden's decision on a request to its answer.",
				Data: &metricspb.Metric_Histogram{Histogram: durations}},
			{Name: metricDropped, Unit: "{record}", Description: "Audit records that could not be exported as spans.",
				Data: &metricspb.Metric_Sum{Sum: dropped}},
		}}},
	}}}
	if err := w.e.metrics.send(w.e.ctx, msg); err != nil && !w.mFailed {
		w.mFailed = true
		w.e.diag(fmt.Sprintf("telemetry: exporting metrics to %s: %v (further failures are not reported)", redacted(w.e.cfg.Metrics.URL), err))
	}
}

func (k series) attributes() []*commonpb.KeyValue {
	var out []*commonpb.KeyValue
	add := func(key, v string) {
		if v != "" {
			out = append(out, str(key, v))
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

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: clip(v)}}}
}

func strs(k string, vs []string) *commonpb.KeyValue {
	arr := &commonpb.ArrayValue{}
	for _, v := range vs {
		arr.Values = append(arr.Values, &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: clip(v)}})
	}
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: arr}}}
}

// clip bounds a string attribute, cutting at a character boundary; the
// audit log has the whole text.
func clip(s string) string {
	if len(s) <= maxAttrBytes {
		return s
	}
	cut := maxAttrBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// redacted hides a password in an endpoint URL from diagnostics.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}

func randomID(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on Linux (crypto/rand)
	return b
}
