package sqlguard

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// explainOptions are the EXPLAIN options that do not make it execute the
// statement. ANALYZE is missing on purpose: EXPLAIN ANALYZE runs it.
var explainOptions = map[string]bool{
	"verbose": true, "costs": true, "settings": true, "generic_plan": true,
	"buffers": true, "wal": true, "timing": true, "summary": true,
	"memory": true, "format": true, "serialize": true,
}

// checkTop decides on the one statement of the query.
func (c *Checker) checkTop(n *pg.Node) error {
	switch s := n.GetNode().(type) {
	case *pg.Node_SelectStmt:
		return c.walk(s.SelectStmt.ProtoReflect(), 0)
	case *pg.Node_ExplainStmt:
		if c.dialect != Postgres {
			break
		}
		for _, o := range s.ExplainStmt.GetOptions() {
			name := strings.ToLower(o.GetDefElem().GetDefname())
			if name == "analyze" {
				return refuse("EXPLAIN ANALYZE executes the statement it explains; use EXPLAIN without ANALYZE")
			}
			if !explainOptions[name] {
				return refuse("EXPLAIN option %q is not known to be free of side effects", name)
			}
		}
		q := s.ExplainStmt.GetQuery()
		if q.GetSelectStmt() == nil {
			return refuse("EXPLAIN of %s; only the EXPLAIN of a SELECT or VALUES is allowed", describeStmt(q))
		}
		return c.walk(q.ProtoReflect(), 0)
	case *pg.Node_VariableShowStmt:
		if c.dialect == Postgres {
			return nil
		}
	}
	if c.dialect == SQLite {
		return refuse("the statement is %s; only SELECT, VALUES and EXPLAIN are read-only", describeStmt(n))
	}
	return refuse("the statement is %s; only SELECT, VALUES, EXPLAIN and SHOW are read-only", describeStmt(n))
}

// walk visits every message in the tree under m, whatever its type, so
// that no kind of node (a subquery, a CTE, a lateral function, a window
// clause, a function argument) is left out because it was not foreseen.
func (c *Checker) walk(m protoreflect.Message, depth int) error {
	if depth > maxTreeDepth {
		return tooDeep()
	}
	if err := c.visit(m.Interface()); err != nil {
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
				err = c.walk(l.Get(i).Message(), depth+1)
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				if fd.MapValue().Kind() == protoreflect.MessageKind {
					err = c.walk(mv.Message(), depth+1)
				}
				return err == nil
			})
		default:
			err = c.walk(v.Message(), depth+1)
		}
		return err == nil
	})
	return err
}

// visit decides on one node of the tree.
func (c *Checker) visit(m proto.Message) error {
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
		name, ok := nameOf(x.GetFuncname())
		if !ok {
			return refuse("a function call has a name the checker cannot read")
		}
		if entry := c.deny.match(name); entry != "" {
			return refuse("it calls the function %s, which is denied (%s)", qualified(x.GetFuncname()), entry)
		}
		return nil
	case *pg.ColumnRef:
		// In PostgreSQL, t.f and (expr).f also call the function f with
		// t or expr as its argument when there is no such column.
		if c.dialect == Postgres && len(x.GetFields()) >= 2 {
			if name, ok := nameOf(x.GetFields()); ok {
				if entry := c.deny.match(name); entry != "" {
					return refuse("%s may call the function %s, which is denied (%s)", qualified(x.GetFields()), name, entry)
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

// nameOf returns the last part of a dotted name, the part PostgreSQL and
// SQLite look up as the function's own name.
func nameOf(parts []*pg.Node) (string, bool) {
	if len(parts) == 0 {
		return "", false
	}
	s := parts[len(parts)-1].GetString_()
	if s == nil {
		return "", false
	}
	return s.GetSval(), true
}

func qualified(parts []*pg.Node) string {
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

// describeStmt names the kind of statement n is, in SQL words where they
// are short.
func describeStmt(n *pg.Node) string {
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
