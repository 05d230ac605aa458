package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/go-json-experiment/json/jsontext"
)

// Kinds of [Problem].
const (
	// ProblemEdited: a record's hash does not match its content.
	ProblemEdited = "edited"
	// ProblemRemoved: a record's prev names no line of the file: records
	// before it were removed, or the one before it rewritten with a
	// recomputed hash.
	ProblemRemoved = "removed"
	// ProblemInserted: a line that the chain does not contain.
	ProblemInserted = "inserted"
	// ProblemReordered: a record's prev names a line that comes after it.
	ProblemReordered = "reordered"
	// ProblemRestarted: a record after the first line starts a new chain
	// (its prev is [Genesis]): two files joined, or lines put before the
	// start of the chain.
	ProblemRestarted = "restarted"
	// ProblemUnchained: a record without chain members after the chain
	// began: inserted, or written by an mcpwarden older than the chain.
	ProblemUnchained = "unchained"
	// ProblemNotRecord: a line that is not a JSON object, or longer than
	// [MaxLineBytes].
	ProblemNotRecord = "not a record"
	// ProblemAnchor: the chain is whole but does not pass through a hash
	// given to [Verify], which an earlier Verify reported as the head: the
	// log was rewritten, or cut before that record.
	ProblemAnchor = "anchor"
	// ProblemTorn: the last line has no newline: the file was truncated,
	// or the last write was interrupted. When a later record chains over
	// a torn line, which a writer does when it finds one, the torn line
	// is only a note.
	ProblemTorn = "torn"
)

// Problem is something [Verify] found at a line.
type Problem struct {
	Line   int    // 1-based line number
	Kind   string // one of the Problem constants
	Detail string // a sentence for people
}

// String returns the problem as "line N: detail".
func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Detail) }

// Report is what [Verify] found in one log.
type Report struct {
	Lines     int // lines read, an incomplete last line included
	Chained   int // records that carry the chain
	Unchained int // records written before the chain began
	// Head is the hash of the last line: a record appended later has it
	// as prev. Keeping it elsewhere is what detects the removal of the
	// last records, which the chain alone cannot show.
	Head string
	// Notes are what does not break the chain: torn records that a later
	// record chains over.
	Notes []Problem
	// Broken is the first break of the chain, nil when the log is intact.
	Broken *Problem
}

// Verify checks the hash chain of a log read from r and reports the first
// line that was edited, removed, inserted or moved. A log is intact when
// every line is a record, every chained record's hash matches its content,
// and its prev is the hash of the line before it (or [Genesis] on the
// first line). Records without chain members are accepted only before the
// first chained record: they were written before the chain existed.
//
// Each anchor is a hash that must be among the log's lines, normally a
// [Report.Head] kept from an earlier Verify: a chain rewritten from an
// earlier line, or cut before the anchor, no longer passes through it.
// Memory is bounded by [MaxLineBytes]; the error is for reading only.
func Verify(r io.Reader, anchors ...string) (*Report, error) {
	v := &verifier{rep: &Report{}, lr: NewLineReader(r), anchors: map[string]bool{}}
	for _, a := range anchors {
		v.anchors[a] = a == Genesis
	}
	if err := v.run(); err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	if v.rep.Broken == nil {
		for _, a := range anchors {
			if !v.anchors[a] {
				v.rep.Broken = &Problem{Line: v.rep.Lines, Kind: ProblemAnchor,
					Detail: fmt.Sprintf("the chain does not pass through %s: the log was rewritten, or cut before that record", a)}
				break
			}
		}
	}
	return v.rep, nil
}

// VerifyFile verifies the log open in f as [Verify] does, up to its size
// at the start. That size is taken under a shared flock, which waits for
// a writer in the middle of its record, so a record being appended is
// not mistaken for a torn last line; the lock is held only for the
// fstat, so writers are not held up while the file is read.
func VerifyFile(f *os.File, anchors ...string) (*Report, error) {
	size, err := settledSize(f)
	if err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	return Verify(io.NewSectionReader(f, 0, size), anchors...)
}

// settledSize returns the size of f between two writes of a record.
func settledSize(f *os.File) (int64, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var size int64
	var opErr error
	err = rc.Control(func(fd uintptr) {
		if opErr = lockFD(int(fd), syscall.LOCK_SH); opErr != nil {
			return
		}
		defer unlockFD(int(fd))
		var st syscall.Stat_t
		if opErr = syscall.Fstat(int(fd), &st); opErr == nil {
			size = st.Size
		}
	})
	if err == nil {
		err = opErr
	}
	return size, err
}

type verifier struct {
	rep         *Report
	lr          *LineReader
	prev, prev2 string          // hashes of the last two lines
	chained     bool            // a chained record was seen
	pendingTorn *lineFacts      // a line that is not a record, until the next line says whether it is torn
	anchors     map[string]bool // hashes that must occur, and whether they did
}

// lineFacts is what one line says about itself.
type lineFacts struct {
	n       int
	hash    string
	kind    int
	link    link
	selfOK  bool // hash matches the content
	tooLong bool
	// head reports a line that starts as every record does, and may
	// therefore be a record whose write was cut short.
	head bool
}

// recordHead is how every record starts.
const recordHead = `{"time":"`

const (
	kindNotRecord = iota
	kindUnchained
	kindChained
)

func inspect(ln Line) lineFacts {
	f := lineFacts{n: ln.Number, tooLong: ln.TooLong}
	if ln.TooLong {
		return f
	}
	k := min(len(ln.Bytes), len(recordHead))
	f.head = k > 0 && string(ln.Bytes[:k]) == recordHead[:k]
	// A line that ends in a hash member is judged as a chained record even
	// when it is not JSON: a torn line lost its end, so only an edit
	// leaves the hash member behind a broken record.
	if l, ok := chainLink(ln.Bytes); ok {
		f.kind, f.link, f.hash = kindChained, l, l.hash
		sum := sha256.Sum256(l.body)
		f.selfOK = hex.EncodeToString(sum[:]) == l.hash && isObject(ln.Bytes)
		return f
	}
	f.hash = lineHash(ln.Bytes)
	if isObject(ln.Bytes) {
		f.kind = kindUnchained
	}
	return f
}

// isObject reports whether line is one valid JSON object, by the strict
// rules: valid UTF-8 and no duplicate member names, which would let two
// readers see two different records.
func isObject(line []byte) bool {
	v := jsontext.Value(line)
	return v.Kind() == jsontext.KindBeginObject && v.IsValid()
}

func (v *verifier) run() error {
	for {
		ln, err := v.lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		v.rep.Lines++
		f := inspect(ln)
		if p := v.step(&f); p != nil {
			if p.Kind == "" {
				pp, err := v.classify(&f)
				if err != nil {
					return err
				}
				p = &pp
			}
			v.rep.Broken = p
			return nil
		}
		v.prev2, v.prev = v.prev, f.hash
		if _, ok := v.anchors[f.hash]; ok {
			v.anchors[f.hash] = true
		}
	}
	if v.pendingTorn != nil {
		v.rep.Broken = notRecord(v.pendingTorn)
		return nil
	}
	if ln, ok := v.lr.Rest(); ok {
		v.rep.Lines++
		v.rep.Broken = &Problem{Line: ln.Number, Kind: ProblemTorn,
			Detail: "the last line is incomplete (no newline): the file was truncated, or the last write was interrupted"}
		return nil
	}
	v.rep.Head = v.prev
	if v.rep.Lines == 0 {
		v.rep.Head = Genesis
	}
	return nil
}

// step checks one line against the one before it. It returns a problem
// with an empty Kind when the line's prev is wrong, which classify then
// explains.
func (v *verifier) step(f *lineFacts) *Problem {
	if f.tooLong {
		return &Problem{Line: f.n, Kind: ProblemNotRecord,
			Detail: fmt.Sprintf("longer than %d bytes", MaxLineBytes)}
	}
	if t := v.pendingTorn; t != nil {
		v.pendingTorn = nil
		if f.kind != kindChained || f.link.prev != t.hash {
			return notRecord(t)
		}
		v.rep.Notes = append(v.rep.Notes, Problem{Line: t.n, Kind: ProblemTorn,
			Detail: fmt.Sprintf("an incomplete record (a write was interrupted); line %d chains over it", f.n)})
	}
	switch f.kind {
	case kindNotRecord:
		if !f.head {
			return notRecord(f)
		}
		v.pendingTorn = f
		return nil
	case kindUnchained:
		if v.chained {
			return &Problem{Line: f.n, Kind: ProblemUnchained,
				Detail: "a record without prev and hash inside the chain: inserted, or written by an mcpwarden older than the chain"}
		}
		v.rep.Unchained++
		return nil
	}
	if !f.selfOK || f.link.prev == "" {
		return &Problem{Line: f.n, Kind: ProblemEdited,
			Detail: "the record's hash does not match its content"}
	}
	want := v.prev
	if f.n == 1 {
		want = Genesis
	}
	if f.link.prev != want {
		return &Problem{Line: f.n}
	}
	v.chained = true
	v.rep.Chained++
	return nil
}

// notRecord is the problem of a line that is not a record and that no
// record chains over as a torn one.
func notRecord(f *lineFacts) *Problem {
	return &Problem{Line: f.n, Kind: ProblemNotRecord, Detail: "not a JSON object"}
}

// classify explains a record whose prev is not the hash of the line
// before it, reading the rest of the log when it must.
func (v *verifier) classify(f *lineFacts) (Problem, error) {
	n, prev := f.n, f.link.prev
	if prev == Genesis {
		return Problem{Line: n, Kind: ProblemRestarted,
			Detail: fmt.Sprintf("a new chain starts here: lines 1-%d do not belong before it (two logs joined, or lines added at the start)", n-1)}, nil
	}
	if n >= 3 && prev == v.prev2 {
		return Problem{Line: n - 1, Kind: ProblemInserted,
			Detail: fmt.Sprintf("line %d chains to line %d, not to this one", n, n-2)}, nil
	}
	nextChainsOver := false
	for first := true; ; first = false {
		ln, err := v.lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Problem{}, err
		}
		later := inspect(ln)
		if first {
			nextChainsOver = later.kind == kindChained && later.link.prev == v.prev
		}
		if later.hash == prev {
			return Problem{Line: n, Kind: ProblemReordered,
				Detail: fmt.Sprintf("this record follows line %d in the chain, which comes after it", later.n)}, nil
		}
	}
	if nextChainsOver {
		return Problem{Line: n, Kind: ProblemInserted,
			Detail: fmt.Sprintf("line %d chains to line %d, not to this one", n+1, n-1)}, nil
	}
	if n == 1 {
		return Problem{Line: 1, Kind: ProblemRemoved,
			Detail: "records before the first line were removed: its prev is not the genesis value"}, nil
	}
	return Problem{Line: n, Kind: ProblemRemoved,
		Detail: fmt.Sprintf("the record before this one is missing: records between lines %d and %d were removed, or line %d was rewritten", n-1, n, n-1)}, nil
}
