package pin

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// fileVersion is the format of the pin file; a file of another version is
// refused rather than guessed at.
const fileVersion = 1

// Tool is one entry of a tools/list result.
type Tool struct {
	Name       string // the tool's name, equal to the definition's "name" member
	Definition []byte // the tool object as the server sent it
}

// Status is how a tool's current definition relates to its pin.
type Status int

// The statuses of a [Verdict]. New and Changed tools are blocked: the proxy
// hides them and refuses calls to them until the user accepts them.
const (
	// Pinned: the definition equals the accepted one.
	Pinned Status = iota + 1
	// FirstSight: the server had no pins, and this definition has just been
	// accepted as the tool's pin.
	FirstSight
	// New: the server has pins, and this tool has never been accepted.
	New
	// Changed: the definition differs from the accepted one.
	Changed
)

// String returns the status as one lower-case word, for diagnostics and
// audit records.
func (s Status) String() string {
	switch s {
	case Pinned:
		return "pinned"
	case FirstSight:
		return "first-sight"
	case New:
		return "new"
	case Changed:
		return "changed"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Verdict is the judgement on one tool.
type Verdict struct {
	Name   string
	Status Status
	// Old is the accepted canonical definition of a Changed tool (nil
	// otherwise); New is the current one from [Store.Check], or the pending
	// one from [Store.Pending], or the accepted one of a pinned tool from
	// [Store.List].
	Old, New []byte
	// Since is when the definition in New was first seen for a New or
	// Changed tool, and when it was accepted otherwise.
	Since time.Time
}

// Blocked reports whether the tool must be hidden and its calls refused.
func (v Verdict) Blocked() bool { return v.Status == New || v.Status == Changed }

// fileState is the content of a pin file.
type fileState struct {
	Version int               `json:"version"`
	Server  string            `json:"server"`
	Tools   map[string]*entry `json:"tools"`
}

// entry is the record of one tool. A tool seen at first sight or accepted
// has Hash, Definition and Accepted; a tool whose current definition has
// not been accepted has Pending, and nothing else when it was never
// accepted at all.
type entry struct {
	Hash       string         `json:"hash,omitempty"`
	Definition jsontext.Value `json:"definition,omitempty"`
	Accepted   time.Time      `json:"accepted,omitzero"`
	Pending    *pending       `json:"pending,omitempty"`
}

// pending is a definition seen but not accepted.
type pending struct {
	Hash       string         `json:"hash"`
	Definition jsontext.Value `json:"definition"`
	Seen       time.Time      `json:"seen"`
}

// Store holds the pins of one server in a file of their own. Its methods
// are safe for concurrent use, also by several processes: each takes an
// flock(2) lock on a lock file beside the pin file for its duration.
type Store struct {
	dir, server string
	file, lock  string // names inside dir
}

// Open returns the store of the named server's pins in dir (usually
// [DefaultDir]), creating dir with mode 0700 when missing. It refuses a
// directory or pin file that another user owns or that group or others can
// write, and reads the pin file if there is one, so that a corrupt file is
// reported at once rather than on first use.
func Open(dir, server string) (*Store, error) {
	base, err := fileBase(server)
	if err != nil {
		return nil, err
	}
	s := newStore(dir, server, base)
	if err := s.read(func(*fileState) {}); err != nil {
		return nil, err
	}
	return s, nil
}

func newStore(dir, server, base string) *Store {
	return &Store{dir: dir, server: server, file: base + ".json", lock: base + ".lock"}
}

// Path returns the path of the pin file, which may not exist yet.
func (s *Store) Path() string { return filepath.Join(s.dir, s.file) }

// Server returns the server name given to [Open].
func (s *Store) Server() string { return s.server }

// Check judges the tools of one tools/list result against the pins and
// returns a verdict for each, in the order given. A tool may appear twice;
// each entry is judged on its own, and a name with any blocked verdict
// should be blocked as a whole.
//
// When the server has no pins yet, every tool is pinned as it is
// (FirstSight). Once it has pins, a tool never accepted is New and a tool
// whose canonical definition differs from the accepted one is Changed; both
// are recorded as pending, with the definition just seen, for the user to
// review and accept. A pinned tool that shows its accepted definition again
// is Pinned even while a different definition is pending: what is shown
// now is what was accepted, and the pending record stays as evidence. A
// tool absent from the list changes nothing. An empty list pins nothing,
// so the next non-empty list is still a first sight.
//
// Any error (an invalid definition, a definition whose name is not Name, a
// pin file that cannot be read or written) means that nothing can be
// vouched for, and the caller must not forward the list.
func (s *Store) Check(tools []Tool) ([]Verdict, error) {
	type seen struct {
		canon []byte
		hash  string
	}
	defs := make([]seen, len(tools))
	for i, t := range tools {
		c, err := Canonical(t.Definition)
		if err != nil {
			return nil, fmt.Errorf("pin: tool %q: %w", t.Name, err)
		}
		if name, ok := nameOf(c); !ok || name != t.Name {
			return nil, fmt.Errorf("pin: tool %q: the definition's name member is not the tool's name", t.Name)
		}
		defs[i] = seen{c, Digest(c)}
	}
	var verdicts []Verdict
	err := s.update(func(st *fileState) (bool, error) {
		verdicts = make([]Verdict, len(tools))
		firstSight := len(st.Tools) == 0
		changed := false
		now := time.Now().UTC()
		for i, t := range tools {
			d := defs[i]
			v := Verdict{Name: t.Name, New: d.canon}
			e := st.Tools[t.Name]
			switch {
			case e == nil && firstSight:
				st.Tools[t.Name] = &entry{Hash: d.hash, Definition: d.canon, Accepted: now}
				v.Status, v.Since = FirstSight, now
				changed = true
			case e != nil && e.Hash == d.hash:
				v.Status, v.Since = Pinned, e.Accepted
			default:
				if e == nil {
					e = &entry{}
					st.Tools[t.Name] = e
				}
				v.Status = New
				if e.Hash != "" {
					v.Status, v.Old = Changed, e.Definition
				}
				if e.Pending == nil || e.Pending.Hash != d.hash {
					e.Pending = &pending{Hash: d.hash, Definition: d.canon, Seen: now}
					changed = true
				}
				v.Since = e.Pending.Seen
			}
			verdicts[i] = v
		}
		return changed, nil
	})
	if err != nil {
		return nil, err
	}
	return verdicts, nil
}

// Accept makes the pending definitions of the named tools, or of all tools
// with a pending definition when no name is given, their accepted pins. It
// returns the names accepted, sorted. Naming a tool with nothing pending is
// an error, and then nothing is accepted.
//
// A name may carry the digest of the definition the user reviewed, as
// "TOOL@sha256:..." (the digest [Store.Pending]'s definitions have, which
// `mcpwarden pin show` prints): the server may have replaced the pending
// definition since the user looked, and then nothing is accepted. A bare
// name accepts the pending definition in the file at the time of the call.
func (s *Store) Accept(names ...string) ([]string, error) {
	names = slices.Clone(names)
	want := map[string]string{}
	for i, name := range names {
		if at := strings.LastIndexByte(name, '@'); at > 0 && isDigest(name[at+1:]) {
			names[i], want[name[:at]] = name[:at], name[at+1:]
		}
	}
	var accepted []string
	err := s.update(func(st *fileState) (bool, error) {
		accepted = nil
		if len(names) == 0 {
			for name, e := range st.Tools {
				if e.Pending != nil {
					accepted = append(accepted, name)
				}
			}
		} else {
			for _, name := range names {
				e := st.Tools[name]
				if e == nil {
					return false, fmt.Errorf("pin: server %q has no tool %q", s.server, name)
				}
				if e.Pending == nil {
					return false, fmt.Errorf("pin: tool %q of server %q has no pending change", name, s.server)
				}
				if d, ok := want[name]; ok && d != e.Pending.Hash {
					return false, fmt.Errorf("pin: the pending definition of tool %q of server %q changed since it was shown (you reviewed %s, pending now is %s): review it again with mcpwarden pin show %s",
						name, s.server, d, e.Pending.Hash, s.server)
				}
				if !slices.Contains(accepted, name) {
					accepted = append(accepted, name)
				}
			}
		}
		now := time.Now().UTC()
		for _, name := range accepted {
			e := st.Tools[name]
			*e = entry{Hash: e.Pending.Hash, Definition: e.Pending.Definition, Accepted: now}
		}
		slices.Sort(accepted)
		return len(accepted) > 0, nil
	})
	if err != nil {
		return nil, err
	}
	return accepted, nil
}

// Pending returns the tools with a pending definition, sorted by name:
// New ones with the definition in New, Changed ones with the accepted
// definition in Old and the pending one in New.
func (s *Store) Pending() ([]Verdict, error) {
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(v Verdict) bool { return !v.Blocked() }), nil
}

// List returns a verdict for every tool in the pin file, sorted by name:
// Pinned with the accepted definition in New for a tool with nothing
// pending, as [Store.Pending] for the others.
func (s *Store) List() ([]Verdict, error) {
	var out []Verdict
	err := s.read(func(st *fileState) {
		out = make([]Verdict, 0, len(st.Tools))
		for name, e := range st.Tools {
			v := Verdict{Name: name, Status: Pinned, New: e.Definition, Since: e.Accepted}
			if p := e.Pending; p != nil {
				v.Status, v.New, v.Since = New, p.Definition, p.Seen
				if e.Hash != "" {
					v.Status, v.Old = Changed, e.Definition
				}
			}
			out = append(out, v)
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Verdict) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Forget removes the pin file of the named server in dir, so that its
// next tools/list is a first sight again. It works on a corrupt file too,
// since removing it is the user's way out; it refuses a readable file that
// belongs to another server whose name maps to the same file. A missing
// file is not an error.
func Forget(dir, server string) error {
	base, err := fileBase(server)
	if err != nil {
		return err
	}
	s := newStore(dir, server, base)
	root, err := openDir(s.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	lock, err := lockFile(root, s.dir, s.lock, true)
	if err != nil {
		return err
	}
	defer lock.Close()
	data, err := readFile(root, s.dir, s.file)
	if err != nil {
		return err
	}
	if data == nil {
		return nil
	}
	if st, err := decodeState(data); err == nil && st.Server != server {
		return fmt.Errorf("pin: pin file %s belongs to server %q, not %q", s.Path(), st.Server, server)
	}
	if err := root.Remove(s.file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pin: forget server %q: %w", server, err)
	}
	return syncDir(root)
}

// read runs f on the pin file's content under a shared lock.
func (s *Store) read(f func(*fileState)) error {
	return s.withState(false, func(_ *os.Root, st *fileState) error {
		f(st)
		return nil
	})
}

// update runs f on the pin file's content under an exclusive lock and
// writes the result back when f reports a change.
func (s *Store) update(f func(*fileState) (bool, error)) error {
	return s.withState(true, func(root *os.Root, st *fileState) error {
		changed, err := f(st)
		if err != nil || !changed {
			return err
		}
		data, err := json.Marshal(st, json.Deterministic(true), jsontext.WithIndent("  "))
		if err != nil {
			return fmt.Errorf("pin: encode pin file: %w", err)
		}
		return writeFile(root, s.dir, s.file, append(data, '\n'))
	})
}

// withState opens the pin directory, takes the lock file (exclusive when
// asked, shared otherwise), loads the pin file and runs f on its content
// with the root it came from. The lock is held until f returns, so that
// what f reads, and writes through root, is consistent with other
// processes.
func (s *Store) withState(exclusive bool, f func(root *os.Root, st *fileState) error) error {
	root, err := openDir(s.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	lock, err := lockFile(root, s.dir, s.lock, exclusive)
	if err != nil {
		return err
	}
	defer lock.Close()
	st, err := s.load(root)
	if err != nil {
		return err
	}
	return f(root, st)
}

// load reads and verifies the pin file. A missing file is an empty state.
func (s *Store) load(root *os.Root) (*fileState, error) {
	data, err := readFile(root, s.dir, s.file)
	if err != nil {
		return nil, err
	}
	if data == nil {
		return &fileState{Version: fileVersion, Server: s.server, Tools: map[string]*entry{}}, nil
	}
	st, err := decodeState(data)
	if err != nil {
		// Starting afresh here would accept whatever the server shows now,
		// which is exactly what a rug pull needs; the user decides instead.
		return nil, fmt.Errorf("pin: corrupt pin file %s: %w; check it, then repair it or remove it with \"mcpwarden pin forget %s\"",
			s.Path(), err, s.server)
	}
	if st.Server != s.server {
		return nil, fmt.Errorf("pin: pin file %s belongs to server %q, not %q (their names map to the same file); use another --dir or rename a server",
			s.Path(), st.Server, s.server)
	}
	return st, nil
}

// decodeState parses a pin file strictly and checks that every record is
// consistent: definitions canonical up to whitespace, hashes matching them,
// names matching the keys.
func decodeState(data []byte) (*fileState, error) {
	var st fileState
	if err := unmarshalStrict(data, &st, true); err != nil {
		return nil, err
	}
	if st.Version != fileVersion {
		return nil, fmt.Errorf("version %d, want %d", st.Version, fileVersion)
	}
	if st.Server == "" {
		return nil, errors.New("no server name")
	}
	if st.Tools == nil {
		st.Tools = map[string]*entry{}
	}
	for name, e := range st.Tools {
		if e == nil {
			return nil, fmt.Errorf("tool %q: null record", name)
		}
		if e.Hash == "" && e.Pending == nil {
			return nil, fmt.Errorf("tool %q: neither an accepted nor a pending definition", name)
		}
		if e.Hash != "" || e.Definition != nil || !e.Accepted.IsZero() {
			c, err := verifyDefinition(name, e.Hash, e.Definition)
			if err != nil {
				return nil, fmt.Errorf("tool %q: accepted definition: %w", name, err)
			}
			if e.Accepted.IsZero() {
				return nil, fmt.Errorf("tool %q: no acceptance time", name)
			}
			e.Definition = c
		}
		if p := e.Pending; p != nil {
			c, err := verifyDefinition(name, p.Hash, p.Definition)
			if err != nil {
				return nil, fmt.Errorf("tool %q: pending definition: %w", name, err)
			}
			if p.Hash == e.Hash {
				return nil, fmt.Errorf("tool %q: pending definition equals the accepted one", name)
			}
			p.Definition = c
		}
	}
	return &st, nil
}

// verifyDefinition checks one stored definition against its hash and tool
// name and returns its canonical form.
func verifyDefinition(name, hash string, def jsontext.Value) ([]byte, error) {
	if !isDigest(hash) {
		return nil, fmt.Errorf("hash %q is not sha256: and 64 hexadecimal digits", hash)
	}
	if def == nil {
		return nil, errors.New("no definition")
	}
	c, err := Canonical(def)
	if err != nil {
		return nil, err
	}
	// Canonical drops members that are not pinned; a stored definition
	// with such a member was not written by this package.
	if !bytes.Equal(c, canonicalValue(def)) {
		return nil, errors.New("definition has members that are not pinned")
	}
	if Digest(c) != hash {
		return nil, errors.New("hash does not match the definition")
	}
	if n, ok := nameOf(c); !ok || n != name {
		return nil, errors.New("definition's name differs from the tool's")
	}
	return c, nil
}

// canonicalValue returns v in canonical form, or nil if it is not valid
// JSON.
func canonicalValue(v jsontext.Value) []byte {
	c := slices.Clone(v)
	if err := canonicalize((*jsontext.Value)(&c)); err != nil {
		return nil
	}
	return c
}

// unmarshalStrict decodes JSON with exact-case member names, no duplicate
// names and valid UTF-8, and with rejectUnknown also no members that v
// does not have.
func unmarshalStrict(data []byte, v any, rejectUnknown bool) error {
	return json.Unmarshal(data, v, json.RejectUnknownMembers(rejectUnknown))
}

// Servers returns the names of the servers with a pin file in dir, sorted.
// A file that cannot be read or parsed does not stop the listing: its
// problem is in the returned error, joined with the others, and the names
// of the readable files are returned all the same. A missing dir has no
// servers.
func Servers(dir string) ([]string, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	root, err := openDir(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	d, err := root.Open(".")
	if err != nil {
		return nil, fmt.Errorf("pin: list directory: %w", err)
	}
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("pin: list directory: %w", err)
	}
	var names []string
	var errs []error
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || base == "" || strings.HasPrefix(base, ".") {
			continue
		}
		data, err := readFile(root, dir, e.Name())
		if err == nil && data == nil {
			continue // removed meanwhile
		}
		var st *fileState
		if err == nil {
			st, err = decodeState(data)
			if err != nil {
				err = fmt.Errorf("pin: corrupt pin file %s: %w", filepath.Join(dir, e.Name()), err)
			}
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		names = append(names, st.Server)
	}
	slices.Sort(names)
	return names, errors.Join(errs...)
}
