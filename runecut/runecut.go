// Package runecut cuts text short without splitting a UTF-8 sequence.
// Guards quote untrusted text in error messages and audit records; a cut
// in the middle of a character would leave invalid UTF-8 there, which
// JSON cannot carry faithfully and a terminal shows as garbage.
package runecut

import "unicode/utf8"

// Prefix returns the longest prefix of s of at most max bytes that ends
// on a character boundary: s itself when it is short enough. It steps
// back at most utf8.UTFMax-1 bytes, as far as a valid character can
// reach: in bytes that are not UTF-8 there is no boundary to find, and a
// run of stray continuation bytes must not eat the whole prefix.
func Prefix[S ~string | ~[]byte](s S, max int) S {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && cut > max-(utf8.UTFMax-1) && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
