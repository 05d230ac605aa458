package secrets

import (
	"strings"
	"testing"
)

const benchSize = 1 << 20

// fill repeats parts up to n bytes, cut at a part boundary.
func fill(n int, parts ...string) string {
	var b strings.Builder
	for {
		for _, p := range parts {
			if b.Len()+len(p) > n {
				return b.String()
			}
			b.WriteString(p)
		}
	}
}

// benchOrdinary is the kind of text tool results hold: prose, code, JSON,
// logs and lockfile lines, with the words that trigger the generic rules
// ("token", "secret", "password", "key", URLs) but no secret.
var benchOrdinary = fill(benchSize,
	"The quick brown fox jumps over the lazy dog while the task runner asks for the next job.\n",
	"func (c *Client) Refresh(ctx context.Context) (string, error) {\n\ttoken, err := c.source.Token()\n\tif err != nil {\n\t\treturn \"\", fmt.Errorf(\"refresh: %w\", err)\n\t}\n\treturn token.AccessToken, nil\n}\n",
	`{"id": "f47ac10b-58cc-4372-a567-0e02b2c3d479", "name": "report.pdf", "size": 48213, "modified": "2024-05-01T12:00:00Z", "url": "https://example.com/files/report.pdf"}`+"\n",
	"2024-05-01T12:00:00.123Z INFO  server listening on http://127.0.0.1:8080 (pid 4242)\n",
	"Reset the password from the settings page; the secret to a good password is length.\n",
	"\"node_modules/left-pad\": {\"version\": \"1.3.0\", \"integrity\": \"sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQ9VoTVQhJPG5qT5GcSkcCxQ5D8FZlG3G2YzC2KUP2g1A0Zg==\"},\n",
	"commit 3f1628e0a1b2c3d4e5f60718293a4b5c6d7e8f90\nAuthor: A Developer <dev@example.com>\n\n    sandbox: undumpable init\n\n",
	"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.\n",
)

// benchSecrets is benchOrdinary with a few secrets spread through it.
var benchSecrets = func() string {
	s := benchOrdinary
	secrets := []string{
		"aws_secret_access_key = " + cat("wJalrXUtnFEMI", "/K7MDENG/bPxRfiCY", "EXAMPLEKEY"),
		"GITHUB_TOKEN=" + cat("gh", "p_", gen(1, 36, alnum)),
		"Authorization: Bearer " + jwt(),
		pem("RSA ", 1200, "\n"),
		"postgres://app:" + gen(2, 16, alnum) + "@db:5432/app",
		"api_key: " + gen(3, 32, alnum),
	}
	step := len(s) / (len(secrets) + 1)
	var b strings.Builder
	last := 0
	for i, sec := range secrets {
		at := strings.IndexByte(s[(i+1)*step:], '\n') + (i+1)*step + 1
		b.WriteString(s[last:at])
		b.WriteString(sec + "\n")
		last = at
	}
	b.WriteString(s[last:])
	return b.String()
}()

var sink string

// BenchmarkCopy is the first baseline: a plain copy of the 1 MiB.
func BenchmarkCopy(b *testing.B) {
	b.SetBytes(int64(len(benchOrdinary)))
	for b.Loop() {
		sink = strings.Clone(benchOrdinary)
	}
}

// BenchmarkToLower is the second baseline: strings.ToLower of the 1 MiB,
// one look at every byte and a copy.
func BenchmarkToLower(b *testing.B) {
	b.SetBytes(int64(len(benchOrdinary)))
	for b.Loop() {
		sink = strings.ToLower(benchOrdinary)
	}
}

// BenchmarkKeywordScan is the prefilter alone.
func BenchmarkKeywordScan(b *testing.B) {
	s := NewScanner()
	b.SetBytes(int64(len(benchOrdinary)))
	n := 0
	for b.Loop() {
		s.kw.scan(benchOrdinary, func(int, int32) { n++ })
	}
}

func BenchmarkRedactOrdinary(b *testing.B) {
	s := NewScanner()
	b.SetBytes(int64(len(benchOrdinary)))
	b.ReportAllocs()
	for b.Loop() {
		sink, _ = s.Redact(benchOrdinary)
	}
}

func BenchmarkRedactFewSecrets(b *testing.B) {
	s := NewScanner()
	if _, fs := s.Redact(benchSecrets); len(fs) != 6 {
		b.Fatalf("%d findings, want 6: %v", len(fs), fs)
	}
	b.SetBytes(int64(len(benchSecrets)))
	b.ReportAllocs()
	for b.Loop() {
		sink, _ = s.Redact(benchSecrets)
	}
}

// BenchmarkRedactNoKeywords is text that holds none of the keywords: the
// cost of the prefilter pass alone.
func BenchmarkRedactNoKeywords(b *testing.B) {
	s := NewScanner()
	text := fill(benchSize, "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.\n")
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		sink, _ = s.Redact(text)
	}
}
