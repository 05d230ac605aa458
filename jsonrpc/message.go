// Package jsonrpc reads, strictly decodes and classifies the JSON-RPC 2.0
// messages of the MCP stdio transport.
//
// mcpwarden forwards the bytes it validated, so the validator must accept
// only input that every reasonable parser reads the same way: exact-case
// member names, no duplicate names (nor names that differ only in case or
// Unicode folding, which case-insensitive decoders such as Go's
// encoding/json merge), valid UTF-8, bounded size and nesting depth.
package jsonrpc

import (
	"github.com/go-json-experiment/json/jsontext"
)

// Version is the only JSON-RPC version MCP speaks.
const Version = "2.0"

// Kind classifies a message by the members it carries.
type Kind int

// The kinds of message. A Response carries either a result or an error.
const (
	Invalid Kind = iota
	Request
	Notification
	Response
)

func (k Kind) String() string {
	switch k {
	case Request:
		return "request"
	case Notification:
		return "notification"
	case Response:
		return "response"
	}
	return "invalid"
}

// Message is one validated JSON-RPC message. Params, Result and Error.Data
// alias Raw, which aliases the buffer given to the Decoder: copy what must
// outlive the next read.
type Message struct {
	Kind   Kind
	ID     ID // zero for notifications
	Method string
	Params jsontext.Value // nil when absent
	Result jsontext.Value // nil when absent
	Error  *Error         // nil unless an error response
	Raw    []byte         // the whole message as received and validated
}

// Error is a JSON-RPC error object.
type Error struct {
	Code    int64          `json:"code"`
	Message string         `json:"message"`
	Data    jsontext.Value `json:"data,omitzero"`
}

// Standard JSON-RPC error codes, and the MCP one for a missing resource.
const (
	CodeParseError       = -32700
	CodeInvalidRequest   = -32600
	CodeMethodNotFound   = -32601
	CodeInvalidParams    = -32602
	CodeInternalError    = -32603
	CodeResourceNotFound = -32002
	// CodeServerGone is used for requests the server can no longer answer
	// because it exited or closed its output.
	CodeServerGone = -32000
)
