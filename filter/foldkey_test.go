package filter

import (
	"strings"
	"testing"
	"time"

	"github.com/mcpwarden/mcpwarden/profile"
)

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

// TestLimitsHoldForNameVariants attacks the per-tool limits and approvals
// with spellings of the tool's name that a server matching names loosely
// reads as the same tool: each must count against the tool's own limit
// and need its approval.
func TestLimitsHoldForNameVariants(t *testing.T) {
	c := mustCalls(t, CallsConfig{Rules: []profile.ToolRule{
		{Name: "write_file", Approval: "always", Limits: profile.CallLimits{MaxInFlight: 1}},
	}})
	s := c.NewSession()
	now := time.Unix(1000, 0)
	if _, err := s.Admit("write_file", now); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"write_file", "Write_File", "WRITE_FILE", "ｗｒｉｔｅ＿ｆｉｌｅ", "wr\u0130te_file"} {
		if _, err := s.Admit(name, now); err == nil || !strings.Contains(err.Error(), "1 calls at once") {
			t.Errorf("Admit(%q) with write_file in flight: %v, want its limit", name, err)
		}
		if !s.NeedsApproval(name) {
			t.Errorf("NeedsApproval(%q) = false, want write_file's approval", name)
		}
	}
	if _, err := s.Admit("read_file", now); err != nil {
		t.Errorf("another tool: %v", err)
	}
}
