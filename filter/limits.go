package filter

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/mcpwarden/mcpwarden/profile"
	"golang.org/x/time/rate"
)

// Session is what one client session accumulates against the profile's
// limits: rate buckets, call counts, calls in flight, and the approvals a
// person gave for the rest of the session. It is safe for concurrent use.
type Session struct {
	c        *Calls
	mu       sync.Mutex
	server   *usage
	tools    map[*toolRule]*usage // for tools with a rule
	approved map[*toolRule]bool   // tools approved once-per-session
}

// usage is the state of one set of limits.
type usage struct {
	what     string // whose limits, for messages: "the server's", "write_file's"
	limits   profile.CallLimits
	bucket   *rate.Limiter // nil without calls_per_minute
	calls    int
	inFlight int
}

func newUsage(what string, l profile.CallLimits) *usage {
	u := &usage{what: what, limits: l}
	if l.CallsPerMinute > 0 {
		burst := l.Burst
		if burst == 0 {
			burst = l.CallsPerMinute
		}
		u.bucket = rate.NewLimiter(rate.Limit(float64(l.CallsPerMinute)/60), burst)
	}
	return u
}

// NewSession starts the state of one session.
func (c *Calls) NewSession() *Session {
	s := &Session{c: c, server: newUsage("the server's", c.limits), tools: map[*toolRule]*usage{}, approved: map[*toolRule]bool{}}
	for _, r := range c.rules {
		s.tools[r] = newUsage(r.name+"'s", r.limits)
	}
	return s
}

// Admit counts a call of tool against the limits of the tool and of the
// server. It returns a function to call once the call has ended, or a
// *CallError that says which limit was reached and when to retry. A call
// that is refused uses up nothing.
func (s *Session) Admit(tool string, now time.Time) (release func(), err *CallError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	scopes := []*usage{s.server}
	// Keyed by rule, found by Calls.rule: no name folding for a profile
	// without tool rules.
	if u := s.tools[s.c.rule(tool)]; u != nil {
		scopes = append(scopes, u)
	}
	for _, u := range scopes {
		l := u.limits
		if l.MaxCalls > 0 && u.calls >= l.MaxCalls {
			return nil, refusal("%s limit of %d calls in this session is reached; it resets when the client starts a new session", u.what, l.MaxCalls)
		}
		if l.MaxInFlight > 0 && u.inFlight >= l.MaxInFlight {
			return nil, refusal("%s limit of %d calls at once is reached; retry when an earlier call has returned", u.what, l.MaxInFlight)
		}
	}
	var taken []*rate.Reservation
	for _, u := range scopes {
		if u.bucket == nil {
			continue
		}
		r := u.bucket.ReserveN(now, 1)
		if d := r.DelayFrom(now); !r.OK() || d > 0 {
			r.CancelAt(now)
			for _, t := range taken {
				t.CancelAt(now)
			}
			return nil, refusal("%s rate limit of %d calls per minute is reached; retry in %s", u.what, u.limits.CallsPerMinute, retryAfter(d))
		}
		taken = append(taken, r)
	}
	for _, u := range scopes {
		u.calls++
		u.inFlight++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, u := range scopes {
				u.inFlight--
			}
		})
	}, nil
}

// retryAfter rounds a wait up to whole seconds, as a person would say it.
func retryAfter(d time.Duration) string {
	if d <= 0 || d == rate.InfDuration {
		return "a minute"
	}
	return fmt.Sprintf("%ds", int(math.Ceil(d.Seconds())))
}

// MaxResultSize returns the largest result of tool that may reach the
// client, in bytes; 0 for no limit beyond the message size.
func (c *Calls) MaxResultSize(tool string) int64 {
	limit := c.limits.MaxResultSize
	if r := c.rule(tool); r != nil && r.limits.MaxResultSize > 0 && (limit == 0 || r.limits.MaxResultSize < limit) {
		limit = r.limits.MaxResultSize
	}
	return limit
}

// NeedsApproval reports whether a call of tool must be approved by a
// person now: always for "always", and for "once-per-session" until the
// first approval.
func (s *Session) NeedsApproval(tool string) bool {
	r := s.c.rule(tool)
	if r == nil {
		return false
	}
	switch r.approval {
	case "always":
		return true
	case "once-per-session":
		s.mu.Lock()
		defer s.mu.Unlock()
		return !s.approved[r]
	}
	return false
}

// Approved records that a person approved a call of tool.
func (s *Session) Approved(tool string) {
	if r := s.c.rule(tool); r != nil && r.approval == "once-per-session" {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.approved[r] = true
	}
}
