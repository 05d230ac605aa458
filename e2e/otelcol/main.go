// Command otelcol runs the OpenTelemetry Collector's own OTLP receiver
// (go.opentelemetry.io/collector/receiver/otlpreceiver), HTTP only, on the
// address given by -addr, and prints every batch it accepts on stdout as
// one JSON line, encoded by the collector's pdata JSON marshaler. The
// end-to-end tests point mcpwarden's exporter at it, so that what
// mcpwarden sends is decoded and checked by the collector's code, not by
// the project's. It is a module of its own, so that the collector's
// dependencies stay out of mcpwarden's go.mod; it stops when its standard
// input ends.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4318", "HTTP listen `address`")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintf(os.Stderr, "otelcol: %v\n", err)
		os.Exit(1)
	}
}

// lineWriter writes one JSON line a batch, whole, from any goroutine.
type lineWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lineWriter) write(signal string, data []byte) error {
	b, err := json.Marshal(struct {
		Signal string          `json:"signal"`
		Data   json.RawMessage `json:"data"`
	}{signal, data})
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(append(b, '\n'))
	return l.w.Flush()
}

func run(addr string) error {
	out := &lineWriter{w: bufio.NewWriter(os.Stdout)}
	traces, err := consumer.NewTraces(func(_ context.Context, td ptrace.Traces) error {
		b, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
		if err != nil {
			return err
		}
		return out.write("traces", b)
	})
	if err != nil {
		return err
	}
	metrics, err := consumer.NewMetrics(func(_ context.Context, md pmetric.Metrics) error {
		b, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(md)
		if err != nil {
			return err
		}
		return out.write("metrics", b)
	})
	if err != nil {
		return err
	}
	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)

	// Only HTTP: the default gRPC endpoint is dropped, and the HTTP
	// default made an explicit setting, as a configuration file would.
	cfg.Protocols = otlpreceiver.Protocols{HTTP: cfg.Protocols.HTTP}
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = addr
	set := receivertest.NewNopSettings(component.MustNewType("otlp"))
	ctx := context.Background()
	// The OTLP receiver shares one server between its signals.
	tr, err := f.CreateTraces(ctx, set, cfg, traces)
	if err != nil {
		return fmt.Errorf("traces receiver: %w", err)
	}
	mr, err := f.CreateMetrics(ctx, set, cfg, metrics)
	if err != nil {
		return fmt.Errorf("metrics receiver: %w", err)
	}
	host := componenttest.NewNopHost()
	if err := tr.Start(ctx, host); err != nil {
		return fmt.Errorf("starting: %w", err)
	}
	if err := mr.Start(ctx, host); err != nil {
		return fmt.Errorf("starting: %w", err)
	}
	fmt.Fprintf(os.Stderr, "otelcol: listening on %s\n", addr)
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = tr.Shutdown(ctx)
	return mr.Shutdown(ctx)
}
