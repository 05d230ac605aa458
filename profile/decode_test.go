package profile

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// problems returns the *Error values that err carries, in order.
func problems(t *testing.T, err error) []*Error {
	t.Helper()
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *profile.Error", err, err)
		}
		out = append(out, pe)
	}
	walk(err)
	return out
}

// srv is a valid [server] table for tests about other tables; it takes
// lines 1 and 2.
const srv = "[server]\nname = \"x\"\n"

type errCase struct {
	name string
	src  string
	line int    // line of the problem
	key  string // Error.Key
	msg  string // substring of the message
}

func checkErrors(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("p.toml", []byte(tc.src))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", p)
			}
			if p != nil {
				t.Errorf("Parse returned a profile with its error")
			}
			for _, e := range problems(t, err) {
				if e.Line == tc.line && e.Key == tc.key && strings.Contains(e.Msg, tc.msg) {
					want := fmt.Sprintf("profile p.toml:%d: ", tc.line)
					if tc.line == 0 {
						want = "profile p.toml: "
					}
					if !strings.HasPrefix(e.Error(), want) {
						t.Errorf("Error() = %q, want prefix %q", e.Error(), want)
					}
					return
				}
			}
			t.Errorf("got:\n%v\nwant a problem at line %d about %q containing %q", err, tc.line, tc.key, tc.msg)
		})
	}
}

func TestUnknownKeys(t *testing.T) {
	checkErrors(t, []errCase{
		{"top table", srv + "\n[sandbx]\nnetwork = \"none\"\n", 4, "sandbx", `unknown key "sandbx" (did you mean "sandbox"?)`},
		{"top key", "foo = 1\n" + srv, 1, "foo", `unknown key "foo" (known tables: server, sandbox, tools, resources, prompts, guards)`},
		{"server", srv + "nmae = \"y\"\n", 3, "server.nmae", `unknown key "server.nmae" (did you mean "name"?)`},
		{"sandbox", srv + "\n\n\n\n\n\n[sandbox]\nread = []\nwrite = []\nnetwrok = \"none\"\n", 12, "sandbox.netwrok", `unknown key "sandbox.netwrok"`},
		{"sandbox.limits", srv + "[sandbox.limits]\nmemory = \"1GiB\"\nswap = \"1GiB\"\n", 5, "sandbox.limits.swap", "known keys in [sandbox.limits]: memory, processes"},
		{"tools", srv + "[tools]\nallow = []\nignore = [\"x\"]\n", 5, "tools.ignore", `unknown key "tools.ignore"`},
		{"resources", srv + "[resources]\nallwo = []\n", 4, "resources.allwo", `did you mean "allow"?`},
		{"prompts", srv + "[prompts]\nDENY = []\n", 4, "prompts.DENY", `did you mean "deny"?`},
		{"resources.rules", srv + "[resources.rules.x]\na = 1\n", 3, "resources.rules", `unknown key "resources.rules"`},
		{"subtable of known", srv + "[sandbox.limits.extra]\na = 1\n", 3, "sandbox.limits.extra", `unknown key "sandbox.limits.extra"`},
		{"dotted at top", "sandbox.netwrok = \"none\"\n" + srv, 1, "sandbox.netwrok", `unknown key "sandbox.netwrok"`},
		{"dotted in table", srv + "[sandbox]\nlimits.swap = 1\n", 4, "sandbox.limits.swap", `unknown key "sandbox.limits.swap"`},
		{"quoted", srv + "[tools]\n\"my key\" = 1\n", 4, `tools."my key"`, `unknown key tools."my key"`},
		{"array of tables", srv + "[[extra]]\na = 1\n[[extra]]\nb = 2\n", 3, "extra", `unknown key "extra"`},
		{"array of tables below known", srv + "[[tools.more]]\nx = 1\n", 3, "tools.more", `unknown key "tools.more"`},
		{"inline table across lines", srv + "[sandbox]\nlimits = {\n  memory = \"1GiB\",\n  bogus = 1,\n}\n", 6, "sandbox.limits.bogus", `unknown key "sandbox.limits.bogus"`},
		{"inline table in array of inline tables", srv + "[sandbox]\nread = [\n  \"/usr\",\n  { path = \"/x\" },\n]\n", 6, "sandbox.read", "sandbox.read[1] must be a string, not a table"},
		{"after multi-line string", srv + "description = \"\"\"\n[sandbox]\nbogus = 1\n\"\"\"\n[sandbox]\nnetwrok = \"none\"\n", 8, "sandbox.netwrok", `unknown key "sandbox.netwrok"`},
		{"after literal multi-line string", srv + "description = '''\n[sandbox]\n'''\n[sandbox]\nnetwrok = \"none\"\n", 7, "sandbox.netwrok", `unknown key`},
		{"after array with comments", srv + "[sandbox]\nread = [ # [tools]\n  \"/usr\", # x = 1\n]\nnetwrok = \"none\"\n", 7, "sandbox.netwrok", `unknown key`},
		{"after string with hash and brackets", srv + "description = \"# [a] = \\\"\"\nbad = 1\n", 4, "server.bad", `unknown key "server.bad"`},
		{"crlf", "[server]\r\nname = \"x\"\r\n\r\nbad = 1\r\n", 4, "server.bad", `unknown key`},
		{"byte order mark", "\xef\xbb\xbf[server]\nname = \"x\"\nbad = 1\n", 3, "server.bad", `unknown key`},
		{"header with blanks", srv + "[ sandbox . limits ]\nbad = 1\n", 4, "sandbox.limits.bad", `unknown key`},
	})
}

func TestWrongTypes(t *testing.T) {
	checkErrors(t, []errCase{
		{"server not a table", "server = \"x\"\n", 1, "server", "server must be a table, not a string"},
		{"server array of tables", "[[server]]\nname = \"x\"\n", 1, "server", "server must be a table, not an array of tables"},
		{"limits array of tables", srv + "[[sandbox.limits]]\nmemory = \"1GiB\"\n", 3, "sandbox.limits", "not an array of tables"},
		{"limits scalar", srv + "[sandbox]\nlimits = 5\n", 4, "sandbox.limits", "sandbox.limits must be a table, not an integer"},
		{"name", "[server]\nname = 1\n", 2, "server.name", "server.name must be a string, not an integer"},
		{"description date", srv + "description = 1979-05-27\n", 3, "server.description", "must be a string, not a date-time"},
		{"match string", srv + "match = \"pkg\"\n", 3, "server.match", "server.match must be an array of strings, not a string"},
		{"network bool", srv + "[sandbox]\nnetwork = true\n", 4, "sandbox.network", "sandbox.network must be a string, not a boolean"},
		{"read string", srv + "[sandbox]\nread = \"/usr\"\n", 4, "sandbox.read", "must be an array of strings, not a string"},
		{"read element on its line", srv + "[sandbox]\nread = [\n  \"/usr\",\n  2,\n]\n", 6, "sandbox.read", "sandbox.read[1] must be a string, not an integer"},
		{"read nested array", srv + "[sandbox]\nread = [[\"/usr\"]]\n", 4, "sandbox.read", "sandbox.read[0] must be a string, not an array"},
		{"env table", srv + "[sandbox]\nenv = { PATH = true }\n", 4, "sandbox.env", "not a table"},
		{"processes string", srv + "[sandbox.limits]\nprocesses = \"256\"\n", 4, "sandbox.limits.processes", "must be an integer, not a string"},
		{"processes float", srv + "[sandbox.limits]\nprocesses = 1.5\n", 4, "sandbox.limits.processes", "must be an integer, not a float"},
		{"memory integer", srv + "[sandbox.limits]\nmemory = 1024\n", 4, "sandbox.limits.memory", `must be a string, not an integer (for example memory = "1GiB")`},
		{"tools allow string", srv + "[tools]\nallow = \"*\"\n", 4, "tools.allow", "tools.allow must be an array of strings, not a string"},
		{"tools not a table", srv + "tools = [\"*\"]\n", 3, "server.tools", "unknown key"},
		{"tools array", srv + "[sandbox]\n[tools]\n[prompts]\ndeny = [1]\n", 6, "prompts.deny", "prompts.deny[0] must be a string"},
		{"top tools array", "tools = [\"*\"]\n" + srv, 1, "tools", "tools must be a table, not an array"},
	})
}

func TestBadValues(t *testing.T) {
	checkErrors(t, []errCase{
		{"name upper", "[server]\nname = \"Files\"\n", 2, "server.name", `server.name "Files" is not a valid name`},
		{"name slash", "[server]\nname = \"a/b\"\n", 2, "server.name", "not a valid name"},
		{"name leading dash", "[server]\nname = \"-x\"\n", 2, "server.name", "not a valid name"},
		{"name empty", "[server]\nname = \"\"\n", 2, "server.name", "not a valid name"},
		{"name missing", "[server]\ndescription = \"d\"\n", 1, "server.name", "server.name is missing"},
		{"server missing", "[sandbox]\n", 0, "server.name", "server.name is missing"},
		{"empty file", "", 0, "server.name", "server.name is missing"},
		{"only comments", "# nothing\n", 0, "server.name", "server.name is missing"},
		{"description NUL", srv + "description = \"a\\u0000b\"\n", 3, "server.description", "NUL"},
		{"match empty glob", srv + "match = [\"\"]\n", 3, "server.match", `server.match[0]: "" is empty`},
		{"network enum", srv + "[sandbox]\nnetwork = \"internet\"\n", 4, "sandbox.network", `sandbox.network is "internet" (use "none", "proxy" or "host")`},
		{"network case", srv + "[sandbox]\nnetwork = \"None\"\n", 4, "sandbox.network", `is "None"`},
		{"hosts without proxy", srv + "[sandbox]\nallow_hosts = [\"a.com:443\"]\n", 4, "sandbox.allow_hosts", `works only with network = "proxy" (network is "none"`},
		{"hosts with host network", srv + "[sandbox]\nnetwork = \"host\"\nallow_hosts = [\"a.com:443\"]\n", 5, "sandbox.allow_hosts", `network is "host"`},
		{"private without proxy", srv + "[sandbox]\nallow_private = [\"10.0.0.0/8\"]\n", 4, "sandbox.allow_private", "works only with"},
		{"relative read", srv + "[sandbox]\nread = [\"/usr\", \"relative/x\"]\n", 4, "sandbox.read", `sandbox.read[1]: "relative/x" is a relative path`},
		{"dot read", srv + "[sandbox]\nread = [\".\"]\n", 4, "sandbox.read", "relative path"},
		{"dotdot write", srv + "[sandbox]\nwrite = [\"../x\"]\n", 4, "sandbox.write", "relative path"},
		{"empty hide", srv + "[sandbox]\nhide = [\"\"]\n", 4, "sandbox.hide", "is empty"},
		{"other user", srv + "[sandbox]\nread = [\"~root/.ssh\"]\n", 4, "sandbox.read", "another user's home"},
		{"tilde no slash", srv + "[sandbox]\nread = [\"~.ssh\"]\n", 4, "sandbox.read", "another user's home"},
		{"placeholder suffix", srv + "[sandbox]\nwrite = [\"{arg_dirs}/sub\"]\n", 4, "sandbox.write", "placeholder"},
		{"unknown placeholder", srv + "[sandbox]\nwrite = [\"{home}\"]\n", 4, "sandbox.write", "placeholder"},
		{"NUL path", srv + "[sandbox]\nread = [\"/usr\\u0000/x\"]\n", 4, "sandbox.read", "NUL"},
		{"env digit", srv + "[sandbox]\nenv = [\"1ABC\"]\n", 4, "sandbox.env", "not an environment variable name"},
		{"env dash", srv + "[sandbox]\nenv = [\"A-B\"]\n", 4, "sandbox.env", "not an environment variable name"},
		{"env assignment to a bad name", srv + "[sandbox]\nenv = [\"A-B=C\"]\n", 4, "sandbox.env", "not an environment variable name"},
		{"env assignment without a name", srv + "[sandbox]\nenv = [\"=C\"]\n", 4, "sandbox.env", "not an environment variable name"},
		{"env empty", srv + "[sandbox]\nenv = [\"\"]\n", 4, "sandbox.env", "not an environment variable name"},
		{"env glob", srv + "[sandbox]\nenv = [\"AWS_*\"]\n", 4, "sandbox.env", "not an environment variable name"},
		{"allow empty glob", srv + "[tools]\nallow = [\"\"]\n", 4, "tools.allow", "is empty"},
		{"deny NUL glob", srv + "[resources]\ndeny = [\"a\\u0000\"]\n", 4, "resources.deny", "NUL"},
		{"processes zero", srv + "[sandbox.limits]\nprocesses = 0\n", 4, "sandbox.limits.processes", "greater than zero"},
		{"open_files negative", srv + "[sandbox.limits]\nopen_files = -1\n", 4, "sandbox.limits.open_files", "greater than zero"},
		{"cpu huge", srv + "[sandbox.limits]\ncpu_seconds = 1099511627776\n", 4, "sandbox.limits.cpu_seconds", "too large"},
		{"memory fraction", srv + "[sandbox.limits]\nmemory = \"1.5GiB\"\n", 4, "sandbox.limits.memory", "not a whole number"},
		{"memory unit", srv + "[sandbox.limits]\nmemory = \"1XB\"\n", 4, "sandbox.limits.memory", "unknown unit"},
		{"memory negative", srv + "[sandbox.limits]\nmemory = \"-1\"\n", 4, "sandbox.limits.memory", "whole number"},
		{"memory zero", srv + "[sandbox.limits]\nmemory = \"0GiB\"\n", 4, "sandbox.limits.memory", "zero"},
		{"file_size overflow", srv + "[sandbox.limits]\nfile_size = \"99999999999GiB\"\n", 4, "sandbox.limits.file_size", "too large"},
		{"rule unknown key", srv + "[tools.rules.read_file]\nmax_call = 1\n", 4, "tools.rules.read_file.max_call", `did you mean "max_calls"?`},
		{"rule dotted unknown", srv + "[tools]\nrules.read_file.x = 1\n", 4, "tools.rules.read_file.x", "unknown key"},
		{"rule not a table", srv + "[tools]\nrules.read_file = 1\n", 4, "tools.rules.read_file", "must be a table"},
		{"approval value", srv + "[tools.rules.w]\napproval = \"never\"\n", 4, "tools.rules.w.approval", `use "always" or "once-per-session"`},
		{"schema not json", srv + "[tools.rules.w]\nschema = \"{type\"\n", 4, "tools.rules.w.schema", "JSON object"},
		{"schema array", srv + "[tools.rules.w]\nschema = \"[]\"\n", 4, "tools.rules.w.schema", "JSON object"},
		{"burst alone", srv + "[tools.rules.w]\nburst = 3\n", 3, "tools.rules.w", "burst but no calls_per_minute"},
		{"limit zero", srv + "[tools.limits]\nmax_in_flight = 0\n", 4, "tools.limits.max_in_flight", "greater than zero"},
		{"result size", srv + "[tools.limits]\nmax_result_size = \"lots\"\n", 4, "tools.limits.max_result_size", "max_result_size"},
		{"arg no kind", srv + "[tools.rules.w.args]\n\"/p\" = { access = \"write\" }\n", 4, `tools.rules.w.args."/p"`, "has no kind"},
		{"arg bad kind", srv + "[tools.rules.w.args]\n\"/p\" = { kind = \"file\" }\n", 4, `tools.rules.w.args."/p".kind`, `use "path", "url", "sql" or "command"`},
		{"arg not pointer", srv + "[tools.rules.w.args]\npath = { kind = \"path\" }\n", 4, "tools.rules.w.args.path", "not a JSON pointer"},
		{"arg bad tilde", srv + "[tools.rules.w.args]\n\"/a~b\" = { kind = \"path\" }\n", 4, `tools.rules.w.args."/a~b"`, `"~0" or "~1"`},
		{"arg key of other kind", srv + "[tools.rules.w.args]\n\"/p\" = { kind = \"path\", schemes = [\"https\"] }\n", 4, `tools.rules.w.args."/p".schemes`, "unknown key"},
		{"sql no dialect", srv + "[tools.rules.q.args]\n\"/sql\" = { kind = \"sql\" }\n", 4, `tools.rules.q.args."/sql"`, "needs dialect"},
		{"command no allow", srv + "[tools.rules.r.args]\n\"/cmd\" = { kind = \"command\" }\n", 4, `tools.rules.r.args."/cmd"`, "needs allow"},
		{"url bad cidr", srv + "[tools.rules.f.args]\n\"/url\" = { kind = \"url\", allow_private = [\"10.0.0.0/33\"] }\n", 4, `tools.rules.f.args."/url".allow_private`, "10.0.0.0/33"},
		{"url bad host", srv + "[tools.rules.f.args]\n\"/url\" = { kind = \"url\", allow_hosts = [\"Evil.COM\"] }\n", 4, `tools.rules.f.args."/url".allow_hosts`, "lower-case host"},
		{"guards secrets", srv + "[guards]\nsecrets = \"mask\"\n", 4, "guards.secrets", `use "redact", "block" or "off"`},
		{"guards terminal", srv + "[guards]\napproval_fallback = \"terminal\"\n", 4, "guards.approval_fallback", "not built yet"},
		{"guards pin type", srv + "[guards]\npin = \"yes\"\n", 4, "guards.pin", "true or false"},
	})
}

func TestBadHosts(t *testing.T) {
	for _, h := range []string{
		"example.com", "example.com:", "example.com:0", "example.com:65536", "example.com:+80", "example.com:http",
		"*:", "*:0", "**:443", "*.*.com:443", "a.*.com:443", "*example.com:443", "exa mple.com:443", "-bad.com:443",
		"bad-.com:443", "a..b:443", ".a.com:443", "a.com.:443", "*.10.0.0.1:443", "::1:443", "[::1]", "a_b.com:443",
		strings.Repeat("a", 64) + ".com:443", "http://a.com:443", "a.com:443/x", "",
	} {
		src := srv + "[sandbox]\nnetwork = \"proxy\"\nallow_hosts = [" + quote(h) + "]\n"
		checkErrors(t, []errCase{{h, src, 5, "sandbox.allow_hosts", "sandbox.allow_hosts[0]"}})
	}
}

func TestBadCIDRs(t *testing.T) {
	for _, c := range []string{"10.0.0.0", "10.0.0.1/8", "10.0.0.0/33", "fd00::1/8", "localhost/8", "", "10.0.0.0/8 "} {
		src := srv + "[sandbox]\nnetwork = \"proxy\"\nallow_private = [" + quote(c) + "]\n"
		checkErrors(t, []errCase{{c, src, 5, "sandbox.allow_private", "sandbox.allow_private[0]"}})
	}
	_, err := Parse("p.toml", []byte(srv+"[sandbox]\nnetwork = \"proxy\"\nallow_private = [\"10.0.0.1/8\"]\n"))
	if err == nil || !strings.Contains(err.Error(), `"10.0.0.0/8"`) {
		t.Errorf("got %v, want the masked prefix suggested", err)
	}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func TestSyntaxErrors(t *testing.T) {
	checkErrors(t, []errCase{
		{"duplicate key", "[server]\nname = \"x\"\nname = \"y\"\n", 3, "", "syntax error: Key 'server.name' has already been defined"},
		{"duplicate table", "[server]\nname = \"x\"\n[server]\n", 3, "", "syntax error"},
		{"open header", "[server\nname = \"x\"\n", 1, "", "syntax error"},
		{"unterminated string", "[server]\nname = \"x\ndescription = \"\"\n", 2, "", "syntax error"},
		{"unterminated array at end", "[server]\nname = \"x\"\nmatch = [\"a\",\n\n", 3, "", "syntax error"},
		{"two keys on a line", "[server]\nname = \"x\" description = \"\"\n", 2, "", "syntax error"},
		{"byte order mark", "\xef\xbb\xbf[server]\nname = \"x\"\n[server\n", 3, "", "syntax error"},
		{"NUL byte", "\x00[server]\n", 1, "", "syntax error"},
	})
}

func TestErrorsSortedAndCapped(t *testing.T) {
	src := srv + "[sandbox]\nnetwork = 1\n[tools]\nbogus = 1\n[sandbox.limits]\nswap = 1\n"
	_, err := Parse("p.toml", []byte(src))
	ps := problems(t, err)
	var lines []int
	for _, p := range ps {
		lines = append(lines, p.Line)
	}
	if fmt.Sprint(lines) != "[4 6 8]" {
		t.Errorf("lines = %v, want [4 6 8]; error:\n%v", lines, err)
	}
	if n := strings.Count(err.Error(), "\n"); n != 2 {
		t.Errorf("error has %d line breaks, want one problem per line:\n%v", n, err)
	}

	var b strings.Builder
	b.WriteString(srv + "[sandbox]\nread = [\n")
	for range 100 {
		b.WriteString("\"rel\",\n")
	}
	b.WriteString("]\n")
	_, err = Parse("p.toml", []byte(b.String()))
	if ps := problems(t, err); len(ps) != maxProblems || ps[0].Line != 5 || ps[1].Line != 6 {
		t.Errorf("got %d problems starting at line %d, want %d starting at line 5", len(ps), ps[0].Line, maxProblems)
	}
}

func TestOversized(t *testing.T) {
	_, err := Parse("p.toml", make([]byte, MaxSize+1))
	var pe *Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "limit") {
		t.Errorf("got %v, want a size error", err)
	}
}

func TestEnvFixedValue(t *testing.T) {
	p, err := Parse("p.toml", []byte("[server]\nname = \"x\"\n[sandbox]\nenv = [\"PATH\", \"npm_config_prefer_offline=true\", \"EMPTY=\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Sandbox.Env, " "); got != "PATH npm_config_prefer_offline=true EMPTY=" {
		t.Errorf("Env = %q", got)
	}
}

func TestSeccompDeny(t *testing.T) {
	p, err := Parse("p.toml", []byte("[server]\nname = \"x\"\n[sandbox]\nseccomp_deny = [\"uname\", \"sched_setaffinity\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Sandbox.SeccompDeny, " "); got != "uname sched_setaffinity" {
		t.Errorf("SeccompDeny = %q", got)
	}
	for _, bad := range []string{`"UNAME"`, `""`, `"1x"`, `"un ame"`} {
		_, err := Parse("p.toml", []byte("[server]\nname = \"x\"\n[sandbox]\nseccomp_deny = ["+bad+"]\n"))
		if err == nil || !strings.Contains(err.Error(), "p.toml:4") || !strings.Contains(err.Error(), "system call name") {
			t.Errorf("seccomp_deny = [%s]: err = %v", bad, err)
		}
	}
}
