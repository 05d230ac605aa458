package telemetry

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/go-json-experiment/json/jsontext"

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
	e       *Exporter
	pending map[string]event // decisions by request id
	spans   []byte           // the batch: Span fields of a ScopeSpans, encoded
	nspans  int
	calls   map[series]int64
	hists   map[series]*hist
	start   time.Time
	// resource and scope are the encoded fields that open every
	// request's ResourceSpans or ResourceMetrics and ScopeSpans or
	// ScopeMetrics.
	resource, scope []byte

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
	attrs := e.cfg.Resource
	if e.server != "" {
		attrs = append(attrs[:len(attrs):len(attrs)], Attr{attrServer, e.server})
	}
	return &work{
		e: e, pending: map[string]event{},
		calls: map[series]int64{}, hists: map[series]*hist{},
		start: time.Now(), resource: appendResource(nil, attrs), scope: appendScope(nil),
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
	w.spans = w.appendSpan(w.spans, r, errType, version, start, end)
	w.nspans++
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

// appendSpan writes the call as a Span field of a ScopeSpans.
func (w *work) appendSpan(b []byte, r audit.Record, errType, version string, start, end time.Time) []byte {
	// The trace id, then the span id. crypto/rand never fails on Linux.
	var ids [16 + 8]byte
	_, _ = rand.Read(ids[:])
	b, s := openMessage(b, fieldSpans)
	b = appendBytes(b, fieldTraceID, ids[:16])
	b = appendBytes(b, fieldSpanID, ids[16:])
	b = appendString(b, fieldSpanName, spanName(r))
	b = appendVarint(b, fieldKind, spanKindServer)
	b = appendFixed64(b, fieldStartTime, uint64(start.UnixNano()))
	b = appendFixed64(b, fieldEndTime, uint64(end.UnixNano()))
	add := func(k, v string) {
		if v != "" {
			b = appendAttr(b, fieldSpanAttrs, k, v)
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
		b = appendAttrList(b, fieldSpanAttrs, attrGuards, r.Guards)
	}
	if len(r.Warnings) > 0 {
		b = appendAttrList(b, fieldSpanAttrs, attrWarnings, r.Warnings)
	}
	if errType != "" {
		msg := r.ErrorMessage
		if msg == "" {
			msg = r.Reason
		}
		var st int
		b, st = openMessage(b, fieldSpanStatus)
		b = appendString(b, fieldStatusMessage, clip(msg))
		b = appendVarint(b, fieldStatusCode, statusCodeError)
		b = closeMessage(b, st)
	}
	return closeMessage(b, s)
}

// spanName is "{mcp.method.name} {target}" for tools and prompts; a
// resource URI is left out of the name, as the conventions advise,
// because it has too many values.
func spanName(r audit.Record) string {
	if (r.Method == "tools/call" || r.Method == "prompts/get") && r.Target != "" {
		return text(r.Method) + " " + clip(r.Target)
	}
	if r.Method == "" {
		return "mcp"
	}
	return text(r.Method)
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
	if w.nspans == 0 {
		return
	}
	body, n := w.tracesBody(), w.nspans
	w.spans, w.nspans = nil, 0
	if err := w.e.traces.send(w.e.ctx, body); err != nil {
		w.exportDrops += int64(n)
		if !w.tracesFailed {
			w.tracesFailed = true
			w.e.diag(fmt.Sprintf("telemetry: exporting spans to %s: %v (further failures are counted, not reported)", redacted(w.e.cfg.Traces.URL), err))
		}
	}
}

// tracesBody is the batch as a TracesData message.
func (w *work) tracesBody() []byte {
	b := make([]byte, 0, len(w.spans)+len(w.resource)+len(w.scope)+16)
	b, rs := openMessage(b, fieldResourceSpans)
	b = append(b, w.resource...)
	b, ss := openMessage(b, fieldScopeSpans)
	b = append(b, w.scope...)
	b = append(b, w.spans...)
	return closeMessage(closeMessage(b, ss), rs)
}

// sendMetrics sends the cumulative sums since start; a failed export
// loses nothing but the time of its points, since the next one carries
// the same sums.
func (w *work) sendMetrics() {
	if w.e.metrics == nil {
		return
	}
	if len(w.calls) == 0 && w.e.queueDrops.Load() == 0 && w.exportDrops == 0 {
		return
	}
	body := w.metricsBody(uint64(time.Now().UnixNano()))
	if err := w.e.metrics.send(w.e.ctx, body); err != nil && !w.mFailed {
		w.mFailed = true
		w.e.diag(fmt.Sprintf("telemetry: exporting metrics to %s: %v (further failures are not reported)", redacted(w.e.cfg.Metrics.URL), err))
	}
}

// metricsBody is a MetricsData message with the sums since start at now:
// the calls counter and the duration histogram, a point for each series
// (in a fixed order, so that two exports of the same sums are the same),
// and the counter of dropped records.
func (w *work) metricsBody(now uint64) []byte {
	start := uint64(w.start.UnixNano())
	keys := make([]series, 0, len(w.calls))
	for k := range w.calls {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, series.compare)
	b := make([]byte, 0, 1024+len(keys)*512)
	b, rm := openMessage(b, fieldResourceMetrics)
	b = append(b, w.resource...)
	b, sm := openMessage(b, fieldScopeMetrics)
	b = append(b, w.scope...)

	b, m, body := appendMetric(b, metricCalls, "Requests mcpwarden decided on, by tool, decision and outcome.", "{call}", fieldMetricSum)
	for _, k := range keys {
		b = appendNumberPoint(b, start, now, w.calls[k], k.appendAttributes)
	}
	b = appendSumEnd(b, m, body)

	b, m, body = appendMetric(b, metricDuration, "Time from mcpwarden's decision on a request to its answer.", "s", fieldMetricHistogram)
	for _, k := range keys {
		b = appendHistogramPoint(b, start, now, w.hists[k], k.appendAttributes)
	}
	b = appendVarint(b, fieldTemporality, temporalityCumulative)
	b = closeMessage(closeMessage(b, body), m)

	b, m, body = appendMetric(b, metricDropped, "Audit records that could not be exported as spans.", "{record}", fieldMetricSum)
	for _, d := range []struct {
		reason string
		n      int64
	}{{"queue_full", w.e.queueDrops.Load()}, {"export_failed", w.exportDrops}} {
		b = appendNumberPoint(b, start, now, d.n, func(b []byte, num uint64) []byte {
			return appendAttr(b, num, attrDropped, d.reason)
		})
	}
	b = appendSumEnd(b, m, body)
	return closeMessage(closeMessage(b, sm), rm)
}

// appendAttributes writes the series' attributes as fields num.
func (k series) appendAttributes(b []byte, num uint64) []byte {
	add := func(key, v string) {
		if v != "" {
			b = appendAttr(b, num, key, v)
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
	return b
}

func (k series) compare(o series) int {
	return cmp.Or(cmp.Compare(k.method, o.method), cmp.Compare(k.target, o.target),
		cmp.Compare(k.decision, o.decision), cmp.Compare(k.outcome, o.outcome), cmp.Compare(k.errorType, o.errorType))
}

// redacted hides a password in an endpoint URL from diagnostics.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}
