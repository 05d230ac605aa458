// Package audit writes the audit log of mcpwarden: one JSON object a line,
// one line for every decision about a client request and one for its outcome.
// It also reads logs back ([LineReader], [ParseEntry], [Filter], [Summary])
// and checks their hash chain ([Verify]), so that the writer and its
// readers share one definition of the format.
//
// The log must survive whatever ends mcpwarden or the server. Every record is
// therefore built in memory and handed to the kernel with a single write(2) on
// a file opened with O_APPEND: once [Log.Write] returns, the record is in the
// page cache and outlives a SIGKILL of the process, and concurrent writers,
// including other processes appending to the same file, never interleave
// partial lines. Nothing is buffered in user space; the flock a write holds
// is released by the kernel when a writer dies. Records reach stable
// storage when the kernel writes them back, or at the latest on [Log.Close];
// only a crash of the machine before then can lose them.
//
// The file is created with mode 0600 and its directories with mode 0700. An
// existing file that is not a regular file, is a symbolic link, belongs to
// another user, or is writable by group or others is refused, because
// somebody else could alter or forge its records; an existing file that is
// merely readable by others is narrowed to 0600.
//
// # Records
//
// Each line is a JSON object with these members, in this order; empty values
// are omitted, except prev and hash, which every record has:
//
//	time         RFC 3339 time in UTC with nanoseconds, taken while the
//	             writer holds the file lock, so lines are in time order
//	server       the server name given to [Open]
//	session      the session identifier given to [Open]
//	event        "decision", "outcome", "guard" or "egress" ([EventEgress]
//	             records add their members after arguments)
//	method       the JSON-RPC method: tools/call, resources/read, prompts/get
//	             (tools/list for guard records)
//	id           the JSON-RPC request id, as it appeared in the request
//	             (a JSON number or string)
//	target       what the request is about: the tool name for tools/call, the
//	             resource URI for resources/read, the prompt name for
//	             prompts/get; one member for all methods so that a single
//	             query finds every record about a name
//	decision     "allow" or "deny"
//	reason       why the decision was taken
//	outcome      how the request ended: "ok", "error", "isError", "denied",
//	             "server_exited", "cancelled", "input_required"
//	error        the error message that went back to the client
//	duration_ms  time from forwarding to answer, in milliseconds (a number)
//	warnings     array of strings, e.g. sandbox features that are missing
//	guards       array of strings: what the guards changed or decided
//	arguments    the request's arguments as embedded JSON, after
//	             [RedactArguments]
//	prev         the hash of the line before this one (64 hex digits), or
//	             [Genesis] on the first line of the file
//	hash         SHA-256, in hex, of this line up to and including prev's
//	             value: everything but its last 75 bytes
//
// Text members longer than [MaxStringBytes] are truncated with a marker that
// says how many bytes were dropped, so that records stay small.
//
// # The hash chain
//
// prev and hash make the file a hash chain, which [Verify] checks: editing,
// removing, inserting or moving a record breaks it at that line. A line
// that carries no hash member (a record written before the chain existed,
// a torn line, foreign text) is referred to by the SHA-256 of its bytes
// without the newline. The chain has no secret key: somebody who can write
// the file and knows the format can rewrite it from the edited line on.
// What it stops is the edit that does not recompute every later hash, and
// keeping [Report.Head] elsewhere also reveals a rewrite and the removal of
// the last records, which the chain alone cannot show.
//
// Several processes may append to one file. Each write holds an exclusive
// flock on the file, so that a record's prev is the line that is really
// before it. A Log remembers the hash of its own last record and the
// file's size after it; when the size is unchanged it needs no read, and
// otherwise it reads the last 76 bytes, or the whole last line when that
// is not a chained record.
//
// [VerifyFile] takes the file's size under a shared flock, between two
// writes, and reads up to it without the lock.
//
// A write cut short (a full disk, a crash of the machine) leaves a torn
// last line. The next writer ends it with a newline, in the same write as
// its own record, which chains to the torn line; [Verify] then reports the
// torn line as a note, not as a break. A torn last line that no record
// follows is a break, since it cannot be told from a truncated file.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/rs/zerolog"

	"github.com/mcpwarden/mcpwarden/statedir"
)

// Values of [Record.Event].
const (
	EventDecision = "decision"
	EventOutcome  = "outcome"
	// EventGuard records what a guard did outside a call: a tool hidden
	// because its definition changed, a description flagged.
	EventGuard = "guard"
)

// Values of [Record.Decision].
const (
	DecisionAllow = "allow"
	DecisionDeny  = "deny"
)

// Values of [Record.Outcome].
const (
	OutcomeOK           = "ok"
	OutcomeError        = "error"
	OutcomeIsError      = "isError"
	OutcomeServerExited = "server_exited"
	OutcomeCancelled    = "cancelled"
	// OutcomeDenied: mcpwarden refused the call itself.
	OutcomeDenied = "denied"
	// OutcomeInputRequired: mcpwarden answered with an input_required
	// result that asks a person for approval.
	OutcomeInputRequired = "input_required"
)

// maxIDBytes bounds a request id that is embedded as raw JSON; longer ids
// are recorded as truncated text.
const maxIDBytes = 256

// Record is one audited event. Zero-valued fields are left out of the line.
type Record struct {
	Event        string        // EventDecision or EventOutcome
	Method       string        // tools/call, resources/read or prompts/get
	RequestID    string        // the JSON-RPC id as its raw JSON text, e.g. `7` or `"a"`
	Target       string        // tool name, resource URI or prompt name
	Arguments    []byte        // raw JSON or nil; redacted by [Log.Write]
	Decision     string        // DecisionAllow or DecisionDeny
	Reason       string        // why the decision was taken
	Outcome      string        // OutcomeOK, OutcomeError, ...
	ErrorMessage string        // error returned to the client, if any
	Duration     time.Duration // from forwarding the request to its answer
	Warnings     []string      // conditions that weaken the guarantees
	Guards       []string      // what the guards changed: secrets redacted, hidden text stripped, approval given
	Egress       *Egress       // with EventEgress: the connection's destination and traffic
}

// Log is an append-only audit log file. It is safe for concurrent use.
type Log struct {
	path    string
	server  string
	session string

	mu     sync.Mutex // serialises records and guards the fields below
	file   *os.File
	fd     int // file's descriptor, for flock and fstat
	sink   *fileSink
	logger zerolog.Logger
	// The hash of the last line and the file's size after this Log last
	// wrote; while the size is unchanged no other writer has appended,
	// and the end of the file need not be read.
	last    string
	lastEnd int64
	// wrote is set once this Log has written (or tried to write) a
	// record: only then has Close anything to flush to stable storage.
	wrote bool
}

// fileSink hands each zerolog event to the file, completed with its hash
// member, and keeps the error for [Log.Write] to return. It reports
// success to zerolog, which would otherwise print the failure on stderr
// and drop it.
type fileSink struct {
	file *os.File
	// lead starts the write with a newline that ends a torn last line.
	lead bool
	buf  []byte // the line being written, reused
	hash string // hash member of the line last written
	n    int    // bytes of it written
	err  error
}

func (s *fileSink) Write(p []byte) (int, error) {
	s.n, s.hash = 0, ""
	// zerolog ends every event with "}\n"; the hash covers what precedes.
	body, ok := bytes.CutSuffix(p, []byte("}\n"))
	if !ok {
		s.err = errors.New("unexpected end of an encoded record")
		return len(p), nil
	}
	sum := sha256.Sum256(body)
	s.buf = s.buf[:0]
	if s.lead {
		s.buf = append(s.buf, '\n')
	}
	s.buf = append(s.buf, body...)
	s.buf = append(s.buf, hashMember...)
	s.buf = hex.AppendEncode(s.buf, sum[:])
	at := len(s.buf) - hashHexLen
	s.buf = append(s.buf, "\"}\n"...)
	if len(s.buf) > MaxLineBytes {
		s.err = fmt.Errorf("record of %d bytes is longer than the %d bytes a line may hold", len(s.buf), MaxLineBytes)
		return len(p), nil
	}
	s.n, s.err = s.file.Write(s.buf)
	// The line already holds the hash in hex; encoding the sum again
	// would cost a second encoding and allocation on every record.
	s.hash = string(s.buf[at : at+hashHexLen])
	return len(p), nil
}

// DefaultPath returns the log file for the named server:
// $XDG_STATE_HOME/mcpwarden/SERVER.jsonl, or
// $HOME/.local/state/mcpwarden/SERVER.jsonl when XDG_STATE_HOME is unset or
// not absolute (as the XDG Base Directory specification requires). Bytes of
// server other than ASCII letters, digits, '-', '_' and '.' become '_', as
// does a leading '.', so the name cannot leave the directory or hide the file.
// Both rules come from [statedir], which the pin store shares.
func DefaultPath(server string) (string, error) {
	name, err := statedir.FileBase(server)
	if err != nil {
		return "", fmt.Errorf("audit: default log path: %w", err)
	}
	dir, err := statedir.Dir()
	if err != nil {
		return "", fmt.Errorf("audit: default log path: %w", err)
	}
	return filepath.Join(dir, name+".jsonl"), nil
}

// Open opens the log file at path for appending, creating it with mode 0600
// and its missing parent directories with mode 0700. The server and session
// strings are added to every record.
func Open(path, server, session string) (*Log, error) {
	if path == "" {
		return nil, errors.New("audit: empty log path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: create log directory: %w", err)
	}
	// O_NONBLOCK keeps a FIFO planted at path from blocking the open; it
	// does not change writes to a regular file. O_NOFOLLOW refuses a
	// symbolic link that would redirect records into another file.
	// O_RDWR, not O_WRONLY: the end of the file is read back to find
	// the hash of the last line.
	flags := os.O_RDWR | os.O_APPEND | os.O_CREATE | syscall.O_NOFOLLOW | syscall.O_NONBLOCK
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("audit: refusing log file %s: it is a symbolic link", path)
		}
		return nil, fmt.Errorf("audit: open log: %w", err)
	}
	if err := secure(f); err != nil {
		f.Close()
		return nil, err
	}
	sink := &fileSink{file: f}
	return &Log{
		path:    path,
		server:  server,
		session: session,
		file:    f,
		fd:      int(f.Fd()),
		sink:    sink,
		logger:  zerolog.New(sink),
		lastEnd: -1,
	}, nil
}

// secure checks that only the current user can write to the open file and
// narrows its mode to 0600. It inspects the open descriptor, so the file
// cannot be swapped between the check and the writes.
func secure(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("audit: check log file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("audit: refusing log file %s: not a regular file (%s)", f.Name(), fi.Mode().Type())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("audit: refusing log file %s: owned by uid %d, not by the current user (uid %d)",
			f.Name(), st.Uid, os.Geteuid())
	}
	perm := fi.Mode().Perm()
	if perm&0o022 != 0 {
		return fmt.Errorf("audit: refusing log file %s: mode %04o lets group or others write to it; run chmod 600 on it after checking its contents",
			f.Name(), perm)
	}
	if perm != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("audit: restrict log file mode: %w", err)
		}
	}
	return nil
}

// Path returns the path of the log file.
func (l *Log) Path() string { return l.path }

// Write appends r as one line, adding the time, server and session, and
// redacting r.Arguments with [RedactArguments]. When Write returns nil the
// record has been handed to the kernel in a single write.
func (l *Log) Write(r Record) error {
	var args []byte
	if len(r.Arguments) > 0 {
		args = RedactArguments(r.Arguments)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return fmt.Errorf("audit: write record: %w", os.ErrClosed)
	}
	if err := lockFD(l.fd, syscall.LOCK_EX); err != nil {
		return fmt.Errorf("audit: write record: %w", err)
	}
	defer unlockFD(l.fd)
	prev, size, torn, err := l.tail()
	if err != nil {
		return fmt.Errorf("audit: write record: %w", err)
	}
	// Logger.Log returns nil when zerolog's process-wide level disables
	// events; an audit record must never be dropped silently.
	ev := l.logger.Log()
	if ev == nil {
		return errors.New("audit: write record: zerolog's global level disables logging")
	}
	// The time is taken under the lock so that lines are in time order,
	// also across processes.
	// Appending into a buffer on the stack spares the string Format
	// would allocate; Bytes writes it as the same JSON string.
	var tb [len(time.RFC3339Nano)]byte
	ev.Bytes("time", time.Now().UTC().AppendFormat(tb[:0], time.RFC3339Nano))
	fields(ev, l.server, l.session, &r, args)
	ev.Str("prev", prev)
	l.sink.lead, l.sink.err = torn, nil
	l.wrote = true
	ev.Send()
	if err := l.sink.err; err != nil {
		// A short write left a torn line, and any write a changed file:
		// the next one reads the end of the file again.
		l.lastEnd = -1
		return fmt.Errorf("audit: write record: %w", err)
	}
	l.last, l.lastEnd = l.sink.hash, size+int64(l.sink.n)
	return nil
}

// tail returns the hash of the last line of the file, the file's size, and
// whether its last line is torn. It reads the file only when another
// writer has changed its size since this Log last wrote; the caller holds
// the file lock.
func (l *Log) tail() (hash string, size int64, torn bool, err error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(l.fd, &st); err != nil {
		return "", 0, false, fmt.Errorf("check the log's size: %w", err)
	}
	size = st.Size
	if size == l.lastEnd {
		return l.last, size, false, nil
	}
	hash, torn, err = tailLink(l.file, size)
	return hash, size, torn, err
}

// fields adds the members of r after time, in the documented order.
func fields(ev *zerolog.Event, server, session string, r *Record, args []byte) {
	str(ev, "server", server)
	str(ev, "session", session)
	str(ev, "event", r.Event)
	str(ev, "method", r.Method)
	requestID(ev, r.RequestID)
	str(ev, "target", r.Target)
	str(ev, "decision", r.Decision)
	str(ev, "reason", r.Reason)
	str(ev, "outcome", r.Outcome)
	str(ev, "error", r.ErrorMessage)
	if r.Duration != 0 {
		ev.Float64("duration_ms", float64(r.Duration)/float64(time.Millisecond))
	}
	strs(ev, "warnings", r.Warnings)
	strs(ev, "guards", r.Guards)
	if args != nil {
		ev.RawJSON("arguments", args)
	}
	egressFields(ev, r.Egress)
}

func str(ev *zerolog.Event, key, val string) {
	if val != "" {
		ev.Str(key, truncateText(val))
	}
}

// strs adds a non-empty array of texts, each truncated. Only when one is
// too long is the array copied, so that a typical record allocates
// nothing for it.
func strs(ev *zerolog.Event, key string, vals []string) {
	if len(vals) == 0 {
		return
	}
	if slices.ContainsFunc(vals, func(v string) bool { return len(v) > MaxStringBytes }) {
		cut := make([]string, len(vals))
		for i, v := range vals {
			cut[i] = truncateText(v)
		}
		vals = cut
	}
	ev.Strs(key, vals)
}

// requestID embeds a JSON-RPC id as the number or string it was, so that
// 1 and "1" stay distinct. Anything else, which a well-formed request cannot
// carry, is recorded as text rather than risk a broken line.
func requestID(ev *zerolog.Event, id string) {
	if id == "" {
		return
	}
	if v, ok := rawID(id); ok {
		ev.RawJSON("id", v)
		return
	}
	ev.Str("id", truncateText(id))
}

// rawID returns id as the JSON value to embed, converted once, and false
// when it is not a JSON number or string.
func rawID(id string) (jsontext.Value, bool) {
	if len(id) > maxIDBytes {
		return nil, false
	}
	// Checking both ends excludes surrounding whitespace, and with it any
	// newline that would split the record.
	first, last := id[0], id[len(id)-1]
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	if !(first == '"' || first == '-' || isDigit(first)) || !(last == '"' || isDigit(last)) {
		return nil, false
	}
	v := jsontext.Value(id)
	k := v.Kind()
	return v, (k == jsontext.KindString || k == jsontext.KindNumber) && v.IsValid()
}

// Close flushes the file to stable storage and closes it. Further writes
// fail with an error wrapping [os.ErrClosed].
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return fmt.Errorf("audit: close: %w", os.ErrClosed)
	}
	f := l.file
	l.file = nil
	// A session that wrote nothing (a server that exited at once, a
	// client that never called a tool) has nothing to flush, and an
	// fsync of an untouched file still costs the journal a commit on
	// every start.
	var syncErr error
	if l.wrote {
		syncErr = f.Sync()
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("audit: close: %w", err)
	}
	if syncErr != nil {
		return fmt.Errorf("audit: close: %w", syncErr)
	}
	return nil
}
