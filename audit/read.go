package audit

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Entry is a record read back from a log, with the members that readers
// select and show. Members it does not name (arguments, prev, hash, and
// any that later versions add) are ignored.
type Entry struct {
	Time       time.Time      `json:"time"`
	Server     string         `json:"server"`
	Session    string         `json:"session"`
	Event      string         `json:"event"`
	Method     string         `json:"method"`
	ID         jsontext.Value `json:"id"`
	Target     string         `json:"target"`
	Decision   string         `json:"decision"`
	Reason     string         `json:"reason"`
	Outcome    string         `json:"outcome"`
	Error      string         `json:"error"`
	DurationMS *float64       `json:"duration_ms"`
	Warnings   []string       `json:"warnings"`
	Guards     []string       `json:"guards"`
}

// ParseEntry decodes one line of a log. The decoder is the strict one the
// proxy uses: a line with duplicate member names, which could show one
// reader a different record than another, is an error.
func ParseEntry(line []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil {
		return Entry{}, fmt.Errorf("not an audit record: %w", err)
	}
	return e, nil
}

// Duration returns the record's duration_ms as a time.Duration, and false
// when it has none.
func (e *Entry) Duration() (time.Duration, bool) {
	if e.DurationMS == nil {
		return 0, false
	}
	return time.Duration(*e.DurationMS * float64(time.Millisecond)), true
}

// Filter selects records. A zero field selects everything.
type Filter struct {
	Server   string // glob over server: * any run of characters, ? one character
	Target   string // glob over target: the tool name, resource URI or prompt name
	Session  string // exact session identifier
	Decision string // exact decision: allow or deny
	Event    string // exact event: decision, outcome, guard or egress
	Since    time.Time
	Until    time.Time // exclusive
}

// Match reports whether e is selected.
func (f *Filter) Match(e *Entry) bool {
	switch {
	case f.Server != "" && !MatchGlob(f.Server, e.Server),
		f.Target != "" && !MatchGlob(f.Target, e.Target),
		f.Session != "" && e.Session != f.Session,
		f.Decision != "" && e.Decision != f.Decision,
		f.Event != "" && e.Event != f.Event,
		!f.Since.IsZero() && e.Time.Before(f.Since),
		!f.Until.IsZero() && !e.Time.Before(f.Until):
		return false
	}
	return true
}

// MatchGlob reports whether name matches pattern, where * stands for any
// run of characters, '/' included, and ? for one character, the globs of
// profiles. The match takes time proportional to the product of the
// lengths at worst, never exponential.
func MatchGlob(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		if p < len(pattern) {
			switch pc, pw := utf8.DecodeRuneInString(pattern[p:]); {
			case pc == '*':
				star, mark = p, n
				p++
				continue
			case pc == '?':
				_, nw := utf8.DecodeRuneInString(name[n:])
				p, n = p+pw, n+nw
				continue
			case pattern[p:p+pw] == name[n:min(n+pw, len(name))]:
				p, n = p+pw, n+pw
				continue
			}
		}
		if star < 0 {
			return false
		}
		// Let the last * absorb one more character and retry.
		_, nw := utf8.DecodeRuneInString(name[mark:])
		mark += nw
		p, n = star+1, mark
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Row is one line of a [Summary]: the calls of one target of one server.
type Row struct {
	Server, Method, Target string
	Calls                  int // requests, with or without an outcome record
	Denied                 int // answered by mcpwarden with a refusal
	Errors                 int // ended in an error, an isError result or the server's exit
	durations              []time.Duration
}

// Percentile returns the duration that p (0 < p <= 1) of the calls that
// reached the server took at most (nearest rank), and false when none
// has a duration.
func (r *Row) Percentile(p float64) (time.Duration, bool) {
	if len(r.durations) == 0 {
		return 0, false
	}
	i := int(math.Ceil(p*float64(len(r.durations)))) - 1
	return r.durations[max(0, min(i, len(r.durations)-1))], true
}

// Summary counts calls per server and target from decision and outcome
// records. A call is counted once: by its outcome record, or, when it has
// none (mcpwarden was killed, or the outcome lies outside the records
// read), by its decision. Memory grows with the number of targets and of
// calls without an outcome, plus one duration per call.
type Summary struct {
	rows map[[3]string]*Row
	open map[[4]string]*Row // calls decided and not yet ended, by server, session, id, target
}

// NewSummary returns an empty Summary.
func NewSummary() *Summary {
	return &Summary{rows: map[[3]string]*Row{}, open: map[[4]string]*Row{}}
}

// Add counts e. Records of other events, and records without a method,
// are not calls and are ignored.
func (s *Summary) Add(e *Entry) {
	if e.Method == "" || (e.Event != EventDecision && e.Event != EventOutcome) {
		return
	}
	gk := [3]string{e.Server, e.Method, e.Target}
	row := s.rows[gk]
	if row == nil {
		row = &Row{Server: e.Server, Method: e.Method, Target: e.Target}
		s.rows[gk] = row
	}
	ck := [4]string{e.Server, e.Session, string(e.ID), e.Target}
	if e.Event == EventDecision {
		s.open[ck] = row
		return
	}
	delete(s.open, ck)
	row.Calls++
	switch e.Outcome {
	case OutcomeDenied:
		row.Denied++
		return
	case OutcomeInputRequired:
		return
	case OutcomeError, OutcomeIsError, OutcomeServerExited:
		row.Errors++
	}
	if d, ok := e.Duration(); ok {
		row.durations = append(row.durations, d)
	}
}

// Rows returns the rows sorted by server, method and target.
func (s *Summary) Rows() []*Row {
	for _, row := range s.open {
		row.Calls++
	}
	clear(s.open)
	rows := make([]*Row, 0, len(s.rows))
	for _, row := range s.rows {
		slices.Sort(row.durations)
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b *Row) int {
		return cmp.Or(cmp.Compare(a.Server, b.Server), cmp.Compare(a.Method, b.Method), cmp.Compare(a.Target, b.Target))
	})
	return rows
}
