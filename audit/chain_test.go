package audit

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// verifyFile runs Verify on the file at path.
func verifyFile(t *testing.T, path string) *Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Verify(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func verifyBytes(t *testing.T, data []byte) *Report {
	t.Helper()
	rep, err := Verify(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func checkIntact(t *testing.T, rep *Report, records int) {
	t.Helper()
	if rep.Broken != nil {
		t.Fatalf("chain broken: %v", rep.Broken)
	}
	if rep.Chained != records || rep.Lines != records {
		t.Errorf("%d lines, %d chained, want %d", rep.Lines, rep.Chained, records)
	}
}

// writeLog writes n records through one Log and returns the file's bytes.
func writeLog(t *testing.T, path string, n int) []byte {
	t.Helper()
	l, err := Open(path, "fs", "s1")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := l.Write(Record{Event: EventDecision, Method: "tools/call", RequestID: strconv.Itoa(i), Target: "tool" + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestChainFirstRecordAndHead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	data := writeLog(t, path, 3)
	lines := bytes.SplitAfter(data, []byte("\n"))
	if !bytes.Contains(lines[0], []byte(`,"prev":"`+Genesis+`","hash":"`)) {
		t.Errorf("first record does not chain to the genesis value: %s", lines[0])
	}
	for i := 1; i < 3; i++ {
		want := `"prev":"` + lineHash(bytes.TrimSuffix(lines[i-1], []byte("\n"))) + `"`
		if !bytes.Contains(lines[i], []byte(want)) {
			t.Errorf("line %d does not chain to line %d: %s", i+1, i, lines[i])
		}
	}
	rep := verifyFile(t, path)
	checkIntact(t, rep, 3)
	if want := lineHash(bytes.TrimSuffix(lines[2], []byte("\n"))); rep.Head != want {
		t.Errorf("head %s, want %s", rep.Head, want)
	}
	// The head of a shorter log is an anchor the longer one passes through.
	short := bytes.Join(lines[:2], nil)
	head := verifyBytes(t, short).Head
	if rep, _ := Verify(bytes.NewReader(data), head, Genesis); rep.Broken != nil {
		t.Errorf("anchor %s of the first two lines not found: %v", head, rep.Broken)
	}
	// A rewritten chain, or one cut before the anchor, does not.
	first := chainedLine(`{"time":"2026-11-24T19:51:58.97Z","event":"decision"`, Genesis)
	rewritten := append(first, chainedLine(`{"time":"2026-11-24T19:51:58.98Z","event":"outcome"`, lineHash(bytes.TrimSuffix(first, []byte("\n"))))...)
	if rep := verifyBytes(t, rewritten); rep.Broken != nil {
		t.Fatalf("rewritten chain: %v", rep.Broken)
	}
	for _, log := range [][]byte{rewritten, lines[0]} {
		if rep, _ := Verify(bytes.NewReader(log), head); rep.Broken == nil || rep.Broken.Kind != ProblemAnchor {
			t.Errorf("missing anchor not reported: %+v", rep.Broken)
		}
	}
	if rep := verifyBytes(t, nil); rep.Broken != nil || rep.Head != Genesis {
		t.Errorf("empty log: %+v", rep)
	}
}

// TestChainConcurrentLogs appends through two Logs on one file from many
// goroutines, as two sessions of a server do, and checks the chain.
func TestChainConcurrentLogs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	const writers, records = 6, 150
	writeConcurrently(t, path, writers, records, func(id string) Record {
		return Record{Event: EventOutcome, RequestID: id}
	})
	checkIntact(t, verifyFile(t, path), writers*records)
}

// writeConcurrently writes records records from each of writers
// goroutines through two Logs on the file at path, as two sessions of a
// server do, and closes the Logs. rec builds each record from a request
// id unique in the file.
func writeConcurrently(t *testing.T, path string, writers, records int, rec func(id string) Record) {
	t.Helper()
	var logs [2]*Log
	for i := range logs {
		l, err := Open(path, "fs", "s"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		logs[i] = l
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range records {
				if err := logs[w%2].Write(rec(strconv.Itoa(w*records + i))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, l := range logs {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

const chainChildEnv = "MCPWARDEN_AUDIT_TEST_CHAIN_CHILD"

// TestChainConcurrentProcesses appends from two child processes and this
// one at the same time; the chain must hold across them.
func TestChainConcurrentProcesses(t *testing.T) {
	const records = 300
	if path := os.Getenv(chainChildEnv); path != "" {
		chainChild(t, path, records)
		return
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestChainConcurrentProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), chainChildEnv+"="+path)
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	chainChild(t, path, records)
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child: %v\n%s", err, outs[i])
		}
	}
	rep := verifyFile(t, path)
	checkIntact(t, rep, 3*records)
	// The writers did interleave, or the test proved little.
	data, _ := os.ReadFile(path)
	if n := bytes.Count(data, []byte(`"session":"pid`)); n != 3*records {
		t.Fatalf("%d records carry a pid session", n)
	}
	switches := 0
	var last string
	for line := range bytes.Lines(data) {
		s := string(line[bytes.Index(line, []byte(`"session":"`)):][:20])
		if s != last {
			switches++
			last = s
		}
	}
	t.Logf("%d changes of writer", switches)
}

func chainChild(t *testing.T, path string, records int) {
	l, err := Open(path, "fs", "pid"+strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	for i := range records {
		if err := l.Write(Record{Event: EventDecision, RequestID: strconv.Itoa(i), Arguments: []byte(`{"n":` + strconv.Itoa(i) + `}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyFindsTampering changes a log of six records in every way the
// chain must reveal, and checks that Verify names the right line.
func TestVerifyFindsTampering(t *testing.T) {
	dir := t.TempDir()
	orig := bytes.SplitAfter(writeLog(t, filepath.Join(dir, "a.jsonl"), 6), []byte("\n"))
	orig = orig[:6]
	other := bytes.SplitAfter(writeLog(t, filepath.Join(dir, "b.jsonl"), 3), []byte("\n"))
	join := func(lines ...[]byte) []byte { return bytes.Join(lines, nil) }
	without := func(i int) [][]byte { return append(append([][]byte{}, orig[:i]...), orig[i+1:]...) }
	insert := func(i int, line []byte) [][]byte {
		out := append([][]byte{}, orig[:i]...)
		return append(append(out, line), orig[i:]...)
	}
	// A forged record that chains to line 2 with a correct hash of its
	// own, as somebody who knows the format would write it.
	forged := chainedLine(`{"time":"2026-11-24T19:51:58.97Z","server":"fs","event":"decision","target":"x"`,
		lineHash(bytes.TrimSuffix(orig[1], []byte("\n"))))
	edited := bytes.Replace(orig[2], []byte(`"target":"tool2"`), []byte(`"target":"tool9"`), 1)
	editedHash := bytes.Clone(orig[3])
	i := bytes.LastIndex(editedHash, []byte(`"}`)) - 1
	if editedHash[i] == '0' { // another hex digit
		editedHash[i] = '1'
	} else {
		editedHash[i] = '0'
	}
	tests := []struct {
		name string
		data []byte
		line int
		kind string
	}{
		{"edit a byte", join(orig[0], orig[1], edited, orig[3], orig[4], orig[5]), 3, ProblemEdited},
		{"break a record's JSON", join(orig[0], bytes.Replace(orig[1], []byte(`"server":`), []byte(`"server:`), 1), orig[2], orig[3], orig[4], orig[5]), 2, ProblemEdited},
		{"edit the hash", join(orig[0], orig[1], orig[2], editedHash, orig[4], orig[5]), 4, ProblemEdited},
		{"edit the last record", join(append(without(5), bytes.Replace(orig[5], []byte("tool5"), []byte("tool0"), 1))...), 6, ProblemEdited},
		{"delete a line", join(without(2)...), 3, ProblemRemoved},
		{"delete the first line", join(without(0)...), 1, ProblemRemoved},
		{"swap two lines", join(orig[0], orig[2], orig[1], orig[3], orig[4], orig[5]), 2, ProblemReordered},
		{"swap the first two lines", join(orig[1], orig[0], orig[2], orig[3], orig[4], orig[5]), 1, ProblemReordered},
		{"move a line later", join(orig[0], orig[2], orig[3], orig[4], orig[1], orig[5]), 2, ProblemReordered},
		{"insert a forged record", join(insert(2, forged)...), 3, ProblemInserted},
		{"insert a copied record", join(insert(2, other[1])...), 3, ProblemInserted},
		{"insert a record of another log", join(insert(4, other[0])...), 5, ProblemRestarted},
		{"insert an unchained record", join(insert(3, []byte(`{"time":"2026-11-24T19:51:58.97Z","event":"decision"}`+"\n"))...), 4, ProblemUnchained},
		{"insert text", join(insert(1, []byte("hello\n"))...), 2, ProblemNotRecord},
		{"insert a record's start", join(insert(1, []byte(`{"time":"2026`+"\n"))...), 2, ProblemNotRecord},
		{"insert a huge line", join(insert(1, []byte(strings.Repeat("x", MaxLineBytes+10)+"\n"))...), 2, ProblemNotRecord},
		{"truncate mid-line", join(orig...)[:len(join(orig...))-40], 6, ProblemTorn},
		{"truncate just before the newline", join(orig...)[:len(join(orig...))-1], 6, ProblemTorn},
		{"append another log", join(append(orig, other[0], other[1])...), 7, ProblemRestarted},
		{"duplicate a record", join(insert(3, orig[2])...), 3, ProblemInserted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := verifyBytes(t, tt.data)
			if rep.Broken == nil {
				t.Fatalf("tampering not found: %+v", rep)
			}
			if rep.Broken.Line != tt.line || rep.Broken.Kind != tt.kind {
				t.Errorf("found %q at line %d (%s), want %q at line %d", rep.Broken.Kind, rep.Broken.Line, rep.Broken.Detail, tt.kind, tt.line)
			}
		})
	}
	checkIntact(t, verifyBytes(t, join(orig...)), 6)
}

// chainedLine completes body, a record without its closing brace, with
// the chain members as the writer computes them.
func chainedLine(body, prev string) []byte {
	b := body + prevMember + prev + `"`
	return []byte(b + hashMember + sha256Hex([]byte(b)) + "\"}\n")
}

// TestChainOverTornLine leaves a torn last line, as an interrupted write
// does, and checks that the next writer ends it and chains over it, and
// that verify says so without calling it tampering.
func TestChainOverTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	data := writeLog(t, path, 3)
	if err := os.Truncate(path, int64(len(data)-50)); err != nil {
		t.Fatal(err)
	}
	if rep := verifyFile(t, path); rep.Broken == nil || rep.Broken.Kind != ProblemTorn || rep.Broken.Line != 3 {
		t.Fatalf("torn last line: %+v", rep.Broken)
	}
	writeLog(t, path, 2)
	rep := verifyFile(t, path)
	if rep.Broken != nil {
		t.Fatalf("chain broken over a torn line: %v", rep.Broken)
	}
	if len(rep.Notes) != 1 || rep.Notes[0].Line != 3 || rep.Notes[0].Kind != ProblemTorn {
		t.Errorf("notes = %v, want the torn line 3", rep.Notes)
	}
	if rep.Lines != 5 || rep.Chained != 4 {
		t.Errorf("%d lines, %d chained", rep.Lines, rep.Chained)
	}
}

// TestChainAfterUnchainedRecords appends to a log written before the
// chain existed.
func TestChainAfterUnchainedRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	old := `{"time":"2026-11-24T19:51:58.97Z","server":"fs","event":"decision"}` + "\n" +
		`{"time":"2026-11-24T19:51:58.98Z","server":"fs","event":"outcome"}` + "\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	writeLog(t, path, 2)
	rep := verifyFile(t, path)
	if rep.Broken != nil || rep.Unchained != 2 || rep.Chained != 2 {
		t.Fatalf("report %+v, broken %v", rep, rep.Broken)
	}
	// Editing an unchained record cannot be seen, but the first chained
	// record vouches for the line before it.
	data, _ := os.ReadFile(path)
	data = bytes.Replace(data, []byte(`"event":"outcome"`), []byte(`"event":"decided"`), 1)
	if rep := verifyBytes(t, data); rep.Broken == nil || rep.Broken.Line != 3 || rep.Broken.Kind != ProblemRemoved {
		t.Errorf("edit of the last unchained record: %+v", rep.Broken)
	}
}

// TestChainAfterTruncation starts again at the genesis value when the
// file was emptied under a Log (copytruncate rotation).
func TestChainAfterTruncation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, "fs", "s1")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 3 {
		if err := l.Write(Record{Event: EventDecision}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := l.Write(Record{Event: EventDecision}); err != nil {
			t.Fatal(err)
		}
	}
	checkIntact(t, verifyFile(t, path), 2)
}

// TestChainAfterForeignAppend: a line appended by something else is
// chained over by the next record, and verify still reports it.
func TestChainAfterForeignAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	writeLog(t, path, 2)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(strings.Repeat("y", 100<<10) + "\n")
	f.Close()
	data := writeLog(t, path, 1)
	lines := bytes.Split(data, []byte("\n"))
	if !bytes.Contains(lines[3], []byte(`"prev":"`+sha256Hex(lines[2])+`"`)) {
		t.Errorf("record after a foreign line does not chain to it")
	}
	if rep := verifyBytes(t, data); rep.Broken == nil || rep.Broken.Line != 3 || rep.Broken.Kind != ProblemNotRecord {
		t.Errorf("foreign line: %+v", rep.Broken)
	}
}

func TestLineReader(t *testing.T) {
	long := strings.Repeat("z", MaxLineBytes+1)
	lr := NewLineReader(strings.NewReader("a\n" + long + "\n\nlast"))
	var got []string
	for {
		ln, err := lr.Next()
		if err != nil {
			break
		}
		if ln.TooLong {
			got = append(got, strconv.Itoa(ln.Number)+":long:"+strconv.FormatInt(ln.Size, 10))
			continue
		}
		got = append(got, strconv.Itoa(ln.Number)+":"+string(ln.Bytes))
	}
	rest, ok := lr.Rest()
	if want := "1:a|2:long:" + strconv.Itoa(len(long)) + "|3:"; strings.Join(got, "|") != want {
		t.Errorf("lines %q, want %q", got, want)
	}
	if !ok || rest.Number != 4 || string(rest.Bytes) != "last" {
		t.Errorf("rest %+v %v", rest, ok)
	}
	// A line exactly at the limit is kept.
	lr = NewLineReader(strings.NewReader(long[1:] + "\n"))
	if ln, err := lr.Next(); err != nil || ln.TooLong || len(ln.Bytes) != MaxLineBytes {
		t.Errorf("line of MaxLineBytes: %v %v %d", err, ln.TooLong, len(ln.Bytes))
	}
}

// TestLineReaderContinues reads a line that grows after the end was
// reached, as following a file does.
func TestLineReaderContinues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, []byte("one\ntw"), 0o600)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lr := NewLineReader(f)
	if ln, err := lr.Next(); err != nil || string(ln.Bytes) != "one" {
		t.Fatalf("%q %v", ln.Bytes, err)
	}
	if _, err := lr.Next(); err == nil {
		t.Fatal("incomplete line returned")
	}
	w, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	w.WriteString("o\n")
	w.Close()
	if ln, err := lr.Next(); err != nil || string(ln.Bytes) != "two" || ln.Number != 2 {
		t.Fatalf("%q %d %v", ln.Bytes, ln.Number, err)
	}
}

// TestWriteRefusesOverlongRecord: a record longer than a reader accepts
// is refused, and the file and the chain stay as they were.
func TestWriteRefusesOverlongRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, "fs", "s1")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	many := make([]string, MaxLineBytes/MaxStringBytes+10)
	for i := range many {
		many[i] = strings.Repeat("g", MaxStringBytes)
	}
	if err := l.Write(Record{Event: EventOutcome, Guards: many}); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("overlong record: %v", err)
	}
	if err := l.Write(Record{Event: EventOutcome}); err != nil {
		t.Fatal(err)
	}
	checkIntact(t, verifyFile(t, path), 1)
}

// FuzzVerify feeds arbitrary logs to Verify: it must neither panic nor
// call a log intact that holds a line other than a record, and it must
// count every line.
func FuzzVerify(f *testing.F) {
	first := chainedLine(`{"time":"2026-11-24T19:51:58.97Z","event":"decision"`, Genesis)
	second := chainedLine(`{"time":"2026-11-24T19:51:58.98Z","event":"outcome"`, lineHash(bytes.TrimSuffix(first, []byte("\n"))))
	f.Add(append(append([]byte{}, first...), second...))
	f.Add(append(append([]byte{}, second...), first...))
	f.Add([]byte(`{"time":"x"}` + "\n"))
	f.Add([]byte("{\"time\":\"2026\n" + `{"a":1,"a":2}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Verify(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Broken != nil {
			return
		}
		lines := bytes.Count(data, []byte("\n"))
		if rep.Lines != lines || rep.Chained+rep.Unchained+len(rep.Notes) != lines {
			t.Fatalf("intact log of %d lines: %+v", lines, rep)
		}
	})
}

// TestVerifyFileWaitsForWriter: a record half written while its writer
// holds the lock is not reported as torn; VerifyFile waits for it.
func TestVerifyFileWaitsForWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	data := writeLog(t, path, 2)
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := lockFD(int(w.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	line := chainedLine(`{"time":"2026-11-24T19:51:58.97Z","event":"decision"`, lineHash(bytes.TrimSuffix(bytes.SplitAfter(data, []byte("\n"))[1], []byte("\n"))))
	w.Write(line[:20])
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Verify alone sees the half-written record as a torn last line.
	if rep, _ := Verify(r); rep.Broken == nil || rep.Broken.Kind != ProblemTorn {
		t.Fatalf("half-written record: %+v", rep.Broken)
	}
	done := make(chan *Report)
	go func() {
		rep, err := VerifyFile(r)
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	select {
	case rep := <-done:
		t.Fatalf("VerifyFile did not wait for the writer: %+v", rep)
	case <-time.After(100 * time.Millisecond):
	}
	w.Write(line[20:])
	unlockFD(int(w.Fd()))
	rep := <-done
	checkIntact(t, rep, 3)
}
