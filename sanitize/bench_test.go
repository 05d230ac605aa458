package sanitize

import (
	"strings"
	"testing"
)

const benchSize = 1 << 20

// fill repeats parts up to n bytes, cut at a part boundary.
func fill(n int, parts ...string) string {
	var b strings.Builder
	for b.Len() < n {
		for _, p := range parts {
			if b.Len()+len(p) > n {
				return b.String()
			}
			b.WriteString(p)
		}
	}
	return b.String()
}

var (
	benchASCII = fill(benchSize,
		"func (s *Server) Handle(ctx context.Context, req *Request) (*Response, error) {\n",
		"\t// The quick brown fox jumps over the lazy dog; 0123456789 !@#$%^&*()_+-=[]{}.\n",
		"\treturn nil, fmt.Errorf(\"handle %q: %w\", req.Name, err)\r\n}\n\n",
		"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n",
	)
	benchUnicode = fill(benchSize,
		"Résumé of naïve café owners in Zürich and São Paulo. ",
		"漢字とかなとカナが混ざった日本語の文章です。中文文本。한국어 문장입니다. ",
		"العربية نص عربي و עברית טקסט. Persian می\u200cخواهم. ",
		"emoji 😀 👍🏽 👩\u200d💻 👨\u200d👩\u200d👧 ❤\ufe0f\u200d🔥 🇯🇵 #\ufe0f\u20e3\n",
		"Ελληνικά κείμενα και кириллица текст. Combining e\u0301 a\u0308.\n",
	)
	benchANSI = fill(benchSize,
		"\x1b[32mPASS\x1b[0m TestSomething (0.01s)\n",
		"\x1b[1;31mFAIL\x1b[0m \x1b]8;;file:///src/x_test.go\x1b\\x_test.go:12\x1b]8;;\x1b\\ expected 1, got 2\n",
		"plain log line without any escape sequences at all, just text\n",
	)
)

var sink string

// BenchmarkCopy is the baseline: one copy of the same 1 MiB of ASCII.
func BenchmarkCopy(b *testing.B) {
	b.SetBytes(int64(len(benchASCII)))
	for b.Loop() {
		sink = strings.Clone(benchASCII)
	}
}

// BenchmarkToLower is a second baseline that, like String, looks at every
// byte: strings.ToLower over the same 1 MiB of ASCII.
func BenchmarkToLower(b *testing.B) {
	b.SetBytes(int64(len(benchASCII)))
	for b.Loop() {
		sink = strings.ToLower(benchASCII)
	}
}

func benchString(b *testing.B, s string) {
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		sink, _ = String(s)
	}
}

func BenchmarkStringASCII(b *testing.B)   { benchString(b, benchASCII) }
func BenchmarkStringUnicode(b *testing.B) { benchString(b, benchUnicode) }
func BenchmarkStringANSI(b *testing.B)    { benchString(b, benchANSI) }
