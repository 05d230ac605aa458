package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// tsProfile hides a tool, a resource and a prompt of server-everything.
const tsProfile = `
[tools]
deny = ["get-env", "toggle-*"]

[resources]
deny = ["demo://resource/static/document/architecture.md"]

[prompts]
deny = ["args-prompt"]
`

// tsSteps are run by the TypeScript SDK client; the indices matter below.
var tsSteps = []map[string]any{
	{"op": "listTools"}, // 0
	{"op": "callTool", "name": "echo", "arguments": map[string]any{"message": "from ts"}},                                                  // 1
	{"op": "callTool", "name": "get-env"},                                                                                                  // 2
	{"op": "callTool", "name": "trigger-sampling-request", "arguments": map[string]any{"prompt": "hi", "maxTokens": 10}},                   // 3
	{"op": "callTool", "name": "trigger-elicitation-request"},                                                                              // 4
	{"op": "callTool", "name": "trigger-long-running-operation", "arguments": map[string]any{"duration": 1, "steps": 2}, "progress": true}, // 5
	{"op": "listResources"}, // 6
	{"op": "readResource", "uri": "demo://resource/static/document/architecture.md"}, // 7
	{"op": "readResource", "uri": "demo://resource/static/document/features.md"},     // 8
	{"op": "listPrompts"}, // 9
	{"op": "getPrompt", "name": "args-prompt", "arguments": map[string]any{"city": "Paris"}}, // 10
	{"op": "getPrompt", "name": "simple-prompt"},                                             // 11
	{"op": "callTool", "name": "toggle-simulated-logging"},                                   // 12
	{"op": "ping"}, // 13
}

// tsLine is one line the TypeScript client prints.
type tsLine struct {
	Initialized *struct {
		ProtocolVersion string `json:"protocolVersion"`
	} `json:"initialized"`
	Connect      *bool          `json:"connect"`
	Step         *int           `json:"step"`
	OK           bool           `json:"ok"`
	Result       jsontext.Value `json:"result"`
	Error        *rpcError      `json:"error"`
	Notification string         `json:"notification"`
	Request      string         `json:"request"`
	Params       jsontext.Value `json:"params"`
}

// tsRun is what one run of the TypeScript client printed.
type tsRun struct {
	version string
	steps   map[int]tsLine
	notes   []tsLine // notifications and requests from the server
}

// runTSClient runs e2e/npm/mcp-client.mjs with the steps and flags
// against argv.
func runTSClient(t *testing.T, ctx context.Context, flags []string, argv ...string) *tsRun {
	t.Helper()
	return runTSSteps(t, ctx, tsSteps, flags, argv...)
}

// runTSSteps runs e2e/npm/mcp-client.mjs with the given steps.
func runTSSteps(t *testing.T, ctx context.Context, tsSteps []map[string]any, flags []string, argv ...string) *tsRun {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("npm", "mcp-client.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("the TypeScript client driver is missing (%v)", err)
	}
	npmServer(t, "server-everything") // fails with the setup hint if node_modules is missing
	steps, err := json.Marshal(tsSteps)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{script, "--steps", string(steps), "--timeout-ms", "30000"}, flags...)
	args = append(append(args, "--"), argv...)
	cmd := exec.CommandContext(ctx, "node", args...)
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	watchStderr(t, "mcp-client.mjs", stderr)
	if err := cmd.Run(); err != nil {
		t.Fatalf("mcp-client.mjs: %v\nstdout:\n%s", err, stdout.String())
	}
	run := &tsRun{steps: map[int]tsLine{}}
	for _, line := range bytes.Split(bytes.TrimSpace(stdout.Bytes()), []byte("\n")) {
		var l tsLine
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("mcp-client.mjs printed %q: %v", line, err)
		}
		switch {
		case l.Initialized != nil:
			run.version = l.Initialized.ProtocolVersion
		case l.Connect != nil:
			t.Fatalf("mcp-client.mjs could not connect: %s", line)
		case l.Step != nil:
			run.steps[*l.Step] = l
		default:
			run.notes = append(run.notes, l)
		}
	}
	if len(run.steps) != len(tsSteps) {
		t.Fatalf("mcp-client.mjs ran %d steps, want %d:\n%s", len(run.steps), len(tsSteps), stdout.String())
	}
	return run
}

// stepText returns the text contents of a successful step's tool result.
func (r *tsRun) stepText(t *testing.T, i int) string {
	t.Helper()
	s := r.steps[i]
	if !s.OK {
		t.Errorf("step %d (%v) failed: %+v", i, tsSteps[i], s.Error)
		return ""
	}
	var res struct {
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := json.Unmarshal(s.Result, &res); err != nil {
		t.Fatalf("step %d: %v", i, err)
	}
	if res.IsError {
		t.Errorf("step %d (%v) returned an error result: %s", i, tsSteps[i], s.Result)
	}
	var b strings.Builder
	for _, c := range res.Content {
		b.WriteString(c.Text)
	}
	return b.String()
}

// stepNames returns the names (or URIs) listed by a list step.
func (r *tsRun) stepNames(t *testing.T, i int, member, key string) []string {
	t.Helper()
	var res map[string]jsontext.Value
	var items []map[string]any
	if err := json.Unmarshal(r.steps[i].Result, &res); err != nil {
		t.Fatalf("step %d: %v", i, err)
	}
	if err := json.Unmarshal(res[member], &items); err != nil {
		t.Fatalf("step %d: %s: %v", i, member, err)
	}
	var names []string
	for _, item := range items {
		if s, ok := item[key].(string); ok {
			names = append(names, s)
		}
	}
	return names
}

// expectStepError requires step i to have failed with the code and a
// message containing msg.
func (r *tsRun) expectStepError(t *testing.T, i int, code int64, msg string) {
	t.Helper()
	s := r.steps[i]
	if s.OK || s.Error == nil || s.Error.Code != code || !strings.Contains(s.Error.Message, msg) {
		t.Errorf("step %d (%v): want error %d %q, got ok=%v error=%+v result=%s", i, tsSteps[i], code, msg, s.OK, s.Error, s.Result)
	}
}

// TestTSClientThroughWarden drives server-everything with the TypeScript
// SDK client, directly and through mcpwarden, with elicitation accepted
// and declined: hidden items are absent and refused as if they did not
// exist, everything else (sampling, elicitation, progress, logging,
// resources, prompts) behaves as it does directly.
func TestTSClientThroughWarden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		elicit []string
		want   string
	}{
		{[]string{"--elicit", "accept", "--elicit-content", `{"name":"Ada Lovelace","check":true}`}, "Ada Lovelace"},
		{[]string{"--elicit", "decline"}, "declined"},
	} {
		t.Run(tc.elicit[1], func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			flags := append([]string{"--sample-text", "sampled by the TypeScript client"}, tc.elicit...)
			direct := runTSClient(t, ctx, flags, everythingArgv(t)...)
			auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
			proxied := runTSClient(t, ctx, flags, wardenArgv(writeProfile(t, tsProfile), auditLog, nil, everythingArgv(t)...)...)
			checkTSRuns(t, direct, proxied, tc.want)
			recs := readAudit(t, auditLog)
			if d := auditFor(recs, "decision", "get-env"); len(d) != 1 || d[0].Decision != "deny" {
				t.Errorf("get-env: want one deny decision, got:\n%s", dumpAudit(recs))
			}
		})
	}
}

func checkTSRuns(t *testing.T, direct, proxied *tsRun, elicitWant string) {
	t.Helper()
	if direct.version != proxied.version || proxied.version == "" {
		t.Errorf("protocol version: direct %q, proxied %q", direct.version, proxied.version)
	}
	all := direct.stepNames(t, 0, "tools", "name")
	got := proxied.stepNames(t, 0, "tools", "name")
	want := slices.DeleteFunc(slices.Clone(all), func(n string) bool { return n == "get-env" || strings.HasPrefix(n, "toggle-") })
	if !slices.Equal(got, want) || len(want) == len(all) {
		t.Errorf("tools through mcpwarden: %q, want %q (directly: %q)", got, want, all)
	}
	for _, r := range []*tsRun{direct, proxied} {
		if text := r.stepText(t, 1); !strings.Contains(text, "from ts") {
			t.Errorf("echo: %q", text)
		}
		if text := r.stepText(t, 3); !strings.Contains(text, "sampled by the TypeScript client") {
			t.Errorf("sampling: %q", text)
		}
		if text := r.stepText(t, 4); !strings.Contains(text, elicitWant) {
			t.Errorf("elicitation: result lacks %q: %q", elicitWant, text)
		}
		if text := r.stepText(t, 5); !strings.Contains(text, "Long running operation completed") {
			t.Errorf("long-running operation: %q", text)
		}
		if got := countNotes(r, "notifications/progress"); got != 2 {
			t.Errorf("progress notifications: %d, want 2", got)
		}
		for _, req := range []string{"sampling/createMessage", "elicitation/create"} {
			if countNotes(r, req) != 1 {
				t.Errorf("the client did not see exactly one %s request", req)
			}
		}
		_ = r.stepText(t, 8)
		if !r.steps[11].OK || !r.steps[13].OK {
			t.Errorf("simple-prompt or ping failed: %+v %+v", r.steps[11].Error, r.steps[13].Error)
		}
	}
	proxied.expectStepError(t, 2, -32602, "Unknown tool: get-env")
	_ = direct.stepText(t, 2)
	proxied.expectStepError(t, 7, -32002, "Resource not found")
	_ = direct.stepText(t, 7)
	proxied.expectStepError(t, 10, -32602, "Unknown prompt: args-prompt")
	proxied.expectStepError(t, 12, -32602, "Unknown tool: toggle-simulated-logging")
	if res := proxied.stepNames(t, 6, "resources", "uri"); slices.Contains(res, "demo://resource/static/document/architecture.md") {
		t.Errorf("hidden resource listed: %q", res)
	}
	if ps := proxied.stepNames(t, 9, "prompts", "name"); slices.Contains(ps, "args-prompt") || !slices.Contains(ps, "simple-prompt") {
		t.Errorf("prompts through mcpwarden: %q", ps)
	}
	for _, i := range []int{1, 3, 5, 8, 11} {
		if d, p := normalize(t, direct.steps[i].Result), normalize(t, proxied.steps[i].Result); d != p {
			t.Errorf("step %d (%v) differs:\n direct:  %s\n proxied: %s", i, tsSteps[i], d, p)
		}
	}
}

func countNotes(r *tsRun, method string) int {
	n := 0
	for _, l := range r.notes {
		if l.Notification == method || l.Request == method {
			n++
		}
	}
	return n
}
