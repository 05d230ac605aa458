package jsonrpc

import (
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
// transport defines them. It holds at most the limit plus one read buffer
// in memory, whatever the peer sends.
//
// It is its own buffer rather than a bufio.Reader under a line buffer: a
// line longer than the read buffer is read straight into the memory it is
// returned in, so the bytes of a large result are copied once on their way
// in, not twice.
type Reader struct {
	rd    io.Reader
	buf   []byte // buf[r:w] is read and not yet returned
	r, w  int
	err   error // the read error, returned once buf[r:w] is used up
	limit int
	// last is the length of the line returned last, which decides
	// whether a large buffer is worth keeping.
	last int
	// empty counts reads in a row that returned nothing and no error.
	empty int
}

// readSize is the size of a Reader's buffer while lines are short, and so
// the least it asks of a read.
const readSize = 64 << 10

// NewReader returns a Reader of r that refuses lines longer than limit bytes
// (DefaultMaxMessageSize when limit <= 0).
func NewReader(r io.Reader, limit int) *Reader {
	if limit <= 0 {
		limit = DefaultMaxMessageSize
	}
	return &Reader{rd: r, limit: limit}
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

// keepLine is the capacity of buffer a Reader keeps between lines; a
// larger buffer is kept while large lines keep coming, and let go after
// the first line that did not need it, so that one large result does not
// pin its size for the whole session, and a run of them does not pay for
// fresh pages each time.
const keepLine = 1 << 20

func (r *Reader) readLine() ([]byte, error) {
	r.shrink()
	scanned := 0 // bytes of buf[r:w] known to hold no newline
	for {
		if i := bytes.IndexByte(r.buf[r.r+scanned:r.w], '\n'); i >= 0 {
			end := r.r + scanned + i
			line := r.buf[r.r:end]
			r.r = end + 1
			if len(line) > r.limit {
				return nil, r.tooLarge(line, line[max(0, len(line)-keepAround):], int64(len(line)))
			}
			r.last = len(line)
			return line, nil
		}
		scanned = r.w - r.r
		if scanned > r.limit {
			return nil, r.discard()
		}
		if r.err != nil {
			if scanned > 0 && errors.Is(r.err, io.EOF) {
				line := r.buf[r.r:r.w]
				r.r = r.w
				r.last = len(line)
				return line, nil
			}
			return nil, r.err
		}
		r.fill()
	}
}

// shrink lets a large buffer go once a line has not needed it, moving
// what is left unread into a small one.
func (r *Reader) shrink() {
	if cap(r.buf) <= keepLine || r.last > keepLine || r.w-r.r > readSize {
		return
	}
	buf := make([]byte, readSize)
	r.w = copy(buf, r.buf[r.r:r.w])
	r.r = 0
	r.buf = buf
}

// jumpOver is the buffer size past which fill goes to the limit at once.
const jumpOver = 8 << 20

// fill reads once into the free end of the buffer, first making room:
// what is unread moves to the front, and a buffer that it fills is
// replaced by one twice the size, rather than letting append grow it by
// a quarter at a time, so a line of many megabytes is copied a few times,
// not dozens. The buffer never grows past the limit and one read.
func (r *Reader) fill() {
	if r.w == len(r.buf) {
		if r.r > 0 {
			r.w = copy(r.buf, r.buf[r.r:r.w])
			r.r = 0
		}
		if r.w == len(r.buf) {
			size := max(2*len(r.buf), readSize)
			if size > jumpOver {
				// A line this long is likely longer still: go to the
				// limit at once instead of leaving a trail of ever larger
				// garbage. Pages the line does not reach are never
				// touched.
				size = r.limit + readSize
			}
			buf := make([]byte, min(size, r.limit+readSize))
			r.w = copy(buf, r.buf[r.r:r.w])
			r.buf = buf
		}
	}
	n, err := r.rd.Read(r.buf[r.w:])
	r.w += n
	switch {
	case err != nil:
		r.err = err
	case n > 0:
		r.empty = 0
	default:
		// io.Reader allows a read of nothing and no error, and the
		// caller's loop retries it; as bufio does, a run of them ends
		// the stream rather than spinning forever.
		r.empty++
		if r.empty >= 100 {
			r.err = io.ErrNoProgress
		}
	}
}

// discard consumes the rest of an oversized line whose first part fills
// buf[r:w], keeping its head and tail.
func (r *Reader) discard() error {
	head := r.buf[r.r:min(r.w, r.r+keepAround)]
	size := int64(r.w - r.r)
	tail := append(make([]byte, 0, 2*keepAround), r.buf[max(r.r, r.w-keepAround):r.w]...)
	head = append(make([]byte, 0, len(head)), head...)
	r.r, r.w = 0, 0
	for {
		if r.err != nil {
			r.last = 0
			if !errors.Is(r.err, io.EOF) {
				return fmt.Errorf("reading oversized message: %w", r.err)
			}
			return r.tooLarge(head, tail, size)
		}
		r.fill()
		chunk := r.buf[r.r:r.w]
		i := bytes.IndexByte(chunk, '\n')
		if i >= 0 {
			chunk = chunk[:i]
			r.r += i + 1
		} else {
			r.r, r.w = 0, 0
		}
		size += int64(len(chunk))
		tail = append(tail, chunk...)
		if len(tail) > keepAround {
			tail = append(tail[:0], tail[len(tail)-keepAround:]...)
		}
		if i >= 0 {
			return r.tooLarge(head, tail, size)
		}
	}
}

// tooLarge builds the error for a discarded line of size bytes from copies
// of its first and last bytes.
func (r *Reader) tooLarge(head, tail []byte, size int64) *TooLargeError {
	r.last = 0
	return &TooLargeError{
		Size:  size,
		Limit: r.limit,
		Head:  append([]byte(nil), head[:min(len(head), keepAround)]...),
		Tail:  bytes.TrimRight(append([]byte(nil), tail...), "\r"),
	}
}
