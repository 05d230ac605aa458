package telemetry

import (
	"encoding/binary"
	"math"
)

// The protobuf wire format, the little of it OTLP messages need, written
// with the standard library alone. The generated OTLP types would link
// the whole protobuf runtime (registry, reflection, descriptors), whose
// package initialisation runs at every start of mcpwarden and costs
// memory even when telemetry is off, which it is by default.
//
// Each append function writes one field: its tag (field number and wire
// type), then its value. The callers follow proto3 rules: a scalar at its
// default value is left out, except where the field has presence (a oneof
// member, an optional field), and fields are written in field number
// order but for a oneof's member, which comes last. That is the order of
// the Go generated code, which keeps it for compatibility with the bytes
// it wrote before: so a request is byte for byte what mcpwarden sent when
// it used that code. A decoder must accept any order.

// Wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
)

func appendTag(b []byte, num, wireType uint64) []byte {
	return binary.AppendUvarint(b, num<<3|wireType)
}

// appendVarint writes an integer, bool or enum field unless it is 0.
func appendVarint(b []byte, num, v uint64) []byte {
	if v == 0 {
		return b
	}
	return binary.AppendUvarint(appendTag(b, num, wireVarint), v)
}

// appendFixed64 writes a fixed64 field unless it is 0.
func appendFixed64(b []byte, num, v uint64) []byte {
	if v == 0 {
		return b
	}
	return appendFixed64Always(b, num, v)
}

// appendFixed64Always writes a fixed64 or sfixed64 field that has
// presence, so that 0 is written too.
func appendFixed64Always(b []byte, num, v uint64) []byte {
	return binary.LittleEndian.AppendUint64(appendTag(b, num, wireFixed64), v)
}

// appendDouble writes a double field that has presence.
func appendDouble(b []byte, num uint64, f float64) []byte {
	return appendFixed64Always(b, num, math.Float64bits(f))
}

// appendString writes a string field unless it is empty.
func appendString(b []byte, num uint64, s string) []byte {
	if s == "" {
		return b
	}
	return appendStringAlways(b, num, s)
}

// appendStringAlways writes a string field that has presence, so that ""
// is written too.
func appendStringAlways(b []byte, num uint64, s string) []byte {
	b = binary.AppendUvarint(appendTag(b, num, wireBytes), uint64(len(s)))
	return append(b, s...)
}

// appendBytes writes a bytes field unless it is empty.
func appendBytes(b []byte, num uint64, p []byte) []byte {
	if len(p) == 0 {
		return b
	}
	b = binary.AppendUvarint(appendTag(b, num, wireBytes), uint64(len(p)))
	return append(b, p...)
}

// appendPackedFixed64 writes a repeated fixed64 field (or double, with
// bits) in packed form, unless it has no elements.
func appendPackedFixed64[T any](b []byte, num uint64, vs []T, bits func(T) uint64) []byte {
	if len(vs) == 0 {
		return b
	}
	b = binary.AppendUvarint(appendTag(b, num, wireBytes), uint64(8*len(vs)))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, bits(v))
	}
	return b
}

// openMessage starts a message field and returns where its body begins,
// for closeMessage. An embedded message is written even when its body is
// empty, as the generated code writes a non-nil one.
func openMessage(b []byte, num uint64) ([]byte, int) {
	b = appendTag(b, num, wireBytes)
	// One byte for the length; closeMessage makes room for more when
	// the body needs it, which spares a pass that sizes every message
	// before it is written.
	return append(b, 0), len(b) + 1
}

// closeMessage writes the length of the body that began at start.
func closeMessage(b []byte, start int) []byte {
	n := len(b) - start
	size := varintSize(uint64(n))
	if size > 1 {
		b = append(b, make([]byte, size-1)...)
		copy(b[start+size-1:], b[start:start+n])
	}
	binary.AppendUvarint(b[:start-1], uint64(n)) // in place: b has the room
	return b
}

// varintSize is the length of v's varint encoding.
func varintSize(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}
