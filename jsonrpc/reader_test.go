package jsonrpc

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReaderSplitsLines(t *testing.T) {
	in := "a\n\n  \r\nb\r\nc"
	r := NewReader(iotest.OneByteReader(strings.NewReader(in)), 10)
	var got []string
	for {
		line, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(line))
	}
	if strings.Join(got, "|") != "a|b|c" {
		t.Errorf("lines = %q", got)
	}
}

// TestReaderOversized shows that an oversized line costs bounded memory,
// yields an error with its id recoverable from head or tail, and that the
// stream goes on.
func TestReaderOversized(t *testing.T) {
	const limit = 1 << 10
	big := `{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"x":"` + strings.Repeat("A", 300<<10) + `"}}`
	bigTail := `{"result":{"x":"` + strings.Repeat("B", 300<<10) + `"},"jsonrpc":"2.0","id":"r7"}`
	in := big + "\n" + `{"jsonrpc":"2.0","id":1,"method":"ping"}` + "\n" + bigTail + "\n" + "ok"
	r := NewReader(strings.NewReader(in), limit)

	_, err := r.Next()
	var tle *TooLargeError
	if !errors.As(err, &tle) {
		t.Fatalf("first line: err = %v, want TooLargeError", err)
	}
	if tle.Size != int64(len(big)) || len(tle.Head) > keepAround || len(tle.Tail) > keepAround {
		t.Errorf("size %d (want %d), head %d, tail %d", tle.Size, len(big), len(tle.Head), len(tle.Tail))
	}
	if env := Recover(tle); env.ID.Raw() != "41" || !env.HasMethod {
		t.Errorf("Recover = %+v, want id 41 with method", env)
	}
	line, err := r.Next()
	if err != nil || string(line) != `{"jsonrpc":"2.0","id":1,"method":"ping"}` {
		t.Fatalf("line after oversized = %q, %v", line, err)
	}
	if _, err = r.Next(); !errors.As(err, &tle) {
		t.Fatalf("third line: err = %v", err)
	}
	if env := Recover(tle); env.ID.Raw() != `"r7"` || env.HasMethod {
		t.Errorf("Recover from tail = %+v, want id \"r7\"", env)
	}
	if line, err = r.Next(); err != nil || string(line) != "ok" {
		t.Fatalf("last line = %q, %v", line, err)
	}
	if cap(r.buf) > limit+readSize {
		t.Errorf("reader buffer grew to %d bytes for a %d-byte limit", cap(r.buf), limit)
	}
}

func TestReaderLimitIsExact(t *testing.T) {
	line := strings.Repeat("x", 100)
	r := NewReader(strings.NewReader(line+"\n"+line+"y\n"), 100)
	if got, err := r.Next(); err != nil || len(got) != 100 {
		t.Fatalf("line at the limit: %d bytes, %v", len(got), err)
	}
	var tle *TooLargeError
	if _, err := r.Next(); !errors.As(err, &tle) || tle.Size != 101 {
		t.Fatalf("line over the limit: %v", err)
	}
}

func TestReaderPassesIOErrors(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(bytes.NewReader([]byte("a\n")), iotest.ErrReader(boom)), 0)
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}

// FuzzReaderAgrees holds Next to a plain split of the whole input on
// newlines: the same lines in the same order, the oversized ones as
// errors of their exact size, whatever sizes the reads come in.
func FuzzReaderAgrees(f *testing.F) {
	f.Add([]byte("a\nbb\r\n\n  \nccc"), 2, uint8(0))
	f.Add([]byte(strings.Repeat("x", 70000)+"\ny\n"+strings.Repeat("z", 200000)), 100000, uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, limit int, split uint8) {
		limit = 1 + (limit&0x3ffff)%300000
		var src io.Reader = bytes.NewReader(in)
		switch split % 3 {
		case 1:
			src = iotest.OneByteReader(src)
		case 2:
			src = iotest.HalfReader(src)
		}
		r := NewReader(src, limit)
		pieces := bytes.Split(in, []byte("\n"))
		if len(pieces[len(pieces)-1]) == 0 {
			pieces = pieces[:len(pieces)-1]
		}
		for _, raw := range pieces {
			if len(raw) <= limit && len(bytes.TrimSpace(bytes.TrimRight(raw, "\r"))) == 0 {
				continue
			}
			line, err := r.Next()
			if len(raw) > limit {
				var tle *TooLargeError
				if !errors.As(err, &tle) || tle.Size != int64(len(raw)) {
					t.Fatalf("line of %d bytes over the limit %d: %v", len(raw), limit, err)
				}
				if !bytes.HasPrefix(raw, tle.Head) || !bytes.HasSuffix(bytes.TrimRight(raw, "\r"), tle.Tail) {
					t.Fatalf("head or tail not of the line")
				}
				continue
			}
			if err != nil || !bytes.Equal(line, bytes.TrimRight(raw, "\r")) {
				t.Fatalf("line = %.40q, %v; want %.40q", line, err, raw)
			}
		}
		if _, err := r.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last line: %v, want EOF", err)
		}
		if cap(r.buf) > limit+readSize {
			t.Fatalf("buffer of %d bytes for a limit of %d", cap(r.buf), limit)
		}
	})
}
