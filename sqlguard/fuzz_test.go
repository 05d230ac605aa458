package sqlguard

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// FuzzCheck checks, for both dialects, that Check never panics, that
// every refusal wraps ErrRefused, and that whatever it accepts holds up
// against checks that do not share its code: the JSON form of the parse
// tree has exactly one statement of an allowed kind and none of the nodes
// or function names that make a statement write; and for SQLite, that
// PostgreSQL's scanner and SQLite's rules see the same string literals
// and quoted identifiers, so that no text is code to one and data to the
// other.
func FuzzCheck(f *testing.F) {
	for _, list := range [][]tcase{commonAllowed, commonRefused, postgresAllowed, postgresRefused, sqliteAllowed, sqliteRefused} {
		for _, tc := range list {
			if len(tc.query) < 4096 {
				f.Add(tc.query)
			}
		}
	}
	f.Add(realisticQuery)
	checkers := map[Dialect]*Checker{}
	for _, d := range []Dialect{Postgres, SQLite} {
		checkers[d] = mustNew(f, Rule{Dialect: d})
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, d := range []Dialect{Postgres, SQLite} {
			err := checkers[d].Check(q)
			if err != nil {
				if !errors.Is(err, ErrRefused) {
					t.Fatalf("%v: Check(%q) = %v, which does not wrap ErrRefused", d, q, err)
				}
				continue
			}
			if len(q) > MaxQueryBytes || !utf8.ValidString(q) || strings.IndexByte(q, 0) >= 0 {
				t.Fatalf("%v: accepted an oversized, non-UTF-8 or NUL-holding query %q", d, q)
			}
			text := q
			if d == SQLite {
				body, err := sqliteBody(q)
				if err != nil {
					t.Fatalf("sqlite: accepted %q, but its body is refused: %v", q, err)
				}
				text = body
				sameQuotedTokens(t, q)
			}
			oracle(t, checkers[d], d, q, text)
		}
	})
}

// oracle re-parses an accepted query to JSON and checks it there.
func oracle(t *testing.T, c *Checker, d Dialect, q, text string) {
	t.Helper()
	js, err := pg.ParseToJSON(text)
	if err != nil {
		t.Fatalf("%v: accepted %q, which does not re-parse: %v", d, q, err)
	}
	var tree struct {
		Stmts []struct {
			Stmt map[string]any `json:"stmt"`
		} `json:"stmts"`
	}
	if err := json.Unmarshal([]byte(js), &tree); err != nil {
		t.Fatalf("%v: parse tree JSON: %v", d, err)
	}
	if len(tree.Stmts) != 1 || len(tree.Stmts[0].Stmt) != 1 {
		t.Fatalf("%v: accepted %q, which parses to %d statements", d, q, len(tree.Stmts))
	}
	allowed := []string{"SelectStmt"}
	if d == Postgres {
		allowed = append(allowed, "ExplainStmt", "VariableShowStmt")
	}
	for kind, body := range tree.Stmts[0].Stmt {
		if !slices.Contains(allowed, kind) {
			t.Fatalf("%v: accepted %q, which is a %s", d, q, kind)
		}
		if kind == "ExplainStmt" {
			if strings.Contains(strings.ToLower(js), `"defname":"analyze"`) {
				t.Fatalf("%v: accepted EXPLAIN ANALYZE in %q", d, q)
			}
		}
		jsonWalk(t, c, d, q, body)
	}
}

// jsonWalk looks at every object under a statement for a write.
func jsonWalk(t *testing.T, c *Checker, d Dialect, q string, v any) {
	t.Helper()
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			jsonWalk(t, c, d, q, e)
		}
	case map[string]any:
		for k, e := range x {
			switch {
			case k == "intoClause" || k == "lockingClause":
				t.Fatalf("%v: accepted %q with a %s", d, q, k)
			case strings.HasSuffix(k, "Stmt") && k != "SelectStmt":
				t.Fatalf("%v: accepted %q with a nested %s", d, q, k)
			case k == "FuncCall":
				if name, ok := lastSval(e, "funcname"); ok && c.deny.match(name) != "" {
					t.Fatalf("%v: accepted %q, which calls %s", d, q, name)
				}
			case d == Postgres && k == "ColumnRef":
				// t.f calls f(t) in PostgreSQL.
				if name, ok := lastSval(e, "fields"); ok && len(jsonList(e, "fields")) >= 2 && c.deny.match(name) != "" {
					t.Fatalf("%v: accepted %q, which may call %s", d, q, name)
				}
			case d == Postgres && k == "A_Indirection":
				for _, n := range jsonList(e, "indirection") {
					if name, ok := sval(n); ok && c.deny.match(name) != "" {
						t.Fatalf("%v: accepted %q, which may call %s", d, q, name)
					}
				}
			}
			jsonWalk(t, c, d, q, e)
		}
	}
}

// jsonList returns the list under key in the object v.
func jsonList(v any, key string) []any {
	m, _ := v.(map[string]any)
	l, _ := m[key].([]any)
	return l
}

// lastSval returns the sval of the last node of the list under key, when
// that node is a String.
func lastSval(v any, key string) (string, bool) {
	l := jsonList(v, key)
	if len(l) == 0 {
		return "", false
	}
	return sval(l[len(l)-1])
}

// sval returns the sval of a String node.
func sval(n any) (string, bool) {
	m, _ := n.(map[string]any)
	s, _ := m["String"].(map[string]any)
	name, ok := s["sval"].(string)
	return name, ok
}

// sameQuotedTokens checks that SQLite's rules and PostgreSQL's scanner
// find the same quoted strings and identifiers in text, a query that
// sqliteLex accepts.
func sameQuotedTokens(t *testing.T, text string) {
	t.Helper()
	toks, err := sqliteLex(text)
	if err != nil {
		t.Fatalf("sqlite query %q does not lex: %v", text, err)
	}
	var mine [][2]int
	for _, tk := range toks {
		if tk.kind == sqlString || tk.kind == sqlQuoted {
			mine = append(mine, [2]int{tk.start, tk.end})
		}
	}
	res, err := pg.Scan(text)
	if err != nil {
		t.Fatalf("sqlite query %q does not scan: %v", text, err)
	}
	var theirs [][2]int
	for _, tk := range res.GetTokens() {
		start, end := int(tk.GetStart()), int(tk.GetEnd())
		switch tk.GetToken() {
		case pg.Token_SCONST, pg.Token_USCONST, pg.Token_BCONST, pg.Token_XCONST:
		case pg.Token_IDENT, pg.Token_UIDENT:
			if text[start] != '"' {
				continue
			}
		default:
			continue
		}
		theirs = append(theirs, [2]int{start, end})
	}
	if !slices.Equal(mine, theirs) {
		t.Fatalf("sqlite query %q: SQLite's rules find quoted tokens %v, PostgreSQL's scanner %v", text, mine, theirs)
	}
}

func TestSameQuotedTokens(t *testing.T) {
	for _, q := range []string{
		`SELECT 'a''b', "c""d", X'00', 'x' -- 'y'` + "\n" + `FROM t`,
		`SELECT '\', "\" FROM t`,
	} {
		sameQuotedTokens(t, q)
	}
}
