package telemetry

import (
	"net/url"
	"testing"
)

// FuzzFromEnv: whatever the variables hold, FromEnv returns without
// panicking, and an endpoint it accepts is an http or https URL with a
// host, and every header it keeps has a valid name.
func FuzzFromEnv(f *testing.F) {
	f.Add("http://127.0.0.1:4318", "a=b,c=%20d", "100", "k=v")
	f.Add("https://[::1]:4318/", "=,==,a=%zz", "-1", "service.name=x,=y")
	f.Fuzz(func(t *testing.T, endpoint, headers, timeout, resource string) {
		cfg, _ := FromEnv(env(map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT":         endpoint,
			"OTEL_EXPORTER_OTLP_HEADERS":          headers,
			"OTEL_EXPORTER_OTLP_TIMEOUT":          timeout,
			"OTEL_RESOURCE_ATTRIBUTES":            resource,
			"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": endpoint + "/m",
		}))
		if cfg == nil {
			return
		}
		for _, ep := range []Endpoint{cfg.Traces, cfg.Metrics} {
			if ep.URL == "" {
				continue
			}
			u, err := url.Parse(ep.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				t.Errorf("accepted endpoint %q", ep.URL)
			}
			if ep.Timeout <= 0 {
				t.Errorf("timeout %v", ep.Timeout)
			}
			for k := range ep.Headers {
				if k == "" || !validHeaderName(k) {
					t.Errorf("kept header name %q", k)
				}
			}
		}
		if len(cfg.Resource) == 0 || cfg.Resource[0].Key != "service.name" {
			t.Errorf("resource %v", cfg.Resource)
		}
	})
}
