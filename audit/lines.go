package audit

import (
	"bufio"
	"bytes"
	"io"
)

// Line is one line of a log as [LineReader] returns it.
type Line struct {
	Number int // 1-based
	// Bytes is the line without its newline, valid until the next call of
	// the reader; nil when the line is too long.
	Bytes []byte
	// TooLong reports a line of more than [MaxLineBytes] bytes, which was
	// skipped without being held in memory; Size says how long it was.
	TooLong bool
	Size    int64
}

// LineReader reads the lines of a log with memory bounded by
// [MaxLineBytes], whatever the file holds.
type LineReader struct {
	r       *bufio.Reader
	n       int
	buf     []byte
	size    int64 // bytes of the current line so far
	tooLong bool
}

// NewLineReader returns a LineReader reading r.
func NewLineReader(r io.Reader) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next complete line. At the end of the input it returns
// io.EOF and keeps an incomplete last line, which [LineReader.Rest]
// returns; calling Next again after more bytes were appended continues
// that line, which is what following a growing file needs.
func (lr *LineReader) Next() (Line, error) {
	for {
		frag, err := lr.r.ReadSlice('\n')
		lr.size += int64(len(frag))
		switch {
		case lr.tooLong:
		case lr.size > MaxLineBytes+1: // +1: the newline
			lr.tooLong, lr.buf = true, lr.buf[:0]
		default:
			lr.buf = append(lr.buf, frag...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return Line{}, err
		}
		lr.n++
		ln := Line{Number: lr.n, TooLong: lr.tooLong, Size: lr.size - 1}
		if !lr.tooLong {
			ln.Bytes = bytes.TrimSuffix(lr.buf, []byte("\n"))
		}
		lr.buf, lr.size, lr.tooLong = lr.buf[:0], 0, false
		return ln, nil
	}
}

// Rest returns the incomplete last line that [LineReader.Next] kept at the
// end of the input, and false when the input ended with a newline.
func (lr *LineReader) Rest() (Line, bool) {
	if lr.size == 0 {
		return Line{}, false
	}
	ln := Line{Number: lr.n + 1, TooLong: lr.tooLong, Size: lr.size}
	if !lr.tooLong {
		ln.Bytes = lr.buf
	}
	return ln, true
}
