package sqlguard

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/pganalyze/pg_query_go/v6/parser"
)

// pgToken is one token from PostgreSQL's scanner: its kind (a number of
// pg_query's Token enum) and its byte offsets in the query.
type pgToken struct {
	kind       int32
	start, end int32
}

// The numbers of the Token enum in pg_query.proto that the checks below
// need. They are written here, rather than taken from pg_query_go's
// generated types, so that the checker does not link the protobuf
// runtime those types need; a test holds them to the generated values,
// and one the decoding below to the generated code's.
const (
	tokOpenParen    = 40 // (
	tokCloseParen   = 41 // )
	tokComma        = 44 // ,
	tokDot          = 46 // .
	tokSemicolon    = 59 // ;
	tokOpenBracket  = 91 // [
	tokCloseBracket = 93 // ]
	tokIDENT        = 258
	tokUIDENT       = 259
	tokFCONST       = 260
	tokSCONST       = 261
	tokUSCONST      = 262
	tokBCONST       = 263
	tokXCONST       = 264
	tokICONST       = 266
	tokPARAM        = 267
	tokSQLComment   = 275
	tokCComment     = 276
	tokAND          = 292
	tokAS           = 295
	tokASC          = 296
	tokCASE         = 322
	tokDESC         = 387
	tokDISTINCT     = 392
	tokEND          = 404
	tokFIRST        = 425
	tokLAST         = 502
	tokNULLS        = 556
	tokON           = 565
	tokOR           = 570
)

// Field numbers of pg_query.proto's ScanResult and ScanToken messages.
const (
	scanResultTokens = 2
	scanTokenStart   = 1
	scanTokenEnd     = 2
	scanTokenToken   = 4
)

// scan reads the tokens of text with PostgreSQL's scanner, which does not
// recurse, and refuses what must be refused before the recursive parser
// runs: too many tokens, a tree that could be too deep for it, and (for
// PostgreSQL) a string literal that the server would read differently
// from the parser.
func (c *Checker) scan(text string) error {
	toks, err := scanTokens(text)
	if err != nil {
		return c.parseError(err)
	}
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

// scanTokens runs PostgreSQL's scanner over text and decodes the
// ScanResult message it returns, by the rules of the protobuf wire
// format, which are short enough to follow here: the protobuf module,
// whose wire package alone reads the program's executable at every
// start, stays out of the program. A field the checker does not use is
// skipped, a scalar given twice keeps its last value, and anything
// malformed (groups included, which the scanner never writes) is an
// error.
func scanTokens(text string) ([]pgToken, error) {
	msg, err := parser.ScanToProtobuf(text)
	if err != nil {
		return nil, err
	}
	return decodeScanResult(msg)
}

// decodeScanResult decodes a ScanResult message into its tokens.
func decodeScanResult(msg []byte) ([]pgToken, error) {
	var toks []pgToken
	for len(msg) > 0 {
		num, typ, n, err := consumeTag(msg)
		if err != nil {
			return nil, fmt.Errorf("scan result: %w", err)
		}
		msg = msg[n:]
		if num == scanResultTokens && typ == wireBytes {
			body, n, err := consumeBytes(msg)
			if err != nil {
				return nil, fmt.Errorf("scan result token %d: %w", len(toks), err)
			}
			t, err := decodeToken(body)
			if err != nil {
				return nil, fmt.Errorf("scan result token %d: %w", len(toks), err)
			}
			toks = append(toks, t)
			msg = msg[n:]
			continue
		}
		n, err = skipValue(typ, msg)
		if err != nil {
			return nil, fmt.Errorf("scan result field %d: %w", num, err)
		}
		msg = msg[n:]
	}
	return toks, nil
}

// decodeToken decodes one ScanToken message. Its int32 and enum fields
// are varints; a negative int32 is sign-extended to 64 bits on the wire,
// so truncating the varint gives it back.
func decodeToken(msg []byte) (pgToken, error) {
	var t pgToken
	for len(msg) > 0 {
		num, typ, n, err := consumeTag(msg)
		if err != nil {
			return t, err
		}
		msg = msg[n:]
		if typ == wireVarint && (num == scanTokenStart || num == scanTokenEnd || num == scanTokenToken) {
			v, n, err := consumeVarint(msg)
			if err != nil {
				return t, err
			}
			switch num {
			case scanTokenStart:
				t.start = int32(v)
			case scanTokenEnd:
				t.end = int32(v)
			default:
				t.kind = int32(v)
			}
			msg = msg[n:]
			continue
		}
		if n, err = skipValue(typ, msg); err != nil {
			return t, err
		}
		msg = msg[n:]
	}
	return t, nil
}

// The protobuf wire types that the scanner's messages may hold.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

var errWire = errors.New("malformed protobuf message")

// consumeVarint reads a varint at the start of b and returns it and its
// length: protobuf varints are those of encoding/binary, ten bytes at
// most.
func consumeVarint(b []byte) (uint64, int, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, fmt.Errorf("%w: bad varint", errWire)
	}
	return v, n, nil
}

// consumeTag reads a field's tag: its number and wire type.
func consumeTag(b []byte) (num uint64, typ uint64, n int, err error) {
	v, n, err := consumeVarint(b)
	if err != nil {
		return 0, 0, 0, err
	}
	num, typ = v>>3, v&7
	if num == 0 || num > 1<<29-1 {
		return 0, 0, 0, fmt.Errorf("%w: field number %d", errWire, num)
	}
	return num, typ, n, nil
}

// consumeBytes reads a length-delimited value and returns its bytes and
// the length of the whole.
func consumeBytes(b []byte) ([]byte, int, error) {
	size, n, err := consumeVarint(b)
	if err != nil {
		return nil, 0, err
	}
	if size > uint64(len(b)-n) {
		return nil, 0, fmt.Errorf("%w: %d bytes of %d", errWire, size, len(b)-n)
	}
	return b[n : n+int(size)], n + int(size), nil
}

// skipValue returns the length of the value of wire type typ at the
// start of b.
func skipValue(typ uint64, b []byte) (int, error) {
	switch typ {
	case wireVarint:
		_, n, err := consumeVarint(b)
		return n, err
	case wireBytes:
		_, n, err := consumeBytes(b)
		return n, err
	case wireFixed64, wireFixed32:
		size := 8
		if typ == wireFixed32 {
			size = 4
		}
		if len(b) < size {
			return 0, fmt.Errorf("%w: truncated fixed-size value", errWire)
		}
		return size, nil
	}
	return 0, fmt.Errorf("%w: wire type %d", errWire, typ)
}

// checkNesting bounds the depth of the tree that toks parse to. Brackets
// and CASE … END open groups; lists (commas), names (dots), identifiers and
// constants add no depth. Every other token may add a level, and in a
// left-deep chain (a+b+c…, UNION, JOIN, ::) a group's depth grows with
// every such token in every enclosing group, earlier or later, so the
// bound for a group is the sum of those counts over it and its ancestors.
// Those counts are only complete at the end of the query, so the bound is
// taken after the tokens have been read; reading them does not recurse.
func checkNesting(toks []pgToken) error {
	type group struct{ parent, own int }
	groups := []group{{parent: -1}}
	stack := []int{0}
	for _, t := range toks {
		switch t.kind {
		case tokOpenParen, tokOpenBracket, tokCASE:
			groups = append(groups, group{parent: stack[len(stack)-1]})
			stack = append(stack, len(groups)-1)
		case tokCloseParen, tokCloseBracket, tokEND:
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

func tokenName(t pgToken) string {
	switch t.kind {
	case tokCloseParen:
		return ")"
	case tokCloseBracket:
		return "]"
	}
	return "END"
}

// addsDepth reports whether a token can put a level into the tree.
func addsDepth(t pgToken) bool {
	switch t.kind {
	case tokIDENT, tokUIDENT,
		tokICONST, tokFCONST, tokSCONST, tokUSCONST,
		tokBCONST, tokXCONST, tokPARAM,
		tokComma, tokDot, tokSemicolon,
		tokSQLComment, tokCComment,
		// Keywords that name a property of their neighbour or that the
		// grammar flattens into a list (a AND b AND c is one node).
		tokAS, tokAND, tokOR, tokON,
		tokASC, tokDESC, tokNULLS, tokFIRST,
		tokLAST, tokDISTINCT:
		return false
	}
	return true
}

// checkBackslashes refuses a backslash in a '…' or N'…' literal. The
// parser reads it with standard_conforming_strings on, where a backslash
// is an ordinary character; a server or role configured with it off
// reads \' as a quote inside the string, and would then see code where
// the parser saw a string. E'…' literals mean the same everywhere.
func checkBackslashes(text string, toks []pgToken) error {
	for _, t := range toks {
		if t.kind != tokSCONST {
			continue
		}
		start, end := int(t.start), int(t.end)
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
