// Package otlptest is an OTLP/HTTP receiver for tests: it decodes the
// requests an exporter sends with the collector service messages the
// OpenTelemetry project generates (ExportTraceServiceRequest,
// ExportMetricsServiceRequest), so a test sees what a real collector
// would, and mcpwarden's own exporter is checked against types it does
// not use itself. It is imported only by tests, so gRPC, which those
// packages link, stays out of the mcpwarden binary.
package otlptest

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Request is what arrived in one export request, besides its body.
type Request struct {
	Path    string
	Headers http.Header
}

// Receiver collects what exporters send to it.
type Receiver struct {
	URL string // base URL, for OTEL_EXPORTER_OTLP_ENDPOINT

	srv      *http.Server
	ln       net.Listener
	mu       sync.Mutex
	spans    []*tracepb.Span
	resource map[string]string
	metrics  []*metricspb.Metric
	requests []Request
	errs     []error
	hang     chan struct{} // closed by Close; while open and hanging, requests wait
	hanging  bool
	arrived  chan struct{}
}

// Start listens on a loopback port. With hang set, every request is held
// open until Close, as a collector that stopped answering would.
func Start(hang bool) (*Receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("otlptest: %w", err)
	}
	r := &Receiver{URL: "http://" + ln.Addr().String(), ln: ln, hang: make(chan struct{}), hanging: hang,
		resource: map[string]string{}, arrived: make(chan struct{}, 1024)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", r.traces)
	mux.HandleFunc("POST /v1/metrics", r.metricsHandler)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Close stops the receiver and releases held requests.
func (r *Receiver) Close() {
	close(r.hang)
	_ = r.srv.Close()
}

// Arrived receives a value for each request decoded.
func (r *Receiver) Arrived() <-chan struct{} { return r.arrived }

func (r *Receiver) body(w http.ResponseWriter, req *http.Request, m proto.Message) bool {
	if r.hanging {
		<-r.hang
		return false
	}
	var in io.Reader = io.LimitReader(req.Body, 64<<20)
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(in)
		if err != nil {
			r.fail(w, fmt.Errorf("gzip: %w", err))
			return false
		}
		in = zr
	}
	b, err := io.ReadAll(in)
	if err != nil {
		r.fail(w, err)
		return false
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		r.fail(w, fmt.Errorf("content type %q", ct))
		return false
	}
	if err := proto.Unmarshal(b, m); err != nil {
		r.fail(w, fmt.Errorf("decoding %s: %w", req.URL.Path, err))
		return false
	}
	r.mu.Lock()
	r.requests = append(r.requests, Request{Path: req.URL.Path, Headers: req.Header.Clone()})
	r.mu.Unlock()
	return true
}

func (r *Receiver) fail(w http.ResponseWriter, err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
	http.Error(w, err.Error(), http.StatusBadRequest)
}

func (r *Receiver) traces(w http.ResponseWriter, req *http.Request) {
	var m coltracepb.ExportTraceServiceRequest
	if !r.body(w, req, &m) {
		return
	}
	r.mu.Lock()
	for _, rs := range m.ResourceSpans {
		for _, kv := range rs.GetResource().GetAttributes() {
			r.resource[kv.Key] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.ScopeSpans {
			r.spans = append(r.spans, ss.Spans...)
		}
	}
	r.mu.Unlock()
	r.reply(w, &coltracepb.ExportTraceServiceResponse{})
}

func (r *Receiver) metricsHandler(w http.ResponseWriter, req *http.Request) {
	var m colmetricspb.ExportMetricsServiceRequest
	if !r.body(w, req, &m) {
		return
	}
	r.mu.Lock()
	for _, rm := range m.ResourceMetrics {
		for _, sm := range rm.ScopeMetrics {
			r.metrics = append(r.metrics, sm.Metrics...)
		}
	}
	r.mu.Unlock()
	r.reply(w, &colmetricspb.ExportMetricsServiceResponse{})
}

func (r *Receiver) reply(w http.ResponseWriter, m proto.Message) {
	b, _ := proto.Marshal(m)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
	select {
	case r.arrived <- struct{}{}:
	default:
	}
}

// Spans returns the spans received so far.
func (r *Receiver) Spans() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...)
}

// Resource returns the resource attributes of the spans received.
func (r *Receiver) Resource() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for k, v := range r.resource {
		out[k] = v
	}
	return out
}

// LastMetric returns the most recent export of the named metric, or nil.
func (r *Receiver) LastMetric(name string) *metricspb.Metric {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.metrics) - 1; i >= 0; i-- {
		if r.metrics[i].Name == name {
			return r.metrics[i]
		}
	}
	return nil
}

// Requests returns the path and headers of every request decoded.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// Errors returns what the receiver could not accept.
func (r *Receiver) Errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// Attrs flattens attributes into a map; arrays become their elements
// joined by commas.
func Attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		v := kv.GetValue()
		switch {
		case v.GetArrayValue() != nil:
			s := ""
			for i, e := range v.GetArrayValue().Values {
				if i > 0 {
					s += ","
				}
				s += e.GetStringValue()
			}
			out[kv.Key] = s
		default:
			out[kv.Key] = v.GetStringValue()
		}
	}
	return out
}
