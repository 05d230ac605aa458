package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"syscall"
)

// The hash chain. Every record ends with two members, always last and in
// this order:
//
//	"prev":"<64 hex digits>","hash":"<64 hex digits>"}
//
// hash is the SHA-256 of the line's bytes up to and including the closing
// quote of prev's value, that is everything but the last 75 bytes; prev is
// the hash of the line before it. The hash of a line that does not end in
// the hash member (a record written before the chain existed, a torn
// line, any other text) is the SHA-256 of the whole line without its
// newline. The first line of a file has prev [Genesis].
//
// Both members have a fixed length at a fixed place, so a writer finds the
// hash of the last line by reading its last 76 bytes, and a verifier
// checks a line without re-encoding it.
const (
	// Genesis is the prev of the first record of a file.
	Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

	hashHexLen = 2 * sha256.Size
	prevMember = `,"prev":"`
	hashMember = `,"hash":"`
	// hashSuffixLen is the length of `,"hash":"<hex>"}`, the part of a
	// chained line that its hash does not cover.
	hashSuffixLen = len(hashMember) + hashHexLen + len(`"}`)
	// prevSuffixLen is the length of `,"prev":"<hex>"` just before it.
	prevSuffixLen = len(prevMember) + hashHexLen + 1
)

// MaxLineBytes bounds a line of the log. [Log.Write] refuses a record that
// would be longer, and readers report a longer line as not a record
// without holding it in memory. Records are far smaller: arguments are cut
// at [MaxArgumentsBytes] and every string at [MaxStringBytes].
const MaxLineBytes = 1 << 20

// link is what the chain members of a line say.
type link struct {
	prev, hash string // hex; prev is empty when the line has no prev member
	body       []byte // what hash covers
}

// chainLink returns the chain members of line, a line without its newline,
// and false when it does not end in a hash member.
func chainLink(line []byte) (link, bool) {
	n := len(line)
	if n < hashSuffixLen {
		return link{}, false
	}
	h, ok := hashOfSuffix(line[n-hashSuffixLen:])
	if !ok {
		return link{}, false
	}
	l := link{hash: h, body: line[:n-hashSuffixLen]}
	if len(l.body) >= prevSuffixLen {
		p := l.body[len(l.body)-prevSuffixLen:]
		v := p[len(prevMember) : len(prevMember)+hashHexLen]
		if bytes.HasPrefix(p, []byte(prevMember)) && p[len(p)-1] == '"' && isHex(v) {
			l.prev = string(v)
		}
	}
	return l, true
}

// isHex reports whether b is lower-case hexadecimal, the only spelling the
// writer produces; anything else would let one hash have two spellings.
func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// lineHash returns the hash by which the next record refers to line, a
// line without its newline.
func lineHash(line []byte) string {
	if l, ok := chainLink(line); ok {
		return l.hash
	}
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// tailReadBytes is how much of the file's end a writer reads first: a
// chained last line and its newline.
const tailReadBytes = hashSuffixLen + 1

// tailLink returns the hash of the last line of f, which is size bytes
// long, and whether that line is torn (has no newline), so that the next
// record must start with one. It reads the last 76 bytes when the last
// line is a chained record, and otherwise the whole last line in chunks,
// so memory stays bounded whatever the file holds.
func tailLink(f io.ReaderAt, size int64) (hash string, torn bool, err error) {
	if size == 0 {
		return Genesis, false, nil
	}
	n := min(size, int64(tailReadBytes))
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, size-n); err != nil {
		return "", false, fmt.Errorf("read the end of the log: %w", err)
	}
	end := size
	if buf[n-1] == '\n' {
		end--
		buf = buf[:n-1]
	} else {
		torn = true
	}
	if len(buf) >= hashSuffixLen {
		s := buf[len(buf)-hashSuffixLen:]
		if h, ok := hashOfSuffix(s); ok {
			return h, torn, nil
		}
	}
	start, err := lineStart(f, end)
	if err != nil {
		return "", false, err
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(f, start, end-start)); err != nil {
		return "", false, fmt.Errorf("read the last line of the log: %w", err)
	}
	return hex.EncodeToString(sum.Sum(nil)), torn, nil
}

// hashOfSuffix returns the hash in s, the last hashSuffixLen bytes of a
// line, when s is a hash member.
func hashOfSuffix(s []byte) (string, bool) {
	if !bytes.HasPrefix(s, []byte(hashMember)) || !bytes.HasSuffix(s, []byte(`"}`)) {
		return "", false
	}
	h := s[len(hashMember) : len(hashMember)+hashHexLen]
	if !isHex(h) {
		return "", false
	}
	return string(h), true
}

// lineStart returns the offset just after the last newline before end, or
// 0, scanning backwards in fixed chunks.
func lineStart(f io.ReaderAt, end int64) (int64, error) {
	var chunk [32 << 10]byte
	for pos := end; pos > 0; {
		n := min(pos, int64(len(chunk)))
		pos -= n
		if _, err := f.ReadAt(chunk[:n], pos); err != nil {
			return 0, fmt.Errorf("read the last line of the log: %w", err)
		}
		if i := bytes.LastIndexByte(chunk[:n], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
	}
	return 0, nil
}

// lockFD takes a flock on fd, exclusive (how is syscall.LOCK_EX) for a
// writer or shared (syscall.LOCK_SH) for a reader, waiting for the
// writers that hold it. flock locks belong to the open file description,
// so two Logs on one file exclude each other even in one process.
func lockFD(fd, how int) error {
	for {
		err := syscall.Flock(fd, how)
		if !errors.Is(err, syscall.EINTR) {
			if err != nil {
				return fmt.Errorf("lock the log: %w", err)
			}
			return nil
		}
	}
}

// unlockFD releases the lock lockFD took. Closing the file would too.
func unlockFD(fd int) { _ = syscall.Flock(fd, syscall.LOCK_UN) }
