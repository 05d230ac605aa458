package sqlguard

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// explainOptions are the EXPLAIN options that do not make it execute the
// statement. ANALYZE is missing on purpose: EXPLAIN ANALYZE runs it.
var explainOptions = map[string]bool{
	"verbose": true, "costs": true, "settings": true, "generic_plan": true,
	"buffers": true, "wal": true, "timing": true, "summary": true,
	"memory": true, "format": true, "serialize": true,
}

// The parse tree comes from libpg_query as JSON, written from the C
// nodes by the same generated definitions as its protobuf form, field
// for field and in the same order: an object for every node and every
// message-typed field, and around each reference to a node (a field or
// list element whose C type is Node *) an object with one key, the
// node's type:
//
//	{"version":170004,"stmts":[{"stmt":{"SelectStmt":{"targetList":[
//	  {"ResTarget":{"val":{"FuncCall":{"funcname":[{"String":{"sval":"f"}}],...}}}}]}}}]}
//
// Field names start with a lower-case letter and type names with an
// upper-case one, so an object whose first key is upper case is such a
// reference. Fields left at their zero value are not written. The walk
// reads the JSON as a stream of tokens, keeping only a stack of the
// objects and arrays it is inside.

// nodeKind is what the walk knows an object to be.
type nodeKind uint8

const (
	kindOther       nodeKind = iota // a node or field of no interest
	kindSelect                      // a SelectStmt node
	kindFuncCall                    // a FuncCall node
	kindColumnRef                   // a ColumnRef node
	kindIndirection                 // an A_Indirection node
	kindString                      // a String node
	kindStmt                        // a node of any other statement type
)

// kindOf returns the kind of the node type name.
func kindOf(name string) nodeKind {
	switch name {
	case "SelectStmt":
		return kindSelect
	case "FuncCall":
		return kindFuncCall
	case "ColumnRef":
		return kindColumnRef
	case "A_Indirection":
		return kindIndirection
	case "String":
		return kindString
	}
	if strings.HasSuffix(name, "Stmt") {
		return kindStmt
	}
	return kindOther
}

// fieldKey names the fields the walk looks into.
type fieldKey uint8

const (
	keyOther       fieldKey = iota
	keyFuncname             // FuncCall.funcname
	keyFields               // ColumnRef.fields
	keyIndirection          // A_Indirection.indirection
	keyLocking              // SelectStmt.lockingClause
	keySval                 // String.sval
)

// namePart is one element of a name list (a function's name, a column
// reference, an indirection): a String node and its text, or another
// node (a '*', a subscript).
type namePart struct {
	isString bool
	sval     string
}

// frame is an object or array that the walk is inside.
type frame struct {
	array bool
	// index numbers the objects of the tree in the order in which they
	// start, which is the order of a depth-first walk that visits a node
	// before its children; depth counts the objects around an object
	// (for an array, around the array).
	index, depth int
	// For an object: what it is, whether its next token is a key, and
	// the field whose value is being read.
	kind    nodeKind
	stmt    string // the type name of a kindStmt node
	wantKey bool
	keys    int
	key     fieldKey
	// A reference: the kind of node it holds, and what it is as a part
	// of a name when it is an element of a name list (inName).
	ref    bool
	refs   nodeKind
	inName bool
	part   namePart
	// What visit decides on: a SELECT's INTO and locking clauses, the
	// name list of a FuncCall, ColumnRef or A_Indirection (for an
	// array: the list being read, when collect is set), a String's text.
	into, locking bool
	names         []namePart
	collect       bool
	elems         int
	keepSval      bool
	sval          string
}

// walker reads one parse tree.
type walker struct {
	c   *Checker
	dec *jsontext.Decoder
	// stack holds the frames of the value that walkValue is reading.
	stack []frame
	next  int
	// refusal is the refusal of the object with the lowest index found
	// so far, so that a query with several reasons to be refused gets
	// the one a depth-first walk that stops at the first would give.
	refusal      error
	refusalIndex int
	// deep is set once an object deeper than maxTreeDepth was found.
	deep bool
}

// checkTree decides on js, the JSON parse tree of the query.
func (c *Checker) checkTree(js string) error {
	w := walker{c: c, dec: jsontext.NewDecoder(strings.NewReader(js))}
	verdict, n, err := w.statements()
	if err != nil {
		if w.deep {
			return tooDeep()
		}
		return c.parseError(fmt.Errorf("reading the parse tree: %w", err))
	}
	switch n {
	case 0:
		return refuse("the query holds no statement")
	case 1:
		return verdict
	}
	return refuse("the query holds %d statements; only one is allowed", n)
}

// statements reads the whole tree, decides on its first statement and
// counts the statements.
func (w *walker) statements() (verdict error, n int, err error) {
	if err := w.expect('{'); err != nil {
		return nil, 0, err
	}
	for {
		tok, err := w.dec.ReadToken()
		if err != nil {
			return nil, 0, err
		}
		if tok.Kind() == '}' {
			return verdict, n, nil
		}
		if tok.String() != "stmts" {
			if err := w.dec.SkipValue(); err != nil {
				return nil, 0, err
			}
			continue
		}
		if err := w.expect('['); err != nil {
			return nil, 0, err
		}
		for w.dec.PeekKind() != ']' {
			if n == 0 {
				verdict, err = w.rawStmt()
			} else {
				err = w.dec.SkipValue()
			}
			if err != nil {
				return nil, 0, err
			}
			n++
		}
		if err := w.expect(']'); err != nil {
			return nil, 0, err
		}
	}
}

// rawStmt reads a RawStmt and decides on the statement in it.
func (w *walker) rawStmt() (verdict error, err error) {
	if err := w.expect('{'); err != nil {
		return nil, err
	}
	verdict = w.c.refuseTop("")
	for {
		tok, err := w.dec.ReadToken()
		if err != nil {
			return nil, err
		}
		if tok.Kind() == '}' {
			return verdict, nil
		}
		if tok.String() == "stmt" && w.dec.PeekKind() == '{' {
			verdict, err = w.topStmt()
		} else {
			err = w.dec.SkipValue()
		}
		if err != nil {
			return nil, err
		}
	}
}

// topStmt reads the reference to the one statement and decides on it: it
// must be a SELECT (VALUES and TABLE are SELECTs too), an EXPLAIN of one
// or, for PostgreSQL, a SHOW.
func (w *walker) topStmt() (verdict error, err error) {
	name, err := w.refName()
	if err != nil || name == "" {
		return w.c.refuseTop(""), err
	}
	switch name {
	case "SelectStmt":
		verdict, err = w.walkValue(0, kindSelect)
	case "ExplainStmt":
		verdict, err = w.explain()
	case "VariableShowStmt":
		if w.c.dialect == Postgres {
			return nil, w.skipRest()
		}
		fallthrough
	default:
		if err := w.skipRest(); err != nil {
			return nil, err
		}
		return w.c.refuseTop(name), nil
	}
	if err != nil {
		return nil, err
	}
	return verdict, w.expect('}')
}

// refName reads the start of a reference, {"TypeName":, and returns the
// type name, or "" after reading all of an empty reference, {}.
func (w *walker) refName() (string, error) {
	if err := w.expect('{'); err != nil {
		return "", err
	}
	tok, err := w.dec.ReadToken()
	if err != nil || tok.Kind() == '}' {
		return "", err
	}
	return tok.String(), nil
}

// skipRest skips the value of a reference and the reference's end.
func (w *walker) skipRest() error {
	if err := w.dec.SkipValue(); err != nil {
		return err
	}
	return w.expect('}')
}

// refuseTop refuses a statement of the type name ("" for none) as the
// statement of the query.
func (c *Checker) refuseTop(name string) error {
	if c.dialect == SQLite {
		return refuse("the statement is %s; only SELECT, VALUES and EXPLAIN are read-only", describeStmt(name))
	}
	return refuse("the statement is %s; only SELECT, VALUES, EXPLAIN and SHOW are read-only", describeStmt(name))
}

// explain reads an ExplainStmt and decides on it: every option must be
// one that does not execute the statement, and the statement a SELECT.
func (w *walker) explain() (verdict error, err error) {
	if err := w.expect('{'); err != nil {
		return nil, err
	}
	var query string
	var queryVerdict, optionVerdict error
	for {
		tok, err := w.dec.ReadToken()
		if err != nil {
			return nil, err
		}
		if tok.Kind() == '}' {
			break
		}
		switch {
		case tok.String() == "query" && w.dec.PeekKind() == '{':
			query, queryVerdict, err = w.explainQuery()
		case tok.String() == "options" && w.dec.PeekKind() == '[':
			optionVerdict, err = w.explainOptions()
		default:
			err = w.dec.SkipValue()
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case w.c.dialect != Postgres:
		return w.c.refuseTop("ExplainStmt"), nil
	case optionVerdict != nil:
		return optionVerdict, nil
	case query != "SelectStmt":
		return refuse("EXPLAIN of %s; only the EXPLAIN of a SELECT or VALUES is allowed", describeStmt(query)), nil
	}
	return queryVerdict, nil
}

// explainQuery reads the reference to the statement that EXPLAIN
// explains, returns its type, and, for a SELECT, decides on it.
func (w *walker) explainQuery() (name string, verdict error, err error) {
	name, err = w.refName()
	if err != nil || name == "" {
		return "", nil, err
	}
	if name != "SelectStmt" {
		return name, nil, w.skipRest()
	}
	// The reference is at depth 0, as the statement is in a SELECT
	// that is not explained.
	if verdict, err = w.walkValue(1, kindSelect); err != nil {
		return "", nil, err
	}
	return name, verdict, w.expect('}')
}

// explainOptions reads EXPLAIN's options, a list of DefElem references,
// and refuses the first that is not known to be free of side effects.
func (w *walker) explainOptions() (verdict error, err error) {
	if err := w.expect('['); err != nil {
		return nil, err
	}
	for w.dec.PeekKind() != ']' {
		name, err := w.defName()
		if err != nil {
			return nil, err
		}
		name = strings.ToLower(name)
		switch {
		case verdict != nil:
		case name == "analyze":
			verdict = refuse("EXPLAIN ANALYZE executes the statement it explains; use EXPLAIN without ANALYZE")
		case !explainOptions[name]:
			verdict = refuse("EXPLAIN option %q is not known to be free of side effects", name)
		}
	}
	return verdict, w.expect(']')
}

// defName reads a reference to a DefElem and returns its defname, or ""
// for a node of another type.
func (w *walker) defName() (string, error) {
	if w.dec.PeekKind() != '{' {
		return "", w.dec.SkipValue()
	}
	ref, err := w.refName()
	if err != nil || ref == "" {
		return "", err
	}
	if ref != "DefElem" || w.dec.PeekKind() != '{' {
		return "", w.skipRest()
	}
	if err := w.expect('{'); err != nil {
		return "", err
	}
	var name string
	for {
		tok, err := w.dec.ReadToken()
		if err != nil {
			return "", err
		}
		if tok.Kind() == '}' {
			return name, w.expect('}')
		}
		if tok.String() == "defname" && w.dec.PeekKind() == '"' {
			v, err := w.dec.ReadToken()
			if err != nil {
				return "", err
			}
			name = v.String()
		} else if err := w.dec.SkipValue(); err != nil {
			return "", err
		}
	}
}

// expect reads a token that must be of kind k.
func (w *walker) expect(k jsontext.Kind) error {
	tok, err := w.dec.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != k {
		return fmt.Errorf("%v where %v was expected at byte %d", tok.Kind(), k, w.dec.InputOffset())
	}
	return nil
}

var errUnbalanced = errors.New("unbalanced JSON")

// walkValue reads one value whose objects start at depth, an object of
// kind, and decides on every node in it. The walk does not recurse: the
// tree can be as deep as maxTreeDepth.
func (w *walker) walkValue(depth int, kind nodeKind) (verdict error, err error) {
	w.stack = w.stack[:0]
	w.next = 0
	w.refusal = nil
	for {
		tok, err := w.dec.ReadToken()
		if err != nil {
			return nil, err
		}
		switch tok.Kind() {
		case '{':
			w.startValue()
			f := frame{index: w.next, depth: depth, kind: kind, wantKey: true}
			if top := w.top(); top != nil {
				f.depth = top.depth + 1
				f.kind = kindOther
				if !top.array && top.ref {
					f.kind = top.refs
					f.stmt = top.stmt
					f.keepSval = top.inName
				}
			}
			w.next++
			if f.depth > maxTreeDepth {
				w.deep = true
				w.refuse(f.index, tooDeep())
			}
			w.stack = append(w.stack, f)
		case '[':
			w.startValue()
			top := w.top()
			f := frame{array: true, depth: depth - 1}
			if top != nil {
				f.depth = top.depth
				f.collect = top.key == keyFuncname && top.kind == kindFuncCall ||
					top.key == keyFields && top.kind == kindColumnRef ||
					top.key == keyIndirection && top.kind == kindIndirection
			}
			w.stack = append(w.stack, f)
		case '}', ']':
			if len(w.stack) == 0 {
				return nil, errUnbalanced
			}
			f := w.stack[len(w.stack)-1]
			w.stack = w.stack[:len(w.stack)-1]
			if f.array {
				w.endArray(&f)
			} else {
				w.endObject(&f)
			}
			w.endValue()
		case '"':
			if top := w.top(); top != nil && !top.array && top.wantKey {
				w.key(top, tok)
				continue
			}
			w.startValue()
			if top := w.top(); top != nil && top.key == keySval && top.keepSval {
				top.sval = tok.String()
			}
			w.endValue()
		default:
			w.startValue()
			w.endValue()
		}
		if len(w.stack) == 0 {
			return w.refusal, nil
		}
	}
}

// top returns the innermost frame, or nil outside every one.
func (w *walker) top() *frame {
	if len(w.stack) == 0 {
		return nil
	}
	return &w.stack[len(w.stack)-1]
}

// startValue notes that a value starts in the innermost frame.
func (w *walker) startValue() {
	top := w.top()
	if top == nil || !top.array {
		return
	}
	top.elems++
	if top.collect {
		top.names = append(top.names, namePart{})
	}
}

// endValue notes that a value ended in the innermost frame.
func (w *walker) endValue() {
	if top := w.top(); top != nil && !top.array {
		top.wantKey = true
	}
}

// key reads the name of an object's next field; the first of a
// reference is a node type.
func (w *walker) key(f *frame, tok jsontext.Token) {
	f.wantKey = false
	f.keys++
	f.key = keyOther
	name := tok.String()
	if f.keys == 1 && name != "" && 'A' <= name[0] && name[0] <= 'Z' {
		f.ref = true
		f.refs = kindOf(name)
		f.part.isString = f.refs == kindString
		if parent := w.parent(); parent != nil && parent.array && parent.collect {
			f.inName = true
		}
		if f.refs == kindStmt {
			f.stmt = strings.Clone(name)
		}
		return
	}
	switch name {
	case "intoClause":
		f.into = true
	case "lockingClause":
		f.key = keyLocking
	case "funcname":
		f.key = keyFuncname
	case "fields":
		f.key = keyFields
	case "indirection":
		f.key = keyIndirection
	case "sval":
		f.key = keySval
	}
}

// parent returns the frame around the innermost one, or nil.
func (w *walker) parent() *frame {
	if len(w.stack) < 2 {
		return nil
	}
	return &w.stack[len(w.stack)-2]
}

// endArray hands what an array held to the object it is a field of.
func (w *walker) endArray(a *frame) {
	top := w.top()
	if top == nil || top.array {
		return
	}
	switch {
	case top.key == keyLocking && a.elems > 0:
		top.locking = true
	case a.collect:
		top.names = a.names
	}
}

// endObject decides on an object once all of it has been read, and
// hands what it is to the frame around it: a node's text to the
// reference that holds it, a reference to the name list it is in.
func (w *walker) endObject(f *frame) {
	if !f.ref {
		if err := w.visit(f); err != nil {
			w.refuse(f.index, err)
		}
	}
	top := w.top()
	switch {
	case top == nil:
	case !top.array && top.ref:
		top.part.sval = f.sval
	case top.array && top.collect && f.ref:
		top.names[len(top.names)-1] = f.part
	}
}

// refuse keeps err when the object it is about comes first in a
// depth-first walk among those refused so far.
func (w *walker) refuse(index int, err error) {
	if w.refusal == nil || index < w.refusalIndex {
		w.refusal, w.refusalIndex = err, index
	}
}

// visit decides on one node of the tree.
func (w *walker) visit(f *frame) error {
	c := w.c
	// Only a SelectStmt has these fields.
	if f.into {
		return refuse("SELECT INTO creates a table")
	}
	if f.locking {
		return refuse("a FOR UPDATE or FOR SHARE clause locks rows")
	}
	switch f.kind {
	case kindFuncCall:
		name, ok := nameOf(f.names)
		if !ok {
			return refuse("a function call has a name the checker cannot read")
		}
		if entry := c.deny.match(name); entry != "" {
			return refuse("it calls the function %s, which is denied (%s)", qualified(f.names), entry)
		}
	case kindColumnRef:
		// In PostgreSQL, t.f and (expr).f also call the function f with
		// t or expr as its argument when there is no such column.
		if c.dialect == Postgres && len(f.names) >= 2 {
			if name, ok := nameOf(f.names); ok {
				if entry := c.deny.match(name); entry != "" {
					return refuse("%s may call the function %s, which is denied (%s)", qualified(f.names), name, entry)
				}
			}
		}
	case kindIndirection:
		if c.dialect == Postgres {
			for _, p := range f.names {
				if !p.isString {
					continue
				}
				if entry := c.deny.match(p.sval); entry != "" {
					return refuse("(...).%s may call the function %s, which is denied (%s)", p.sval, p.sval, entry)
				}
			}
		}
	case kindStmt:
		return refuse("it has %s nested in it", stmtWords(f.stmt))
	}
	return nil
}

// nameOf returns the last part of a dotted name, the part PostgreSQL and
// SQLite look up as the function's own name.
func nameOf(parts []namePart) (string, bool) {
	if len(parts) == 0 || !parts[len(parts)-1].isString {
		return "", false
	}
	return parts[len(parts)-1].sval, true
}

func qualified(parts []namePart) string {
	names := make([]string, 0, len(parts))
	for _, p := range parts {
		if p.isString {
			names = append(names, p.sval)
		} else {
			names = append(names, "*")
		}
	}
	return strings.Join(names, ".")
}

// describeStmt names the kind of statement of the type name ("" for no
// statement), in SQL words where they are short.
func describeStmt(name string) string {
	if name == "" {
		return "an empty statement"
	}
	return stmtWords(name)
}

var stmtSQL = map[string]string{
	"InsertStmt": "an INSERT", "UpdateStmt": "an UPDATE", "DeleteStmt": "a DELETE",
	"MergeStmt": "a MERGE", "CreateTableAsStmt": "a CREATE TABLE AS",
	"CopyStmt": "a COPY", "CallStmt": "a CALL", "DoStmt": "a DO block",
	"VariableSetStmt": "a SET", "TransactionStmt": "a transaction command",
	"LockStmt": "a LOCK", "ListenStmt": "a LISTEN", "NotifyStmt": "a NOTIFY",
	"UnlistenStmt": "an UNLISTEN", "PrepareStmt": "a PREPARE",
	"ExecuteStmt": "an EXECUTE", "DeallocateStmt": "a DEALLOCATE",
	"DeclareCursorStmt": "a DECLARE CURSOR", "FetchStmt": "a FETCH",
	"VacuumStmt": "a VACUUM or ANALYZE", "CreateStmt": "a CREATE TABLE",
	"DropStmt": "a DROP", "TruncateStmt": "a TRUNCATE",
	"AlterTableStmt": "an ALTER TABLE", "GrantStmt": "a GRANT or REVOKE",
	"ExplainStmt": "an EXPLAIN", "VariableShowStmt": "a SHOW",
	"SelectStmt": "a SELECT",
}

func stmtWords(name string) string {
	if w, ok := stmtSQL[name]; ok {
		return w + " statement"
	}
	return "a statement of type " + name
}
