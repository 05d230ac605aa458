package clientconfig

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/tailscale/hujson"
)

// jsonSyntax reads JSON with comments and trailing commas.
type jsonSyntax struct{}

// utf8BOM is skipped at the start of a file; editors on some systems write it.
var utf8BOM = []byte("\xef\xbb\xbf")

func (jsonSyntax) quote(s string) string { return string(hujson.String(s)) }

// standard returns data as standard JSON of the same length (comments and
// trailing commas become spaces), so that offsets and line numbers in it
// are those of data.
func standard(data []byte) ([]byte, hujson.Value, error) {
	body := bytes.TrimPrefix(data, utf8BOM)
	v, err := hujson.Parse(body)
	if err != nil {
		return nil, v, fmt.Errorf("not valid JSON: %s", strings.TrimPrefix(err.Error(), "hujson: "))
	}
	std := v.Clone()
	std.Standardize()
	return std.Pack(), v, nil
}

// decode reads data strictly: duplicate member names and invalid UTF-8
// are errors, since a client and this package could otherwise read
// different servers out of one file.
func (jsonSyntax) decode(data []byte) (map[string]any, error) {
	std, _, err := standard(data)
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimLeft(std, " \t\r\n"); len(t) > 0 && t[0] != '{' {
		return nil, errors.New("not a JSON object at the top level")
	}
	var root map[string]any
	if err := json.Unmarshal(std, &root); err != nil {
		return nil, jsonError(std, err)
	}
	if root == nil {
		return nil, errors.New("not a JSON object at the top level")
	}
	return root, nil
}

// jsonError names the line and column of a decoding error.
func jsonError(data []byte, err error) error {
	var se *jsontext.SyntacticError
	var me *json.SemanticError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.ByteOffset
	case errors.As(err, &me):
		off = me.ByteOffset
	}
	if off < 0 || off > int64(len(data)) {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := 1 + int(off) - (bytes.LastIndexByte(data[:off], '\n') + 1)
	return fmt.Errorf("not valid JSON at line %d, column %d: %w", line, col, err)
}

func (sx jsonSyntax) entries(data []byte, locations [][]string) ([]entry, error) {
	// The strict decode comes first: it refuses duplicate names, which
	// the syntax tree below would silently resolve to the first.
	if _, err := sx.decode(data); err != nil {
		return nil, err
	}
	_, root, err := standard(data)
	if err != nil {
		return nil, err
	}
	base := len(data) - len(bytes.TrimPrefix(data, utf8BOM))
	obj, ok := root.Value.(*hujson.Object)
	if !ok {
		return nil, errors.New("not a JSON object at the top level")
	}
	var out []entry
	for _, loc := range locations {
		for _, m := range findObjects(obj, loc, nil) {
			where := strings.Join(m.path, ".")
			for i := range m.obj.Members {
				mem := &m.obj.Members[i]
				name := mem.Name.Value.(hujson.Literal).String()
				e := jsonEntry(data, base, mem.Value, name)
				e.path = append(append([]string(nil), m.path...), name)
				e.where = where
				out = append(out, e)
			}
		}
	}
	return out, nil
}

type foundObject struct {
	path []string
	obj  *hujson.Object
}

// findObjects returns the objects at the key path loc below obj; "*"
// matches every member.
func findObjects(obj *hujson.Object, loc, prefix []string) []foundObject {
	if len(loc) == 0 {
		return []foundObject{{path: prefix, obj: obj}}
	}
	var out []foundObject
	for i := range obj.Members {
		mem := &obj.Members[i]
		name := mem.Name.Value.(hujson.Literal).String()
		if loc[0] != "*" && loc[0] != name {
			continue
		}
		if sub, ok := mem.Value.Value.(*hujson.Object); ok {
			out = append(out, findObjects(sub, loc[1:], append(append([]string(nil), prefix...), name))...)
		}
	}
	return out
}

// jsonEntry reads one server entry; base is the offset of the parsed text
// in data.
func jsonEntry(data []byte, base int, v hujson.Value, name string) entry {
	e := entry{name: name}
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		e.skip = "its entry is not an object"
		return e
	}
	var typ string
	var hasURL bool
	var cmdMember *hujson.ObjectMember
	for i := range obj.Members {
		mem := &obj.Members[i]
		lit, isLit := mem.Value.Value.(hujson.Literal)
		switch key := mem.Name.Value.(hujson.Literal).String(); key {
		case "type", "transport":
			if isLit && lit.Kind() == '"' {
				typ = lit.String()
			}
		case "url", "serverUrl", "httpUrl":
			hasURL = true
		case "command":
			if !isLit || lit.Kind() != '"' {
				e.skip = "its command is not a string"
				return e
			}
			e.command = lit.String()
			e.cmd = span{base + mem.Value.StartOffset, base + mem.Value.EndOffset}
			cmdMember = mem
		case "args":
			arr, ok := mem.Value.Value.(*hujson.Array)
			if !ok {
				e.skip = "its args is not a list of strings"
				return e
			}
			e.hasArgs = true
			e.arr = array{open: base + mem.Value.StartOffset, close: base + mem.Value.EndOffset - 1}
			for _, el := range arr.Elements {
				lit, ok := el.Value.(hujson.Literal)
				if !ok || lit.Kind() != '"' {
					e.skip = "its args is not a list of strings"
					return e
				}
				e.args = append(e.args, lit.String())
				next := -1
				if c := base + el.EndOffset + len(el.AfterExtra); c < len(data) && data[c] == ',' {
					next = c + 1
				}
				e.arr.elems = append(e.arr.elems, elem{base + el.StartOffset, base + el.EndOffset, next})
			}
		case "env":
			if env, ok := mem.Value.Value.(*hujson.Object); ok {
				for _, m := range env.Members {
					e.env = append(e.env, m.Name.Value.(hujson.Literal).String())
				}
			}
		}
	}
	if kind := remoteKind(typ, hasURL); kind != "" {
		e.skip = remoteDetail(kind)
		return e
	}
	if typ != "" && typ != "stdio" {
		e.skip = fmt.Sprintf("unknown server type %q", typ)
		return e
	}
	if cmdMember == nil {
		e.skip = "it has no command"
		return e
	}
	if e.command == "" {
		e.skip = "its command is empty"
		return e
	}
	sep := " "
	if extra := cmdMember.Name.BeforeExtra; bytes.IndexByte(extra, '\n') >= 0 {
		last := extra[bytes.LastIndexByte(extra, '\n')+1:]
		sep = "\n" + string(last[:len(last)-len(bytes.TrimLeft(last, " \t"))])
		if bytes.Contains(extra, []byte("\r\n")) {
			sep = "\r" + sep
		}
	}
	at := e.cmd.end
	e.addArgs = func(arrayText string) edit {
		return edit{at, at, "," + sep + `"args": ` + arrayText}
	}
	return e
}
