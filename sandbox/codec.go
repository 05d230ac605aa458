package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The Config travels to the init in a small encoding of its own rather
// than gob: gob compiles a codec for each type it meets, in both
// processes, on every start (about 0.3 ms of the init's critical path,
// with gob's own package initialisation), and JSON would replace the
// bytes of an argument or a variable that is not UTF-8. Strings are a
// uvarint length and their bytes, lists a uvarint count and their
// strings, numbers varints, the flag a byte, in the order of the fields.
// The Egress channel is not encoded: it travels as a descriptor.

// encodeConfig encodes every field the init reads.
func encodeConfig(cfg Config) []byte {
	var b []byte
	for _, list := range [][]string{cfg.Argv, cfg.Env, cfg.Read, cfg.Write, cfg.Hide, cfg.SeccompDeny} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, s := range list {
			b = appendString(b, s)
		}
	}
	for _, s := range []string{cfg.Network, cfg.Home, cfg.InitBuildID} {
		b = appendString(b, s)
	}
	l := cfg.Limits
	for _, n := range []int64{l.Memory, l.FileSize, int64(l.Processes), int64(l.OpenFiles), int64(l.CPUSeconds)} {
		b = binary.AppendVarint(b, n)
	}
	flag := byte(0)
	if cfg.BestEffort {
		flag = 1
	}
	return append(b, flag)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

var errTruncated = errors.New("truncated")

// decoder reads what encodeConfig wrote; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 { return readNum(d, binary.Uvarint) }

func (d *decoder) varint() int64 { return readNum(d, binary.Varint) }

// readNum reads one number with read, binary.Uvarint or binary.Varint.
func readNum[T uint64 | int64](d *decoder, read func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := read(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errTruncated
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) list() []string {
	n := d.uvarint()
	// Each string takes a byte at least: a count beyond what is left is
	// a lie, and must not size an allocation.
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errTruncated
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.string()
	}
	return out
}

// decodeConfigBytes is the inverse of encodeConfig.
func decodeConfigBytes(b []byte) (Config, error) {
	d := decoder{b: b}
	var cfg Config
	for _, list := range []*[]string{&cfg.Argv, &cfg.Env, &cfg.Read, &cfg.Write, &cfg.Hide, &cfg.SeccompDeny} {
		*list = d.list()
	}
	for _, s := range []*string{&cfg.Network, &cfg.Home, &cfg.InitBuildID} {
		*s = d.string()
	}
	cfg.Limits.Memory = d.varint()
	cfg.Limits.FileSize = d.varint()
	cfg.Limits.Processes = int(d.varint())
	cfg.Limits.OpenFiles = int(d.varint())
	cfg.Limits.CPUSeconds = int(d.varint())
	switch {
	case d.err != nil:
	case len(d.b) != 1 || d.b[0] > 1:
		d.err = fmt.Errorf("%d bytes where the last flag was due", len(d.b))
	default:
		cfg.BestEffort = d.b[0] == 1
	}
	if d.err != nil {
		return Config{}, fmt.Errorf("decoding configuration: %w", d.err)
	}
	return cfg, nil
}
