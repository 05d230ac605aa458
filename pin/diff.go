package pin

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// maxDiffCells bounds the work of the line diff of one member (the product
// of the two line counts); beyond it the old and new text are shown whole.
const maxDiffCells = 4 << 20

// WriteDiff writes a readable account of a verdict for a terminal: for a
// Changed tool, each member of the definition that differs, with removed
// lines marked "-" and added ones "+" (strings line by line, schemas and
// annotations as indented JSON); for a New tool, its whole definition
// marked "+"; for any other, its definition unmarked. Every character that
// could move the cursor, hide text or reorder it on screen (control and
// format characters, invalid UTF-8, unusual spaces) is shown escaped as
// \uXXXX, so what the server wrote cannot disguise itself.
func WriteDiff(w io.Writer, v Verdict) error {
	bw := bufio.NewWriter(w)
	when := ""
	if !v.Since.IsZero() {
		label := "accepted"
		if v.Blocked() {
			label = "seen"
		}
		when = fmt.Sprintf(" (%s %s)", label, v.Since.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(bw, "tool %s: %s%s\n", quoteDisplay(v.Name), v.Status, when)
	oldM, err := members(v.Old)
	if err != nil {
		return err
	}
	newM, err := members(v.New)
	if err != nil {
		return err
	}
	for _, name := range unionNames(oldM, newM) {
		o, n := oldM.get(name), newM.get(name)
		switch {
		case v.Status == Changed && bytes.Equal(o, n):
			continue
		case v.Status == Changed:
			fmt.Fprintf(bw, "  %s:\n", EscapeText(name))
			diffLines(bw, displayLines(o), displayLines(n))
		case v.Status == New:
			fmt.Fprintf(bw, "  %s:\n", EscapeText(name))
			for _, l := range displayLines(n) {
				fmt.Fprintf(bw, "  + %s\n", l)
			}
		default:
			fmt.Fprintf(bw, "  %s:\n", EscapeText(name))
			for _, l := range displayLines(n) {
				fmt.Fprintf(bw, "    %s\n", l)
			}
		}
	}
	return bw.Flush()
}

// memberList is the top-level members of a definition in their order.
type memberList []struct {
	name string
	val  jsontext.Value
}

func (m memberList) get(name string) jsontext.Value {
	for _, e := range m {
		if e.name == name {
			return e.val
		}
	}
	return nil
}

func members(def []byte) (memberList, error) {
	if def == nil {
		return nil, nil
	}
	dec := jsontext.NewDecoder(bytes.NewReader(def))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, fmt.Errorf("pin: show definition: not a JSON object")
	}
	var out memberList
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, fmt.Errorf("pin: show definition: %w", err)
		}
		name := tok.String() // before ReadValue reuses the buffer
		val, err := dec.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("pin: show definition: %w", err)
		}
		out = append(out, struct {
			name string
			val  jsontext.Value
		}{name, val.Clone()})
	}
	return out, nil
}

// unionNames lists the member names of both definitions, those of a first
// and then those only in b, keeping the canonical (sorted) order of each.
func unionNames(a, b memberList) []string {
	var names []string
	for _, e := range a {
		names = append(names, e.name)
	}
	for _, e := range b {
		if a.get(e.name) == nil {
			names = append(names, e.name)
		}
	}
	return names
}

// displayLines renders a member's value: a string as its own lines, since
// descriptions are prose; anything else as indented JSON. An absent value
// has no lines.
func displayLines(v jsontext.Value) []string {
	if v == nil {
		return nil
	}
	var text string
	if v.Kind() == '"' {
		var s string
		dec := jsontext.NewDecoder(bytes.NewReader(v))
		if tok, err := dec.ReadToken(); err == nil {
			s = tok.String()
		}
		text = s
	} else {
		c := v.Clone()
		if err := c.Indent(jsontext.WithIndent("  ")); err != nil {
			text = string(v)
		} else {
			text = string(c)
		}
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = EscapeText(l)
	}
	return lines
}

// diffLines writes the shortest edit from a to b, found by the longest
// common subsequence of lines, with unchanged lines as context.
func diffLines(w io.Writer, a, b []string) {
	if len(a)*len(b) > maxDiffCells {
		for _, l := range a {
			fmt.Fprintf(w, "  - %s\n", l)
		}
		for _, l := range b {
			fmt.Fprintf(w, "  + %s\n", l)
		}
		return
	}
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			fmt.Fprintf(w, "    %s\n", a[i])
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			fmt.Fprintf(w, "  - %s\n", a[i])
			i++
		default:
			fmt.Fprintf(w, "  + %s\n", b[j])
			j++
		}
	}
}

// EscapeText returns s with every character that could move the cursor,
// hide text or reorder it on a terminal escaped, as [WriteDiff] shows
// text; use it for tool names and other text from a server that goes to a
// terminal. Every character that is not plainly visible, except the ASCII
// space, becomes a \uXXXX escape (\UXXXXXXXX beyond the Basic
// Multilingual Plane), and a backslash becomes two, so that the output
// shows unambiguously what the text holds.
func EscapeText(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02X`, s[0])
		case r == '\\':
			b.WriteString(`\\`)
		case r == ' ' || (unicode.IsPrint(r) && !unicode.Is(unicode.Cf, r)):
			b.WriteRune(r)
		case r > 0xFFFF:
			fmt.Fprintf(&b, `\U%08X`, r)
		default:
			fmt.Fprintf(&b, `\u%04X`, r)
		}
		s = s[size:]
	}
	return b.String()
}

// quoteDisplay puts a name from the server in quotes, escaped as by
// EscapeText and with its quotes escaped too.
func quoteDisplay(s string) string {
	return `"` + strings.ReplaceAll(EscapeText(s), `"`, `\"`) + `"`
}
