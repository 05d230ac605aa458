package audit

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "file:///a/b", true},
		{"read_*", "read_file", true},
		{"read_*", "write_file", false},
		{"*_file", "read_text_file", true},
		{"r?ad", "read", true},
		{"r?ad", "rad", false},
		{"é?", "éü", true},
		{"?", "ü", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false},
		{"**a", "bba", true},
		{strings.Repeat("*a", 30) + "b", strings.Repeat("a", 200), false},
	}
	for _, tt := range tests {
		if got := MatchGlob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

// FuzzMatchGlob holds MatchGlob to a regular expression built from the
// pattern.
func FuzzMatchGlob(f *testing.F) {
	f.Add("a*b?c", "aXXbYc")
	f.Add("*é*", "xéy")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if !utf8Valid(pattern) || !utf8Valid(name) {
			return
		}
		var re strings.Builder
		re.WriteString(`^(?s:`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`)$`)
		want := regexp.MustCompile(re.String()).MatchString(name)
		if got := MatchGlob(pattern, name); got != want {
			t.Fatalf("MatchGlob(%q, %q) = %v, regexp says %v", pattern, name, got, want)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestFilter(t *testing.T) {
	at := time.Date(2026, 11, 24, 19, 0, 0, 0, time.UTC)
	e := Entry{Time: at, Server: "filesystem", Session: "s1", Event: EventDecision, Target: "read_file", Decision: DecisionAllow}
	tests := []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{Server: "file*", Target: "read_*", Session: "s1", Decision: "allow", Event: "decision"}, true},
		{Filter{Server: "fs"}, false},
		{Filter{Target: "write_*"}, false},
		{Filter{Session: "s"}, false},
		{Filter{Decision: "deny"}, false},
		{Filter{Event: "outcome"}, false},
		{Filter{Since: at}, true},
		{Filter{Since: at.Add(time.Nanosecond)}, false},
		{Filter{Until: at}, false},
		{Filter{Until: at.Add(time.Nanosecond)}, true},
	}
	for _, tt := range tests {
		if got := tt.f.Match(&e); got != tt.want {
			t.Errorf("%+v: %v, want %v", tt.f, got, tt.want)
		}
	}
}

func TestParseEntry(t *testing.T) {
	e, err := ParseEntry([]byte(`{"time":"2026-11-24T19:51:58.97Z","server":"fs","id":"7","duration_ms":1.5,"arguments":{"x":1},"prev":"p","hash":"h","future":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := e.Duration(); !ok || d != 1500*time.Microsecond || string(e.ID) != `"7"` || e.Server != "fs" {
		t.Errorf("%+v", e)
	}
	for _, bad := range []string{`{"server":"a","server":"b"}`, `[1]`, `{"time":"yesterday"}`, "{\"server\":\"\xff\"}", `{`} {
		if _, err := ParseEntry([]byte(bad)); err == nil {
			t.Errorf("ParseEntry(%q) succeeded", bad)
		}
	}
}

func TestSummary(t *testing.T) {
	s := NewSummary()
	ms := func(n float64) *float64 { return &n }
	add := func(e Entry) { s.Add(&e) }
	for i, d := range []float64{5, 1, 4, 2, 3} {
		id := []byte{'0' + byte(i)}
		add(Entry{Server: "a", Session: "s", Event: EventDecision, Method: "tools/call", ID: id, Target: "t"})
		add(Entry{Server: "a", Session: "s", Event: EventOutcome, Method: "tools/call", ID: id, Target: "t", Outcome: OutcomeOK, DurationMS: ms(d)})
	}
	add(Entry{Server: "a", Session: "s", Event: EventDecision, Method: "tools/call", ID: []byte("9"), Target: "t"}) // never ended
	add(Entry{Server: "a", Session: "s", Event: EventOutcome, Method: "tools/call", ID: []byte("8"), Target: "t", Outcome: OutcomeDenied, DurationMS: ms(0.1)})
	add(Entry{Server: "a", Session: "s", Event: EventOutcome, Method: "tools/call", ID: []byte("7"), Target: "t", Outcome: OutcomeServerExited, DurationMS: ms(100)})
	add(Entry{Server: "a", Event: EventGuard, Method: "tools/list", Target: "t"})
	add(Entry{Server: "a", Event: EventEgress, Target: "example.com:443"})
	rows := s.Rows()
	if len(rows) != 1 {
		t.Fatalf("rows: %+v", rows)
	}
	r := rows[0]
	p50, _ := r.Percentile(0.5)
	p95, _ := r.Percentile(0.95)
	if r.Calls != 8 || r.Denied != 1 || r.Errors != 1 || p50 != 3*time.Millisecond || p95 != 100*time.Millisecond {
		t.Errorf("row %+v, p50 %v, p95 %v", r, p50, p95)
	}
}
