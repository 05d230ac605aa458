package clientconfig

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// span is a byte range [start, end) of a file.
type span struct{ start, end int }

// elem is one element of an array: its value's span and next, the offset
// just past the comma that follows it (-1 when none does).
type elem struct {
	start, end, next int
}

// array is the layout of an array value: the offsets of its brackets and
// of its elements.
type array struct {
	open, close int
	elems       []elem
}

// entry is one server entry as found in a file.
type entry struct {
	path  []string // key path of the entry in the decoded document
	where string   // the location of its server list, for people
	name  string
	// skip, when set, is why the entry is left alone.
	skip    string
	command string
	cmd     span // the command value
	args    []string
	hasArgs bool
	arr     array
	// addArgs returns the edit that adds an args member with the given
	// array text, for an entry without one.
	addArgs func(arrayText string) edit
	env     []string // names of the environment variables it sets
}

// edit replaces the bytes [start, end) with text.
type edit struct {
	start, end int
	text       string
}

// apply returns data with the edits made; edits must not overlap.
func apply(data []byte, edits []edit) []byte {
	slices.SortFunc(edits, func(a, b edit) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end))
	})
	var out bytes.Buffer
	last := 0
	for _, e := range edits {
		out.Write(data[last:e.start])
		out.WriteString(e.text)
		last = e.end
	}
	out.Write(data[last:])
	return out.Bytes()
}

// syntax is what differs between the formats: how a string is written,
// and how a file is read into entries and into plain values.
type syntax interface {
	quote(s string) string
	entries(data []byte, locations [][]string) ([]entry, error)
	decode(data []byte) (map[string]any, error)
}

func syntaxFor(f Format) syntax {
	if f == TOML {
		return tomlSyntax{}
	}
	return jsonSyntax{}
}

// change is the command and args an entry is meant to have after an edit.
type change struct {
	path    []string
	command string
	args    []string
	// undone, for an unwrap, are the options of the wrap undone.
	undone *Options
}

// Result is the outcome of wrapping or unwrapping one file's contents.
type Result struct {
	Output  []byte
	Reports []Report
	// wardens are the distinct wrap options of the entries unwrapped.
	wardens []Options
}

// Changed reports whether the output differs from the input.
func (r Result) Changed(input []byte) bool { return !bytes.Equal(r.Output, input) }

// Wrap rewrites the server entries of data, a file of client c, so that
// every stdio server runs under mcpwarden.
func Wrap(data []byte, c Client, opts Options) (Result, error) {
	if opts.Warden == "" {
		return Result{}, errors.New("no mcpwarden command given to write into the entries")
	}
	// Selecting a profile reads every built-in profile; entries with the
	// same command line (the same server in many projects) share one.
	type choice struct{ name, detail string }
	chosen := map[string]choice{}
	pick := func(argv, env []string) (string, string, error) {
		key := strings.Join(argv, "\x00") + "\x01" + strings.Join(env, "\x00")
		if ch, ok := chosen[key]; ok {
			return ch.name, ch.detail, nil
		}
		name, detail, err := choose(argv, env)
		if err == nil {
			chosen[key] = choice{name, detail}
		}
		return name, detail, err
	}
	return rewrite(data, c, func(e entry, sx syntax) ([]edit, *change, Report, error) {
		return wrapEntry(data, e, sx, opts, pick)
	})
}

// Unwrap rewrites the server entries of data that run under mcpwarden so
// that they run their own command again.
// An entry runs under mcpwarden when its command is opts.Warden or a file
// named mcpwarden and its arguments are a "run" command line.
func Unwrap(data []byte, c Client, opts Options) (Result, error) {
	return rewrite(data, c, func(e entry, _ syntax) ([]edit, *change, Report, error) {
		return unwrapEntry(data, e, opts)
	})
}

type entryFunc func(e entry, sx syntax) ([]edit, *change, Report, error)

func rewrite(data []byte, c Client, f entryFunc) (Result, error) {
	sx := syntaxFor(c.Format)
	entries, err := sx.entries(data, c.Locations)
	if err != nil {
		return Result{}, err
	}
	var edits []edit
	var changes []change
	var res Result
	for _, e := range entries {
		es, ch, rep, err := f(e, sx)
		if err != nil {
			return Result{}, fmt.Errorf("server %q: %w", e.name, err)
		}
		edits = append(edits, es...)
		if ch != nil {
			changes = append(changes, *ch)
			if ch.undone != nil && !slices.ContainsFunc(res.wardens, func(o Options) bool { return reflect.DeepEqual(o, *ch.undone) }) {
				res.wardens = append(res.wardens, *ch.undone)
			}
		}
		res.Reports = append(res.Reports, rep)
	}
	res.Output = apply(data, edits)
	if len(changes) > 0 {
		if err := verify(sx, data, res.Output, changes); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// wrapEntry returns the edits that wrap entry e, with its profile chosen
// by pick.
func wrapEntry(data []byte, e entry, sx syntax, opts Options, pick func(argv, env []string) (string, string, error)) ([]edit, *change, Report, error) {
	rep := Report{Where: e.where, Name: e.name, Action: NotWrapped, Detail: e.skip}
	if e.skip != "" {
		return nil, nil, rep, nil
	}
	if isWarden(e.command, opts) {
		if _, prof, ok := splitRun(e.args); ok {
			rep.Action, rep.Profile = AlreadyWrapped, cmp.Or(prof, "chosen by mcpwarden")
			return nil, nil, rep, nil
		}
		rep.Detail = "its command is mcpwarden but its arguments are not a run command line"
		return nil, nil, rep, nil
	}
	prof, detail, err := pick(append([]string{e.command}, e.args...), e.env)
	if err != nil {
		return nil, nil, rep, err
	}
	prefix := wrapPrefix(prof, opts)
	items := make([]string, 0, len(prefix)+1)
	for _, p := range prefix {
		items = append(items, sx.quote(p))
	}
	// The original command keeps its own spelling, so that unwrap can
	// put back the very bytes.
	items = append(items, string(data[e.cmd.start:e.cmd.end]))
	edits := []edit{{e.cmd.start, e.cmd.end, sx.quote(opts.Warden)}}
	if e.hasArgs {
		edits = append(edits, insertFront(data, e.arr, items))
	} else {
		edits = append(edits, e.addArgs("["+strings.Join(items, ", ")+"]"))
	}
	ch := &change{path: e.path, command: opts.Warden, args: append(append(prefix, e.command), e.args...)}
	rep.Action, rep.Profile, rep.Detail = Wrapped, prof, detail
	return edits, ch, rep, nil
}

func unwrapEntry(data []byte, e entry, opts Options) ([]edit, *change, Report, error) {
	rep := Report{Where: e.where, Name: e.name, Action: NotWrapped, Detail: e.skip}
	if e.skip != "" {
		return nil, nil, rep, nil
	}
	k, _, ok := splitRun(e.args)
	if !ok || !isWarden(e.command, opts) {
		rep.Detail = "does not run under mcpwarden"
		return nil, nil, rep, nil
	}
	a := e.arr
	start := a.elems[0].start
	if hasNewline(data[a.open+1 : a.elems[0].start]) {
		start = a.open + 1
	}
	end := a.close
	if k+1 < len(a.elems) {
		end = a.elems[k+1].start
		if next := a.elems[k].next; next >= 0 && hasNewline(data[next:end]) {
			end = next
		}
	}
	edits := []edit{
		{e.cmd.start, e.cmd.end, string(data[a.elems[k].start:a.elems[k].end])},
		{start, end, ""},
	}
	undone := runOptions(e.command, e.args, k)
	ch := &change{path: e.path, command: e.args[k], args: slices.Clone(e.args[k+1:]), undone: &undone}
	rep.Action = Unwrapped
	return edits, ch, rep, nil
}

// insertFront returns the edit that puts items (array element texts) at
// the front of the array a, in the array's own layout: one a line when
// its first element is on a line of its own, else on the same line.
func insertFront(data []byte, a array, items []string) edit {
	if len(a.elems) == 0 {
		return edit{a.open + 1, a.open + 1, strings.Join(items, ", ")}
	}
	gap := data[a.open+1 : a.elems[0].start]
	if i := bytes.LastIndexByte(gap, '\n'); i >= 0 && len(bytes.Trim(gap[i+1:], " \t")) == 0 {
		indent, nl := string(gap[i+1:]), "\n"
		if i > 0 && gap[i-1] == '\r' {
			nl = "\r\n"
		}
		var b strings.Builder
		for _, it := range items {
			b.WriteString(nl + indent + it + ",")
		}
		return edit{a.open + 1, a.open + 1, b.String()}
	}
	return edit{a.elems[0].start, a.elems[0].start, strings.Join(items, ", ") + ", "}
}

func hasNewline(b []byte) bool { return bytes.IndexByte(b, '\n') >= 0 }

// verify decodes the original and the edited file and checks that they
// differ by exactly the intended changes: the proof that an in-place edit
// means what was meant.
func verify(sx syntax, before, after []byte, changes []change) error {
	want, err := sx.decode(before)
	if err != nil {
		return fmt.Errorf("internal error: the original no longer decodes: %w", err)
	}
	got, err := sx.decode(after)
	if err != nil {
		return fmt.Errorf("internal error: the edited file does not parse (%w); nothing was written", err)
	}
	for _, ch := range changes {
		m := lookupMap(want, ch.path)
		if m == nil {
			return fmt.Errorf("internal error: entry %s not found in the decoded file", strings.Join(ch.path, "."))
		}
		m["command"] = ch.command
		args := make([]any, len(ch.args))
		for i, a := range ch.args {
			args[i] = a
		}
		m["args"] = args
	}
	if !reflect.DeepEqual(normalize(want), normalize(got)) {
		return errors.New("internal error: the edited file does not mean what was intended; nothing was written")
	}
	return nil
}

// normalize makes decoded documents comparable: typed slices and maps of
// a decoder become []any and map[string]any.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

func lookupMap(root map[string]any, path []string) map[string]any {
	m := root
	for _, k := range path {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}
