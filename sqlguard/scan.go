package sqlguard

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// scan reads the tokens of text with PostgreSQL's scanner, which does not
// recurse, and refuses what must be refused before the recursive parser
// runs: too many tokens, a tree that could be too deep for it, and (for
// PostgreSQL) a string literal that the server would read differently
// from the parser.
func (c *Checker) scan(text string) error {
	res, err := pg.Scan(text)
	if err != nil {
		return c.parseError(err)
	}
	toks := res.GetTokens()
	if len(toks) > MaxTokens {
		return refuse("the query has %d tokens, more than the limit of %d", len(toks), MaxTokens)
	}
	if err := checkNesting(toks); err != nil {
		return err
	}
	if c.dialect == Postgres {
		return checkBackslashes(text, toks)
	}
	return nil
}

// checkNesting bounds the depth of the tree that toks parse to. Brackets
// and CASE … END open groups; lists (commas), names (dots), identifiers and
// constants add no depth. Every other token may add a level, and in a
// left-deep chain (a+b+c…, UNION, JOIN, ::) a group's depth grows with
// every such token in every enclosing group, earlier or later, so the
// bound for a group is the sum of those counts over it and its ancestors.
// Those counts are only complete at the end of the query, so the bound is
// taken after the tokens have been read; reading them does not recurse.
func checkNesting(toks []*pg.ScanToken) error {
	type group struct{ parent, own int }
	groups := []group{{parent: -1}}
	stack := []int{0}
	for _, t := range toks {
		switch t.GetToken() {
		case pg.Token_ASCII_40, pg.Token_ASCII_91, pg.Token_CASE: // ( [ CASE
			groups = append(groups, group{parent: stack[len(stack)-1]})
			stack = append(stack, len(groups)-1)
		case pg.Token_ASCII_41, pg.Token_ASCII_93, pg.Token_END_P: // ) ] END
			if len(stack) == 1 {
				return refuse("the query has an unbalanced %q", tokenName(t))
			}
			stack = stack[:len(stack)-1]
		default:
			if addsDepth(t) {
				groups[stack[len(stack)-1]].own++
			}
		}
	}
	// A parent is always appended before its children, so one pass in
	// order sees every parent's sum first.
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

func tooDeep() error {
	return refuse("the query is nested too deeply (more than %d levels of brackets, CASE and operators)", MaxNesting)
}

func tokenName(t *pg.ScanToken) string {
	switch t.GetToken() {
	case pg.Token_ASCII_41:
		return ")"
	case pg.Token_ASCII_93:
		return "]"
	}
	return "END"
}

// addsDepth reports whether a token can put a level into the tree.
func addsDepth(t *pg.ScanToken) bool {
	switch t.GetToken() {
	case pg.Token_IDENT, pg.Token_UIDENT,
		pg.Token_ICONST, pg.Token_FCONST, pg.Token_SCONST, pg.Token_USCONST,
		pg.Token_BCONST, pg.Token_XCONST, pg.Token_PARAM,
		pg.Token_ASCII_44, pg.Token_ASCII_46, pg.Token_ASCII_59, // , . ;
		pg.Token_SQL_COMMENT, pg.Token_C_COMMENT,
		// Keywords that name a property of their neighbour or that the
		// grammar flattens into a list (a AND b AND c is one node).
		pg.Token_AS, pg.Token_AND, pg.Token_OR, pg.Token_ON,
		pg.Token_ASC, pg.Token_DESC, pg.Token_NULLS_P, pg.Token_FIRST_P,
		pg.Token_LAST_P, pg.Token_DISTINCT:
		return false
	}
	return true
}

// checkBackslashes refuses a backslash in a '…' or N'…' literal. The
// parser reads it with standard_conforming_strings on, where a backslash
// is an ordinary character; a server or role configured with it off
// reads \' as a quote inside the string, and would then see code where
// the parser saw a string. E'…' literals mean the same everywhere.
func checkBackslashes(text string, toks []*pg.ScanToken) error {
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
