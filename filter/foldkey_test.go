package filter

import "testing"

// TestFoldKeyASCIIFastPath holds foldKey's shortcut for lower-case ASCII
// to the full folding: every ASCII byte, alone and in names, must give
// the key that fold gives, or a case variant could miss its rule.
func TestFoldKeyASCIIFastPath(t *testing.T) {
	names := []string{"", "write_file", "Write_File", "WRITE_FILE", "path", "Path", "a-b.c/d~e", "tool\x7f", "\x00x"}
	for b := 0; b < 0x80; b++ {
		names = append(names, string(rune(b)), "x"+string(rune(b))+"y")
	}
	for _, s := range names {
		if got, want := foldKey(s), string(fold(s)); got != want {
			t.Errorf("foldKey(%q) = %q, fold gives %q", s, got, want)
		}
	}
	for _, s := range []string{"ſecret", "\u212aey", "İd", "ﬁle", "\xff"} {
		if got, want := foldKey(s), string(fold(s)); got != want {
			t.Errorf("foldKey(%q) = %q, fold gives %q", s, got, want)
		}
	}
}
