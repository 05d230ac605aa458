// Package telemetry exports what mcpwarden decides about tool calls to an
// OpenTelemetry collector: one span a call, from the decision to the
// outcome, and counters and a duration histogram, over OTLP/HTTP with
// protobuf bodies.
//
// It is off unless an OTLP endpoint is configured (see [FromEnv]); off,
// nothing of it runs. On, it never slows the proxy down: the proxy hands
// each audit record to [Exporter.Observe], which only puts it on a bounded
// queue, or drops and counts it when the queue is full because the
// collector is slow or unreachable. One goroutine pairs decisions with
// outcomes, batches spans, aggregates metrics and sends them. [Exporter.Close]
// sends what is left within [FlushTimeout].
//
// Attribute names follow the OpenTelemetry semantic conventions for MCP
// (mcp.method.name, gen_ai.tool.name, jsonrpc.request.id, mcp.session.id,
// ...); mcpwarden's own facts are under mcpwarden.*. Tool arguments and
// results are never exported.
package telemetry

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpwarden/mcpwarden/audit"
)

// Exporter receives audit records and exports them. Its methods are safe
// for concurrent use; a nil *Exporter does nothing.
type Exporter struct {
	cfg     Config
	server  string
	session string
	diag    func(string)

	traces, metrics *sender // nil when the signal is off

	in       chan event
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	// ctx ends the exports in flight when Close's time is up.
	ctx    context.Context
	cancel context.CancelFunc

	queueDrops atomic.Int64 // records dropped because the queue was full
}

// event is an audit record, the time the proxy wrote it and the MCP
// protocol version of the session then.
type event struct {
	r       audit.Record
	at      time.Time
	version string
}

// Start begins exporting with cfg, for the server and session that the
// audit log names too. diag receives one-line diagnostics. It fails only
// when a TLS file named in cfg cannot be loaded.
func Start(cfg *Config, server, session string, diag func(string)) (*Exporter, error) {
	if diag == nil {
		diag = func(string) {}
	}
	e := &Exporter{
		cfg: *cfg, server: server, session: session, diag: diag,
		in:   make(chan event, cfg.QueueSize),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	var err error
	if cfg.Traces.URL != "" {
		if e.traces, err = newSender(cfg.Traces); err != nil {
			return nil, fmt.Errorf("telemetry traces: %w", err)
		}
	}
	if cfg.Metrics.URL != "" {
		if e.metrics, err = newSender(cfg.Metrics); err != nil {
			return nil, fmt.Errorf("telemetry metrics: %w", err)
		}
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	go e.run()
	return e, nil
}

// Observe queues a decision or outcome record written at the given time,
// in a session on the given MCP protocol version ("" if not negotiated).
// It never blocks: when the queue is full the record is dropped and
// counted.
func (e *Exporter) Observe(r audit.Record, at time.Time, protocolVersion string) {
	if e == nil || (r.Event != audit.EventDecision && r.Event != audit.EventOutcome) {
		return
	}
	r.Arguments = nil // never exported; do not keep it alive in the queue
	select {
	case e.in <- event{r: r, at: at, version: protocolVersion}:
	default:
		e.queueDrops.Add(1)
	}
}

// Close sends what is queued and waits for it at most cfg.FlushTimeout,
// then gives up on it. It reports on diag what could not be exported.
func (e *Exporter) Close() {
	if e == nil {
		return
	}
	e.stopOnce.Do(func() {
		close(e.stop)
		t := time.AfterFunc(e.cfg.FlushTimeout, e.cancel)
		defer t.Stop()
		select {
		case <-e.done:
		case <-time.After(e.cfg.FlushTimeout + 100*time.Millisecond):
			// An export ignored its cancelled context; do not wait
			// for it any longer.
		}
		e.cancel()
	})
}

// run owns all state: the calls waiting for their outcome, the batch of
// spans and the metric sums.
func (e *Exporter) run() {
	defer close(e.done)
	w := newWork(e)
	batch := time.NewTicker(e.cfg.BatchDelay)
	defer batch.Stop()
	interval := time.NewTicker(e.cfg.MetricInterval)
	defer interval.Stop()
	for {
		select {
		case ev := <-e.in:
			w.take(ev)
		case <-batch.C:
			w.sendSpans()
		case <-interval.C:
			w.sendMetrics()
		case <-e.stop:
			w.drain()
			return
		}
	}
}

// take adds ev and sends the batch of spans once it is full.
func (w *work) take(ev event) {
	w.add(ev)
	if w.nspans >= w.e.cfg.BatchSize {
		w.sendSpans()
	}
}

// drain takes what is still queued, ends the calls still waiting for an
// outcome, and sends everything once more.
func (w *work) drain() {
	for queued := true; queued; {
		select {
		case ev := <-w.e.in:
			w.take(ev)
		default:
			queued = false
		}
	}
	w.endPending(time.Now())
	w.sendSpans()
	w.sendMetrics()
	if n := w.e.queueDrops.Load() + w.exportDrops; n > 0 {
		w.e.diag(fmt.Sprintf("telemetry: %d records could not be exported (%d dropped on a full queue, %d in failed exports)",
			n, w.e.queueDrops.Load(), w.exportDrops))
	}
}

// StartFromEnv reads the configuration with [FromEnv] and starts an
// Exporter, or returns nil when telemetry is off. Warnings, and a
// configuration that cannot be used, are reported on diag and leave
// telemetry off rather than stopping mcpwarden: the audit log, not the
// collector, is the record that must not fail.
func StartFromEnv(env LookupEnv, server, session string, diag func(string)) *Exporter {
	cfg, warnings := FromEnv(env)
	for _, w := range warnings {
		diag("telemetry: " + w)
	}
	if cfg == nil {
		return nil
	}
	e, err := Start(cfg, server, session, diag)
	if err != nil {
		diag(err.Error() + "; telemetry is off")
		return nil
	}
	return e
}

// Observer returns e.Observe, or nil for a nil Exporter, so that a proxy
// without telemetry does not even make the call.
func (e *Exporter) Observer() func(audit.Record, time.Time, string) {
	if e == nil {
		return nil
	}
	return e.Observe
}
