package sqlguard

import (
	"strings"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// pbChecker is the implementation that Check had before it read the tree
// as JSON: it decides on the Go protobuf types of pg_query_go's root
// package. It stays here, as test code only, as the oracle that
// FuzzCheckAgrees holds Check to; only the reading of the scanner's
// tokens and of the parse tree is its own, the deny lists, the SQLite
// rules and the messages are Check's.
type pbChecker struct{ c *Checker }

func (o pbChecker) check(sql string) error {
	c := o.c
	if len(sql) > MaxQueryBytes {
		return refuse("the query is %d bytes long, more than the limit of %d", len(sql), MaxQueryBytes)
	}
	if !utf8.ValidString(sql) {
		return refuse("the query is not valid UTF-8")
	}
	if strings.IndexByte(sql, 0) >= 0 {
		return refuse("the query contains a NUL byte")
	}
	text := sql
	if c.dialect == SQLite {
		body, err := sqliteBody(sql)
		if err != nil {
			return err
		}
		text = body
	}
	if err := o.scan(text); err != nil {
		return err
	}
	tree, err := pg.Parse(text)
	if err != nil {
		return c.parseError(err)
	}
	switch len(tree.Stmts) {
	case 0:
		return refuse("the query holds no statement")
	case 1:
	default:
		return refuse("the query holds %d statements; only one is allowed", len(tree.Stmts))
	}
	return o.checkTop(tree.Stmts[0].GetStmt())
}

func (o pbChecker) scan(text string) error {
	res, err := pg.Scan(text)
	if err != nil {
		return o.c.parseError(err)
	}
	toks := res.GetTokens()
	if len(toks) > MaxTokens {
		return refuse("the query has %d tokens, more than the limit of %d", len(toks), MaxTokens)
	}
	if err := pbCheckNesting(toks); err != nil {
		return err
	}
	if o.c.dialect == Postgres {
		return pbCheckBackslashes(text, toks)
	}
	return nil
}

func pbCheckNesting(toks []*pg.ScanToken) error {
	type group struct{ parent, own int }
	groups := []group{{parent: -1}}
	stack := []int{0}
	for _, t := range toks {
		switch t.GetToken() {
		case pg.Token_ASCII_40, pg.Token_ASCII_91, pg.Token_CASE:
			groups = append(groups, group{parent: stack[len(stack)-1]})
			stack = append(stack, len(groups)-1)
		case pg.Token_ASCII_41, pg.Token_ASCII_93, pg.Token_END_P:
			if len(stack) == 1 {
				return refuse("the query has an unbalanced %q", pbTokenName(t))
			}
			stack = stack[:len(stack)-1]
		default:
			if pbAddsDepth(t) {
				groups[stack[len(stack)-1]].own++
			}
		}
	}
	sums := make([]int, len(groups))
	for i, g := range groups {
		sums[i] = g.own + 1
		if g.parent >= 0 {
			sums[i] += sums[g.parent]
		}
		if sums[i] > MaxNesting {
			return tooDeep()
		}
	}
	return nil
}

func pbTokenName(t *pg.ScanToken) string {
	switch t.GetToken() {
	case pg.Token_ASCII_41:
		return ")"
	case pg.Token_ASCII_93:
		return "]"
	}
	return "END"
}

func pbAddsDepth(t *pg.ScanToken) bool {
	switch t.GetToken() {
	case pg.Token_IDENT, pg.Token_UIDENT,
		pg.Token_ICONST, pg.Token_FCONST, pg.Token_SCONST, pg.Token_USCONST,
		pg.Token_BCONST, pg.Token_XCONST, pg.Token_PARAM,
		pg.Token_ASCII_44, pg.Token_ASCII_46, pg.Token_ASCII_59,
		pg.Token_SQL_COMMENT, pg.Token_C_COMMENT,
		pg.Token_AS, pg.Token_AND, pg.Token_OR, pg.Token_ON,
		pg.Token_ASC, pg.Token_DESC, pg.Token_NULLS_P, pg.Token_FIRST_P,
		pg.Token_LAST_P, pg.Token_DISTINCT:
		return false
	}
	return true
}

func pbCheckBackslashes(text string, toks []*pg.ScanToken) error {
	for _, t := range toks {
		if t.GetToken() != pg.Token_SCONST {
			continue
		}
		start, end := int(t.GetStart()), int(t.GetEnd())
		if start < 0 || end > len(text) || start >= end {
			return refuse("the scanner returned a token outside the query")
		}
		lit := text[start:end]
		switch lit[0] {
		case '\'', 'n', 'N':
			if strings.IndexByte(lit, '\\') >= 0 {
				return refuse("a backslash in the string literal at byte %d would be read differently when standard_conforming_strings is off; write it as E'...' with the backslash doubled", start)
			}
		}
	}
	return nil
}

func (o pbChecker) checkTop(n *pg.Node) error {
	c := o.c
	switch s := n.GetNode().(type) {
	case *pg.Node_SelectStmt:
		return o.walk(s.SelectStmt.ProtoReflect(), 0)
	case *pg.Node_ExplainStmt:
		if c.dialect != Postgres {
			break
		}
		for _, opt := range s.ExplainStmt.GetOptions() {
			name := strings.ToLower(opt.GetDefElem().GetDefname())
			if name == "analyze" {
				return refuse("EXPLAIN ANALYZE executes the statement it explains; use EXPLAIN without ANALYZE")
			}
			if !explainOptions[name] {
				return refuse("EXPLAIN option %q is not known to be free of side effects", name)
			}
		}
		q := s.ExplainStmt.GetQuery()
		if q.GetSelectStmt() == nil {
			return refuse("EXPLAIN of %s; only the EXPLAIN of a SELECT or VALUES is allowed", pbDescribeStmt(q))
		}
		return o.walk(q.ProtoReflect(), 0)
	case *pg.Node_VariableShowStmt:
		if c.dialect == Postgres {
			return nil
		}
	}
	if c.dialect == SQLite {
		return refuse("the statement is %s; only SELECT, VALUES and EXPLAIN are read-only", pbDescribeStmt(n))
	}
	return refuse("the statement is %s; only SELECT, VALUES, EXPLAIN and SHOW are read-only", pbDescribeStmt(n))
}

func (o pbChecker) walk(m protoreflect.Message, depth int) error {
	if depth > maxTreeDepth {
		return tooDeep()
	}
	if err := o.visit(m.Interface()); err != nil {
		return err
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = o.walk(l.Get(i).Message(), depth+1)
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				if fd.MapValue().Kind() == protoreflect.MessageKind {
					err = o.walk(mv.Message(), depth+1)
				}
				return err == nil
			})
		default:
			err = o.walk(v.Message(), depth+1)
		}
		return err == nil
	})
	return err
}

func (o pbChecker) visit(m proto.Message) error {
	c := o.c
	switch x := m.(type) {
	case *pg.SelectStmt:
		if x.GetIntoClause() != nil {
			return refuse("SELECT INTO creates a table")
		}
		if len(x.GetLockingClause()) > 0 {
			return refuse("a FOR UPDATE or FOR SHARE clause locks rows")
		}
		return nil
	case *pg.FuncCall:
		name, ok := pbNameOf(x.GetFuncname())
		if !ok {
			return refuse("a function call has a name the checker cannot read")
		}
		if entry := c.deny.match(name); entry != "" {
			return refuse("it calls the function %s, which is denied (%s)", pbQualified(x.GetFuncname()), entry)
		}
		return nil
	case *pg.ColumnRef:
		if c.dialect == Postgres && len(x.GetFields()) >= 2 {
			if name, ok := pbNameOf(x.GetFields()); ok {
				if entry := c.deny.match(name); entry != "" {
					return refuse("%s may call the function %s, which is denied (%s)", pbQualified(x.GetFields()), name, entry)
				}
			}
		}
		return nil
	case *pg.A_Indirection:
		if c.dialect == Postgres {
			for _, n := range x.GetIndirection() {
				if s := n.GetString_(); s != nil {
					if entry := c.deny.match(s.GetSval()); entry != "" {
						return refuse("(...).%s may call the function %s, which is denied (%s)", s.GetSval(), s.GetSval(), entry)
					}
				}
			}
		}
		return nil
	}
	name := string(m.ProtoReflect().Descriptor().Name())
	if strings.HasSuffix(name, "Stmt") {
		return refuse("it has %s nested in it", stmtWords(name))
	}
	return nil
}

func pbNameOf(parts []*pg.Node) (string, bool) {
	if len(parts) == 0 {
		return "", false
	}
	s := parts[len(parts)-1].GetString_()
	if s == nil {
		return "", false
	}
	return s.GetSval(), true
}

func pbQualified(parts []*pg.Node) string {
	names := make([]string, 0, len(parts))
	for _, p := range parts {
		if s := p.GetString_(); s != nil {
			names = append(names, s.GetSval())
		} else {
			names = append(names, "*")
		}
	}
	return strings.Join(names, ".")
}

func pbDescribeStmt(n *pg.Node) string {
	if n == nil {
		return "an empty statement"
	}
	r := n.ProtoReflect()
	oneofs := r.Descriptor().Oneofs()
	if oneofs.Len() == 0 {
		return "an empty statement"
	}
	fd := r.WhichOneof(oneofs.Get(0))
	if fd == nil || fd.Message() == nil {
		return "an empty statement"
	}
	return stmtWords(string(fd.Message().Name()))
}
