package jsonrpc

import (
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// ErrorResponse encodes a JSON-RPC error response to id (Null when the id
// is unknown). data may be nil. The result has no trailing newline.
func ErrorResponse(id ID, code int64, message string, data any) []byte {
	if id.IsZero() {
		id = Null
	}
	e := Error{Code: code, Message: message}
	if data != nil {
		if raw, err := json.Marshal(data); err == nil {
			e.Data = raw
		}
	}
	body, err := json.Marshal(&e)
	if err != nil { // only invalid UTF-8 in message can get here
		body, _ = json.Marshal(&Error{Code: code, Message: "invalid error message"})
	}
	return envelopeWith(id, "error", body)
}

// ResultResponse encodes a JSON-RPC result response to id.
func ResultResponse(id ID, result jsontext.Value) []byte {
	return envelopeWith(id, "result", result)
}

func envelopeWith(id ID, member string, value []byte) []byte {
	b := make([]byte, 0, len(value)+len(id.raw)+40)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id.raw...)
	b = append(b, `,"`...)
	b = append(b, member...)
	b = append(b, `":`...)
	b = append(b, value...)
	return append(b, '}')
}

// RequestMessage encodes a JSON-RPC request. params may be nil.
func RequestMessage(id ID, method string, params jsontext.Value) []byte {
	return methodMessage(id.raw, method, params)
}

// NotificationMessage encodes a JSON-RPC notification. params may be nil.
func NotificationMessage(method string, params jsontext.Value) []byte {
	return methodMessage("", method, params)
}

// methodMessage encodes a request, or a notification when id is "".
func methodMessage(id, method string, params jsontext.Value) []byte {
	m, _ := json.Marshal(method) // a method that was decoded re-encodes
	b := make([]byte, 0, len(params)+len(id)+len(m)+50)
	b = append(b, `{"jsonrpc":"2.0"`...)
	if id != "" {
		b = append(b, `,"id":`...)
		b = append(b, id...)
	}
	b = append(b, `,"method":`...)
	b = append(b, m...)
	if params != nil {
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	return append(b, '}')
}
