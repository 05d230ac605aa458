package telemetry

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/mcpwarden/mcpwarden/runecut"
)

// Field numbers and enum values of the OTLP messages mcpwarden writes,
// from opentelemetry-proto's trace.proto, metrics.proto, common.proto and
// resource.proto (package opentelemetry.proto.*.v1). A request body is a
// TracesData or MetricsData message, which the specification makes the
// same on the wire as ExportTraceServiceRequest and
// ExportMetricsServiceRequest: their only field is number 1.
const (
	// TracesData, MetricsData
	fieldResourceSpans   = 1
	fieldResourceMetrics = 1
	// ResourceSpans, ResourceMetrics
	fieldResource     = 1
	fieldScopeSpans   = 2
	fieldScopeMetrics = 2
	// Resource
	fieldResourceAttributes = 1
	// ScopeSpans, ScopeMetrics
	fieldScope   = 1
	fieldSpans   = 2
	fieldMetrics = 2
	// InstrumentationScope
	fieldScopeName = 1
	// KeyValue
	fieldKey   = 1
	fieldValue = 2
	// AnyValue (a oneof), ArrayValue
	fieldStringValue = 1
	fieldArrayValue  = 5
	fieldArrayValues = 1

	// Span
	fieldTraceID    = 1
	fieldSpanID     = 2
	fieldSpanName   = 5
	fieldKind       = 6
	fieldStartTime  = 7
	fieldEndTime    = 8
	fieldSpanAttrs  = 9
	fieldSpanStatus = 15
	// Status
	fieldStatusMessage = 2
	fieldStatusCode    = 3

	// Metric; sum and histogram are members of its data oneof
	fieldMetricName        = 1
	fieldMetricDescription = 2
	fieldMetricUnit        = 3
	fieldMetricSum         = 7
	fieldMetricHistogram   = 9
	// Sum, Histogram
	fieldDataPoints  = 1
	fieldTemporality = 2
	fieldMonotonic   = 3 // Sum only
	// NumberDataPoint, HistogramDataPoint
	fieldPointStart = 2
	fieldPointTime  = 3
	// NumberDataPoint
	fieldAsInt       = 6 // sfixed64, a member of the value oneof
	fieldNumberAttrs = 7
	// HistogramDataPoint; sum, min and max are optional
	fieldCount        = 4
	fieldSum          = 5
	fieldBucketCounts = 6
	fieldBounds       = 7
	fieldHistAttrs    = 9
	fieldMin          = 11
	fieldMax          = 12

	spanKindServer        = 2 // Span.SpanKind SPAN_KIND_SERVER
	statusCodeError       = 2 // Status.StatusCode STATUS_CODE_ERROR
	temporalityCumulative = 2 // AGGREGATION_TEMPORALITY_CUMULATIVE
)

// appendAttr writes a KeyValue with a string value as field num. The value
// is written even when empty: a oneof member has presence.
func appendAttr(b []byte, num uint64, key, value string) []byte {
	b, kv := openMessage(b, num)
	b = appendString(b, fieldKey, text(key))
	b, v := openMessage(b, fieldValue)
	b = appendStringAlways(b, fieldStringValue, clip(value))
	return closeMessage(closeMessage(b, v), kv)
}

// appendAttrList writes a KeyValue whose value is an array of strings.
func appendAttrList(b []byte, num uint64, key string, values []string) []byte {
	b, kv := openMessage(b, num)
	b = appendString(b, fieldKey, text(key))
	b, v := openMessage(b, fieldValue)
	b, arr := openMessage(b, fieldArrayValue)
	for _, s := range values {
		var e int
		b, e = openMessage(b, fieldArrayValues)
		b = appendStringAlways(b, fieldStringValue, clip(s))
		b = closeMessage(b, e)
	}
	return closeMessage(closeMessage(closeMessage(b, arr), v), kv)
}

// appendResource writes the Resource field that opens ResourceSpans and
// ResourceMetrics (field 1 of both).
func appendResource(b []byte, attrs []Attr) []byte {
	b, res := openMessage(b, fieldResource)
	for _, a := range attrs {
		b = appendAttr(b, fieldResourceAttributes, a.Key, a.Value)
	}
	return closeMessage(b, res)
}

// appendScope writes the InstrumentationScope field that opens ScopeSpans
// and ScopeMetrics (field 1 of both).
func appendScope(b []byte) []byte {
	b, s := openMessage(b, fieldScope)
	b = appendString(b, fieldScopeName, scopeName)
	return closeMessage(b, s)
}

// appendMetric opens a Metric field with its name, description and unit,
// and its data field (sum or histogram); closeMetric ends both.
func appendMetric(b []byte, name, description, unit string, data uint64) (out []byte, metric, body int) {
	b, metric = openMessage(b, fieldMetrics)
	b = appendString(b, fieldMetricName, name)
	b = appendString(b, fieldMetricDescription, description)
	b = appendString(b, fieldMetricUnit, unit)
	b, body = openMessage(b, data)
	return b, metric, body
}

// appendSumEnd writes what follows a Sum's points and closes the metric.
func appendSumEnd(b []byte, metric, body int) []byte {
	b = appendVarint(b, fieldTemporality, temporalityCumulative)
	b = appendVarint(b, fieldMonotonic, 1)
	return closeMessage(closeMessage(b, body), metric)
}

// appendNumberPoint writes a NumberDataPoint with an integer value, which
// is written even when 0, and after the attributes: it is a oneof member.
func appendNumberPoint(b []byte, start, now uint64, n int64, attrs func([]byte, uint64) []byte) []byte {
	b, p := openMessage(b, fieldDataPoints)
	b = appendFixed64(b, fieldPointStart, start)
	b = appendFixed64(b, fieldPointTime, now)
	b = attrs(b, fieldNumberAttrs)
	b = appendFixed64Always(b, fieldAsInt, uint64(n))
	return closeMessage(b, p)
}

// appendHistogramPoint writes a HistogramDataPoint with durationBounds.
func appendHistogramPoint(b []byte, start, now uint64, h *hist, attrs func([]byte, uint64) []byte) []byte {
	b, p := openMessage(b, fieldDataPoints)
	b = appendFixed64(b, fieldPointStart, start)
	b = appendFixed64(b, fieldPointTime, now)
	b = appendFixed64(b, fieldCount, h.n)
	b = appendDouble(b, fieldSum, h.sum)
	b = appendPackedFixed64(b, fieldBucketCounts, h.counts, func(c uint64) uint64 { return c })
	b = appendPackedFixed64(b, fieldBounds, durationBounds, math.Float64bits)
	b = attrs(b, fieldHistAttrs)
	b = appendDouble(b, fieldMin, h.min)
	b = appendDouble(b, fieldMax, h.max)
	return closeMessage(b, p)
}

// clip bounds a string attribute, cutting at a character boundary; the
// audit log has the whole text.
func clip(s string) string {
	return runecut.Prefix(text(s), maxAttrBytes)
}

// text makes s valid UTF-8, which a protobuf string must be: a collector
// may refuse the whole request over one bad byte, from a percent-encoded
// resource attribute, say.
func text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
