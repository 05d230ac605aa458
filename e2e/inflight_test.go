package e2e_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
)

// inFlight is how many calls TestThousandCallsInFlight sends before
// reading any answer.
const inFlight = 1000

// TestThousandCallsInFlight sends a thousand tools/call through
// mcpwarden at once, to the recorder and to server-everything, and checks
// that every one is answered exactly once, with its own result.
func TestThousandCallsInFlight(t *testing.T) {
	for _, tc := range []struct {
		name, tool, arg, prefix string
		argv                    func(testing.TB) []string
	}{
		{"recorder", "safe_echo", "text", "", func(testing.TB) []string { return []string{recorderBin} }},
		{"everything", "echo", "message", "Echo: ", everythingArgv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
			c := startRaw(t, wardenArgv(writeProfile(t, allowAllProfile), auditLog, nil, tc.argv(t)...))
			c.initialize(ctx, "2025-06-18", nil)
			// The writes go on while the answers are read: a thousand
			// requests can be more than the pipes hold.
			go func() {
				for i := range inFlight {
					line := fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":{%q:"call %d"}}}`, i, tc.tool, tc.arg, i)
					if _, err := c.stdin.Write([]byte(line + "\n")); err != nil {
						return
					}
				}
			}()
			answered := map[int]int{}
			for len(answered) < inFlight {
				m, line, ok := c.nextMsg(ctx)
				if !ok {
					t.Fatalf("output ended after %d answers", len(answered))
				}
				if m.Method != "" {
					continue // a notification or a server request
				}
				id, err := strconv.Atoi(string(m.ID))
				if err != nil || id < 0 || id >= inFlight {
					t.Fatalf("answer to an id never sent: %s", line)
				}
				if answered[id]++; answered[id] > 1 {
					t.Fatalf("call %d answered twice: %s", id, line)
				}
				var res struct {
					Content []struct {
						Text string `json:"text"`
					} `json:"content"`
				}
				if m.Error != nil || json.Unmarshal(m.Result, &res) != nil || len(res.Content) != 1 ||
					res.Content[0].Text != tc.prefix+"call "+strconv.Itoa(id) {
					t.Fatalf("call %d: wrong answer %s", id, line)
				}
			}
			t.Logf("%s: %d of %d calls in flight answered exactly once", tc.name, len(answered), inFlight)
			c.closeInput()
			if code := c.wait(ctx); code != 0 {
				t.Errorf("exit status %d", code)
			}
			if extra := c.drain(ctx); len(extra) > 0 && !strings.Contains(string(extra[0]), `"method"`) {
				t.Errorf("more answers than calls: %q", extra[0])
			}
			outcomes := auditFor(readAudit(t, auditLog), "outcome", tc.tool)
			if len(outcomes) != inFlight {
				t.Errorf("%d outcome records, want %d", len(outcomes), inFlight)
			}
		})
	}
}
