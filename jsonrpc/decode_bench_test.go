package jsonrpc

import (
	"bytes"
	"testing"
)

// largeResult is a response whose result holds one text of about n bytes
// built from unit.
func largeResult(unit string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"`)
	b.Write(bytes.Repeat([]byte(unit), n/len(unit)))
	b.WriteString(`"}],"isError":false}}`)
	return b.Bytes()
}

// The texts of BenchmarkDecodeLargeResult: plain ASCII log lines; the
// lines of a source file, with an escaped newline at the end of each and
// an escaped quote or tab now and then; text dense with the escapes a
// tool's output carries (newlines, tabs, quotes, \u escapes) and with
// literal multi-byte letters; and text that is mostly multi-byte.
const (
	asciiUnit = `2026-12-01T10:00:00Z INFO request served path=/api/v1/items/42 status=200 bytes=5120 duration=3.2ms user=remi ok. `
	linesUnit = `func (d *Decoder) Decode(b []byte) (*Message, error) {\n\tvar env envelope\n` +
		`\tm, err := d.decode(b, &env) // the message is validated and classified in one pass\n` +
		`\treturn nil, fmt.Errorf(\"decode: %w\", err) // wrapped with the context of the stream it came from\n}\n`
	escapedUnit = `2026-12-01T10:00:00Z INFO request served path=/api/v1/items/42 status=200 user=r\u00e9mi\n` +
		`\tThe quick brown fox jumps over the lazy dog; caf\u00e9 na\u00efve \u2014 \"quoted\" text, numbers 1234567890.\n` +
		"Stra\u00dfe \u65e5\u672c\u8a9e "
	multibyteUnit = "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3001\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440, \u00e9t\u00e9 \U0001f600. "
)

// BenchmarkDecodeLargeResult decodes a 64 MiB tools/call result, the
// message whose one long string dominates the cost of the strict decode.
func BenchmarkDecodeLargeResult(b *testing.B) {
	for _, tc := range []struct{ name, unit string }{
		{"ascii", asciiUnit},
		{"lines", linesUnit},
		{"escaped", escapedUnit},
		{"multibyte", multibyteUnit},
	} {
		b.Run(tc.name, func(b *testing.B) {
			msg := largeResult(tc.unit, 64<<20)
			d := NewDecoder(0)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := d.Decode(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeCall decodes the small tools/call request and its answer
// that make up most of a session's messages.
func BenchmarkDecodeCall(b *testing.B) {
	for _, tc := range []struct{ name, msg string }{
		{"request", `{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello","count":3,"tags":["a","b"]}}}`},
		{"response", `{"jsonrpc":"2.0","id":17,"result":{"content":[{"type":"text","text":"hello hello hello"}],"isError":false}}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			msg := []byte(tc.msg)
			d := NewDecoder(0)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := d.Decode(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
