package filter

import "slices"

// anyRune stands for '?' inside a compiled segment. It is not a valid rune,
// so no decoded name can contain it.
const anyRune rune = -1

// glob is a compiled pattern: the literal runs between '*' wildcards.
// A pattern without '*' has exactly one segment, which must match the
// whole name; with n stars there are n+1 segments, possibly empty.
type glob struct {
	text string
	segs [][]rune
}

// compileGlob splits pattern at '*' and marks '?' with anyRune.
// Every other rune is literal; there is no escape character, so a
// pattern means exactly what it shows.
func compileGlob(pattern string) glob {
	g := glob{text: pattern}
	seg := []rune{}
	for _, r := range pattern {
		switch r {
		case '*':
			g.segs = append(g.segs, seg)
			seg = []rune{}
		case '?':
			seg = append(seg, anyRune)
		default:
			seg = append(seg, r)
		}
	}
	g.segs = append(g.segs, seg)
	return g
}

// folded returns g with every literal rune case- and compatibility-folded,
// keeping the wildcard structure of the original pattern. Folding after
// parsing matters: a fullwidth '＊' in a pattern must stay a literal.
func (g glob) folded() glob {
	f := glob{text: g.text, segs: make([][]rune, len(g.segs))}
	for i, seg := range g.segs {
		out := make([]rune, 0, len(seg))
		for _, r := range seg {
			if r == anyRune {
				out = append(out, r)
				continue
			}
			out = appendFolded(out, r)
		}
		f.segs[i] = out
	}
	return f
}

// match reports whether name matches g.
//
// Segments are placed left to right at their leftmost possible position:
// with '*' able to absorb anything, the leftmost placement of each middle
// segment never rules out a match that a later one would allow. Each
// segment is searched once, so the cost is O(len(name)·len(pattern)) in
// the worst case, with no backtracking across stars.
func (g glob) match(name []rune) bool {
	if len(g.segs) == 1 {
		return len(name) == len(g.segs[0]) && segEqual(g.segs[0], name)
	}
	first, last := g.segs[0], g.segs[len(g.segs)-1]
	if len(name) < len(first)+len(last) {
		return false
	}
	if !segEqual(first, name[:len(first)]) || !segEqual(last, name[len(name)-len(last):]) {
		return false
	}
	rest := name[len(first) : len(name)-len(last)]
	for _, seg := range g.segs[1 : len(g.segs)-1] {
		i := segIndex(rest, seg)
		if i < 0 {
			return false
		}
		rest = rest[i+len(seg):]
	}
	return true
}

// segEqual reports whether seg matches s, which has the same length.
func segEqual(seg, s []rune) bool {
	return slices.EqualFunc(seg, s, func(p, r rune) bool { return p == anyRune || p == r })
}

// segIndex returns the first index at which seg matches in s, or -1.
func segIndex(s, seg []rune) int {
	for i := 0; i+len(seg) <= len(s); i++ {
		if segEqual(seg, s[i:i+len(seg)]) {
			return i
		}
	}
	return -1
}
