package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// The init reads its instructions from one pipe, on configFD, as frames:
// first the Config, then the seccomp program. The caller compiles the
// program while the init starts and builds the file system view: compiling
// takes about as long as that, and the caller has a CPU to spare, so the
// init finds the program waiting instead of compiling it itself.
//
// A frame is a kind byte, a little-endian uint32 length and the payload.
// Only the caller holds the write end, and the init closes its end before
// the server starts, so nothing inside the sandbox can speak on it.

// Frame kinds.
const (
	frameConfig  byte = 'C' // the Config (see encodeConfig)
	frameProgram byte = 'P' // the seccomp program: struct sock_filter entries
	frameError   byte = 'E' // why the caller could not make the next frame
)

// maxFrame bounds what the init reads: a Config holds the server's
// environment and arguments, which the kernel bounds at a few MiB.
const maxFrame = 64 << 20

// openChannel returns the init's end of a new channel, and starts sending
// cfg and then the program that compile makes. A compile error travels as
// an error frame, so that the init fails with it as it would have failed
// compiling. The sending ends when both frames are in the pipe or the init
// is gone.
func openChannel(cfg Config, compile func() ([]byte, error)) (*os.File, error) {
	conf := encodeConfig(cfg)
	if len(conf) > maxFrame {
		return nil, fmt.Errorf("sandbox: configuration of %d bytes is larger than %d", len(conf), maxFrame)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: configuration channel: %w", err)
	}
	go func() {
		defer w.Close()
		if writeFrame(w, frameConfig, conf) != nil {
			return
		}
		prog, err := compile()
		if err != nil {
			_ = writeFrame(w, frameError, []byte(err.Error()))
			return
		}
		_ = writeFrame(w, frameProgram, prog)
	}()
	return r, nil
}

func writeFrame(w io.Writer, kind byte, payload []byte) error {
	var head [5]byte
	head[0] = kind
	binary.LittleEndian.PutUint32(head[1:], uint32(len(payload)))
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// readFrame reads the next frame, which must be of kind want; an error
// frame comes back as its error.
func readFrame(r io.Reader, want byte) ([]byte, error) {
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errors.New("mcpwarden closed the configuration channel early")
		}
		return nil, fmt.Errorf("reading the configuration channel: %w", err)
	}
	n := binary.LittleEndian.Uint32(head[1:])
	if n > maxFrame {
		return nil, fmt.Errorf("configuration frame of %d bytes is larger than %d", n, maxFrame)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, fmt.Errorf("reading the configuration channel: %w", err)
	}
	switch head[0] {
	case want:
		return payload, nil
	case frameError:
		return nil, errors.New(string(payload))
	}
	return nil, fmt.Errorf("configuration channel: frame %q where %q was due", head[0], want)
}

// decodeConfig reads the Config that openChannel sent.
func decodeConfig(r io.Reader) (Config, error) {
	b, err := readFrame(r, frameConfig)
	if err != nil {
		return Config{}, err
	}
	return decodeConfigBytes(b)
}
