package telemetry

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of the OpenTelemetry SDK specification, used where the
// environment says nothing.
const (
	defaultTimeout        = 10 * time.Second
	defaultBatchDelay     = 5 * time.Second
	defaultMetricInterval = 60 * time.Second
	defaultQueueSize      = 2048
	defaultBatchSize      = 512
	defaultServiceName    = "mcpwarden"
	// FlushTimeout bounds what Close spends sending what is left, so that
	// a slow or unreachable collector delays mcpwarden's exit by at most
	// this much.
	FlushTimeout = 2 * time.Second
)

// Config says where and how to export. It is read from the standard
// OTEL_* environment variables by [FromEnv].
type Config struct {
	Traces  Endpoint // spans; URL "" turns them off
	Metrics Endpoint // counters and the duration histogram; URL "" turns them off

	// Resource holds the resource attributes, service.name among them.
	Resource []Attr

	BatchDelay     time.Duration // longest a span waits before it is sent (OTEL_BSP_SCHEDULE_DELAY)
	BatchSize      int           // most spans in one request (OTEL_BSP_MAX_EXPORT_BATCH_SIZE)
	QueueSize      int           // records waiting for the exporter before new ones are dropped (OTEL_BSP_MAX_QUEUE_SIZE)
	MetricInterval time.Duration // time between metric exports (OTEL_METRIC_EXPORT_INTERVAL)
	FlushTimeout   time.Duration // bound on the final export at Close
}

// Endpoint is one signal's OTLP/HTTP destination.
type Endpoint struct {
	URL     string // full URL, path included (…/v1/traces)
	Headers map[string]string
	Timeout time.Duration // per request
	Gzip    bool
	// CAFile, CertFile and KeyFile are PEM files: the roots that verify
	// the collector, and the client certificate and key, if any.
	CAFile, CertFile, KeyFile string
}

// Attr is a string attribute.
type Attr struct{ Key, Value string }

// LookupEnv is the signature of [os.LookupEnv], taken as a parameter so
// that tests need not change the process environment.
type LookupEnv func(string) (string, bool)

// FromEnv reads the configuration from the OTEL_* variables. It returns
// nil when telemetry is off: OTEL_SDK_DISABLED is true, or no OTLP endpoint
// is set for any signal. Invalid values are reported in warnings and, as
// the OpenTelemetry specification asks, do not stop the program: an
// invalid numeric setting falls back to its default, and a signal whose
// endpoint or protocol cannot be used is turned off.
func FromEnv(env LookupEnv) (cfg *Config, warnings []string) {
	get := func(k string) string {
		v, _ := env(k)
		return strings.TrimSpace(v)
	}
	warn := func(format string, args ...any) { warnings = append(warnings, fmt.Sprintf(format, args...)) }
	if strings.EqualFold(get("OTEL_SDK_DISABLED"), "true") {
		return nil, nil
	}
	c := &Config{
		BatchDelay:     millis(get, warn, "OTEL_BSP_SCHEDULE_DELAY", defaultBatchDelay),
		BatchSize:      count(get, warn, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", defaultBatchSize),
		QueueSize:      count(get, warn, "OTEL_BSP_MAX_QUEUE_SIZE", defaultQueueSize),
		MetricInterval: millis(get, warn, "OTEL_METRIC_EXPORT_INTERVAL", defaultMetricInterval),
		FlushTimeout:   FlushTimeout,
	}
	c.Traces = endpoint(get, warn, "TRACES", "traces")
	c.Metrics = endpoint(get, warn, "METRICS", "metrics")
	if !exporterIsOTLP(get, warn, "OTEL_TRACES_EXPORTER") {
		c.Traces.URL = ""
	}
	if !exporterIsOTLP(get, warn, "OTEL_METRICS_EXPORTER") {
		c.Metrics.URL = ""
	}
	if c.Traces.URL == "" && c.Metrics.URL == "" {
		return nil, warnings
	}
	c.Resource = resource(get, warn)
	return c, warnings
}

// exporterIsOTLP reads OTEL_TRACES_EXPORTER or OTEL_METRICS_EXPORTER,
// whose default is "otlp"; "none" turns the signal off.
func exporterIsOTLP(get func(string) string, warn func(string, ...any), key string) bool {
	switch v := get(key); v {
	case "", "otlp":
		return true
	case "none":
		return false
	default:
		warn("%s=%q: only \"otlp\" and \"none\" are supported; the signal is off", key, v)
		return false
	}
}

// endpoint reads one signal's settings: the signal-specific variable wins
// over the general one, as the OTLP exporter specification says.
func endpoint(get func(string) string, warn func(string, ...any), signal, path string) Endpoint {
	pick := func(name string) (string, string) {
		key := "OTEL_EXPORTER_OTLP_" + signal + "_" + name
		if v := get(key); v != "" {
			return key, v
		}
		key = "OTEL_EXPORTER_OTLP_" + name
		return key, get(key)
	}
	var e Endpoint
	key := "OTEL_EXPORTER_OTLP_" + signal + "_ENDPOINT"
	raw := get(key)
	if raw == "" {
		// The general endpoint is a base URL to which the signal's path
		// is appended; a signal-specific one is used as it is.
		key = "OTEL_EXPORTER_OTLP_ENDPOINT"
		raw = get(key)
	}
	if raw == "" {
		return e
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		warn("%s=%q: want an http:// or https:// URL; %s are not exported", key, raw, path)
		return e
	}
	if key == "OTEL_EXPORTER_OTLP_ENDPOINT" {
		raw = strings.TrimSuffix(raw, "/") + "/v1/" + path
	}
	if k, p := pick("PROTOCOL"); p != "" && p != "http/protobuf" {
		warn("%s=%q: only http/protobuf is supported; %s are not exported", k, p, path)
		return e
	}
	e.URL = raw
	k, h := pick("HEADERS")
	e.Headers = headers(k, h, warn)
	k, _ = pick("TIMEOUT")
	e.Timeout = millis(get, warn, k, defaultTimeout)
	switch k, z := pick("COMPRESSION"); z {
	case "", "none":
	case "gzip":
		e.Gzip = true
	default:
		warn("%s=%q: want gzip or none; sending uncompressed", k, z)
	}
	_, e.CAFile = pick("CERTIFICATE")
	_, e.CertFile = pick("CLIENT_CERTIFICATE")
	_, e.KeyFile = pick("CLIENT_KEY")
	return e
}

// headers parses a list of key=value pairs separated by commas, values
// percent-encoded, as in OTEL_EXPORTER_OTLP_HEADERS.
func headers(key, list string, warn func(string, ...any)) map[string]string {
	if list == "" {
		return nil
	}
	out := map[string]string{}
	for _, kv := range pairs(list) {
		if kv.Key == "" {
			warn("%s: entry %q is not key=value; skipped", key, kv.Value)
			continue
		}
		if !validHeaderName(kv.Key) {
			warn("%s: %q is not a valid header name; skipped", key, kv.Key)
			continue
		}
		out[kv.Key] = kv.Value
	}
	return out
}

// pairs splits "k1=v1,k2=v2" into attributes, percent-decoding the
// values; an entry that is not key=value or whose value cannot be decoded
// comes back with an empty key.
func pairs(list string) []Attr {
	var out []Attr
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if !ok || err != nil {
			out = append(out, Attr{Key: "", Value: item})
			continue
		}
		out = append(out, Attr{Key: k, Value: dv})
	}
	return out
}

func validHeaderName(s string) bool {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// resource reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, which
// wins over a service.name among the attributes.
func resource(get func(string) string, warn func(string, ...any)) []Attr {
	var out []Attr
	service := defaultServiceName
	for _, kv := range pairs(get("OTEL_RESOURCE_ATTRIBUTES")) {
		switch kv.Key {
		case "":
			warn("OTEL_RESOURCE_ATTRIBUTES: entry %q is not key=value; skipped", kv.Value)
		case "service.name":
			service = kv.Value
		default:
			out = append(out, kv)
		}
	}
	if s := get("OTEL_SERVICE_NAME"); s != "" {
		service = s
	}
	return append([]Attr{{"service.name", service}}, out...)
}

func millis(get func(string) string, warn func(string, ...any), key string, def time.Duration) time.Duration {
	v := get(key)
	if v == "" {
		return def
	}
	ms, err := strconv.ParseUint(v, 10, 31)
	if err != nil || ms == 0 {
		warn("%s=%q: want a positive number of milliseconds; using %v", key, v, def)
		return def
	}
	return time.Duration(ms) * time.Millisecond
}

func count(get func(string) string, warn func(string, ...any), key string, def int) int {
	v := get(key)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 20)
	if err != nil || n == 0 {
		warn("%s=%q: want a positive whole number up to 1048575; using %d", key, v, def)
		return def
	}
	return int(n)
}
