package telemetry

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// sender posts OTLP/HTTP protobuf requests to one endpoint.
//
// The body is an encoded TracesData or MetricsData message (see
// encode.go), which the OTLP specification makes identical on the wire to
// ExportTraceServiceRequest and ExportMetricsServiceRequest.
type sender struct {
	ep     Endpoint
	client *http.Client
}

// maxResponse bounds what is read of a collector's answer.
const maxResponse = 64 << 10

func newSender(ep Endpoint) (*sender, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if ep.CAFile != "" || ep.CertFile != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if ep.CAFile != "" {
			pem, err := os.ReadFile(ep.CAFile)
			if err != nil {
				return nil, fmt.Errorf("reading the collector's CA certificate: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificate in it", ep.CAFile)
			}
		}
		if ep.CertFile != "" || ep.KeyFile != "" {
			pair, err := tls.LoadX509KeyPair(ep.CertFile, ep.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("loading the client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		tr.TLSClientConfig = tc
	}
	return &sender{ep: ep, client: &http.Client{Transport: tr}}, nil
}

// send posts body, retrying a transient failure, and waits at most the
// endpoint's timeout in all, or until ctx ends.
func (s *sender) send(ctx context.Context, body []byte) error {
	if s.ep.Gzip {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write(body)
		if err := zw.Close(); err != nil {
			return fmt.Errorf("compressing: %w", err)
		}
		body = b.Bytes()
	}
	ctx, cancel := context.WithTimeout(ctx, s.ep.Timeout)
	defer cancel()
	wait := firstRetry
	for attempt := 0; ; attempt++ {
		err := s.post(ctx, body)
		var se *statusError
		transient := err != nil && (!errors.As(err, &se) || se.retryable())
		if !transient || attempt == maxRetries {
			return err
		}
		if se != nil && se.retryAfter > 0 {
			wait = min(se.retryAfter, maxRetryAfter)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 4
	}
}

// Retries of a transient failure (a refused connection, 429, 502, 503,
// 504), as the OTLP specification asks: few, because a batch that waits
// holds up the ones behind it.
const (
	maxRetries    = 2
	firstRetry    = 200 * time.Millisecond
	maxRetryAfter = 5 * time.Second
)

func (s *sender) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.ep.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	for k, v := range s.ep.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", "mcpwarden")
	if s.ep.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode/100 != 2 {
		se := &statusError{code: resp.StatusCode, body: msg}
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs >= 0 {
			se.retryAfter = time.Duration(secs) * time.Second
		}
		return se
	}
	return nil
}

// statusError is a collector's refusal.
type statusError struct {
	code       int
	body       []byte
	retryAfter time.Duration // from a Retry-After header in seconds; 0 if none
}

func (e *statusError) retryable() bool {
	switch e.code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (e *statusError) Error() string {
	text := strings.TrimSpace(strings.ToValidUTF8(string(e.body), "?"))
	if len(text) > 200 || !printable(text) {
		text = ""
	}
	if text == "" {
		return fmt.Sprintf("collector answered %d", e.code)
	}
	return fmt.Sprintf("collector answered %d: %s", e.code, text)
}

// printable keeps a collector's binary (protobuf Status) answer out of a
// one-line diagnostic.
func printable(s string) bool {
	for _, r := range s {
		if r < ' ' && r != '\t' {
			return false
		}
	}
	return true
}
