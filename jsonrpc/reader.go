package jsonrpc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxMessageSize bounds one message when the caller sets no limit.
// MCP results can carry files and images, so the bound is generous, but it
// is a bound: a peer cannot make mcpwarden buffer an unbounded line.
const DefaultMaxMessageSize = 16 << 20

// keepAround is how much of the head and tail of an oversized line a Reader
// keeps, so that the message's id can still be found and answered.
const keepAround = 4 << 10

// TooLargeError reports a line longer than the Reader's limit. The line was
// consumed and discarded; the stream can go on with the next line. Head and
// Tail hold the first and last bytes of the line, enough to recover its id.
type TooLargeError struct {
	Size  int64 // bytes in the discarded line, without its newline
	Limit int
	Head  []byte
	Tail  []byte
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("message of %d bytes exceeds the limit of %d bytes", e.Size, e.Limit)
}

// Reader splits a stream into newline-delimited messages as the MCP stdio
// transport defines them. It holds at most the limit plus one buffer in
// memory, whatever the peer sends.
type Reader struct {
	br    *bufio.Reader
	limit int
	line  []byte
}

// NewReader returns a Reader of r that refuses lines longer than limit bytes
// (DefaultMaxMessageSize when limit <= 0).
func NewReader(r io.Reader, limit int) *Reader {
	if limit <= 0 {
		limit = DefaultMaxMessageSize
	}
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), limit: limit}
}

// Next returns the next non-blank line without its line terminator. The
// slice is valid until the following call. An oversized line yields a
// *TooLargeError and Next may be called again. At the end of the stream it
// returns io.EOF; a last line that lacks its newline is still returned, since
// the decoder rejects it if it was cut short.
func (r *Reader) Next() ([]byte, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			return nil, err
		}
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		return line, nil
	}
}

// keepLine is the capacity of line buffer a Reader keeps between lines;
// a larger buffer is kept while large lines keep coming, and let go after
// the first line that did not need it, so that one large result does not
// pin its size for the whole session, and a run of them does not pay for
// fresh pages each time.
const keepLine = 1 << 20

func (r *Reader) readLine() ([]byte, error) {
	if cap(r.line) > keepLine && len(r.line) <= keepLine {
		r.line = nil
	}
	r.line = r.line[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		n := len(r.line) + len(chunk)
		if err == nil {
			n-- // the newline is not counted
		}
		if n > r.limit {
			return nil, r.discard(chunk, err)
		}
		r.grow(len(chunk))
		r.line = append(r.line, chunk...)
		switch {
		case err == nil:
			return r.line[:len(r.line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(r.line) > 0:
			return r.line, nil
		default:
			return nil, err
		}
	}
}

// jumpOver is the line buffer size past which grow goes to the limit.
const jumpOver = 8 << 20

// grow makes room for n more bytes of line, doubling the buffer rather
// than letting append grow it by a quarter at a time: a line of many
// megabytes is then copied a few times, not dozens, and leaves less
// garbage behind. The buffer never grows past the limit and a newline.
func (r *Reader) grow(n int) {
	need := len(r.line) + n
	if need <= cap(r.line) {
		return
	}
	size := max(2*cap(r.line), need, 4096)
	if size > jumpOver {
		// A line this long is likely longer still: go to the limit at
		// once instead of leaving a trail of ever larger garbage. Pages
		// of the buffer that the line does not reach are never touched.
		size = r.limit + 1
	}
	size = min(size, r.limit+1)
	buf := make([]byte, len(r.line), max(size, need))
	copy(buf, r.line)
	r.line = buf
}

// discard consumes the rest of an oversized line, keeping its head and tail.
func (r *Reader) discard(chunk []byte, err error) error {
	tle := &TooLargeError{Limit: r.limit}
	tle.Head = append([]byte(nil), r.line[:min(len(r.line), keepAround)]...)
	if len(tle.Head) < keepAround {
		tle.Head = append(tle.Head, chunk[:min(len(chunk), keepAround-len(tle.Head))]...)
	}
	size := int64(len(r.line))
	tail := make([]byte, 0, 2*keepAround)
	for {
		size += int64(len(chunk))
		tail = append(tail, chunk...)
		if len(tail) > keepAround {
			tail = append(tail[:0], tail[len(tail)-keepAround:]...)
		}
		if err == nil || !errors.Is(err, bufio.ErrBufferFull) {
			break
		}
		chunk, err = r.br.ReadSlice('\n')
	}
	if err == nil {
		size-- // the newline
		tail = tail[:len(tail)-1]
	}
	tle.Size = size
	tle.Tail = bytes.TrimRight(tail, "\r")
	r.line = r.line[:0]
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading oversized message: %w", err)
	}
	return tle
}
