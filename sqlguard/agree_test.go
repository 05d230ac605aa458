package sqlguard

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// agreeCheckers are the rules FuzzCheckAgrees runs every query under.
func agreeCheckers(t testing.TB) []*Checker {
	return []*Checker{
		mustNew(t, Rule{Dialect: Postgres}),
		mustNew(t, Rule{Dialect: SQLite}),
		mustNew(t, Rule{Dialect: Postgres, DenyFunctions: []string{"Audit_Write", "billing_*", "count"}}),
		mustNew(t, Rule{Dialect: SQLite, DenyFunctions: []string{"my_exec", "count"}}),
	}
}

// verdict is what the two implementations must agree on: "allowed", or
// the refusal's message. A query the parser cannot parse is refused for
// the same reason by both, but the message ends differently when it is
// the reading of the tree (as protobuf, as JSON) that failed, so only
// its start is compared.
func verdict(err error) string {
	if err == nil {
		return "allowed"
	}
	s := err.Error()
	if i := strings.Index(s, "cannot parse it"); i >= 0 {
		return s[:i+len("cannot parse it")]
	}
	return s
}

// FuzzCheckAgrees holds Check, which reads the parser's tokens as
// protobuf by hand and its tree as JSON, to the oracle that decides on
// pg_query_go's generated protobuf types: for every query, under every
// rule, both allow it, or both refuse it with the same message.
func FuzzCheckAgrees(f *testing.F) {
	for _, q := range agreeSeeds(f) {
		f.Add(q)
	}
	checkers := agreeCheckers(f)
	f.Fuzz(func(t *testing.T, q string) {
		for _, c := range checkers {
			got, want := c.Check(q), (pbChecker{c}).check(q)
			if verdict(got) != verdict(want) {
				t.Fatalf("%v: Check(%q)\n  = %v\noracle: %v", c.dialect, short(q), got, want)
			}
		}
	})
}

// TestCheckAgrees runs the seeds of FuzzCheckAgrees, the large ones too,
// and shows that they hold both allowed and refused queries, so that the
// agreement is not that of two checkers that refuse everything.
func TestCheckAgrees(t *testing.T) {
	seeds := agreeSeeds(t)
	if len(seeds) < 300 {
		t.Fatalf("only %d seeds", len(seeds))
	}
	allowed, refused := 0, 0
	for _, c := range agreeCheckers(t) {
		for _, q := range seeds {
			got, want := c.Check(q), (pbChecker{c}).check(q)
			if verdict(got) != verdict(want) {
				t.Errorf("%v: Check(%q)\n  = %v\noracle: %v", c.dialect, short(q), got, want)
			}
			if got == nil {
				allowed++
			} else {
				refused++
			}
		}
	}
	if allowed < 100 || refused < 300 {
		t.Errorf("the seeds gave %d allowed and %d refused verdicts", allowed, refused)
	}
}

// agreeSeeds returns every query of the package's tests and of the
// FuzzCheck corpus, and attacks on the reading of the tokens and the tree.
func agreeSeeds(t testing.TB) []string {
	var seeds []string
	for _, list := range [][]tcase{commonAllowed, commonRefused, postgresAllowed, postgresRefused, sqliteAllowed, sqliteRefused} {
		for _, tc := range list {
			seeds = append(seeds, tc.query)
		}
	}
	seeds = append(seeds, realisticQuery, strings.ReplaceAll(realisticQuery, "now() - interval '30 days'", "datetime('now', '-30 days')"))
	// The queries of TestDenyFunctions, TestSameQuotedTokens and the
	// example.
	seeds = append(seeds,
		"SELECT AUDIT_WRITE('x')", "SELECT app.audit_write('x')", "SELECT * FROM billing_charge(1)",
		"SELECT pg_sleep(1)", "SELECT audit_read('x'), billing FROM t", "SELECT my_exec('rm')",
		"SELECT load_extension('x')", "SELECT nextval FROM t",
		`SELECT 'a''b', "c""d", X'00', 'x' -- 'y'`+"\n"+`FROM t`, `SELECT '\', "\" FROM t`,
		"SELECT name FROM users WHERE id = 7", "SELECT 1; DROP TABLE users",
		"WITH gone AS (DELETE FROM users RETURNING *) SELECT count(*) FROM gone",
		"SELECT pg_catalog.pg_read_file('/etc/passwd')")
	seeds = append(seeds, corpus(t, "testdata/fuzz/FuzzCheck")...)
	return append(seeds, agreeAttacks()...)
}

// corpus reads the string inputs of a fuzz corpus directory.
func corpus(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			lit, ok := strings.CutPrefix(line, "string(")
			if !ok {
				continue
			}
			s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no inputs in %s", dir)
	}
	return out
}

// agreeAttacks are queries that try the parts of a parse tree the
// checker looks at, the places where two readings of it could differ,
// and the bounds.
func agreeAttacks() []string {
	nest := func(open, mid, close string, n int) string {
		return strings.Repeat(open, n) + mid + strings.Repeat(close, n)
	}
	return []string{
		// Writable CTEs, at every place a CTE can be.
		"WITH a AS (SELECT 1), b AS (DELETE FROM t RETURNING *) SELECT * FROM a, b",
		"WITH a AS (WITH b AS (UPDATE t SET x = 1 RETURNING x) SELECT * FROM b) SELECT * FROM a",
		"WITH a AS MATERIALIZED (INSERT INTO t DEFAULT VALUES RETURNING *) SELECT 1",
		"WITH a AS (MERGE INTO t USING u ON true WHEN MATCHED THEN DELETE RETURNING *) SELECT * FROM a",
		"SELECT (WITH d AS (DELETE FROM t RETURNING 1) SELECT 1 FROM d)",
		"SELECT * FROM t WHERE x = ANY (ARRAY(WITH d AS (DELETE FROM t RETURNING x) SELECT x FROM d))",
		"WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT 1 FROM r) SEARCH DEPTH FIRST BY x SET o SELECT * FROM r",
		"WITH r AS (SELECT 1) CYCLE x SET c USING p SELECT * FROM r",
		// SELECT INTO and locking, on both sides of set operations.
		"SELECT 1 INTO TEMP t",
		"SELECT * INTO UNLOGGED t FROM u UNION SELECT * FROM v",
		"(SELECT 1 FOR UPDATE) UNION SELECT 2",
		"SELECT 1 UNION (SELECT 2 FOR SHARE)",
		"SELECT 1 UNION ALL (SELECT 2 INTERSECT (SELECT 3 FOR KEY SHARE))",
		"SELECT * FROM t FOR UPDATE OF t NOWAIT",
		"SELECT pg_sleep(1) INTO x",
		"SELECT pg_sleep(1) FROM t FOR UPDATE",
		"SELECT 1 FROM t WHERE pg_sleep(1) IS NULL FOR SHARE",
		"SELECT (SELECT pg_sleep(1)) INTO x FROM (SELECT 1 FOR UPDATE) s",
		"VALUES (1) FOR UPDATE",
		"TABLE t FOR UPDATE",
		// Denied functions in every spelling and place.
		"SELECT pg_read_file('/etc/passwd', 0, 100, true)",
		"SELECT pg_catalog.pg_read_binary_file('/etc/shadow')",
		`SELECT "pg_catalog"."lo_import"('/etc/passwd')`,
		"SELECT lo_import('/etc/passwd', 1234)",
		"SELECT lo_export(1234, '/tmp/x')",
		"SELECT * FROM dblink('dbname=x', 'DELETE FROM t') AS r(a int)",
		"SELECT dblink_connect('x'), dblink_exec('x', 'DROP TABLE t')",
		"SELECT set_config('search_path', 'evil', false)",
		"SELECT current_setting('x'), set_config('x', 'y', true)",
		"SELECT * FROM t ORDER BY (SELECT set_config('a', 'b', false))",
		"SELECT x FROM t GROUP BY pg_sleep(1)",
		"SELECT x FROM t GROUP BY ROLLUP (a, pg_sleep(1))",
		"SELECT count(*) FROM t HAVING pg_sleep(1) IS NULL",
		"SELECT * FROM t LIMIT (SELECT nextval('s'))",
		"SELECT * FROM t OFFSET pg_sleep(1)::int",
		"SELECT * FROM t TABLESAMPLE bernoulli (pg_sleep(1)::int)",
		"SELECT * FROM XMLTABLE('/a' PASSING (SELECT query_to_xml('DELETE FROM t', true, true, '')) COLUMNS a int)",
		"SELECT * FROM JSON_TABLE(pg_read_file('/x')::jsonb, '$' COLUMNS (a int))",
		"SELECT JSON_OBJECT('a': pg_sleep(1))",
		"SELECT JSON_ARRAYAGG(pg_sleep(1))",
		"SELECT array_agg(x ORDER BY pg_sleep(1)) FROM t",
		"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY pg_sleep(1)) FROM t",
		"SELECT sum(x) OVER w FROM t WINDOW w AS (PARTITION BY pg_sleep(1))",
		"SELECT x FROM t WHERE x IN (SELECT pg_sleep(1))",
		"SELECT ROW(1, pg_sleep(1))",
		"SELECT ARRAY[1, pg_sleep(1)::int]",
		"SELECT (pg_sleep(1)).x",
		"SELECT (t).pg_sleep FROM t",
		"SELECT (t.*).pg_sleep FROM t",
		"SELECT (x)[1].pg_sleep FROM t",
		"SELECT (x)[pg_sleep(1)].y FROM t",
		"SELECT (x)[pg_sleep(1)].pg_sleep FROM t",
		"SELECT (x).y.lo_import FROM t",
		"SELECT t.* FROM t",
		"SELECT a.b.c.d.lo_import FROM t",
		"SELECT a.*.lo_import FROM t",
		"SELECT pg_sleep FROM t",
		"SELECT x.pg_sleep(1)",
		"SELECT a.b.c.pg_sleep(1)",
		"SELECT COALESCE(NULL, pg_sleep(1))",
		"SELECT GREATEST(1, nextval('s'))",
		"SELECT CAST(pg_sleep(1) AS text)",
		"SELECT pg_sleep(1) COLLATE \"C\"",
		"SELECT 1 WHERE pg_sleep(1) IS NOT DISTINCT FROM NULL",
		"SELECT 1 WHERE 1 BETWEEN pg_sleep(1)::int AND 2",
		"SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a = lo_import('/x'))",
		"SELECT * FROM ROWS FROM (pg_ls_dir('/')) WITH ORDINALITY",
		"SELECT * FROM LATERAL (SELECT pg_read_file('/x')) s",
		"SELECT * FROM t JOIN u ON pg_sleep(1) IS NULL",
		"SELECT * FROM t JOIN u USING (a) JOIN v ON v.x = pg_sleep(1)::text",
		"SELECT audit_write('x'), billing_charge(1)",
		"SELECT count(*), t.count FROM t",
		"SELECT COUNT(*) FILTER (WHERE true) FROM t",
		"SELECT U&\"\\0070g_sleep\"(1)",
		"SELECT \"pg_sleep\"\"\"(1)",
		"SELECT \"a<b>c\"(1), \"<pg_sleep>\"(1)",
		"SELECT \"pg_sleep\\\"(1)",
		"SELECT \"" + strings.Repeat("é", 40) + "\"(1)",
		"SELECT " + strings.Repeat("é", 40) + " FROM t",
		"SELECT pg_sleep" + strings.Repeat("x", 80) + "(1)",
		"SELECT \"" + strings.Repeat("x", 70) + "\".pg_sleep FROM t",
		"SELECT OPERATOR(pg_catalog.+)(1, 2)",
		"SELECT 1 OPERATOR(pg_sleep) 2",
		"SELECT pg_sleep(1) AS \"SelectStmt\"",
		"SELECT 1 AS \"intoClause\", 2 AS \"lockingClause\", 3 AS \"funcname\"",
		"SELECT '{\"intoClause\":{}}'::jsonb, '{\"DeleteStmt\":{}}'",
		"SELECT \"DeleteStmt\", \"InsertStmt\" FROM \"UpdateStmt\"",
		"SELECT * FROM \"FuncCall\" WHERE \"String\" = 'sval'",
		// Statements that write, and statements around them.
		"COPY t TO STDOUT",
		"COPY (SELECT pg_sleep(1)) TO STDOUT",
		"COPY t FROM PROGRAM 'id'",
		"DO $$BEGIN PERFORM pg_sleep(1); END$$",
		"DO LANGUAGE plpgsql 'BEGIN DELETE FROM t; END'",
		"EXPLAIN (ANALYZE, BUFFERS) SELECT 1",
		"EXPLAIN (FORMAT yaml, analyze) SELECT 1",
		"EXPLAIN (analyse) SELECT 1",
		"EXPLAIN ANALYSE SELECT 1",
		"EXPLAIN VERBOSE SELECT 1",
		"EXPLAIN (VERBOSE true, COSTS false, SETTINGS, GENERIC_PLAN, WAL, TIMING, SUMMARY, MEMORY, SERIALIZE text) SELECT 1",
		"EXPLAIN (\"analyze\") SELECT 1",
		"EXPLAIN (ANALYZE) DELETE FROM t",
		"EXPLAIN (FROB, ANALYZE) SELECT 1",
		"EXPLAIN (ANALYZE, FROB) SELECT 1",
		"EXPLAIN (COSTS) SELECT pg_sleep(1)",
		"EXPLAIN (FROB) DELETE FROM t",
		"EXPLAIN SELECT 1 INTO x",
		"EXPLAIN SELECT * FROM t FOR UPDATE",
		"EXPLAIN WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d",
		"EXPLAIN INSERT INTO t VALUES (1)",
		"EXPLAIN MERGE INTO t USING u ON true WHEN MATCHED THEN DELETE",
		"EXPLAIN DECLARE c CURSOR FOR SELECT 1",
		"EXPLAIN CREATE MATERIALIZED VIEW v AS SELECT 1",
		"EXPLAIN EXPLAIN SELECT 1",
		"EXPLAIN VALUES (1), (nextval('s'))",
		"EXPLAIN TABLE t",
		"SHOW ALL",
		"SHOW TRANSACTION ISOLATION LEVEL",
		"SHOW search_path; SELECT 1",
		"SET search_path = evil",
		"RESET search_path",
		"SELECT 1; SET ROLE postgres",
		"CREATE TABLE t AS SELECT pg_sleep(1)",
		"CREATE VIEW v AS SELECT 1",
		"CREATE RULE r AS ON SELECT TO t DO INSTEAD SELECT 1",
		"CREATE FOREIGN TABLE f (a int) SERVER s",
		"ALTER SYSTEM SET work_mem = '1GB'",
		"ALTER ROLE r SET search_path = x",
		"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO public",
		"ALTER EXTENSION e ADD FUNCTION f()",
		"CALL pg_sleep(1)",
		"CALL p(pg_sleep(1))",
		"PREPARE p AS SELECT 1",
		"EXECUTE p(pg_sleep(1))",
		"DEALLOCATE ALL",
		"DISCARD ALL",
		"REFRESH MATERIALIZED VIEW v",
		"FETCH ALL FROM c",
		"CLOSE c",
		"UNLISTEN *",
		"SECURITY LABEL ON TABLE t IS 'x'",
		"COMMENT ON TABLE t IS 'x'",
		"IMPORT FOREIGN SCHEMA s FROM SERVER x INTO y",
		"CREATE EXTENSION dblink",
		"LOAD 'plpgsql'",
		"REASSIGN OWNED BY a TO b",
		"ROLLBACK; DELETE FROM t",
		"SAVEPOINT s",
		"INSERT INTO t SELECT * FROM u FOR UPDATE",
		"UPDATE t SET a = (SELECT pg_sleep(1))",
		"DELETE FROM t WHERE a IN (SELECT 1 INTO x)",
		// More than one statement, and comments that hide or show one.
		"SELECT 1;;",
		"SELECT 1; ;",
		";;SELECT 1",
		"SELECT 1;SELECT 2;SELECT 3",
		"SELECT 1; -- DELETE FROM t",
		"SELECT 1 -- ; DELETE FROM t\n",
		"SELECT 1 --\r; DELETE FROM t",
		"SELECT 1 /* */; /**/ DELETE FROM t",
		"SELECT 1 /* /* */ */; DELETE FROM t",
		"SELECT 1 /* /* */ ; DELETE FROM t; */",
		"SELECT 1 /*/ ; DELETE FROM t; /*/ */",
		"SELECT 1 /**/ /* ; */ ; /* */",
		"/* SELECT 1; */ DELETE FROM t",
		"-- SELECT 1\nDELETE FROM t",
		"SELECT 1 -- \u2028; DELETE FROM t",
		"SELECT 1 \u00a0; DELETE FROM t",
		"SELECT 1\f; DELETE FROM t",
		// Strings: E'' with backslashes, continued literals, dollar quoting.
		`SELECT E'\''; DELETE FROM t; --'`,
		`SELECT E'\\'; DELETE FROM t; --'`,
		`SELECT E'\\\''`,
		`SELECT e'\x41\101\u0041\U00000041'`,
		`SELECT E'\`,
		`SELECT E'a' 'b\'`,
		"SELECT E'a'\n'\\' ; DELETE FROM t; -- '",
		"SELECT 'a'\n'b'\n'\\'",
		"SELECT 'a' /* c */ '\\'",
		`SELECT '\\'`,
		`SELECT 'it''s', '\n'`,
		`SELECT N'\'`,
		`SELECT n'a' '\'`,
		`SELECT U&'\0041' UESCAPE '!'`,
		`SELECT U&'d!0061t!+000061' UESCAPE '!'`,
		`SELECT B'1010', X'ff', b'\'`,
		`SELECT '\' || pg_sleep(1)::text --'`,
		"SELECT $$\\$$",
		"SELECT $$'$$, '\\'",
		"SELECT $a$ $b$ ; DELETE FROM t; $b$ $a$",
		"SELECT $a$ ; $A$ ; $a$",
		"SELECT $a$ unterminated",
		"SELECT $1$ x $1$",
		"SELECT $_$x$_$",
		"SELECT $é$ ; DELETE FROM t; $é$",
		"SELECT $$ $$ $$ ; DELETE FROM t; $$",
		"SELECT x$$ ; DELETE FROM t; $$",
		"SELECT $1, $2::int, $3[1]",
		"SELECT 'a' 'b'",
		"SELECT '\u00e9\u20ac\U0001F600'",
		// Unbalanced, odd and malformed input.
		"SELECT (", "SELECT )", "SELECT CASE", "SELECT END", "SELECT [", "SELECT ARRAY[1",
		"SELECT (1))", "SELECT ((1)", "SELECT CASE WHEN true THEN 1 END END",
		"SELECT", "WITH", "EXPLAIN", "EXPLAIN (", "SHOW", "VALUES", "TABLE",
		"\"", "'", "/*", "--", "$$", "$", "?", "U&\"", "E'",
		"SELECT 1e", "SELECT 0x", "SELECT 1_000", "SELECT 0b102", "SELECT .e1",
		"SELECT 1 \\g", "\\copy t to 'x'", "SELECT 1 \\; DELETE FROM t",
		"SELECT ?", "SELECT ?1, ?2", "SELECT * FROM t WHERE a = ? -- ?\n",
		"select 1", "Select 1", "sElEcT 1", " \t\n SELECT 1 \t\n ",
		// Nesting near the bounds, in every construct that nests.
		"SELECT " + nest("(", "1", ")", 999),
		"SELECT " + nest("(", "1", ")", 1000),
		"SELECT " + nest("f(", "1", ")", 999),
		"SELECT " + nest("f(", "pg_sleep(1)", ")", 600),
		"SELECT " + nest("ARRAY[", "1", "]", 999),
		"SELECT " + nest("(SELECT ", "1", ")", 400),
		"SELECT " + nest("(SELECT ", "1 FOR UPDATE", ")", 300),
		"SELECT " + nest("(SELECT ", "pg_sleep(1)", ")", 300),
		"SELECT " + nest("CASE WHEN true THEN ", "1", " END", 300),
		"SELECT " + nest("NOT ", "true", "", 990),
		"SELECT " + nest("-", "1", "", 990),
		"SELECT 1" + strings.Repeat("+1", 990),
		"SELECT 1" + strings.Repeat("::int", 495),
		"SELECT 1" + strings.Repeat(" UNION SELECT 1", 490),
		"SELECT 1" + strings.Repeat(" UNION SELECT pg_sleep(1)", 300),
		"SELECT 1 FROM a" + strings.Repeat(" JOIN a ON true", 320),
		"SELECT " + nest("(", "1"+strings.Repeat("+1", 300), ")", 300),
		"SELECT " + nest("(", "SELECT 1 INTO x", ")", 300),
		"SELECT " + nest("(t).x", "", "", 1) + strings.Repeat(".x", 500),
		"SELECT a" + strings.Repeat(".a", 2000) + " FROM t",
		"SELECT a" + strings.Repeat(".a", 2000) + ".pg_sleep FROM t",
		"SELECT x" + strings.Repeat("[1]", 990) + " FROM t",
		"SELECT " + strings.Repeat("1,", 20000) + "1",
		"SELECT " + strings.Repeat("pg_sleep(1),", 2000) + "1",
		"SELECT * FROM t WHERE " + strings.Repeat("a = 1 OR ", 3000) + "pg_sleep(1) IS NULL",
		"VALUES " + strings.Repeat("(1),", 5000) + "(nextval('s'))",
	}
}

// The token numbers in scan.go must be those of the generated Token enum.
func TestTokenNumbers(t *testing.T) {
	for _, tc := range []struct {
		mine int32
		pg   pg.Token
	}{
		{tokOpenParen, pg.Token_ASCII_40}, {tokCloseParen, pg.Token_ASCII_41},
		{tokComma, pg.Token_ASCII_44}, {tokDot, pg.Token_ASCII_46},
		{tokSemicolon, pg.Token_ASCII_59}, {tokOpenBracket, pg.Token_ASCII_91},
		{tokCloseBracket, pg.Token_ASCII_93}, {tokIDENT, pg.Token_IDENT},
		{tokUIDENT, pg.Token_UIDENT}, {tokFCONST, pg.Token_FCONST},
		{tokSCONST, pg.Token_SCONST}, {tokUSCONST, pg.Token_USCONST},
		{tokBCONST, pg.Token_BCONST}, {tokXCONST, pg.Token_XCONST},
		{tokICONST, pg.Token_ICONST}, {tokPARAM, pg.Token_PARAM},
		{tokSQLComment, pg.Token_SQL_COMMENT}, {tokCComment, pg.Token_C_COMMENT},
		{tokAND, pg.Token_AND}, {tokAS, pg.Token_AS}, {tokASC, pg.Token_ASC},
		{tokCASE, pg.Token_CASE}, {tokDESC, pg.Token_DESC},
		{tokDISTINCT, pg.Token_DISTINCT}, {tokEND, pg.Token_END_P},
		{tokFIRST, pg.Token_FIRST_P}, {tokLAST, pg.Token_LAST_P},
		{tokNULLS, pg.Token_NULLS_P}, {tokON, pg.Token_ON}, {tokOR, pg.Token_OR},
	} {
		if tc.mine != int32(tc.pg) {
			t.Errorf("%v is %d in the generated enum, %d in scan.go", tc.pg, int32(tc.pg), tc.mine)
		}
	}
	fields := (&pg.ScanResult{}).ProtoReflect().Descriptor().Fields()
	if fd := fields.ByName("tokens"); fd == nil || fd.Number() != scanResultTokens || fd.Kind() != protoreflect.MessageKind {
		t.Errorf("ScanResult.tokens is %v", fd)
	}
	fields = (&pg.ScanToken{}).ProtoReflect().Descriptor().Fields()
	for name, num := range map[protoreflect.Name]protoreflect.FieldNumber{"start": scanTokenStart, "end": scanTokenEnd, "token": scanTokenToken} {
		if fd := fields.ByName(name); fd == nil || fd.Number() != num || fd.Cardinality() == protoreflect.Repeated {
			t.Errorf("ScanToken.%s is %v, want field %d", name, fd, num)
		}
	}
}

// The tokens read by hand are those the generated code reads.
func TestScanTokens(t *testing.T) {
	for _, q := range agreeSeeds(t) {
		mine, err := scanTokens(q)
		res, pgErr := pg.Scan(q)
		if (err == nil) != (pgErr == nil) {
			t.Fatalf("scan %q: %v; generated code: %v", short(q), err, pgErr)
		}
		if err != nil {
			continue
		}
		if len(mine) != len(res.GetTokens()) {
			t.Fatalf("scan %q: %d tokens; generated code: %d", short(q), len(mine), len(res.GetTokens()))
		}
		for i, tk := range res.GetTokens() {
			if want := (pgToken{int32(tk.GetToken()), tk.GetStart(), tk.GetEnd()}); mine[i] != want {
				t.Fatalf("scan %q: token %d is %+v; generated code: %+v", short(q), i, mine[i], want)
			}
		}
	}
}

// decodeToken reads what the protobuf wire format allows, and refuses
// what it does not.
func TestDecodeToken(t *testing.T) {
	for _, tc := range []struct {
		msg  []byte
		want pgToken
		ok   bool
	}{
		{[]byte{0x08, 0x07, 0x10, 0x09, 0x20, 0xa4, 0x03}, pgToken{420, 7, 9}, true},
		{nil, pgToken{}, true},
		// An unknown field of each wire type is skipped; a repeated
		// scalar keeps its last value; a negative int32 takes ten bytes.
		{[]byte{0x18, 0x01, 0x2d, 1, 2, 3, 4, 0x31, 1, 2, 3, 4, 5, 6, 7, 8, 0x3a, 0x01, 0xff, 0x08, 0x01, 0x08, 0x02}, pgToken{start: 2}, true},
		{[]byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, pgToken{start: -1}, true},
		// A known field of another wire type is an unknown field.
		{[]byte{0x0d, 1, 0, 0, 0, 0x20, 0x05}, pgToken{kind: 5}, true},
		{[]byte{0x08}, pgToken{}, false},
		{[]byte{0x08, 0xff}, pgToken{}, false},
		{[]byte{0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, pgToken{}, false},
		{[]byte{0x3a, 0x05, 0x00}, pgToken{}, false},
		{[]byte{0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f}, pgToken{}, false},
		{[]byte{0x2d, 1, 2, 3}, pgToken{}, false},
		{[]byte{0x31, 1, 2, 3, 4, 5, 6, 7}, pgToken{}, false},
		{[]byte{0x00}, pgToken{}, false},
		{[]byte{0x0b, 0x0c}, pgToken{}, false},
		{[]byte{0x0e}, pgToken{}, false},
		{[]byte{0x0f}, pgToken{}, false},
	} {
		got, err := decodeToken(tc.msg)
		if (err == nil) != tc.ok || tc.ok && got != tc.want {
			t.Errorf("decodeToken(% x) = %+v, %v; want %+v, ok %v", tc.msg, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzDecodeScanResult holds the hand-written decoder to the generated
// one: what it reads, the generated code reads the same; and it reads
// every message the generated code writes.
func FuzzDecodeScanResult(f *testing.F) {
	for _, q := range []string{"SELECT 1", "SELECT 'a' -- x\n, $1, (CASE WHEN 1 THEN 2 END)", ""} {
		res, err := pg.Scan(q)
		if err != nil {
			f.Fatal(err)
		}
		b, err := proto.Marshal(res)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var res pg.ScanResult
		pbErr := proto.Unmarshal(b, &res)
		mine, err := decodeScanResult(b)
		if err == nil {
			if pbErr != nil {
				t.Fatalf("decoded % x, which the generated code refuses: %v", b, pbErr)
			}
			sameTokens(t, mine, res.GetTokens())
		}
		// What the generated code writes is read whole. (Unknown fields,
		// which it would write back as they came, are left out: they
		// may hold groups, which the scanner never writes and the
		// decoder refuses.)
		clean := &pg.ScanResult{Version: res.GetVersion()}
		for _, tk := range res.GetTokens() {
			clean.Tokens = append(clean.Tokens, &pg.ScanToken{Start: tk.GetStart(), End: tk.GetEnd(), Token: tk.GetToken(), KeywordKind: tk.GetKeywordKind()})
		}
		again, err := proto.Marshal(clean)
		if err != nil {
			t.Fatal(err)
		}
		mine, err = decodeScanResult(again)
		if err != nil {
			t.Fatalf("cannot decode % x, which the generated code wrote: %v", again, err)
		}
		sameTokens(t, mine, res.GetTokens())
	})
}

func sameTokens(t *testing.T, mine []pgToken, theirs []*pg.ScanToken) {
	t.Helper()
	if len(mine) != len(theirs) {
		t.Fatalf("%d tokens; the generated code reads %d", len(mine), len(theirs))
	}
	for i, tk := range theirs {
		if want := (pgToken{int32(tk.GetToken()), tk.GetStart(), tk.GetEnd()}); mine[i] != want {
			t.Fatalf("token %d is %+v; the generated code reads %+v", i, mine[i], want)
		}
	}
}

// The walk relies on these facts about the tree, which hold for the
// JSON because they hold for the protobuf messages written from the
// same definitions.
func TestTreeShape(t *testing.T) {
	files := pg.File_pg_query_proto
	node := (&pg.Node{}).ProtoReflect().Descriptor()
	interesting := func(m protoreflect.MessageDescriptor) bool {
		switch m.Name() {
		case "SelectStmt", "FuncCall", "ColumnRef", "A_Indirection":
			return true
		case "RawStmt": // read by the walk's top, never nested
			return false
		}
		return strings.HasSuffix(string(m.Name()), "Stmt")
	}
	msgs := files.Messages()
	for i := 0; i < msgs.Len(); i++ {
		m := msgs.Get(i)
		if m == node {
			// Its fields are written as the type names of nodes.
			continue
		}
		fields := m.Fields()
		for j := 0; j < fields.Len(); j++ {
			fd := fields.Get(j)
			name := string(fd.Name())
			// A key that starts upper case is a node type.
			if name[0] < 'a' || name[0] > 'z' {
				t.Errorf("%s.%s does not start with a lower-case letter", m.Name(), name)
			}
			// Only a SELECT has INTO and locking clauses, so the walk
			// need not know an object is one to refuse them.
			if (name == "into_clause" || name == "locking_clause") && m.Name() != "SelectStmt" {
				t.Errorf("%s has a field %s", m.Name(), name)
			}
			if fd.Kind() != protoreflect.MessageKind || fd.Message() == node {
				continue
			}
			// A node that the walk must know the type of is reached
			// through a reference ({"Type": …}), which names it, or from
			// a statement that is refused before it, or it is a SELECT's
			// larg or rarg, which only INTO and locking clauses refuse.
			if !interesting(fd.Message()) {
				continue
			}
			inRefused := strings.HasSuffix(string(m.Name()), "Stmt") && m.Name() != "SelectStmt"
			setOp := m.Name() == "SelectStmt" && fd.Message().Name() == "SelectStmt"
			if !inRefused && !setOp {
				t.Errorf("%s.%s holds a %s without a reference", m.Name(), name, fd.Message().Name())
			}
		}
	}
	// The name lists the walk reads are lists of references.
	for _, tc := range []struct {
		m     protoreflect.ProtoMessage
		field protoreflect.Name
	}{
		{&pg.FuncCall{}, "funcname"}, {&pg.ColumnRef{}, "fields"},
		{&pg.A_Indirection{}, "indirection"}, {&pg.SelectStmt{}, "locking_clause"},
		{&pg.ExplainStmt{}, "options"},
	} {
		fd := tc.m.ProtoReflect().Descriptor().Fields().ByName(tc.field)
		if fd == nil || !fd.IsList() || fd.Message() != node {
			t.Errorf("%s.%s is %v, not a list of nodes", tc.m.ProtoReflect().Descriptor().Name(), tc.field, fd)
		}
	}
}
