// Package sqlguard decides whether an SQL string that a model passes as a
// tool-call argument (the query of a database server's query tool) is a
// single read-only statement, so that a profile can let a model read a
// database without letting it write, lock, call out to the file system or
// run arbitrary SQL through a side door.
//
// The decision is made on a parse tree from the PostgreSQL parser itself
// (libpg_query through github.com/pganalyze/pg_query_go), never on the
// text: a statement is accepted only when it is exactly one SELECT,
// VALUES, WITH … SELECT, EXPLAIN without ANALYZE, or (PostgreSQL only)
// SHOW, and nowhere in its tree, subqueries and CTEs included, is there a
// data-modifying statement, a SELECT INTO, a FOR UPDATE or FOR SHARE
// locking clause, or a call of a function on the deny list. Everything
// that cannot be parsed is refused. So is a backslash in a PostgreSQL
// '…' literal: the parser reads it as an ordinary character, a server
// with standard_conforming_strings off as an escape, and the two would
// disagree about where the string ends.
//
// Only pg_query_go's cgo parser package is used: the tree is read as the
// JSON that libpg_query writes, the scanner's tokens from their protobuf
// encoding, by hand. pg_query_go's root package would bring its
// generated protobuf types, whose descriptors cost time, allocations
// and resident memory at every start of the program, also in the many
// sessions that never check a query.
//
// # SQLite
//
// No parser of the SQLite grammar is available as a Go module here (the
// ones that exist are not served by the module proxy, and a tokenizer is
// not a parser), so SQLite statements are decided by the same PostgreSQL
// parser, which fails closed on SQLite-only syntax. Before that, the
// query is tokenized by SQLite's own lexical rules, and every construct
// that the two lexers read differently is refused: nested /* comments
// (PostgreSQL nests them, SQLite does not), E'…', U&'…', B'…' and N'…'
// strings, dollar quoting, [bracket] and `backtick` identifiers,
// :name, @name, $name and #name parameters, two string literals in a row
// (PostgreSQL joins them), and a carriage return inside a -- comment; ?
// parameters are handed to the parser as $1. With the token boundaries
// known to agree, the statement count is taken by SQLite's rules, and
// the statement must start with
// SELECT, WITH, VALUES or EXPLAIN [QUERY PLAN] (the EXPLAIN prefix is
// removed and the rest checked as a SELECT). That refuses every
// SQLite-only write or administration form (PRAGMA, ATTACH, DETACH,
// VACUUM INTO, REPLACE, INSERT OR …, CREATE VIRTUAL TABLE, REINDEX,
// ANALYZE) before any parser sees it; the pragma table functions
// (SELECT * FROM pragma_table_info('t')) remain, because SQLite only
// provides them for pragmas without side effects. SQLite's deny list
// holds load_extension, readfile, writefile, edit, fsdir, zipfile,
// fts3_tokenizer and the like. The price is that some valid read-only
// SQLite is refused: GLOB, REGEXP and MATCH operators, LIMIT a, b,
// INDEXED BY, bracket quoting, and identifiers that are reserved words
// in PostgreSQL.
//
// # Bounds
//
// A query longer than [MaxQueryBytes] is refused unread, and one of more
// than [MaxTokens] tokens before it is parsed. The PostgreSQL
// parser recurses in C while it builds its tree, so before parsing, the
// query's tokens (from PostgreSQL's scanner, which does not recurse) give
// an upper bound on the depth of the tree, and a query whose bound is
// over [MaxNesting] is refused; without that, a chain of a few tens of
// thousands of operators overflows the C stack and ends the process.
//
// # What it does not do
//
// A SELECT can still call a user-defined function with side effects, use
// an operator or cast whose implementation writes, read a view whose
// rules do, or run for a long time; sqlguard only knows function names,
// the built-in ones and those a [Rule] adds. It is a second line behind a
// database role that can only read, not a replacement for one.
package sqlguard

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pganalyze/pg_query_go/v6/parser"
)

// MaxQueryBytes is the longest query Check reads; a longer one is refused.
const MaxQueryBytes = 1 << 20

// MaxTokens is the most tokens, comments included, that Check parses. It
// bounds the parser's time and memory more tightly than the length does:
// a megabyte of "1," is half a million nodes.
const MaxTokens = 100_000

// MaxNesting bounds the estimated depth of a query's parse tree, counted
// in brackets, CASE expressions and operator-like tokens along the
// deepest path. Real queries stay far below it; the C parser's stack
// would not survive a few tens of thousands.
const MaxNesting = 1000

// maxTreeDepth bounds the walk over the parsed tree, in JSON objects (one
// for each node, each reference to a node and each message-typed field,
// as many as the tree's protobuf form has messages). The nesting estimate
// should keep every tree far below it; it is there so that an estimate
// that is wrong fails closed.
const maxTreeDepth = 8 * MaxNesting

// ErrRefused is wrapped by every error that Check returns, so that a
// caller can tell a refused query from its own failures with errors.Is.
var ErrRefused = errors.New("query refused")

// Dialect is the SQL dialect of the database behind the tool. The zero
// value is not a dialect, so that a Rule that forgot to say is an error.
type Dialect int

const (
	// Postgres is PostgreSQL's dialect, parsed by PostgreSQL's parser.
	Postgres Dialect = iota + 1
	// SQLite is SQLite's dialect; see the package documentation for how
	// it is decided.
	SQLite
)

// String returns the dialect's name as ParseDialect accepts it.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// ParseDialect returns the dialect named "postgres" or "sqlite", the
// spellings a profile uses.
func ParseDialect(s string) (Dialect, error) {
	switch s {
	case "postgres":
		return Postgres, nil
	case "sqlite":
		return SQLite, nil
	}
	return 0, fmt.Errorf("sqlguard: unknown SQL dialect %q (want \"postgres\" or \"sqlite\")", s)
}

// Rule configures a Checker.
type Rule struct {
	// Dialect is the database's SQL dialect; it must be set.
	Dialect Dialect
	// DenyFunctions names functions that are refused in addition to the
	// dialect's built-in list. A name is matched against the last part
	// of a call's possibly schema-qualified name, ignoring case; a name
	// ending in '*' matches every function whose name starts with the
	// rest. The built-in list cannot be shortened.
	DenyFunctions []string
}

// Checker decides whether queries are read-only. It is immutable and
// safe for concurrent use.
type Checker struct {
	dialect Dialect
	deny    denyList
}

// New returns a Checker for the rule. An unset or unknown dialect, or a
// deny entry that could never match a function name, is an error.
func New(r Rule) (*Checker, error) {
	var builtin []string
	switch r.Dialect {
	case Postgres:
		builtin = postgresDeny
	case SQLite:
		builtin = sqliteDeny
	default:
		return nil, fmt.Errorf("sqlguard: rule has no SQL dialect (%v)", r.Dialect)
	}
	deny, err := compileDeny(builtin, r.DenyFunctions)
	if err != nil {
		return nil, fmt.Errorf("sqlguard: %w", err)
	}
	return &Checker{dialect: r.Dialect, deny: deny}, nil
}

// Check returns nil when sql is exactly one read-only statement, and
// otherwise an error wrapping ErrRefused whose message says why, in words
// fit for an audit record and for the model that sent the query.
func (c *Checker) Check(sql string) error {
	if len(sql) > MaxQueryBytes {
		return refuse("the query is %d bytes long, more than the limit of %d", len(sql), MaxQueryBytes)
	}
	if !utf8.ValidString(sql) {
		return refuse("the query is not valid UTF-8")
	}
	// The C parser takes a C string: everything after a NUL would be
	// invisible to it and still reach the database.
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
	if err := c.scan(text); err != nil {
		return err
	}
	tree, err := parser.ParseToJSON(text)
	if err != nil {
		return c.parseError(err)
	}
	return c.checkTree(tree)
}

func (c *Checker) parseError(err error) error {
	if c.dialect == SQLite {
		return fmt.Errorf("%w: the PostgreSQL parser, which checks SQLite queries too, cannot parse it (write plain standard SQL): %w", ErrRefused, err)
	}
	return fmt.Errorf("%w: the PostgreSQL parser cannot parse it: %w", ErrRefused, err)
}

// refuse formats a refusal that wraps ErrRefused.
func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}
