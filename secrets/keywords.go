package secrets

import "fmt"

// keywordSet finds every occurrence of a set of literal keywords in one pass
// over a text, ASCII letters compared without case. It is an Aho–Corasick
// automaton compiled to a table: one lookup a byte, whatever the number of
// keywords, which is what keeps the cost on text without secrets near that
// of reading it.
type keywordSet struct {
	// delta[state<<8|byte] is the next state, with acceptBit set when a
	// keyword ends there. A row of 256 entries a state, rather than
	// columns of byte classes, saves a dependent load a byte.
	delta []uint16
	// ends[state] lists the keywords that end in an accepting state.
	ends  [][]int32
	words []string
	// pairs has bit a<<8|b set when a keyword can start with the bytes a,
	// b (either case of a letter): a test of two bytes at once at the
	// root, where most bytes of ordinary text start no keyword's first
	// two bytes although they start the first of some keyword.
	pairs [1 << 16 / 64]uint64
}

func (k *keywordSet) setPair(a, b byte) {
	for _, x := range [2]byte{a, upper(a)} {
		for _, y := range [2]byte{b, upper(b)} {
			p := uint(x)<<8 | uint(y)
			k.pairs[p/64] |= 1 << (p % 64)
		}
	}
}

func upper(b byte) byte {
	if 'a' <= b && b <= 'z' {
		return b - ('a' - 'A')
	}
	return b
}

// acceptBit marks accepting states in delta, which leaves room for 32767
// states: a few thousand bytes of keywords.
const acceptBit = 1 << 15

func foldByte(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

func fold(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = foldByte(c)
	}
	return string(b)
}

// newKeywordSet builds the automaton for words, which must be non-empty,
// distinct and already folded.
func newKeywordSet(words []string) (*keywordSet, error) {
	k := &keywordSet{words: words}
	for _, w := range words {
		if len(w) == 1 {
			for b := range 256 {
				k.setPair(w[0], byte(b))
			}
			continue
		}
		k.setPair(w[0], w[1])
	}
	// The trie is built over byte classes, bytes that occur in no keyword
	// sharing class 0 and the two cases of a letter sharing one, and then
	// spread to whole rows.
	var class [256]int
	n := 1
	for _, w := range words {
		for i := 0; i < len(w); i++ {
			if class[w[i]] == 0 {
				class[w[i]] = n
				n++
			}
		}
	}
	for c := byte('A'); c <= 'Z'; c++ {
		class[c] = class[c+('a'-'A')]
	}

	// The trie: goto[state*n+class] is the child, or -1.
	goTo := []int32{}
	newState := func() int32 {
		s := int32(len(goTo) / n)
		for range n {
			goTo = append(goTo, -1)
		}
		return s
	}
	newState()
	out := map[int32][]int32{}
	for id, w := range words {
		s := int32(0)
		for i := 0; i < len(w); i++ {
			c := int32(class[w[i]])
			if goTo[s*int32(n)+c] < 0 {
				t := newState()
				goTo[s*int32(n)+c] = t
			}
			s = goTo[s*int32(n)+c]
		}
		out[s] = append(out[s], int32(id))
	}

	// Breadth first, so that a state's failure state is complete before it.
	states := len(goTo) / n
	delta := make([]int32, len(goTo))
	fail := make([]int32, states)
	queue := []int32{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c := 0; c < n; c++ {
			t := goTo[int(s)*n+c]
			if t < 0 {
				if s != 0 {
					delta[int(s)*n+c] = delta[int(fail[s])*n+c]
				}
				continue
			}
			delta[int(s)*n+c] = t
			if s != 0 {
				fail[t] = delta[int(fail[s])*n+c]
			}
			out[t] = append(out[t], out[fail[t]]...)
			queue = append(queue, t)
		}
	}
	// Column 0 bytes end every partial match.
	for s := 0; s < states; s++ {
		delta[s*n] = 0
	}
	if states >= acceptBit {
		return nil, fmt.Errorf("secrets: keywords too long: %d automaton states, at most %d", states, acceptBit-1)
	}
	k.delta = make([]uint16, states<<8)
	for st := 0; st < states; st++ {
		for c := 0; c < 256; c++ {
			t := delta[st*n+int(class[c])]
			v := uint16(t)
			if len(out[t]) > 0 {
				v |= acceptBit
			}
			k.delta[st<<8|c] = v
		}
	}
	k.ends = make([][]int32, states)
	for st, ids := range out {
		k.ends[st] = ids
	}
	return k, nil
}

// scan calls hit with the start of each occurrence of a keyword in text
// and the keyword's index, in order of the occurrence's end.
func (k *keywordSet) scan(text string, hit func(start int, word int32)) {
	delta := k.delta
	pairs := &k.pairs
	var st uint16
	for i := 0; i < len(text); i++ {
		if st == 0 {
			// At the root, skip bytes where no keyword starts: these loads
			// do not depend on each other, unlike the state's. The last
			// byte is left to the automaton.
			for i+1 < len(text) {
				p := uint(text[i])<<8 | uint(text[i+1])
				if pairs[p/64]&(1<<(p%64)) != 0 {
					break
				}
				i++
			}
		}
		st = delta[uint32(st)<<8|uint32(text[i])]
		if st&acceptBit != 0 {
			st &^= acceptBit
			for _, w := range k.ends[st] {
				hit(i+1-len(k.words[w]), w)
			}
		}
	}
}
