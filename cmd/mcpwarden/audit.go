package main

import (
	"bufio"
	"container/heap"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/mcpwarden/mcpwarden/audit"
	"github.com/mcpwarden/mcpwarden/pin"
	"github.com/mcpwarden/mcpwarden/statedir"
)

// auditCommand implements "mcpwarden audit". It returns 0 on success, 1
// when a log is broken or cannot be read, and 2 for a usage error.
func auditCommand(args []string, stdout, stderr io.Writer) int {
	verb := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		verb = args[0]
		args = args[1:]
	}
	switch verb {
	case "", "summary", "verify":
	case "help":
		writeHelp(stdout, commandDoc("audit"))
		return 0
	default:
		return usageError(stderr, commandDoc("audit"), "unknown audit command %q%s", verb, suggestion(verb, []string{"summary", "verify"}))
	}
	opts, pos, code := auditFlags(verb, args, stdout, stderr)
	if code >= 0 {
		return code
	}
	if verb == "verify" {
		opts.files = append(opts.files, pos...)
	} else if len(pos) > 0 {
		return usageError(stderr, commandDoc(strings.TrimSpace("audit "+verb)), "audit: unexpected argument %q (logs are given with --file FILE)", pos[0])
	}
	files, code := opts.logFiles(stderr)
	if code >= 0 {
		return code
	}
	switch {
	case verb == "verify":
		return auditVerify(files, opts.heads, stdout, stderr)
	case verb == "summary":
		return auditSummary(files, &opts, stdout, stderr)
	case opts.follow:
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return auditFollow(ctx, files, &opts, stdout, stderr)
	default:
		return auditList(files, &opts, stdout, stderr)
	}
}

// auditOptions are the parsed flags of an audit command.
type auditOptions struct {
	files  []string
	heads  []string // verify: hashes the chain must pass through
	dir    string
	filter audit.Filter
	json   bool
	follow bool
}

// fileList is a flag that may be given more than once.
type fileList []string

func (l *fileList) String() string     { return strings.Join(*l, ",") }
func (l *fileList) Set(s string) error { *l = append(*l, s); return nil }

// auditFlags parses the flags, which may come before, between or after
// positional arguments. It returns code -1 to go on, or the exit status.
func auditFlags(verb string, args []string, stdout, stderr io.Writer) (o auditOptions, pos []string, code int) {
	var since, until string
	name := strings.TrimSpace("audit " + verb)
	pos, code = parseInterspersed(name, auditFlagSet(verb, &o, &since, &until), args, stdout, stderr)
	if code >= 0 {
		return o, nil, code
	}
	now := time.Now()
	var err error
	if o.filter.Since, err = parseWhen(since, now); err != nil {
		return o, nil, usageError(stderr, commandDoc(name), "--since: %v", err)
	}
	if o.filter.Until, err = parseWhen(until, now); err != nil {
		return o, nil, usageError(stderr, commandDoc(name), "--until: %v", err)
	}
	if d := o.filter.Decision; d != "" && d != audit.DecisionAllow && d != audit.DecisionDeny {
		return o, nil, usageError(stderr, commandDoc(name), "--decision: %q is neither allow nor deny", d)
	}
	if e := o.filter.Event; e != "" && !slices.Contains([]string{audit.EventDecision, audit.EventOutcome, audit.EventGuard, audit.EventEgress}, e) {
		return o, nil, usageError(stderr, commandDoc(name), "--event: %q is not decision, outcome, guard or egress", e)
	}
	return o, pos, -1
}

// auditFlagSet is the flag set of "mcpwarden audit [VERB]", binding into
// o, since and until; verify has flags of its own.
func auditFlagSet(verb string, o *auditOptions, since, until *string) *flag.FlagSet {
	fs := flag.NewFlagSet(strings.TrimSpace("audit "+verb), flag.ContinueOnError)
	fs.StringVar(&o.dir, "dir", "", "`DIR` of the logs (default: $XDG_STATE_HOME/mcpwarden)")
	if verb == "verify" {
		fs.Var((*fileList)(&o.heads), "head", "a `HASH` the chain must still pass through, as verify printed it; may be repeated")
		return fs
	}
	fs.Var((*fileList)(&o.files), "file", "a log `FILE` to read; may be repeated (default: every *.jsonl in --dir)")
	fs.StringVar(&o.filter.Server, "server", "", "records of the servers that match the `GLOB` (* any run of characters, ? one)")
	fs.StringVar(&o.filter.Target, "tool", "", "records whose target matches the `GLOB`: tool name, resource URI or prompt name")
	fs.StringVar(&o.filter.Decision, "decision", "", "records with this `DECISION`: allow or deny")
	fs.StringVar(&o.filter.Event, "event", "", "records of this `EVENT`: decision, outcome, guard or egress")
	fs.StringVar(&o.filter.Session, "session", "", "records of the session `ID`")
	fs.StringVar(since, "since", "", "records at or after `T`: an RFC 3339 time, or a duration back from now (90m, 24h, 7d)")
	fs.StringVar(until, "until", "", "records before `T`, written as for --since")
	fs.BoolVar(&o.json, "json", false, "print the matching lines as they are in the log, for jq")
	if verb == "" {
		fs.BoolVar(&o.follow, "follow", false, "go on printing records as they are appended, until interrupted")
	}
	return fs
}

// parseWhen reads an RFC 3339 time, or a duration before now: Go's
// durations (90m, 1h30m) and whole days (7d).
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n < 100000 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-11-24T19:00:00Z) nor a duration (90m, 24h, 7d)", s)
	}
	return now.Add(-d), nil
}

// logFiles returns the logs to read: those named, else every *.jsonl in
// the directory.
func (o *auditOptions) logFiles(stderr io.Writer) ([]string, int) {
	if len(o.files) > 0 {
		return o.files, -1
	}
	if o.dir == "" {
		d, err := statedir.Dir()
		if err != nil {
			diag(stderr, "audit logs: %v (name the logs with --dir DIR or --file FILE)", err)
			return nil, 1
		}
		o.dir = d
	}
	files, err := filepath.Glob(filepath.Join(globEscape(o.dir), "*.jsonl"))
	if err != nil {
		diag(stderr, "audit logs: %v", err)
		return nil, 1
	}
	if len(files) == 0 && !o.follow {
		if _, err := os.Stat(o.dir); errors.Is(err, fs.ErrNotExist) {
			diag(stderr, "no audit logs in %s: the directory does not exist, so no server has logged there yet (name the logs with --dir DIR or --file FILE)", o.dir)
		} else {
			diag(stderr, "no audit logs in %s: no *.jsonl file (name the logs with --dir DIR or --file FILE)", o.dir)
		}
		return nil, 1
	}
	return files, -1
}

// missingLogHint says where the logs are when a log named on the command
// line does not exist.
func missingLogHint(err error) string {
	if !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	return " (named logs are read as given; without them, every *.jsonl in --dir DIR, by default $XDG_STATE_HOME/mcpwarden)"
}

// globEscape quotes the metacharacters of a directory name for filepath.Glob.
func globEscape(dir string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(dir)
}

// openLog opens a log for reading. O_NONBLOCK keeps a FIFO from blocking
// the open; anything but a regular file is refused.
func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file (%s)", path, fi.Mode().Type())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// source is one log being read.
type source struct {
	path  string
	file  *os.File
	lines *audit.LineReader
	// bad counts the lines that were not records, for the exit status.
	bad int
}

func openSource(path string) (*source, error) {
	f, err := openLog(path)
	if err != nil {
		return nil, err
	}
	return &source{path: path, file: f, lines: audit.NewLineReader(f)}, nil
}

// next returns the next record of s, reporting lines that are not records
// on stderr. It returns io.EOF at the end, keeping an incomplete line.
func (s *source) next(stderr io.Writer) (audit.Entry, []byte, error) {
	for {
		ln, err := s.lines.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				err = fmt.Errorf("read %s: %w", s.path, err)
			}
			return audit.Entry{}, nil, err
		}
		if ln.TooLong {
			s.bad++
			diag(stderr, "%s:%d: not an audit record: the line is %d bytes long, more than %d", s.path, ln.Number, ln.Size, audit.MaxLineBytes)
			continue
		}
		e, err := audit.ParseEntry(ln.Bytes)
		if err != nil {
			s.bad++
			diag(stderr, "%s:%d: %v", s.path, ln.Number, err)
			continue
		}
		return e, ln.Bytes, nil
	}
}

// finish reports an incomplete last line.
func (s *source) finish(stderr io.Writer) {
	if ln, ok := s.lines.Rest(); ok {
		s.bad++
		diag(stderr, "%s:%d: incomplete last line (%d bytes, no newline): a write was interrupted or the file was truncated", s.path, ln.Number, ln.Size)
	}
}

// merged reads several logs and yields their records in time order. Each
// log is in time order already, its writers taking the time under the
// file lock, so a heap of one record per log is enough.
type merged struct {
	heads  []*head
	stderr io.Writer
	err    error
	// partial keeps an incomplete last line unreported: when following,
	// it may be a record still being written.
	partial bool
}

type head struct {
	src   *source
	entry audit.Entry
	raw   []byte
	index int // among the sources, to keep ties in a stable order
}

func (m *merged) Len() int { return len(m.heads) }
func (m *merged) Less(i, j int) bool {
	a, b := m.heads[i], m.heads[j]
	if !a.entry.Time.Equal(b.entry.Time) {
		return a.entry.Time.Before(b.entry.Time)
	}
	return a.index < b.index
}
func (m *merged) Swap(i, j int) { m.heads[i], m.heads[j] = m.heads[j], m.heads[i] }
func (m *merged) Push(x any)    { m.heads = append(m.heads, x.(*head)) }
func (m *merged) Pop() any {
	h := m.heads[len(m.heads)-1]
	m.heads = m.heads[:len(m.heads)-1]
	return h
}

// advance reads the next record of h's log; false when the log ended.
func (m *merged) advance(h *head) bool {
	e, raw, err := h.src.next(m.stderr)
	if err != nil {
		if !errors.Is(err, io.EOF) {
			m.err = errors.Join(m.err, err)
		}
		if !m.partial {
			h.src.finish(m.stderr)
		}
		return false
	}
	// raw is overwritten by the next read of the same log.
	h.entry, h.raw = e, append(h.raw[:0], raw...)
	return true
}

// eachRecord calls fn with every record of the sources in time order.
func eachRecord(srcs []*source, stderr io.Writer, following bool, fn func(*audit.Entry, []byte)) error {
	m := &merged{stderr: stderr, partial: following}
	for i, s := range srcs {
		h := &head{src: s, index: i}
		if m.advance(h) {
			m.heads = append(m.heads, h)
		}
	}
	heap.Init(m)
	for m.Len() > 0 {
		h := m.heads[0]
		fn(&h.entry, h.raw)
		if m.advance(h) {
			heap.Fix(m, 0)
		} else {
			heap.Pop(m)
		}
	}
	return m.err
}

// openSources opens every log; a log that cannot be opened is reported
// and counted, and the others are still read.
func openSources(files []string, stderr io.Writer) ([]*source, int) {
	var srcs []*source
	status := 0
	for _, path := range files {
		s, err := openSource(path)
		if err != nil {
			diag(stderr, "audit log: %v%s", err, missingLogHint(err))
			status = 1
			continue
		}
		srcs = append(srcs, s)
	}
	return srcs, status
}

func closeSources(srcs []*source) int {
	status := 0
	for _, s := range srcs {
		s.file.Close()
		if s.bad > 0 {
			status = 1
		}
	}
	return status
}

func auditList(files []string, o *auditOptions, stdout, stderr io.Writer) int {
	srcs, status := openSources(files, stderr)
	w := bufio.NewWriter(stdout)
	p := newPrinter(w, o.json)
	err := eachRecord(srcs, stderr, false, func(e *audit.Entry, raw []byte) {
		if o.filter.Match(e) {
			p.print(e, raw)
		}
	})
	if err := w.Flush(); err != nil {
		diag(stderr, "write: %v", err)
		status = 1
	}
	if err != nil {
		diag(stderr, "%v", err)
		status = 1
	}
	return max(status, closeSources(srcs))
}

// printer writes records as a table or as the raw lines.
type printer struct {
	w      io.Writer
	raw    bool
	header bool
}

func newPrinter(w io.Writer, raw bool) *printer { return &printer{w: w, raw: raw} }

func (p *printer) print(e *audit.Entry, raw []byte) {
	if p.raw {
		p.w.Write(raw)
		p.w.Write([]byte{'\n'})
		return
	}
	if !p.header {
		p.header = true
		p.line("TIME", "SERVER", "SESSION", "EVENT", "METHOD", "ID", "TARGET", "RESULT", "DURATION", "DETAIL")
	}
	p.line(tableRow(e)...)
}

// line writes one row of the table, without trailing blanks.
func (p *printer) line(cols ...any) {
	s := strings.TrimRight(fmt.Sprintf(tableFormat, cols...), " ")
	io.WriteString(p.w, s+"\n")
}

const tableFormat = "%-24s  %-12s  %-8s  %-8s  %-14s  %-4s  %-20s  %-8s  %9s  %s"

// tableRow is the columns of e in the table. Every text comes from a client
// or a server and is escaped, so that it cannot move the cursor or hide
// what follows on a terminal.
func tableRow(e *audit.Entry) []any {
	esc := pin.EscapeText
	result := e.Decision
	if e.Event == audit.EventOutcome {
		result = e.Outcome
	}
	dur := ""
	if d, ok := e.Duration(); ok {
		dur = formatDuration(d)
	}
	detail := e.Reason
	if e.Error != "" {
		detail = strings.TrimSpace(detail + " " + e.Error)
	}
	if len(e.Guards) > 0 {
		detail = strings.TrimSpace(detail + " [" + strings.Join(e.Guards, "; ") + "]")
	}
	session := e.Session
	if len(session) > 8 {
		session = session[:8]
	}
	return []any{e.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"), esc(e.Server), esc(session), esc(e.Event),
		esc(e.Method), esc(string(e.ID)), esc(e.Target), esc(result), dur, esc(detail)}
}

func formatDuration(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

func auditSummary(files []string, o *auditOptions, stdout, stderr io.Writer) int {
	srcs, status := openSources(files, stderr)
	sum := audit.NewSummary()
	err := eachRecord(srcs, stderr, false, func(e *audit.Entry, _ []byte) {
		if o.filter.Match(e) {
			sum.Add(e)
		}
	})
	if err != nil {
		diag(stderr, "%v", err)
		status = 1
	}
	status = max(status, closeSources(srcs))
	rows := sum.Rows()
	if len(rows) == 0 {
		fmt.Fprintln(stdout, "no calls match")
		return status
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tMETHOD\tTOOL\tCALLS\tDENIED\tERRORS\tP50\tP95")
	for _, r := range rows {
		p50, p95 := "-", "-"
		if d, ok := r.Percentile(0.50); ok {
			p50 = formatDuration(d)
		}
		if d, ok := r.Percentile(0.95); ok {
			p95 = formatDuration(d)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", pin.EscapeText(r.Server), pin.EscapeText(r.Method),
			pin.EscapeText(r.Target), r.Calls, r.Denied, r.Errors, p50, p95)
	}
	tw.Flush()
	return status
}

func auditVerify(files, heads []string, stdout, stderr io.Writer) int {
	status := 0
	for _, path := range files {
		if verifyOne(path, heads, stdout, stderr) != 0 {
			status = 1
		}
	}
	return status
}

func verifyOne(path string, heads []string, stdout, stderr io.Writer) int {
	f, err := openLog(path)
	if err != nil {
		diag(stderr, "audit log: %v%s", err, missingLogHint(err))
		return 1
	}
	defer f.Close()
	rep, err := audit.VerifyFile(f, heads...)
	if err != nil {
		diag(stderr, "%s: %v", path, err)
		return 1
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(stdout, "%s:%d: note: %s\n", path, n.Line, n.Detail)
	}
	if b := rep.Broken; b != nil {
		fmt.Fprintf(stdout, "%s:%d: chain broken (%s): %s\n", path, b.Line, b.Kind, b.Detail)
		return 1
	}
	switch {
	case rep.Lines == 0:
		fmt.Fprintf(stdout, "%s: empty\n", path)
	case rep.Chained == 0:
		fmt.Fprintf(stdout, "%s: unchained: %d records written before the chain existed; nothing to verify\n", path, rep.Unchained)
	default:
		unchained := ""
		if rep.Unchained > 0 {
			unchained = fmt.Sprintf(", after %d unchained records written before the chain existed (lines 1-%d)", rep.Unchained, rep.Unchained)
		}
		fmt.Fprintf(stdout, "%s: intact: %d chained records%s; head %s\n", path, rep.Chained, unchained, rep.Head)
	}
	return 0
}

// followInterval is how often --follow looks for appended records.
const followInterval = 200 * time.Millisecond

// auditFollow prints the records there are, then those appended, until
// ctx ends. A log that is rotated (its path names another file) is read
// to its end and then the new file from its start; one that is truncated
// is read again from its start. With a directory, logs that appear in it
// are followed from their start.
func auditFollow(ctx context.Context, files []string, o *auditOptions, stdout, stderr io.Writer) int {
	var srcs, waiting []*source
	status := 0
	for _, path := range files {
		s, err := openSource(path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && len(o.files) > 0:
			// A log named with --file may not exist yet: its server has
			// not run. It is followed from the moment it appears.
			diag(stderr, "%s does not exist yet; waiting for it", path)
			waiting = append(waiting, &source{path: path})
		case err != nil:
			diag(stderr, "audit log: %v", err)
			status = 1
		default:
			srcs = append(srcs, s)
		}
	}
	p := newPrinter(stdout, o.json)
	show := func(e *audit.Entry, raw []byte) {
		if o.filter.Match(e) {
			p.print(e, raw)
		}
	}
	if err := eachRecord(srcs, stderr, true, show); err != nil {
		diag(stderr, "%v", err)
		status = 1
	}
	known := map[string]bool{}
	for _, f := range files {
		known[f] = true
	}
	tick := time.NewTicker(followInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return max(status, closeSources(srcs))
		case <-tick.C:
		}
		for _, s := range srcs {
			s.poll(stderr, show)
		}
		waiting = slices.DeleteFunc(waiting, func(w *source) bool {
			s, err := openSource(w.path)
			if err != nil {
				return false
			}
			s.drain(stderr, show)
			srcs = append(srcs, s)
			return true
		})
		if len(o.files) == 0 {
			srcs = addNewLogs(o.dir, known, srcs, stderr, show)
		}
	}
}

// poll prints what was appended to s, and follows a rotation or a
// truncation of its file.
func (s *source) poll(stderr io.Writer, show func(*audit.Entry, []byte)) {
	s.drain(stderr, show)
	cur, err := s.file.Stat()
	if err != nil {
		return
	}
	if now, err := os.Stat(s.path); err == nil && !os.SameFile(cur, now) {
		// Rotated: what was appended to the old file before the move was
		// read by drain; the new file is read from its start.
		if ns, err := openSource(s.path); err == nil {
			diag(stderr, "%s was replaced; reading the new file", s.path)
			s.file.Close()
			*s = *ns
			s.drain(stderr, show)
		}
		return
	}
	if pos, err := s.file.Seek(0, io.SeekCurrent); err == nil && cur.Size() < pos {
		diag(stderr, "%s was truncated; reading it from the start", s.path)
		if _, err := s.file.Seek(0, io.SeekStart); err == nil {
			s.lines = audit.NewLineReader(s.file)
			s.drain(stderr, show)
		}
	}
}

func (s *source) drain(stderr io.Writer, show func(*audit.Entry, []byte)) {
	for {
		e, raw, err := s.next(stderr)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				diag(stderr, "%v", err)
			}
			return
		}
		show(&e, raw)
	}
}

// addNewLogs starts following the logs that appeared in dir.
func addNewLogs(dir string, known map[string]bool, srcs []*source, stderr io.Writer, show func(*audit.Entry, []byte)) []*source {
	files, _ := filepath.Glob(filepath.Join(globEscape(dir), "*.jsonl"))
	slices.Sort(files)
	for _, path := range files {
		if known[path] {
			continue
		}
		known[path] = true
		s, err := openSource(path)
		if err != nil {
			diag(stderr, "audit log: %v", err)
			continue
		}
		s.drain(stderr, show)
		srcs = append(srcs, s)
	}
	return srcs
}
