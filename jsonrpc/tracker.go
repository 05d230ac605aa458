package jsonrpc

import "sync"

// Tracker remembers the requests in flight in one direction, keyed by id,
// so that every request gets exactly one answer and every answer is matched
// to the request it belongs to. It is safe for concurrent use.
type Tracker[T any] struct {
	mu      sync.Mutex
	pending map[string]T
	closed  bool
}

// NewTracker returns an empty Tracker.
func NewTracker[T any]() *Tracker[T] {
	return &Tracker[T]{pending: make(map[string]T)}
}

// Add records a request. It reports false, recording nothing, when a
// request with an equal id is already in flight or the tracker is closed.
func (t *Tracker[T]) Add(id ID, v T) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || id.key == "" {
		return false
	}
	if _, dup := t.pending[id.key]; dup {
		return false
	}
	t.pending[id.key] = v
	return true
}

// Take removes and returns the request with the given id.
func (t *Tracker[T]) Take(id ID) (T, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.pending[id.key]
	if ok {
		delete(t.pending, id.key)
	}
	return v, ok
}

// Len returns the number of requests in flight.
func (t *Tracker[T]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// Close empties the tracker, returns what was in flight and makes later
// Adds fail, so that nothing can slip in after the last answers are sent.
func (t *Tracker[T]) Close() []T {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	out := make([]T, 0, len(t.pending))
	for _, v := range t.pending {
		out = append(out, v)
	}
	clear(t.pending)
	return out
}

// Has reports whether a request with the given id is in flight.
func (t *Tracker[T]) Has(id ID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.pending[id.key]
	return ok
}
