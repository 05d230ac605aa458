package profiles_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/mcpwarden/mcpwarden/filter"
	"github.com/mcpwarden/mcpwarden/pathguard"
	"github.com/mcpwarden/mcpwarden/profile"
)

// serverTools are the tools each built-in profile's server has, read from
// the server's source at the version its profile names. A rule or a deny
// glob for a name not here would guard nothing: the test below fails on
// it.
var serverTools = map[string]string{
	"everything":          "",
	"default":             "",
	"sequential-thinking": "sequentialthinking",
	"postgres":            "query",
	"time":                "get_current_time convert_time",
	"fetch":               "fetch",
	"memory":              "create_entities create_relations add_observations delete_entities delete_observations delete_relations read_graph search_nodes open_nodes",
	"filesystem": "read_file read_text_file read_media_file read_multiple_files write_file edit_file create_directory list_directory " +
		"list_directory_with_sizes directory_tree move_file search_files get_file_info list_allowed_directories",
	"git":    "git_status git_diff_unstaged git_diff_staged git_diff git_commit git_add git_reset git_log git_create_branch git_checkout git_show git_branch",
	"sqlite": "read_query write_query create_table list_tables describe_table append_insight",
	"github": "create_or_update_file search_repositories create_repository get_file_contents push_files create_issue create_pull_request " +
		"fork_repository create_branch list_commits list_issues update_issue add_issue_comment search_code search_issues search_users " +
		"get_issue get_pull_request list_pull_requests create_pull_request_review merge_pull_request get_pull_request_files " +
		"get_pull_request_status update_pull_request_branch get_pull_request_comments get_pull_request_reviews",
	"slack": "slack_list_channels slack_post_message slack_reply_to_thread slack_add_reaction slack_get_channel_history " +
		"slack_get_thread_replies slack_get_users slack_get_user_profile",
	"brave-search": "brave_web_search brave_local_search",
	"puppeteer":    "puppeteer_navigate puppeteer_screenshot puppeteer_click puppeteer_fill puppeteer_select puppeteer_hover puppeteer_evaluate",
	"playwright": "browser_annotate browser_check browser_click browser_close browser_console_clear browser_console_messages " +
		"browser_cookie_clear browser_cookie_delete browser_cookie_get browser_cookie_list browser_cookie_set " +
		"browser_drag browser_drop browser_emulate_media browser_evaluate browser_file_upload browser_fill_form " +
		"browser_find browser_generate_locator browser_get_config browser_handle_dialog browser_hide_highlight " +
		"browser_highlight browser_hover browser_keydown browser_keyup browser_localstorage_clear " +
		"browser_localstorage_delete browser_localstorage_get browser_localstorage_list browser_localstorage_set " +
		"browser_mouse_click_xy browser_mouse_down browser_mouse_drag_xy browser_mouse_move_xy browser_mouse_up " +
		"browser_mouse_wheel browser_navigate browser_navigate_back browser_navigate_forward browser_network_clear " +
		"browser_network_request browser_network_requests browser_network_state_set browser_pdf_save browser_press_key " +
		"browser_press_sequentially browser_reload browser_resize browser_resume browser_route browser_route_list " +
		"browser_run_code_unsafe browser_select_option browser_sessionstorage_clear browser_sessionstorage_delete " +
		"browser_sessionstorage_get browser_sessionstorage_list browser_sessionstorage_set browser_set_storage_state " +
		"browser_snapshot browser_start_recording browser_start_tracing browser_start_video browser_stop_recording " +
		"browser_stop_tracing browser_stop_video browser_storage_state browser_tabs browser_take_screenshot " +
		"browser_type browser_uncheck browser_unroute browser_verify_element_visible browser_verify_list_visible " +
		"browser_verify_text_visible browser_verify_value browser_video_chapter browser_video_hide_actions " +
		"browser_video_show_actions browser_wait_for browser_webmcp_call browser_webmcp_list",
	"github-mcp-server": "actions_get actions_list actions_run_trigger add_comment_to_pending_review add_issue_comment " +
		"add_issue_comment_reaction add_issue_reaction add_pull_request_review_comment add_pull_request_review_comment_reaction " +
		"add_reply_to_pull_request_comment add_sub_issue assign_copilot_to_issue assign_copilot_to_issue_with_intent create_branch " +
		"create_gist create_issue create_or_update_file create_pull_request create_pull_request_review create_repository delete_file " +
		"delete_pending_pull_request_review delete_repository discussion_comment_write dismiss_notification find_duplicate " +
		"fork_repository get_code_quality_finding get_code_scanning_alert get_commit get_dependabot_alert get_discussion " +
		"get_discussion_comments get_file_blame get_file_contents get_gist get_global_security_advisory get_job_logs get_label " +
		"get_latest_release get_me get_notification_details get_release_by_tag get_repository_tree get_secret_scanning_alert get_tag " +
		"get_team_members get_teams issue_dependency_read issue_dependency_write issue_read issue_write label_write list_branches " +
		"list_code_scanning_alerts list_commits list_dependabot_alerts list_discussion_categories list_discussions list_gists " +
		"list_global_security_advisories list_issue_fields list_issue_types list_issues list_label list_notifications " +
		"list_org_repository_security_advisories list_pull_requests list_releases list_repository_collaborators " +
		"list_repository_security_advisories list_secret_scanning_alerts list_starred_repositories list_tags " +
		"manage_notification_subscription manage_repository_notification_subscription mark_all_notifications_read merge_pull_request " +
		"projects_get projects_list projects_write pull_request_read pull_request_review_write push_files remove_sub_issue " +
		"reprioritize_sub_issue request_copilot_review request_pull_request_reviewers resolve_review_thread search_code search_commits " +
		"search_issues search_orgs search_pull_requests search_repositories search_users set_issue_fields star_repository " +
		"sub_issue_write submit_pending_pull_request_review ui_get unresolve_review_thread unstar_repository update_gist " +
		"update_issue_assignees update_issue_body update_issue_labels update_issue_milestone update_issue_state update_issue_title " +
		"update_issue_type update_pull_request update_pull_request_body update_pull_request_branch update_pull_request_draft_state " +
		"update_pull_request_state update_pull_request_title",
}

// writeTools are the tools of each server that change something outside
// the conversation (files, databases, repositories, messages): each must
// need approval, or be denied. Tools whose purpose is to write inside the
// sandbox (memory's additions) or that act only on a page (clicks) are
// discussed in the profiles' comments instead.
var writeTools = map[string]string{
	"filesystem": "write_file edit_file create_directory move_file",
	"memory":     "delete_entities delete_observations delete_relations",
	"git":        "git_commit git_add git_reset git_create_branch git_checkout",
	"sqlite":     "write_query create_table",
	"github": "create_or_update_file create_repository push_files create_issue create_pull_request fork_repository create_branch " +
		"update_issue add_issue_comment create_pull_request_review merge_pull_request update_pull_request_branch",
	"slack":      "slack_post_message slack_reply_to_thread slack_add_reaction",
	"puppeteer":  "puppeteer_evaluate",
	"playwright": "browser_evaluate browser_file_upload browser_drop browser_run_code_unsafe",
	"github-mcp-server": "actions_run_trigger add_comment_to_pending_review add_issue_comment add_issue_comment_reaction " +
		"add_issue_reaction add_pull_request_review_comment add_pull_request_review_comment_reaction add_reply_to_pull_request_comment " +
		"add_sub_issue assign_copilot_to_issue assign_copilot_to_issue_with_intent create_branch create_gist create_issue " +
		"create_or_update_file create_pull_request create_pull_request_review create_repository delete_file " +
		"delete_pending_pull_request_review delete_repository discussion_comment_write dismiss_notification fork_repository " +
		"issue_dependency_write issue_write label_write manage_notification_subscription manage_repository_notification_subscription " +
		"mark_all_notifications_read merge_pull_request projects_write pull_request_review_write push_files remove_sub_issue " +
		"reprioritize_sub_issue request_copilot_review request_pull_request_reviewers resolve_review_thread set_issue_fields " +
		"star_repository sub_issue_write submit_pending_pull_request_review unresolve_review_thread unstar_repository update_gist " +
		"update_issue_assignees update_issue_body update_issue_labels update_issue_milestone update_issue_state update_issue_title " +
		"update_issue_type update_pull_request update_pull_request_body update_pull_request_branch update_pull_request_draft_state " +
		"update_pull_request_state update_pull_request_title",
}

// argKinds are every argument rule of each profile, as "tool /pointer kind".
var argKinds = map[string]string{
	"postgres": "query /sql sql",
	"sqlite":   "read_query /query sql",
	"fetch":    "fetch /url url",
	"git": "git_status /repo_path path git_diff_unstaged /repo_path path git_diff_staged /repo_path path git_log /repo_path path " +
		"git_diff /repo_path path git_show /repo_path path git_branch /repo_path path git_add /repo_path path " +
		"git_commit /repo_path path git_reset /repo_path path git_create_branch /repo_path path git_checkout /repo_path path",
	"filesystem": "read_file /path path read_text_file /path path read_media_file /path path read_multiple_files /paths/* path " +
		"list_directory /path path list_directory_with_sizes /path path directory_tree /path path search_files /path path " +
		"get_file_info /path path write_file /path path edit_file /path path create_directory /path path " +
		"move_file /source path move_file /destination path",
	"puppeteer":  "puppeteer_navigate /url url",
	"playwright": "browser_navigate /url url browser_tabs /url url browser_file_upload /paths/* path browser_drop /paths/* path browser_set_storage_state /filename path",
}

func builtins(t *testing.T) map[string]*profile.Profile {
	t.Helper()
	ps, err := profile.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*profile.Profile{}
	for _, p := range ps {
		m[p.Server.Name] = p
	}
	return m
}

func TestBuiltinsKnown(t *testing.T) {
	ps := builtins(t)
	for name := range ps {
		if _, ok := serverTools[name]; !ok {
			t.Errorf("built-in profile %s has no entry in serverTools: list its server's tools", name)
		}
	}
	for name := range serverTools {
		if ps[name] == nil {
			t.Errorf("serverTools names %s, which is not a built-in profile", name)
		}
	}
}

// TestBuiltinRulesNameRealTools holds every rule and every deny glob to
// the tools the server has.
func TestBuiltinRulesNameRealTools(t *testing.T) {
	for name, p := range builtins(t) {
		tools := strings.Fields(serverTools[name])
		for _, r := range p.ToolRules {
			if !slices.Contains(tools, r.Name) {
				t.Errorf("%s: tools.rules.%s: the server has no such tool", name, r.Name)
			}
		}
		for _, glob := range p.Tools.Deny {
			if !slices.ContainsFunc(tools, func(tool string) bool { return matchGlob(glob, tool) }) {
				t.Errorf("%s: tools.deny %q matches none of the server's tools", name, glob)
			}
		}
	}
}

// matchGlob is the tool globs' syntax for the plain names used here:
// '*' any run of characters.
func matchGlob(glob, name string) bool {
	if !strings.Contains(glob, "*") {
		return glob == name
	}
	parts := strings.Split(glob, "*")
	if !strings.HasPrefix(name, parts[0]) || !strings.HasSuffix(name[len(parts[0]):], parts[len(parts)-1]) {
		return false
	}
	rest := name[len(parts[0]) : len(name)-len(parts[len(parts)-1])]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}

// TestBuiltinWritesNeedApproval checks that every tool that writes needs
// approval or is denied, and that nothing else asks for it.
func TestBuiltinWritesNeedApproval(t *testing.T) {
	for name, p := range builtins(t) {
		writes := strings.Fields(writeTools[name])
		calls := compile(t, p, nil)
		for _, tool := range strings.Fields(serverTools[name]) {
			denied := slices.ContainsFunc(p.Tools.Deny, func(g string) bool { return matchGlob(g, tool) })
			approval := calls.Approval(tool)
			switch write := slices.Contains(writes, tool); {
			case write && approval == "" && !denied:
				t.Errorf("%s: %s writes but needs no approval", name, tool)
			case !write && approval != "":
				t.Errorf("%s: %s needs approval %q but is not listed as writing", name, tool, approval)
			}
			// A case variant gets the same rule.
			if got := calls.Approval(strings.ToUpper(tool)); got != approval {
				t.Errorf("%s: %s upper-cased needs approval %q, want %q", name, tool, got, approval)
			}
		}
		for _, w := range writes {
			if !slices.Contains(strings.Fields(serverTools[name]), w) {
				t.Errorf("%s: writeTools lists %s, which the server does not have", name, w)
			}
		}
	}
}

func TestBuiltinArgumentKinds(t *testing.T) {
	for name, p := range builtins(t) {
		var got []string
		for _, r := range p.ToolRules {
			for _, a := range r.Args {
				got = append(got, r.Name+" "+a.Pointer+" "+a.Kind)
			}
		}
		want := chunks(strings.Fields(argKinds[name]), 3)
		if !slices.Equal(got, want) {
			t.Errorf("%s: argument rules\n got %q\nwant %q", name, got, want)
		}
	}
}

func chunks(words []string, n int) []string {
	var out []string
	for i := 0; i+n <= len(words); i += n {
		out = append(out, strings.Join(words[i:i+n], " "))
	}
	return out
}

// TestBuiltinNetwork pins each profile's network and egress hosts: a
// change here changes what a server can reach.
func TestBuiltinNetwork(t *testing.T) {
	want := map[string]string{
		"default": "none", "everything": "none", "filesystem": "none", "memory": "none",
		"sequential-thinking": "none", "time": "none", "git": "none", "sqlite": "none",
		"postgres": "host", "puppeteer": "host", "playwright": "host",
		"fetch":             "proxy *:80 *:443",
		"github":            "proxy api.github.com:443",
		"github-mcp-server": "proxy api.github.com:443 raw.githubusercontent.com:443 uploads.github.com:443 github.com:443",
		"slack":             "proxy slack.com:443",
		"brave-search":      "proxy api.search.brave.com:443",
	}
	for name, p := range builtins(t) {
		got := strings.Join(append([]string{p.Sandbox.Network}, p.Sandbox.AllowHosts...), " ")
		if got != want[name] {
			t.Errorf("%s: network %q, want %q", name, got, want[name])
		}
	}
}

// TestBuiltinPythonPaths checks that the Python servers' profiles can
// reach the interpreters and package caches they run from.
func TestBuiltinPythonPaths(t *testing.T) {
	ps := builtins(t)
	for _, name := range []string{"fetch", "git", "sqlite", "time"} {
		p := ps[name]
		for _, dir := range []string{"/usr", "~/.cache/uv", "~/.local/share/uv", "~/.local/bin", "~/.local/lib"} {
			if !slices.Contains(p.Sandbox.Read, dir) {
				t.Errorf("%s: read lacks %s", name, dir)
			}
		}
		if slices.Contains(p.Sandbox.Read, "~/.local") || slices.Contains(p.Sandbox.Read, "~") {
			t.Errorf("%s: reads all of ~/.local or home: %q", name, p.Sandbox.Read)
		}
		if !strings.Contains(string(p.Source), "/usr/lib/python3") || !strings.Contains(string(p.Source), "~/.cache/uv") {
			t.Errorf("%s: the comment does not say which interpreter paths are readable", name)
		}
	}
}

// sandboxRoots expands a profile's paths as run does for a server started
// with args.
func sandboxRoots(t *testing.T, p *profile.Profile, home string, args []string) pathguard.Roots {
	t.Helper()
	read, err := profile.ExpandPaths(p.Sandbox.Read, home, args)
	if err != nil {
		t.Fatal(err)
	}
	write, err := profile.ExpandPaths(p.Sandbox.Write, home, args)
	if err != nil {
		t.Fatal(err)
	}
	return pathguard.Roots{Read: read, Write: write, Home: home, Dir: home}
}

func compile(t *testing.T, p *profile.Profile, roots *pathguard.Roots) *filter.Calls {
	t.Helper()
	cfg := filter.CallsConfig{Rules: p.ToolRules, Limits: p.ToolLimits, Secrets: p.Guards.Secrets}
	if roots != nil {
		cfg.Roots = *roots
	}
	c, err := filter.NewCalls(cfg)
	if err != nil {
		t.Fatalf("%s: %v", p.Server.Name, err)
	}
	return c
}

// call is one tool call and whether the profile's rules let it through.
type call struct {
	tool, args string
	allowed    bool
}

// checkCalls runs calls through the rules of the named profile, for a
// server started with args.
func checkCalls(t *testing.T, name string, args []string, calls []call) {
	t.Helper()
	p := builtins(t)[name]
	home := t.TempDir()
	roots := sandboxRoots(t, p, home, args)
	c := compile(t, p, &roots)
	for _, tc := range calls {
		err := c.CheckArgs(context.Background(), tc.tool, jsontext.Value(tc.args), nil)
		if (err == nil) != tc.allowed {
			t.Errorf("%s: %s %s: allowed=%v, want %v (%v)", name, tc.tool, tc.args, err == nil, tc.allowed, err)
		}
		if err != nil && !strings.Contains(err.Reason, "argument") {
			t.Errorf("%s: %s %s: refusal does not say which argument: %s", name, tc.tool, tc.args, err.Reason)
		}
	}
}

func TestBuiltinPostgresReadOnly(t *testing.T) {
	checkCalls(t, "postgres", nil, []call{
		{"query", `{"sql": "SELECT id, name FROM customers WHERE id = 1"}`, true},
		{"query", `{"sql": "WITH t AS (SELECT 1 AS x) SELECT x FROM t"}`, true},
		{"query", `{"sql": "EXPLAIN SELECT * FROM orders"}`, true},
		{"query", `{"sql": "DROP TABLE customers"}`, false},
		{"query", `{"sql": "INSERT INTO customers VALUES (2, 'x')"}`, false},
		{"query", `{"sql": "COMMIT; DROP TABLE customers"}`, false},
		{"query", `{"sql": "WITH d AS (DELETE FROM customers RETURNING *) SELECT * FROM d"}`, false},
		{"query", `{"sql": "SELECT * INTO copy FROM customers"}`, false},
		{"query", `{"sql": "SELECT * FROM customers FOR UPDATE"}`, false},
		{"query", `{"sql": "EXPLAIN ANALYZE DELETE FROM customers"}`, false},
		{"query", `{"sql": "SELECT pg_read_file('/etc/passwd')"}`, false},
		{"query", `{"sql": "SELECT set_config('default_transaction_read_only', 'off', false)"}`, false},
		{"query", `{"SQL": "DROP TABLE customers"}`, false}, // a case variant is the same argument
		{"query", `{}`, false},
	})
}

func TestBuiltinSQLiteReadOnly(t *testing.T) {
	checkCalls(t, "sqlite", nil, []call{
		{"read_query", `{"query": "SELECT name FROM sqlite_master WHERE type = 'table'"}`, true},
		{"read_query", `{"query": "SELECT 1; DROP TABLE t"}`, false},
		{"read_query", `{"query": "ATTACH DATABASE '/tmp/x.db' AS x"}`, false},
		{"read_query", `{"query": "PRAGMA writable_schema = 1"}`, false},
		{"read_query", `{"query": "SELECT load_extension('/tmp/evil.so')"}`, false},
		{"read_query", `{"query": "DELETE FROM t"}`, false},
		{"describe_table", `{"table_name": "customers"}`, true},
		{"describe_table", `{"table_name": "customers); DROP TABLE t; --"}`, false},
		{"write_query", `{"query": "DELETE FROM t"}`, true}, // approval decides
	})
}

func TestBuiltinURLs(t *testing.T) {
	internal := []string{
		"http://127.0.0.1:8080/admin", "http://127.1/", "http://0x7f.1/", "http://2130706433/",
		"http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.1/", "http://192.168.1.1/", "http://[fd00:ec2::254]/", "file:///etc/passwd",
		"ftp://93.184.215.14/", "javascript:alert(1)",
	}
	for _, tc := range []struct{ profile, tool string }{
		{"fetch", "fetch"}, {"puppeteer", "puppeteer_navigate"}, {"playwright", "browser_navigate"}, {"playwright", "browser_tabs"},
	} {
		calls := []call{{tc.tool, `{"url": "https://93.184.215.14/index.html"}`, true}}
		for _, u := range internal {
			calls = append(calls, call{tc.tool, `{"url": "` + u + `"}`, false})
		}
		checkCalls(t, tc.profile, nil, calls)
	}
	// browser_tabs has other actions with no URL.
	checkCalls(t, "playwright", nil, []call{{"browser_tabs", `{"action": "list"}`, true}})
}

func TestBuiltinPuppeteerLaunchOptions(t *testing.T) {
	checkCalls(t, "puppeteer", nil, []call{
		{"puppeteer_navigate", `{"url": "https://93.184.215.14/", "launchOptions": {"executablePath": "/bin/sh"}}`, false},
		{"puppeteer_navigate", `{"url": "https://93.184.215.14/", "allowDangerous": true}`, false},
	})
	p := builtins(t)["puppeteer"]
	if !slices.Contains(p.Sandbox.Env, "ALLOW_DANGEROUS=true") || !slices.ContainsFunc(p.Sandbox.Env, func(e string) bool {
		return strings.HasPrefix(e, "PUPPETEER_LAUNCH_OPTIONS=") && strings.Contains(e, `"headless": true`)
	}) {
		t.Errorf("puppeteer: env does not fix the launch options: %q", p.Sandbox.Env)
	}
}

func TestBuiltinPlaywrightRunCodeDenied(t *testing.T) {
	p := builtins(t)["playwright"]
	if !slices.Contains(p.Tools.Deny, "browser_run_code_unsafe") {
		t.Errorf("playwright: browser_run_code_unsafe is not denied: %q", p.Tools.Deny)
	}
}

func TestBuiltinFetchPromptDenied(t *testing.T) {
	p := builtins(t)["fetch"]
	if !slices.Contains(p.Prompts.Deny, "fetch") {
		t.Errorf("fetch: the fetch prompt, whose URL is not checked, is allowed: %q", p.Prompts.Deny)
	}
}

func TestBuiltinGitPaths(t *testing.T) {
	base := t.TempDir()
	repo := filepath.Join(base, "repo")
	other := filepath.Join(base, "other")
	for _, d := range []string{repo, other, repo + "_evil"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(other, filepath.Join(repo, "link")); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "git", []string{"--repository", repo}, []call{
		{"git_status", `{"repo_path": "` + repo + `"}`, true},
		{"git_status", `{"repo_path": "` + other + `"}`, false},
		{"git_status", `{"repo_path": "` + repo + `_evil"}`, false},
		{"git_log", `{"repo_path": "` + repo + `/link"}`, false},
		{"git_commit", `{"repo_path": "` + repo + `/../other", "message": "x"}`, false},
		{"git_diff", `{"repo_path": "` + repo + `", "target": "main"}`, true},
		{"git_diff", `{"repo_path": "` + repo + `", "target": "--output=/tmp/x"}`, false},
		{"git_show", `{"repo_path": "` + repo + `", "revision": "-p"}`, false},
		{"git_checkout", `{"repo_path": "` + repo + `", "branch_name": "--orphan=x"}`, false},
		{"git_create_branch", `{"repo_path": "` + repo + `", "branch_name": "topic", "base_branch": "--force"}`, false},
		{"git_branch", `{"repo_path": "` + repo + `", "branch_type": "all", "contains": "--exec=x"}`, false},
	})
}

func TestBuiltinFilesystemPaths(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "work")
	secret := filepath.Join(base, "secret")
	for _, d := range []string{dir, secret, dir + "_evil"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(secret, filepath.Join(dir, "planted")); err != nil {
		t.Fatal(err)
	}
	checkCalls(t, "filesystem", []string{dir}, []call{
		{"read_text_file", `{"path": "` + dir + `/notes.txt"}`, true},
		{"write_file", `{"path": "` + dir + `/new.txt", "content": "x"}`, true},
		{"read_text_file", `{"path": "` + dir + `/planted/key"}`, false},
		{"read_text_file", `{"path": "` + dir + `_evil/x"}`, false},
		{"read_text_file", `{"path": "/usr/share/dict/words"}`, false},
		{"read_multiple_files", `{"paths": ["` + dir + `/a", "` + secret + `/key"]}`, false},
		{"move_file", `{"source": "` + dir + `/a", "destination": "` + secret + `/a"}`, false},
		{"edit_file", `{"path": "` + dir + `/../secret/key", "edits": []}`, false},
	})
}

func TestBuiltinBraveQueryBounds(t *testing.T) {
	checkCalls(t, "brave-search", nil, []call{
		{"brave_web_search", `{"query": "mcp sandbox", "count": 5}`, true},
		{"brave_web_search", `{"query": "` + strings.Repeat("x", 401) + `"}`, false},
		{"brave_web_search", `{"query": "q", "count": 500}`, false},
		{"brave_local_search", `{"query": ""}`, false},
	})
}

// TestBuiltinSelect checks that the ways each server is launched select
// its profile, and that look-alikes and data arguments select none.
func TestBuiltinSelect(t *testing.T) {
	nm := "/home/u/.npm/_npx/0a1b2c3d/node_modules"
	uv := "/home/u/.cache/uv/archive-v0/Xy12/bin"
	for _, tc := range []struct{ argv, want string }{
		{"npx -y @modelcontextprotocol/server-sequential-thinking", "sequential-thinking"},
		{"npx -y @modelcontextprotocol/server-sequential-thinking@2026.8.31", "sequential-thinking"},
		{"node " + nm + "/@modelcontextprotocol/server-sequential-thinking/dist/index.js", "sequential-thinking"},
		{"mcp-server-sequential-thinking", "sequential-thinking"},
		{"npx -y @modelcontextprotocol/server-postgres postgresql://localhost/mydb", "postgres"},
		{"npx -y @modelcontextprotocol/server-postgres@0.6.2 postgresql://u:p@db.example.com/shop", "postgres"},
		{"node " + nm + "/@modelcontextprotocol/server-postgres/dist/index.js postgresql:///shop?host=/run/postgresql", "postgres"},
		{"npx -y @modelcontextprotocol/server-github", "github"},
		{"npx -y @modelcontextprotocol/server-github@2025.4.8", "github"},
		{"/usr/local/bin/mcp-server-github", "github"},
		{"github-mcp-server stdio", "github-mcp-server"},
		{"/usr/local/bin/github-mcp-server stdio --toolsets repos,issues --read-only", "github-mcp-server"},
		{"/home/u/go/bin/github-mcp-server stdio", "github-mcp-server"},
		{"npx -y @modelcontextprotocol/server-slack", "slack"},
		{"npx -y @modelcontextprotocol/server-brave-search", "brave-search"},
		{"env BRAVE_API_KEY=x npx -y @modelcontextprotocol/server-brave-search", "brave-search"},
		{"npx -y @modelcontextprotocol/server-puppeteer", "puppeteer"},
		{"npx @playwright/mcp@latest", "playwright"},
		{"npx -y @playwright/mcp --headless --output-dir /tmp/out", "playwright"},
		{"node " + nm + "/@playwright/mcp/cli.js --isolated", "playwright"},
		{nm + "/.bin/playwright-mcp", "playwright"},
		{"uvx mcp-server-fetch", "fetch"},
		{"uvx mcp-server-fetch@0.6.3 --ignore-robots-txt", "fetch"},
		{"uvx --from mcp-server-fetch==0.6.3 mcp-server-fetch", "fetch"},
		{"python -m mcp_server_fetch", "fetch"},
		{"/usr/bin/python3.11 -m mcp_server_fetch --user-agent x", "fetch"},
		{"uv tool run mcp-server-fetch", "fetch"},
		{"pipx run mcp-server-fetch", "fetch"},
		{uv + "/mcp-server-fetch", "fetch"},
		{"uvx mcp-server-git --repository /home/u/site", "git"},
		{"python3 -m mcp_server_git -r /home/u/site", "git"},
		{"/home/u/.local/bin/mcp-server-git --repository /home/u/site", "git"},
		{"uvx mcp-server-sqlite --db-path /home/u/.local/share/mcp-server-sqlite/shop.db", "sqlite"},
		{"python -m mcp_server_sqlite --db-path x.db", "sqlite"},
		{"uvx mcp-server-time --local-timezone=Europe/Paris", "time"},
		{"python3 -m mcp_server_time", "time"},
		{"uv run --with mcp-server-time mcp-server-time", "time"},

		// Look-alikes and data arguments select nothing of these.
		{"npx -y @evil/server-postgres postgresql://x", "default"},
		{"npx -y @modelcontextprotocol/server-postgres-plus", "default"},
		{"npx -y @modelcontextprotocol/server-githubx", "default"},
		{"npx -y mcp-server-github-enterprise", "default"},
		{"github-mcp-server-fork stdio", "default"},
		{"npx -y @evil/mcp", "default"},
		{"npx -y playwright-mcp-extra", "default"},
		{"uvx mcp-server-fetcher", "default"},
		{"uvx mcp-server-gitlab", "default"},
		{"uvx mcp-server-timezone", "default"},
		{"python -m mcp_server_git_extra", "default"},
		{"uvx some-server /home/u/mcp-server-git", "default"},
		{"python3 /opt/server.py mcp-server-fetch", "default"},
		{"npx -y some-server --db /home/u/@modelcontextprotocol/server-postgres", "default"},
		{"mcp-server-filesystem /home/u/mcp-server-sqlite", "filesystem"},
		{"npx -y @modelcontextprotocol/server-postgres /home/u/mcp-server-git", "postgres"},
		{"docker run -i --rm mcp/fetch", "default"},
		{"docker run -i --rm mcp/git", "default"},
	} {
		p, err := profile.Select(strings.Fields(tc.argv))
		if err != nil {
			t.Errorf("Select(%q): %v", tc.argv, err)
			continue
		}
		if p.Server.Name != tc.want {
			t.Errorf("Select(%q) = %s, want %s", tc.argv, p.Server.Name, tc.want)
		}
	}
}

// TestBuiltinMatchOwnPatterns checks that each profile's own patterns,
// given as the program, select that profile and no other.
func TestBuiltinMatchOwnPatterns(t *testing.T) {
	for name, p := range builtins(t) {
		for _, pat := range p.Server.Match {
			for _, argv := range [][]string{{pat}, {"npx", "-y", pat}, {"uvx", pat}} {
				got, err := profile.Select(argv)
				if err != nil {
					t.Fatal(err)
				}
				if got.Server.Name != name {
					t.Errorf("Select(%q) = %s, want %s", argv, got.Server.Name, name)
				}
			}
		}
	}
}

func TestBuiltinPlaywrightOutputNames(t *testing.T) {
	var calls []call
	for _, tool := range []string{"browser_take_screenshot", "browser_snapshot", "browser_evaluate", "browser_storage_state", "browser_console_messages"} {
		calls = append(calls,
			call{tool, `{"filename": "page.png"}`, true},
			call{tool, `{}`, true},
			call{tool, `{"filename": "/home/u/.npm/_npx/1/node_modules/x/index.js"}`, false},
			call{tool, `{"filename": "../../.npm/x.js"}`, false},
			call{tool, `{"filename": "~/.bashrc"}`, false},
			call{tool, `{"filename": "..\\x.js"}`, false},
		)
	}
	checkCalls(t, "playwright", nil, calls)
}
