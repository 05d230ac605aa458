package secrets

// keywordSet finds every occurrence of a set of literal keywords in one pass
// over a text, ASCII letters compared without case. It is an Aho–Corasick
// automaton compiled to a table: one lookup a byte, whatever the number of
// keywords, which is what keeps the cost on text without secrets near that
// of reading it.
type keywordSet struct {
	// class maps a byte to its column in delta: bytes that occur in no
	// keyword share column 0, and the two cases of a letter share one.
	class   [256]uint8
	nclass  int
	delta   []int32 // state*nclass+class → next state*nclass
	accepts []bool  // indexed like delta's values: a keyword ends here
	// ends lists, for each accepting state (as state*nclass), the
	// keywords that end there, longest first.
	ends  map[int32][]int32
	words []string
}

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
func newKeywordSet(words []string) *keywordSet {
	k := &keywordSet{words: words, ends: make(map[int32][]int32)}
	n := 1
	for _, w := range words {
		for i := 0; i < len(w); i++ {
			if k.class[w[i]] == 0 {
				k.class[w[i]] = uint8(n)
				n++
			}
		}
	}
	for c := byte('A'); c <= 'Z'; c++ {
		k.class[c] = k.class[c+('a'-'A')]
	}
	k.nclass = n

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
			c := int32(k.class[w[i]])
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
	k.delta = make([]int32, len(delta))
	for i, t := range delta {
		k.delta[i] = t * int32(n)
	}
	k.accepts = make([]bool, len(delta))
	for s, ids := range out {
		if len(ids) > 0 {
			k.accepts[s*int32(n)] = true
			k.ends[s*int32(n)] = ids
		}
	}
	return k
}

// scan calls hit with the start of each occurrence of a keyword in text
// and the keyword's index, in order of the occurrence's end.
func (k *keywordSet) scan(text string, hit func(start int, word int32)) {
	delta, class, accepts := k.delta, &k.class, k.accepts
	var s int32
	for i := 0; i < len(text); i++ {
		s = delta[s+int32(class[text[i]])]
		if accepts[s] {
			for _, w := range k.ends[s] {
				hit(i+1-len(k.words[w]), w)
			}
		}
	}
}
