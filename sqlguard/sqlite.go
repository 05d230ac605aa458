package sqlguard

import (
	"strings"
)

// sqliteToken is one token of a query, tokenized by SQLite's rules.
type sqliteToken struct {
	kind       sqliteKind
	start, end int
}

type sqliteKind int

const (
	sqlIdent  sqliteKind = iota + 1 // a bare word, keywords included
	sqlQuoted                       // "double-quoted"
	sqlString                       // 'single-quoted', or X'hex'
	sqlNumber
	sqlParam     // ? or ?NNN
	sqlSemicolon // ;
	sqlPunct     // any other character
)

// sqliteBody tokenizes q by SQLite's rules, refuses it unless it is one
// statement of a read-only kind whose tokens PostgreSQL's scanner reads
// the same way, and returns the part to be parsed: the statement without
// an EXPLAIN [QUERY PLAN] prefix and without the final semicolon, with
// each ? parameter written as $1.
func sqliteBody(q string) (string, error) {
	toks, err := sqliteLex(q)
	if err != nil {
		return "", err
	}
	if n := len(toks); n > 0 && toks[n-1].kind == sqlSemicolon {
		toks = toks[:n-1]
	}
	if len(toks) == 0 {
		return "", refuse("the query holds no statement")
	}
	for _, t := range toks {
		if t.kind == sqlSemicolon {
			return "", refuse("the query holds more than one statement (a ';' may only end it)")
		}
	}
	first := 0
	if word(q, toks[0]) == "explain" {
		first = 1
		if first+1 < len(toks) && word(q, toks[first]) == "query" && word(q, toks[first+1]) == "plan" {
			first += 2
		}
		if first == len(toks) {
			return "", refuse("EXPLAIN without a statement")
		}
	}
	switch word(q, toks[first]) {
	case "select", "with", "values":
	case "pragma":
		return "", refuse("PRAGMA statements are refused; read schema information with the pragma table functions instead, e.g. SELECT * FROM pragma_table_info('t')")
	default:
		return "", refuse("the statement begins with %q; only SELECT, WITH, VALUES and EXPLAIN statements are read-only", q[toks[first].start:toks[first].end])
	}
	// PostgreSQL has no ? parameter; $1 is a value in the same place, and
	// the spaces keep it from joining a neighbouring operator or word.
	var b strings.Builder
	pos := toks[first].start
	for _, t := range toks[first:] {
		if t.kind == sqlParam {
			b.WriteString(q[pos:t.start])
			b.WriteString(" $1 ")
			pos = t.end
		}
	}
	b.WriteString(q[pos:toks[len(toks)-1].end])
	return b.String(), nil
}

// word returns t in lower case when it is a bare word, else "".
func word(q string, t sqliteToken) string {
	if t.kind != sqlIdent {
		return ""
	}
	return strings.ToLower(q[t.start:t.end])
}

// sqliteLex splits q into tokens as SQLite's tokenizer does, leaving out
// spaces and comments. It refuses every construct that PostgreSQL's
// scanner reads differently, because the tree that sqlguard checks comes
// from that scanner and the statement that runs comes from SQLite's.
func sqliteLex(q string) ([]sqliteToken, error) {
	var toks []sqliteToken
	for i := 0; i < len(q); {
		c := q[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
			i++
			continue
		case c < 0x20 || c == 0x7f:
			return nil, refuse("the query contains the control character %#02x", c)
		case c == '-' && at(q, i+1) == '-':
			// SQLite ends a -- comment only at a line feed, PostgreSQL at
			// a carriage return too.
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			if k := strings.IndexByte(q[i:i+j], '\r'); k >= 0 && k != j-1 {
				return nil, refuse("a carriage return inside a -- comment is read differently by SQLite and PostgreSQL")
			}
			i += j
			continue
		case c == '/' && at(q, i+1) == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return nil, refuse("the query has an unterminated /* comment")
			}
			// PostgreSQL nests /* comments and SQLite does not, so a /*
			// before the first */ would end the comment at different places.
			if strings.Contains(q[i+2:i+2+j+1], "/*") {
				return nil, refuse("a /* inside a /* comment is read differently by SQLite and PostgreSQL")
			}
			i += 2 + j + 2
			continue
		case c == '\'':
			j, err := quoted(q, i, '\'', "string")
			if err != nil {
				return nil, err
			}
			// PostgreSQL joins 'a' and 'b' on the next line into one
			// string; SQLite reads the second as the first one's alias.
			if n := len(toks); n > 0 && toks[n-1].kind == sqlString {
				return nil, refuse("two string literals in a row at byte %d are read differently by SQLite and PostgreSQL", i)
			}
			toks = append(toks, sqliteToken{sqlString, start, j})
			i = j
		case c == '"':
			j, err := quoted(q, i, '"', "identifier")
			if err != nil {
				return nil, err
			}
			toks = append(toks, sqliteToken{sqlQuoted, start, j})
			i = j
		case c == '`' || c == '[':
			return nil, refuse("SQLite's %c-quoted identifiers are refused; quote identifiers with double quotes", c)
		case c == '$' || c == ':' || c == '@' || c == '#':
			return nil, refuse("%q at byte %d is refused: SQLite named parameters (:name, @name, $name) and PostgreSQL dollar quoting and casts are read differently by the two; use ? for parameters", c, i)
		case c == '\\':
			return nil, refuse("a backslash outside a string is not SQL")
		case c == '?':
			i++
			for i < len(q) && isDigit(q[i]) {
				i++
			}
			if isIdentPart(at(q, i)) {
				return nil, refuse("a parameter runs into the following word at byte %d", i)
			}
			toks = append(toks, sqliteToken{sqlParam, start, i})
		case isDigit(c) || c == '.' && isDigit(at(q, i+1)):
			i = number(q, i)
			if isIdentStart(at(q, i)) || at(q, i) == '\'' || at(q, i) == '"' {
				return nil, refuse("a number runs into the following word at byte %d", i)
			}
			toks = append(toks, sqliteToken{sqlNumber, start, i})
		case isIdentStart(c):
			for i < len(q) && isIdentPart(q[i]) {
				i++
			}
			if err := checkPrefixed(q, start, i); err != nil {
				return nil, err
			}
			if i-start == 1 && (c == 'x' || c == 'X') && at(q, i) == '\'' {
				j, err := blob(q, i)
				if err != nil {
					return nil, err
				}
				toks = append(toks, sqliteToken{sqlString, start, j})
				i = j
				continue
			}
			toks = append(toks, sqliteToken{sqlIdent, start, i})
		case c == ';':
			i++
			toks = append(toks, sqliteToken{sqlSemicolon, start, i})
		default:
			i++
			toks = append(toks, sqliteToken{sqlPunct, start, i})
		}
	}
	return toks, nil
}

// checkPrefixed refuses the one-letter words that PostgreSQL reads as the
// prefix of a string literal, E'…', B'…', N'…' and U&'…'; SQLite reads
// them as a word followed by an ordinary string, and an E string's
// backslash escapes would hide text from one of the two.
func checkPrefixed(q string, start, end int) error {
	if end-start != 1 {
		return nil
	}
	switch q[start] {
	case 'e', 'E', 'b', 'B', 'n', 'N':
		if at(q, end) == '\'' {
			return refuse("%c'...' string literals are read differently by SQLite and PostgreSQL", q[start])
		}
	case 'u', 'U':
		if at(q, end) == '&' && (at(q, end+1) == '\'' || at(q, end+1) == '"') {
			return refuse("U&'...' Unicode escapes are read differently by SQLite and PostgreSQL")
		}
	}
	return nil
}

// quoted returns the end of the quoted token that starts at q[i], in
// which a doubled quote stands for itself.
func quoted(q string, i int, quote byte, what string) (int, error) {
	for j := i + 1; j < len(q); j++ {
		if q[j] != quote {
			continue
		}
		if at(q, j+1) == quote {
			j++
			continue
		}
		return j + 1, nil
	}
	return 0, refuse("the query has an unterminated quoted %s", what)
}

// blob returns the end of an X'…' literal whose quote is at q[i]; like
// SQLite it takes only an even number of hexadecimal digits.
func blob(q string, i int) (int, error) {
	j := i + 1
	for j < len(q) && isHex(q[j]) {
		j++
	}
	if at(q, j) != '\'' || (j-i-1)%2 != 0 {
		return 0, refuse("malformed X'...' blob literal at byte %d", i-1)
	}
	return j + 1, nil
}

// number returns the end of the numeric literal at q[i]: digits, a
// fraction, an exponent, hexadecimal and digit separators. It may take
// more than SQLite would; a number cannot hide a quote, a comment or a
// semicolon, so that only changes which of the two parsers complains.
func number(q string, i int) int {
	for i < len(q) {
		c := q[i]
		switch {
		case isDigit(c) || c == '.' || c == '_' || isHex(c) || c == 'x' || c == 'X':
			i++
		case (c == '+' || c == '-') && (q[i-1] == 'e' || q[i-1] == 'E') && isDigit(at(q, i+1)):
			i++
		default:
			return i
		}
	}
	return i
}

func at(q string, i int) byte {
	if i < len(q) {
		return q[i]
	}
	return 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// isIdentStart and isIdentPart follow both SQLite and PostgreSQL: every
// byte of a multi-byte UTF-8 character is a letter, and '$' may follow
// the first character.
func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }
