package sqlguard

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
	"github.com/pganalyze/pg_query_go/v6/parser"
)

type tcase struct {
	name  string
	query string
	// why is a part of the refusal message that shows the query was
	// refused for the intended reason; "" means the query is allowed,
	// "*" that any reason will do.
	why string
}

func mustNew(t testing.TB, r Rule) *Checker {
	t.Helper()
	c, err := New(r)
	if err != nil {
		t.Fatalf("New(%+v): %v", r, err)
	}
	return c
}

func runCases(t *testing.T, c *Checker, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Check(tc.query)
			if tc.why == "" {
				if err != nil {
					t.Fatalf("Check(%q) refused a read-only query: %v", short(tc.query), err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check(%q) allowed it; want a refusal (%s)", short(tc.query), tc.why)
			}
			if !errors.Is(err, ErrRefused) {
				t.Errorf("Check(%q) error %v does not wrap ErrRefused", short(tc.query), err)
			}
			if tc.why != "*" && !strings.Contains(err.Error(), tc.why) {
				t.Errorf("Check(%q) = %v; want the reason to mention %q", short(tc.query), err, tc.why)
			}
		})
	}
}

// short keeps huge test queries out of failure messages.
func short(q string) string {
	if len(q) > 200 {
		return q[:200] + "..."
	}
	return q
}

// Read-only queries that both dialects must accept.
var commonAllowed = []tcase{
	{"plain select", "SELECT id, name FROM users WHERE id = 1", ""},
	{"table-less", "SELECT 1", ""},
	{"trailing semicolon and comments", "-- list them\nSELECT 1; /* done */ -- end", ""},
	{"joins", "SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id LEFT JOIN items i ON i.order_id = o.id WHERE o.total > 10", ""},
	{"cte", "WITH big AS (SELECT * FROM orders WHERE total > 100) SELECT count(*) FROM big", ""},
	{"recursive cte", "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10) SELECT x FROM n", ""},
	{"window", "SELECT name, rank() OVER (PARTITION BY dept ORDER BY salary DESC) FROM staff", ""},
	{"semicolon in string", "SELECT count(*) FROM t WHERE name = 'x; DROP TABLE y'", ""},
	{"semicolon in comment", "SELECT 1 /* ; DROP TABLE y; */ FROM t -- ; DELETE FROM t", ""},
	{"semicolon in quoted identifier", `SELECT "a;b" FROM t`, ""},
	{"values", "VALUES (1, 'a'), (2, 'b')", ""},
	{"union", "SELECT a FROM t UNION SELECT b FROM u ORDER BY 1 LIMIT 5", ""},
	{"subqueries", "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE EXISTS (SELECT 1 FROM v))", ""},
	{"case", "SELECT CASE WHEN a > 1 THEN 'big' ELSE 'small' END FROM t", ""},
	{"aggregates", "SELECT dept, count(*), avg(salary) FROM staff GROUP BY dept HAVING count(*) > 2", ""},
	{"column named like a function", "SELECT edit, nextval_at FROM t", ""},
	{"explain select", "EXPLAIN SELECT * FROM t", ""},
	{"long in list", "SELECT * FROM t WHERE id IN (" + strings.Repeat("1,", 5000) + "1)", ""},
	{"nested brackets well within the bound", "SELECT " + strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200), ""},
	{"many conditions", "SELECT * FROM t WHERE " + strings.Repeat("a = 1 AND ", 300) + "b = 2", ""},
}

// Refusals that hold in both dialects.
var commonRefused = []tcase{
	{"empty", "", "no statement"},
	{"only space and comments", "  -- nothing\n/* at all */ ", "no statement"},
	{"only a semicolon", ";", "no statement"},
	{"second statement", "SELECT 1; DROP TABLE x", "statement"},
	{"second statement after comment", "SELECT 1 /* c */; /* c */ DELETE FROM t", "statement"},
	{"second statement after line comment", "SELECT 1 -- c\n; DELETE FROM t", "statement"},
	{"two selects", "SELECT 1; SELECT 2", "statement"},
	{"string then statement", "SELECT 'a;b'; DELETE FROM t", "statement"},
	{"insert", "INSERT INTO t VALUES (1)", "INSERT"},
	{"update", "UPDATE t SET a = 1", "UPDATE"},
	{"delete", "DELETE FROM t", "DELETE"},
	{"drop", "DROP TABLE t", "DROP"},
	{"create table", "CREATE TABLE t (a int)", "CREATE"},
	{"create table as", "CREATE TABLE t2 AS SELECT * FROM t", "CREATE"},
	{"select into", "SELECT * INTO newtable FROM t", "SELECT INTO"},
	{"data-modifying cte", "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "DELETE"},
	{"insert cte", "WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x", "INSERT"},
	{"nested data-modifying cte", "SELECT * FROM (WITH x AS (UPDATE t SET a = 1 RETURNING a) SELECT * FROM x) s", "UPDATE"},
	{"data-modifying cte in where", "SELECT 1 WHERE EXISTS (WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d)", "DELETE"},
	{"with then delete", "WITH x AS (SELECT 1) DELETE FROM t", "DELETE"},
	{"unterminated string", "SELECT 'abc", "unterminated"},
	{"garbage", "SELEKT 1", "*"},
	{"nul byte hides a statement", "SELECT 1\x00; DROP TABLE t", "NUL"},
	{"invalid utf-8", "SELECT '\xff'", "UTF-8"},
	{"too many tokens", "SELECT " + strings.Repeat("1,", MaxTokens/2) + "1", "tokens"},
	{"too long", "SELECT '" + strings.Repeat("a", MaxQueryBytes) + "'", "limit"},
	{"transaction", "BEGIN", "*"},
	{"commit", "COMMIT", "*"},
	{"vacuum", "VACUUM", "VACUUM"},
}

var postgresAllowed = []tcase{
	{"show", "SHOW search_path", ""},
	{"explain options", "EXPLAIN (VERBOSE, COSTS off, FORMAT json) SELECT * FROM t", ""},
	{"dollar quoted string", "SELECT $x$; DROP TABLE t; $x$ AS s", ""},
	{"empty dollar quote", "SELECT $$ a ; b $$", ""},
	{"escape string", `SELECT E'it\'s; fine'`, ""},
	{"nested comment", "SELECT 1 /* a /* b ; */ c ; */", ""},
	{"lateral", "SELECT * FROM t, LATERAL (SELECT * FROM u WHERE u.id = t.id) s", ""},
	{"set returning function", "SELECT * FROM generate_series(1, 10) g", ""},
	{"casts", "SELECT '2020-01-01'::date, CAST(a AS text) FROM t", ""},
	{"table", "TABLE t", ""},
	{"json", "SELECT data->>'name' FROM docs WHERE data @> '{\"a\":1}'", ""},
	{"currval is a read", "SELECT currval('s')", ""},
	{"parameters", "SELECT * FROM t WHERE id = $1", ""},
	{"vertical tab is space", "SELECT\v1", ""},
	{"like with escape string", `SELECT * FROM t WHERE a LIKE E'a\\_b'`, ""},
}

var postgresRefused = []tcase{
	{"nested comment hides nothing but real second statement", "SELECT 1 /* a /* b */ c */; DROP TABLE t", "statement"},
	{"dollar quote then statement", "SELECT $q$ ; $q$; DELETE FROM t", "statement"},
	{"explain analyze", "EXPLAIN ANALYZE DELETE FROM t", "ANALYZE"},
	{"explain analyze select", "EXPLAIN ANALYZE SELECT 1", "ANALYZE"},
	{"explain (analyze)", "EXPLAIN (ANALYZE) SELECT 1", "ANALYZE"},
	{"explain (analyze false)", "EXPLAIN (ANALYZE false) SELECT 1", "ANALYZE"},
	{"explain delete", "EXPLAIN DELETE FROM t", "DELETE"},
	{"explain create table as", "EXPLAIN CREATE TABLE x AS SELECT 1", "CREATE TABLE AS"},
	{"explain execute", "EXPLAIN EXECUTE p", "EXECUTE"},
	{"explain unknown option", "EXPLAIN (FROBNICATE) SELECT 1", "frobnicate"},
	{"pg_read_file", "SELECT pg_read_file('/etc/passwd')", "pg_read_file"},
	{"quoted upper case", `SELECT "PG_READ_FILE"('/etc/passwd')`, "PG_READ_FILE"},
	{"quoted", `SELECT "pg_read_file"('/etc/passwd')`, "pg_read_file"},
	{"upper case", "SELECT PG_READ_FILE('/etc/passwd')", "pg_read_file"},
	{"schema qualified", "SELECT pg_catalog.pg_sleep(100)", "pg_catalog.pg_sleep"},
	{"quoted schema qualified", `SELECT "pg_catalog"."pg_read_binary_file"('x')`, "pg_read_binary_file"},
	{"unicode escape identifier", `SELECT U&"\0070g_read_file"('/etc/passwd')`, "pg_read_file"},
	{"unicode escape with uescape", `SELECT U&"!0070g_sleep" UESCAPE '!' (10)`, "pg_sleep"},
	{"sleep for", "SELECT pg_sleep_for('1 hour')", "pg_sleep"},
	{"ls dir", "SELECT * FROM pg_ls_dir('/')", "pg_ls_dir"},
	{"stat file", "SELECT pg_stat_file('/etc/passwd')", "pg_stat_file"},
	{"lo_import", "SELECT lo_import('/etc/passwd')", "lo_import"},
	{"lo_export", "SELECT lo_export(1, '/tmp/x')", "lo_export"},
	{"lo_from_bytea", "SELECT lo_from_bytea(0, 'x')", "lo_from_bytea"},
	{"dblink", "SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(a int)", "dblink"},
	{"dblink_exec", "SELECT dblink_exec('DROP TABLE t')", "dblink_exec"},
	{"terminate backend", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "pg_terminate_backend"},
	{"cancel backend", "SELECT pg_cancel_backend(1)", "pg_cancel_backend"},
	{"reload conf", "SELECT pg_reload_conf()", "pg_reload_conf"},
	{"set_config", "SELECT set_config('role', 'postgres', false)", "set_config"},
	{"nextval", "SELECT nextval('s')", "nextval"},
	{"setval", "SELECT setval('s', 1)", "setval"},
	{"advisory lock", "SELECT pg_advisory_lock(1)", "pg_advisory_lock"},
	{"advisory xact lock", "SELECT pg_try_advisory_xact_lock(1)", "pg_try_advisory_xact_lock"},
	{"txid_current", "SELECT txid_current()", "txid_current"},
	{"query_to_xml", "SELECT query_to_xml('DELETE FROM t RETURNING *', true, true, '')", "query_to_xml"},
	{"query_to_xml_and_xmlschema", "SELECT query_to_xml_and_xmlschema('SELECT 1', true, true, '')", "query_to_xml_and_xmlschema"},
	{"table_to_xml", "SELECT table_to_xml('t', true, true, '')", "table_to_xml"},
	{"logical slot", "SELECT * FROM pg_logical_slot_get_changes('s', NULL, NULL)", "pg_logical_slot_get_changes"},
	{"create slot", "SELECT pg_create_physical_replication_slot('s')", "pg_create_physical_replication_slot"},
	{"switch wal", "SELECT pg_switch_wal()", "pg_switch_wal"},
	{"notify function", "SELECT pg_notify('c', 'x')", "pg_notify"},
	{"in lateral", "SELECT * FROM t, LATERAL pg_read_file(t.path) AS f", "pg_read_file"},
	{"in order by", "SELECT * FROM t ORDER BY pg_sleep(10)", "pg_sleep"},
	{"in case", "SELECT CASE WHEN a > 1 THEN pg_read_file('/etc/passwd') END FROM t", "pg_read_file"},
	{"in function argument", "SELECT length(coalesce(NULL, pg_read_file('/etc/passwd')))", "pg_read_file"},
	{"in subquery", "SELECT * FROM t WHERE a IN (SELECT nextval('s'))", "nextval"},
	{"in cte", "WITH x AS (SELECT setval('s', 1)) SELECT * FROM x", "setval"},
	{"in window", "SELECT sum(a) OVER (ORDER BY pg_sleep(1)) FROM t", "pg_sleep"},
	{"in filter", "SELECT count(*) FILTER (WHERE pg_sleep(1) IS NULL) FROM t", "pg_sleep"},
	{"in named argument", "SELECT f(x => pg_sleep(1))", "pg_sleep"},
	{"in values", "VALUES (nextval('s'))", "nextval"},
	{"in explain", "EXPLAIN SELECT pg_sleep(1)", "pg_sleep"},
	{"in rows from", "SELECT * FROM ROWS FROM (generate_series(1,2), pg_ls_dir('/'))", "pg_ls_dir"},
	{"in default of create", "CREATE TABLE t (a text DEFAULT pg_read_file('/etc/passwd'))", "CREATE TABLE"},
	{"attribute notation on relation", "SELECT t.pg_read_file FROM t", "pg_read_file"},
	{"attribute notation on expression", "SELECT ('/etc/passwd'::text).pg_read_file", "pg_read_file"},
	{"copy to program", "COPY t TO PROGRAM 'rm -rf /'", "COPY"},
	{"copy from", "COPY t FROM '/etc/passwd'", "COPY"},
	{"copy query", "COPY (SELECT 1) TO STDOUT", "COPY"},
	{"for update", "SELECT * FROM t FOR UPDATE", "FOR UPDATE"},
	{"for share", "SELECT * FROM t FOR SHARE", "FOR UPDATE or FOR SHARE"},
	{"for no key update", "SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED", "FOR UPDATE"},
	{"for update in subquery", "SELECT * FROM (SELECT * FROM t FOR UPDATE) s", "FOR UPDATE"},
	{"for update in cte", "WITH x AS (SELECT * FROM t FOR KEY SHARE) SELECT * FROM x", "FOR UPDATE"},
	{"do", "DO $$ BEGIN DELETE FROM t; END $$", "DO"},
	{"call", "CALL p()", "CALL"},
	{"set role", "SET role postgres", "SET"},
	{"set local", "SET LOCAL statement_timeout = 0", "SET"},
	{"reset", "RESET ALL", "SET"},
	{"lock", "LOCK TABLE t", "LOCK"},
	{"listen", "LISTEN c", "LISTEN"},
	{"notify", "NOTIFY c", "NOTIFY"},
	{"prepare", "PREPARE p AS DELETE FROM t", "PREPARE"},
	{"execute", "EXECUTE p", "EXECUTE"},
	{"declare cursor", "DECLARE c CURSOR FOR SELECT 1", "DECLARE CURSOR"},
	{"merge", "MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE", "MERGE"},
	{"truncate", "TRUNCATE t", "TRUNCATE"},
	{"grant", "GRANT ALL ON t TO public", "GRANT"},
	{"create function", "CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql", "CreateFunctionStmt"},
	{"alter system", "ALTER SYSTEM SET fsync = off", "AlterSystemStmt"},
	{"checkpoint", "CHECKPOINT", "CheckPointStmt"},
	{"backslash in plain string", `SELECT '\', pg_read_file('/etc/passwd') --'`, "backslash"},
	{"backslash hides code when conforming strings are off", `SELECT '\' , ' ; DELETE FROM t; -- '`, "backslash"},
	{"backslash in national string", `SELECT N'\'`, "backslash"},
	// The scanner gives a continued literal as one token; the backslash
	// in its second part must still be seen.
	{"backslash in continued string", "SELECT 'a'\n'\\' , ' ; DELETE FROM t; -- '", "backslash"},
	{"attribute notation on a qualified relation", "SELECT s.t.pg_sleep FROM s.t", "pg_sleep"},
	{"attribute notation after a field", "SELECT (t.c).x.pg_sleep FROM t", "pg_sleep"},
	{"explain option in mixed case", "EXPLAIN (Analyze) SELECT 1", "ANALYZE"},
	// Each of these, parsed, would overflow the C parser's stack or the
	// protobuf decoder's depth limit.
	{"deep plus chain", "SELECT 1" + strings.Repeat("+1", 45000), "nested too deeply"},
	{"deep parens", "SELECT " + strings.Repeat("(", 45000) + "1" + strings.Repeat(")", 45000), "nested too deeply"},
	{"deep union chain", "SELECT 1" + strings.Repeat(" UNION SELECT 1", 30000), "nested too deeply"},
	{"deep casts", "SELECT 1" + strings.Repeat("::int", 45000), "nested too deeply"},
	{"deep joins", "SELECT 1 FROM a" + strings.Repeat(" JOIN a ON true", 22000), "nested too deeply"},
	{"deep case", "SELECT " + strings.Repeat("CASE WHEN true THEN ", 5000) + "1" + strings.Repeat(" END", 5000), "nested too deeply"},
	{"deep not", "SELECT " + strings.Repeat("NOT ", 90000) + "true", "nested too deeply"},
	{"deep array brackets", "SELECT ARRAY" + strings.Repeat("[", 45000) + "1" + strings.Repeat("]", 45000), "nested too deeply"},
	{"unbalanced close", "SELECT 1)", "unbalanced"},
	{"unbalanced bracket", "SELECT 1]", `unbalanced "]"`},
	{"unbalanced end", "SELECT 1 END", `unbalanced "END"`},
	{"begin", "BEGIN", "transaction"},
	{"start transaction read write", "START TRANSACTION READ WRITE", "transaction"},
}

var sqliteAllowed = []tcase{
	{"pragma table function", "SELECT * FROM pragma_table_info('users')", ""},
	{"explain query plan", "EXPLAIN QUERY PLAN SELECT * FROM t WHERE a = 1", ""},
	{"explain", "explain select 1", ""},
	{"positional parameters", "SELECT * FROM t WHERE a = ? AND b = ?2", ""},
	{"blob literal", "SELECT X'00ff', x''", ""},
	{"json operators", "SELECT data ->> '$.name' FROM docs", ""},
	{"collate", "SELECT * FROM t ORDER BY name COLLATE NOCASE", ""},
	{"schema list", "SELECT name, sql FROM sqlite_schema WHERE type = 'table'", ""},
	{"crlf comment", "SELECT 1 -- comment\r\nFROM t", ""},
	{"dollar inside identifier", "SELECT a$b FROM t", ""},
	{"backslash in string", `SELECT * FROM t WHERE a LIKE '%\_%' ESCAPE '\'`, ""},
	{"comment at the end without newline", "SELECT 1 -- the end", ""},
	{"comments inside explain prefix", "EXPLAIN /* x */ QUERY -- y\n PLAN SELECT 1", ""},
	{"with", "WITH x AS (SELECT 1 AS a) SELECT a FROM x", ""},
	// SQLite has no attribute notation: t.readfile is only ever a column.
	{"column named like a denied function", "SELECT t.readfile FROM t", ""},
}

var sqliteRefused = []tcase{
	{"attach", "ATTACH DATABASE '/tmp/x' AS y", "ATTACH"},
	{"detach", "DETACH DATABASE y", "DETACH"},
	{"pragma assignment", "PRAGMA writable_schema=1", "PRAGMA"},
	{"pragma read", "PRAGMA table_info(t)", "pragma_table_info"},
	{"load_extension", "SELECT load_extension('x')", "load_extension"},
	{"load_extension quoted", `SELECT "LOAD_EXTENSION"('x')`, "LOAD_EXTENSION"},
	{"load_extension in from", "SELECT * FROM t WHERE load_extension('x') IS NULL", "load_extension"},
	{"readfile", "SELECT readfile('/etc/passwd')", "readfile"},
	{"writefile", "SELECT writefile('/tmp/x', 'data')", "writefile"},
	{"edit", "SELECT edit('x', 'vi')", "edit"},
	{"fts3_tokenizer", "SELECT fts3_tokenizer('simple')", "fts3_tokenizer"},
	{"fsdir", "SELECT * FROM fsdir('/')", "fsdir"},
	{"vacuum into", "VACUUM INTO '/tmp/x'", "VACUUM"},
	{"replace", "REPLACE INTO t VALUES (1)", "REPLACE"},
	{"insert or replace", "INSERT OR REPLACE INTO t VALUES (1)", "INSERT"},
	{"create virtual table", "CREATE VIRTUAL TABLE v USING fts5(a)", "CREATE"},
	{"reindex", "REINDEX t", "REINDEX"},
	{"analyze", "ANALYZE", "ANALYZE"},
	{"explain delete", "EXPLAIN DELETE FROM t", "DELETE"},
	{"explain query plan delete", "EXPLAIN QUERY PLAN DELETE FROM t", "DELETE"},
	{"explain analyze", "EXPLAIN ANALYZE SELECT 1", "ANALYZE"},
	{"explain alone", "EXPLAIN", "EXPLAIN"},
	{"show is not sqlite", "SHOW x", "SHOW"},
	{"begin", "BEGIN", "BEGIN"},
	{"parenthesised select", "(SELECT 1)", "begins with"},
	// PostgreSQL nests comments, SQLite does not: SQLite would run the DROP.
	{"nested comment", "SELECT 1 /* /* */ ; DROP TABLE t; -- */", "/*"},
	{"nested comment without semicolon", "SELECT 1 /* /* */, load_extension('x') -- */", "/*"},
	// "/*/": SQLite ends the comment at "*/", PostgreSQL opens a nested
	// one at "/*"; the -- line hides PostgreSQL's two closings from SQLite.
	{"nested comment sharing a star", "SELECT 1 /* a /*/, load_extension('x') -- */ */\n, 2", "/*"},
	// PostgreSQL reads E'\'' as one string, SQLite reads E, '\', and code.
	{"escape string", `SELECT E'\' , load_extension('x') --'`, "E'"},
	{"lower-case escape string", `SELECT e'\' , load_extension('x') --'`, "e'"},
	{"unicode escape string", `SELECT U&'\0041'`, "U&"},
	{"lower-case national string", "SELECT n'x'", "n'"},
	{"hash param", "SELECT #x", "#"},
	{"string continued after a line comment", "SELECT 'a' -- c\n'b'", "in a row"},
	{"number runs into a word", "SELECT 1z", "runs into"},
	{"unterminated quoted identifier", `SELECT "abc`, "unterminated quoted identifier"},
	{"unterminated blob", "SELECT X'00", "blob"},
	{"dollar quote", "SELECT $a$ ; DROP TABLE t; $a$", "$"},
	{"dollar param", "SELECT $x", "$"},
	{"named param", "SELECT :x", ":"},
	{"at param", "SELECT @x", "@"},
	{"pg cast", "SELECT 1::int", ":"},
	{"bracket identifier", "SELECT [a] FROM t", "["},
	{"bracket hides a quote from sqlite", "SELECT [']], load_extension('x') --'", "["},
	{"backtick identifier", "SELECT `a` FROM t", "`"},
	{"unicode escape", `SELECT U&"\0070" FROM t`, "U&"},
	{"bit string", "SELECT B'0101'", "B'"},
	{"national string", "SELECT N'x'", "N'"},
	{"carriage return in comment", "SELECT 1 --x\r, load_extension('x')", "carriage return"},
	{"unterminated comment", "SELECT 1 /* ", "unterminated"},
	{"leading semicolon", "; SELECT 1", "statement"},
	{"sqlite second statement", "SELECT 1; ATTACH DATABASE 'x' AS y", "statement"},
	{"glob is refused", "SELECT * FROM t WHERE a GLOB 'x*'", "parse"},
	{"odd blob", "SELECT X'0'", "blob"},
	{"string continuation", "SELECT 'a'\n'b'", "in a row"},
	{"parameter runs into a word", "SELECT ?0A", "runs into"},
	{"control character", "SELECT\x011", "control"},
	{"backslash outside string", `SELECT \ 1`, "backslash"},
	{"deep plus chain", "SELECT 1" + strings.Repeat("+1", 45000), "nested too deeply"},
}

func TestPostgres(t *testing.T) {
	c := mustNew(t, Rule{Dialect: Postgres})
	t.Run("allowed", func(t *testing.T) { runCases(t, c, append(commonAllowed, postgresAllowed...)) })
	t.Run("refused", func(t *testing.T) { runCases(t, c, append(commonRefused, postgresRefused...)) })
}

func TestSQLite(t *testing.T) {
	c := mustNew(t, Rule{Dialect: SQLite})
	t.Run("allowed", func(t *testing.T) { runCases(t, c, append(commonAllowed, sqliteAllowed...)) })
	t.Run("refused", func(t *testing.T) { runCases(t, c, append(commonRefused, sqliteRefused...)) })
}

func TestDenyFunctions(t *testing.T) {
	c := mustNew(t, Rule{Dialect: Postgres, DenyFunctions: []string{"Audit_Write", "billing_*"}})
	runCases(t, c, []tcase{
		{"exact, other case", "SELECT AUDIT_WRITE('x')", "audit_write"},
		{"schema qualified", "SELECT app.audit_write('x')", "app.audit_write"},
		{"prefix", "SELECT * FROM billing_charge(1)", "billing_*"},
		{"built-in still denied", "SELECT pg_sleep(1)", "pg_sleep"},
		{"others allowed", "SELECT audit_read('x'), billing FROM t", ""},
	})
	s := mustNew(t, Rule{Dialect: SQLite, DenyFunctions: []string{"my_exec"}})
	runCases(t, s, []tcase{
		{"sqlite extra", "SELECT my_exec('rm')", "my_exec"},
		{"sqlite built-in", "SELECT load_extension('x')", "load_extension"},
		{"postgres list is not sqlite's", "SELECT nextval FROM t", ""},
	})
}

func TestNewErrors(t *testing.T) {
	for _, r := range []Rule{
		{},
		{Dialect: 7},
		{Dialect: Postgres, DenyFunctions: []string{""}},
		{Dialect: Postgres, DenyFunctions: []string{"*"}},
		{Dialect: Postgres, DenyFunctions: []string{"a*b"}},
		{Dialect: Postgres, DenyFunctions: []string{"s.f"}},
		{Dialect: Postgres, DenyFunctions: []string{"f g"}},
		{Dialect: Postgres, DenyFunctions: []string{"f\u200b"}},
	} {
		if c, err := New(r); err == nil {
			t.Errorf("New(%+v) = %v, want an error", r, c)
		}
	}
}

func TestParseDialect(t *testing.T) {
	for _, d := range []Dialect{Postgres, SQLite} {
		got, err := ParseDialect(d.String())
		if err != nil || got != d {
			t.Errorf("ParseDialect(%q) = %v, %v", d.String(), got, err)
		}
		if c := mustNew(t, Rule{Dialect: d}); c.dialect != d {
			t.Errorf("New(Rule{Dialect: %v}) made a checker for %v", d, c.dialect)
		}
	}
	for _, s := range []string{"", "Postgres", "mysql", "sqlite3"} {
		if _, err := ParseDialect(s); err == nil {
			t.Errorf("ParseDialect(%q) succeeded", s)
		}
	}
}

// The parser runs in C with thread-local state; the Checker must give the
// same answers from many goroutines at once.
func TestConcurrent(t *testing.T) {
	c := mustNew(t, Rule{Dialect: Postgres})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if err := c.Check(realisticQuery); err != nil {
					t.Errorf("realistic query refused: %v", err)
					return
				}
				if err := c.Check("SELECT pg_sleep(1)"); err == nil {
					t.Error("pg_sleep allowed")
					return
				}
			}
		}()
	}
	wg.Wait()
}

const realisticQuery = `
WITH recent AS (
    SELECT o.id, o.customer_id, o.total, o.created_at
    FROM orders o
    WHERE o.created_at > now() - interval '30 days' AND o.status = 'paid'
), ranked AS (
    SELECT r.customer_id, sum(r.total) AS spent,
           rank() OVER (ORDER BY sum(r.total) DESC) AS pos
    FROM recent r
    GROUP BY r.customer_id
)
SELECT c.id, c.name, c.email, k.spent, k.pos,
       CASE WHEN k.spent > 1000 THEN 'gold' WHEN k.spent > 100 THEN 'silver' ELSE 'bronze' END AS tier,
       (SELECT count(*) FROM recent x WHERE x.customer_id = c.id) AS orders
FROM customers c
JOIN ranked k ON k.customer_id = c.id
LEFT JOIN regions g ON g.id = c.region_id
WHERE c.deleted_at IS NULL AND coalesce(g.name, '') <> 'test'
ORDER BY k.pos
LIMIT 50`

func BenchmarkCheck(b *testing.B) {
	for _, d := range []Dialect{Postgres, SQLite} {
		c := mustNew(b, Rule{Dialect: d})
		q := realisticQuery
		if d == SQLite {
			q = strings.ReplaceAll(q, "now() - interval '30 days'", "datetime('now', '-30 days')")
		}
		if err := c.Check(q); err != nil {
			b.Fatalf("%v: %v", d, err)
		}
		b.Run(d.String(), func(b *testing.B) {
			b.SetBytes(int64(len(q)))
			for b.Loop() {
				if err := c.Check(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The tree walk has its own depth limit in case the nesting estimate is
// ever wrong. No query reaches it through the estimate, so the tree is
// built by hand: a chain of additions, harmless at every level, that is
// accepted when shallow and refused when deeper than the limit. The
// chain is built twice, as the JSON that Check reads (held to the
// parser's own output for a short chain) and as the protobuf tree that
// the oracle reads, and the two must put the limit at the same place.
func TestWalkDepthLimit(t *testing.T) {
	c := mustNew(t, Rule{Dialect: Postgres})
	o := pbChecker{c}
	chain := func(n int) *pg.Node {
		e := pg.MakeAConstIntNode(1, 0)
		for range n {
			e = pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_OP, []*pg.Node{pg.MakeStrNode("+")}, e, pg.MakeAConstIntNode(1, 0), 0)
		}
		return &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: &pg.SelectStmt{
			TargetList: []*pg.Node{pg.MakeResTargetNodeWithVal(e, 0)},
		}}}
	}
	// Locations and the parser's version are left out of the comparison.
	locations := regexp.MustCompile(`,"location":[0-9]+|"version":[0-9]+`)
	q := "SELECT 1" + strings.Repeat("+1", 100)
	parsed, err := parser.ParseToJSON(q)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := locations.ReplaceAllString(chainJSON(100), ""), locations.ReplaceAllString(parsed, ""); got != want {
		t.Fatalf("the hand-built tree is not the parser's:\n got %s\nwant %s", short(got), short(want))
	}
	if err := c.checkTree(chainJSON(100)); err != nil {
		t.Fatalf("a chain of 100 additions was refused: %v", err)
	}
	if err := o.checkTop(chain(100)); err != nil {
		t.Fatalf("oracle: a chain of 100 additions was refused: %v", err)
	}
	tooDeep := func(err error) bool {
		return err != nil && errors.Is(err, ErrRefused) && strings.Contains(err.Error(), "nested too deeply")
	}
	// So deep that the JSON is nested past what the JSON decoder reads.
	if err := c.checkTree(chainJSON(maxTreeDepth)); !tooDeep(err) {
		t.Fatalf("a chain of %d additions: %v; want a refusal for depth", maxTreeDepth, err)
	}
	if err := o.checkTop(chain(maxTreeDepth)); !tooDeep(err) {
		t.Fatalf("oracle: a chain of %d additions: %v; want a refusal for depth", maxTreeDepth, err)
	}
	// The longest chain the oracle accepts.
	n := maxTreeDepth / 2
	for o.checkTop(chain(n+1)) == nil {
		n++
	}
	for o.checkTop(chain(n)) != nil {
		n--
	}
	if err := c.checkTree(chainJSON(n)); err != nil {
		t.Errorf("a chain of %d additions, which the oracle accepts, was refused: %v", n, err)
	}
	if err := c.checkTree(chainJSON(n + 1)); !tooDeep(err) {
		t.Errorf("a chain of %d additions, which the oracle refuses for depth: %v", n+1, err)
	}
}

// chainJSON returns the JSON parse tree of SELECT 1+1+…+1 with n
// additions, as libpg_query writes it, with every location 0 and the
// version of PostgreSQL 17.0.
func chainJSON(n int) string {
	var b strings.Builder
	b.WriteString(`{"version":170004,"stmts":[{"stmt":{"SelectStmt":{"targetList":[{"ResTarget":{"val":`)
	for range n {
		b.WriteString(`{"A_Expr":{"kind":"AEXPR_OP","name":[{"String":{"sval":"+"}}],"lexpr":`)
	}
	one := `{"A_Const":{"ival":{"ival":1},"location":0}}`
	b.WriteString(one)
	for range n {
		b.WriteString(`,"rexpr":` + one + `}}`)
	}
	b.WriteString(`,"location":0}}],"limitOption":"LIMIT_OPTION_DEFAULT","op":"SETOP_NONE"}}}]}`)
	return b.String()
}
