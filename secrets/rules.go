package secrets

import (
	"math"
	"regexp"
	"strings"
	"sync"
)

// spec is a built-in rule before compilation.
type spec struct {
	id       string
	keywords []string
	exact    bool // keywords are case-sensitive, like the token prefix they are
	pattern  string
	window   int // 0: the default
	entropy  float64
	check    func(string) bool
	// near, when not nil, is a cheap test of the text around a keyword
	// occurrence text[start:end]; the pattern runs only near occurrences
	// that pass it.
	near func(text string, start, end int) bool
}

// Pieces shared by several patterns.
const (
	// notBefore and notAfter stand for a word boundary around tokens whose
	// alphabet holds '-', which \b does not treat as part of a word.
	notBefore = `(?:^|[^A-Za-z0-9_-])`
	notAfter  = `(?:[^A-Za-z0-9_-]|$)`
	// assign is what joins a name to its value in code, configuration,
	// JSON (also JSON inside a JSON string) and the environment.
	assign = `\\?["']?\s*(?::=|=>|=|:)\s*\\?["']?`
	// pemBody is what the body of a PEM block is made of: base64, line
	// breaks (also as JSON escapes) and RFC 1421 header lines.
	pemBody = `(?:[A-Za-z0-9+/=]|[\r\n\t]|\\[nrt]|(?:Proc-Type|DEK-Info|Comment|Version):[^\r\n\\]*)`
	pemEnd  = `-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----`
)

// specs is the built-in rule table. Order matters only for naming: where
// two rules find the same secret, the earlier one is named, so the
// specific rules come before the generic ones.
var specs = []spec{
	{
		id:       "ssh-private-key",
		keywords: []string{"-----BEGIN OPENSSH PRIVATE KEY-----", "PuTTY-User-Key-File-"},
		pattern: `-----BEGIN OPENSSH PRIVATE KEY-----(?:` + pemBody + `| )*?-----END OPENSSH PRIVATE KEY-----` +
			`|-----BEGIN OPENSSH PRIVATE KEY-----` + pemBody + `*` +
			// A PuTTY key file: header lines and base64 lines.
			`|PuTTY-User-Key-File-\d+:[^\r\n\\]*(?:(?:\r?\n|\\r?\\n)(?:[A-Za-z][A-Za-z-]*: [^\r\n\\]*|[A-Za-z0-9+/=]+))*`,
		window: 16 << 10,
	},
	{
		id:       "private-key",
		keywords: []string{"-----BEGIN"},
		exact:    true,
		// A whole block, or, where the text was cut before END, the
		// header and as much of the body as there is.
		pattern: `-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:(?:` + pemBody + `| )*?` + pemEnd +
			`|` + pemBody + `*)`,
		window: 16 << 10,
	},
	{
		id:       "aws-access-key-id",
		keywords: []string{"AKIA", "ASIA", "ABIA", "ACCA", "A3T"},
		exact:    true,
		pattern:  `\b((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16})\b`,
	},
	{
		id:       "aws-secret-access-key",
		keywords: []string{"secret"},
		pattern:  `(?i)\b(?:aws[_.-]?)?secret[_.-]?(?:access[_.-]?)?key` + assign + `([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`,
		window:   128,
		entropy:  3.5,
		near:     assignAfter,
	},
	{
		id:       "github-pat",
		keywords: []string{"ghp_"},
		pattern:  `\b(ghp_[A-Za-z0-9]{36,251})\b`,
	},
	{
		id:       "github-fine-grained-pat",
		keywords: []string{"github_pat_"},
		pattern:  `\b(github_pat_[A-Za-z0-9_]{60,244})\b`,
	},
	{
		id:       "github-oauth-token",
		keywords: []string{"gho_"},
		pattern:  `\b(gho_[A-Za-z0-9]{36,251})\b`,
	},
	{
		id:       "github-app-token",
		keywords: []string{"ghu_", "ghs_"},
		pattern:  `\b(gh[us]_[A-Za-z0-9]{36,251})\b`,
	},
	{
		id:       "github-refresh-token",
		keywords: []string{"ghr_"},
		pattern:  `\b(ghr_[A-Za-z0-9]{36,251})\b`,
	},
	{
		id: "gitlab-token",
		keywords: []string{"glpat-", "gldt-", "glptt-", "glrt-", "gloas-", "glsoat-", "glffct-",
			"glimt-", "glcbt-", "glagent-", "glft-", "glwt-"},
		pattern: `\b((?:glpat|gldt|glptt|glrt|gloas|glsoat|glffct|glimt|glcbt|glagent|glft|glwt)-[A-Za-z0-9_-]{20,300}(?:\.[A-Za-z0-9_-]{2,64}){0,2})`,
	},
	{
		id:       "slack-token",
		keywords: []string{"xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe-", "xoxe."},
		pattern:  `\b((?:xoxe\.)?xox[abposre]-[0-9]{1,20}-[0-9A-Za-z][0-9A-Za-z-]{8,300})`,
	},
	{
		id:       "slack-app-token",
		keywords: []string{"xapp-"},
		pattern:  `\b(xapp-[0-9]-[A-Z0-9]{6,20}-[0-9]{6,20}-[A-Za-z0-9]{20,100})\b`,
	},
	{
		id:       "slack-webhook",
		keywords: []string{"hooks.slack.com/"},
		pattern:  `hooks\.slack\.com/((?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,200})`,
	},
	{
		id:       "stripe-key",
		keywords: []string{"sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_"},
		pattern:  `\b((?:sk|rk)_(?:live|test|prod)_[0-9A-Za-z]{10,247})\b`,
	},
	{
		id:       "stripe-webhook-secret",
		keywords: []string{"whsec_"},
		pattern:  `\b(whsec_[A-Za-z0-9+/]{32,128}={0,2})`,
	},
	{
		id:       "google-api-key",
		keywords: []string{"AIza"},
		exact:    true,
		pattern:  notBefore + `(AIza[0-9A-Za-z_-]{35})` + notAfter,
	},
	{
		id:       "google-oauth-client-secret",
		keywords: []string{"GOCSPX-"},
		exact:    true,
		pattern:  notBefore + `(GOCSPX-[0-9A-Za-z_-]{28})` + notAfter,
	},
	{
		id:       "google-oauth-token",
		keywords: []string{"ya29."},
		exact:    true,
		pattern:  `\b(ya29\.[0-9A-Za-z_-]{20,})`,
		entropy:  3.5,
	},
	{
		id:       "gcp-service-account-key-id",
		keywords: []string{"private_key_id"},
		pattern:  `private_key_id\\?"\s*:\s*\\?"([0-9a-f]{40})\\?"`,
	},
	{
		id:       "anthropic-api-key",
		keywords: []string{"sk-ant-"},
		pattern:  notBefore + `(sk-ant-[a-z]{2,10}[0-9]{0,3}-[A-Za-z0-9_-]{32,300})` + notAfter,
	},
	{
		id:       "openai-api-key",
		keywords: []string{"sk-"},
		near:     tokenAfter,
		pattern: notBefore + `(sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,300}` +
			`|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-[A-Za-z0-9]{48})` + notAfter,
		entropy: 3.5,
	},
	{
		id:       "huggingface-token",
		keywords: []string{"hf_"},
		exact:    true,
		pattern:  `\b(hf_[A-Za-z]{34})\b`,
	},
	{
		id:       "npm-token",
		keywords: []string{"npm_"},
		pattern:  `\b(npm_[A-Za-z0-9]{36})\b`,
	},
	{
		id: "pypi-token",
		// The prefix is the base64 of the macaroon's location, pypi.org or
		// test.pypi.org.
		keywords: []string{"pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"},
		exact:    true,
		pattern:  `\b(pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})`,
	},
	{
		id:       "twilio-api-key",
		keywords: []string{"SK"},
		exact:    true,
		pattern:  `\b(SK[0-9a-fA-F]{32})\b`,
		window:   64,
		near:     hexAfter,
	},
	{
		id:       "twilio-auth-token",
		keywords: []string{"twilio"},
		pattern:  `(?i:twilio)[^\r\n]{0,60}?\b([0-9a-f]{32})\b`,
		window:   128,
	},
	{
		id:       "sendgrid-api-key",
		keywords: []string{"SG."},
		exact:    true,
		pattern:  `\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})` + notAfter,
	},
	{
		id:       "mailgun-api-key",
		keywords: []string{"key-", "mailgun"},
		pattern:  `\b(key-[0-9a-f]{32})\b|(?i:mailgun)[^\r\n]{0,60}?\b([0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})\b`,
		window:   160,
	},
	{
		id:       "discord-bot-token",
		keywords: []string{"discord", "bot"},
		window:   160,
		pattern:  `(?i:discord|\bbot)[^\r\n]{0,40}?\b([MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40})` + notAfter,
	},
	{
		id:       "discord-webhook",
		keywords: []string{"discord.com/api/webhooks/", "discordapp.com/api/webhooks/"},
		pattern:  `discord(?:app)?\.com/api/webhooks/[0-9]{5,30}/([A-Za-z0-9_-]{60,100})`,
	},
	{
		id:       "telegram-bot-token",
		keywords: []string{":AA"},
		exact:    true,
		pattern:  `(?:^|[^0-9])([0-9]{5,16}:AA[0-9A-Za-z_-]{33})` + notAfter,
	},
	{
		id:       "azure-storage-key",
		keywords: []string{"accountkey", "sharedaccesskey"},
		pattern:  `(?i:AccountKey|SharedAccessKey)\s*=\s*([A-Za-z0-9+/]{40,88}={0,2})`,
		entropy:  3.5,
	},
	{
		id:       "azure-sas-token",
		keywords: []string{"sig="},
		pattern:  `[?&]sig=([A-Za-z0-9%+/]{30,150}(?:%3D|=){0,2})`,
	},
	{
		id:       "jwt",
		keywords: []string{"eyJ"},
		exact:    true,
		pattern:  `\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)`,
		window:   8 << 10,
	},
	{
		id: "db-connection-string",
		keywords: []string{"postgres", "mysql", "mariadb", "mongodb", "redis", "amqp", "mssql",
			"sqlserver", "cockroachdb", "clickhouse", "oracle", "couchdb", "neo4j", "jdbc:"},
		pattern: `(?i:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|cockroachdb|clickhouse|oracle|couchdb|neo4j(?:\+s)?|jdbc:[a-z0-9]+)` +
			`://[^\s:/?#@"'<>\\]*:([^\s/?#"'<>\\]+)@`,
		window: 512,
		check:  notPlaceholder,
		near:   atSignAfter,
	},
	{
		id:       "connection-string-password",
		keywords: []string{"password", "pwd"},
		// ADO.NET, ODBC and JDBC: a password in a list of settings that
		// names a server, a user or a database.
		pattern: `(?i)(?:server|host|data source|address|user id|uid|user|username|database|initial catalog|dbname)\s*=[^;&\r\n]*[;&](?:[^;&\r\n]*[;&])*?\s*(?:password|pwd)\s*=\s*([^;&\r\n"'\\]+)`,
		check:   notPlaceholder,
		near:    equalsNext,
	},
	{
		id:       "url-credentials",
		keywords: []string{"://"},
		pattern:  `\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@"'<>\\]+:([^\s/?#"'<>\\]+)@[A-Za-z0-9\[]`,
		window:   512,
		check:    notPlaceholder,
		near:     atSignAfter,
	},
	{
		id:       "authorization-header",
		keywords: []string{"authorization"},
		pattern:  `(?i)\bauthorization` + assign + `(?:(?:bearer|basic|token|bot)\s+)?([A-Za-z0-9._~+/-]{8,}=*)`,
		entropy:  3,
		check:    notPlaceholder,
		near:     assignAfter,
	},
	{
		id:       "bearer-token",
		keywords: []string{"bearer"},
		pattern:  `(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)`,
		entropy:  3,
		check:    notPlaceholder,
		near:     tokenAfterSpace,
	},
	{
		id: "generic-secret",
		keywords: []string{"password", "passwd", "passphrase", "secret", "apikey", "api_key", "api-key",
			"accesskey", "access_key", "access-key", "token", "privatekey", "private_key", "private-key"},
		// A name that holds one of the keywords at a word boundary and
		// continues only with separated words or a few usual suffixes
		// (so "tokenizer" and "max_tokens" are not names of secrets), then
		// an assignment of a value without quotes, spaces or brackets.
		pattern: `(?i)(?:^|[^A-Za-z0-9])[A-Za-z0-9_.-]*?` +
			`(?:password|passwd|passphrase|secret|api[_-]?key|access[_-]?key|token|private[_-]?key)` +
			`(?:[_.-][A-Za-z0-9]+|key|token|value|str|string|hash|id|b64|base64){0,3}` + assign +
			"([^\\s\"'`\\\\,;<>(){}\\[\\]]{8,})",
		window:  512,
		entropy: 3,
		check:   plausibleValue,
		near:    assignAfter,
	},
}

// builtinRules compiles specs once; the result is never modified.
var builtinRules = sync.OnceValue(func() []*rule {
	rules := make([]*rule, len(specs))
	for i, sp := range specs {
		w := sp.window
		if w == 0 {
			w = window
		}
		rules[i] = &rule{
			id: sp.id, keywords: sp.keywords, exact: sp.exact,
			re: regexp.MustCompile(sp.pattern), window: w,
			entropy: sp.entropy, check: sp.check, near: sp.near,
		}
	}
	return rules
})

var defaultScanner = sync.OnceValue(func() *Scanner {
	s, err := newScanner(builtinRules())
	if err != nil {
		panic(err) // the built-in keywords are far below the limit
	}
	return s
})

// entropy returns the Shannon entropy of s in bits a byte.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// notPlaceholder rejects values that stand for a secret without being one:
// template and environment references, masks.
func notPlaceholder(v string) bool {
	switch v[0] {
	case '$', '%', '<', '{', '*':
		return false
	}
	if strings.Trim(v, "xX*•.#-_") == "" {
		return false
	}
	lower := strings.ToLower(v)
	for _, p := range []string{"redacted", "********", "...", "changeme", "your_", "your-", "<", ">"} {
		if strings.Contains(lower, p) {
			return false
		}
	}
	return true
}

// plausibleValue rejects, on top of placeholders, the values of secret
// names that are code or configuration rather than a secret: references to
// other names (os.environ, settings.SECRET_KEY, DB_PASSWORD), paths, URLs
// and numbers.
func plausibleValue(v string) bool {
	if !notPlaceholder(v) {
		return false
	}
	if strings.Contains(v, "://") || v[0] == '/' || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "~/") {
		return false
	}
	letters, digits, other, seps := 0, 0, 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letters++
		case '0' <= c && c <= '9':
			digits++
		case c == '_' || c == '.':
			seps++
		default:
			other++
		}
	}
	if letters == 0 && other == 0 {
		return false // a number, a version
	}
	if digits == 0 && other == 0 && (seps > 0 || entropy(v) < 3.5) {
		return false // an identifier or a dotted path
	}
	return true
}

// The near tests look a short way from a keyword for what every match
// needs there. They are what keeps common words such as "password",
// "token" and "://" from costing a regular expression each time. A near
// test that rejects what its rule's pattern would match hides that secret,
// so each skips white space as the patterns' \s does (isSpace), and
// TestNearTestsMissNothing holds them to it.

// nearLimit bounds how far assignAfter looks past a keyword, so that a
// text made of keywords costs linear time. A secret whose name goes on for
// more than this after its keyword is not found.
const nearLimit = 48

// assignAfter reports whether an assignment (':' or '=') follows the
// keyword, after the rest of a name, a closing quote and white space.
func assignAfter(text string, _, end int) bool {
	limit := min(len(text), end+nearLimit)
	i := end
	for i < limit && (isTokenByte(text[i]) || text[i] == '"' || text[i] == '\'' || text[i] == '\\') {
		i++
	}
	for i < limit && isSpace(text[i]) {
		i++
	}
	return i < limit && (text[i] == ':' || text[i] == '=')
}

// equalsNext reports whether '=' follows the keyword, after white space.
func equalsNext(text string, _, end int) bool {
	for i := end; i < len(text) && i < end+8; i++ {
		if text[i] == '=' {
			return true
		}
		if !isSpace(text[i]) {
			return false
		}
	}
	return false
}

// atSignAfter reports whether an '@' follows the keyword before the end of
// what could be a URL's authority.
func atSignAfter(text string, _, end int) bool {
	for i := end; i < len(text) && i < end+600; i++ {
		switch text[i] {
		case '@':
			return true
		case ' ', '\t', '\n', '\r', '"', '\'', '<', '>', '\\':
			return false
		}
	}
	return false
}

// hexAfter reports whether 32 hex digits follow the keyword.
func hexAfter(text string, _, end int) bool {
	if end+32 > len(text) {
		return false
	}
	for i := end; i < end+32; i++ {
		c := text[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// tokenAfter reports whether at least 20 token characters follow the
// keyword.
func tokenAfter(text string, _, end int) bool {
	if end+20 > len(text) {
		return false
	}
	for i := end; i < end+20; i++ {
		c := text[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// tokenAfterSpace reports whether white space and then a token character
// follow the keyword.
func tokenAfterSpace(text string, _, end int) bool {
	i := end
	for i < len(text) && i < end+8 && isSpace(text[i]) {
		i++
	}
	return i > end && i < len(text) && isTokenByte(text[i])
}

// isSpace reports whether c is white space as \s is in Go's regular
// expressions: '\t', '\n', '\f', '\r' and ' '.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func isTokenByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_' || c == '.' || c == '+' || c == '/' || c == '~'
}
