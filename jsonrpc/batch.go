package jsonrpc

import (
	"bytes"
	"errors"
	"io"
)

// SplitBatch validates b as a JSON array and returns its elements, which
// alias b. Each element must still be decoded on its own. An empty batch is
// an error, as JSON-RPC defines.
func (d *Decoder) SplitBatch(b []byte) ([][]byte, error) {
	d.reset(b)
	defer d.release(b)
	tok, err := d.dec.ReadToken()
	if err != nil {
		return nil, &DecodeError{Reason: "invalid JSON", Err: err}
	}
	if tok.Kind() != '[' {
		return nil, &DecodeError{Reason: "a batch must be a JSON array"}
	}
	var elems [][]byte
	for d.dec.PeekKind() != ']' {
		start := d.dec.InputOffset()
		if _, err := d.dec.ReadValue(); err != nil {
			return nil, &DecodeError{Reason: "invalid JSON in batch", Err: err}
		}
		elems = append(elems, bytes.TrimLeft(b[start:d.dec.InputOffset()], " \t\r\n,"))
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, &DecodeError{Reason: "invalid JSON", Err: err}
	}
	if _, err := d.dec.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, &DecodeError{Reason: "trailing data after the batch"}
	}
	if len(elems) == 0 {
		return nil, &DecodeError{Reason: "empty batch"}
	}
	return elems, nil
}
