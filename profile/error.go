package profile

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Error is one problem found in a profile.
type Error struct {
	Origin string // file path or "builtin:NAME"
	Line   int    // 1-based; 0 when the problem belongs to no single line
	Key    string // dotted key the problem is about; "" for syntax errors
	Msg    string // what is wrong and, in parentheses, what to do
}

// Error formats e as "profile ORIGIN:LINE: MSG".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("profile %s:%d: %s", e.Origin, e.Line, e.Msg)
	}
	return fmt.Sprintf("profile %s: %s", e.Origin, e.Msg)
}

// quoteKey renders a dotted key for a message. Keys holding quoted parts are
// shown in TOML syntax, which already delimits them.
func quoteKey(k toml.Key) string {
	s := k.String()
	if strings.Contains(s, `"`) {
		return s
	}
	return strconv.Quote(s)
}
