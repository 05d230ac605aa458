package secrets

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// The secrets below are fake. They are assembled from pieces at run time,
// with bodies from a seeded generator, so that no credential-shaped string
// appears in the source.

const (
	alnum    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	lowerHex = "0123456789abcdef"
	b64chars = alnum + "+/"
	urlsafe  = alnum + "-_"
)

// gen returns n characters from alphabet, the same for the same seed.
func gen(seed uint64, n int, alphabet string) string {
	r := rand.New(rand.NewPCG(seed, 0x5ec7e75))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func cat(parts ...string) string { return strings.Join(parts, "") }

// pem builds a private key block of the given type with a fake body of
// size bytes, its lines joined by nl.
func pem(typ string, size int, nl string) string {
	body := base64.StdEncoding.EncodeToString([]byte(gen(7, size, alnum)))
	var b strings.Builder
	b.WriteString(cat("-----", "BEGIN ", typ, "PRIVATE KEY-----", nl))
	for len(body) > 64 {
		b.WriteString(body[:64] + nl)
		body = body[64:]
	}
	b.WriteString(body + nl)
	b.WriteString(cat("-----", "END ", typ, "PRIVATE KEY-----"))
	return b.String()
}

func jwt() string {
	enc := base64.RawURLEncoding.EncodeToString
	return cat(enc([]byte(`{"alg":"HS256","typ":"JWT"}`)), ".",
		enc([]byte(`{"sub":"1234567890","name":"Test User","iat":1516239022}`)), ".",
		gen(8, 43, urlsafe))
}

type detectCase struct {
	rule string
	// text holds the secret where it says %s.
	text, secret string
}

func detectCases() []detectCase {
	awsID := cat("AKIA", "IOSFODNN7", "EXAMPLE")
	awsSecret := cat("wJalrXUtnFEMI", "/K7MDENG/bPxRfiCY", "EXAMPLEKEY")
	return []detectCase{
		{"aws-access-key-id", "aws_access_key_id = %s\n", awsID},
		{"aws-access-key-id", `{"AccessKeyId": "%s", "Expiration": "2030-01-01"}`, cat("ASIA", gen(1, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))},
		{"aws-secret-access-key", "aws_secret_access_key = %s\n", awsSecret},
		{"aws-secret-access-key", `"SecretAccessKey": "%s",`, cat(gen(2, 20, b64chars), "/", gen(3, 19, b64chars))},
		{"github-pat", "git clone https://github.com/o/r (token %s)", cat("gh", "p_", gen(10, 36, alnum))},
		{"github-fine-grained-pat", "GH_TOKEN=%s\n", cat("github", "_pat_", gen(11, 22, alnum), "_", gen(12, 59, alnum))},
		{"github-oauth-token", "oauth: %s.", cat("gh", "o_", gen(13, 36, alnum))},
		{"github-app-token", "installation token %s expires", cat("gh", "s_", gen(14, 36, alnum))},
		{"github-app-token", "user-to-server %s", cat("gh", "u_", gen(15, 36, alnum))},
		{"github-refresh-token", "refresh=%s&x=1", cat("gh", "r_", gen(16, 76, alnum))},
		{"gitlab-token", "PRIVATE-TOKEN: %s\n", cat("gl", "pat-", gen(17, 20, urlsafe))},
		{"gitlab-token", "runner %s.", cat("gl", "rt-", gen(18, 20, alnum))},
		{"slack-token", "SLACK_BOT_TOKEN=%s\n", cat("xo", "xb-", "123456789012-1234567890123-", gen(19, 24, alnum))},
		{"slack-token", "user %s end", cat("xo", "xp-", "123456789012-123456789012-123456789012-", gen(20, 32, lowerHex))},
		{"slack-app-token", "%s", cat("xa", "pp-1-A0123456789-1234567890123-", gen(21, 64, lowerHex))},
		{"slack-webhook", "POST https://hooks.slack.com/%s with payload", cat("services/T", gen(22, 8, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), "/B", gen(23, 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), "/", gen(24, 24, alnum))},
		{"stripe-key", "stripe.api_key = '%s'", cat("sk", "_live_", gen(25, 24, alnum))},
		{"stripe-key", "restricted %s", cat("rk", "_live_", gen(26, 99, alnum))},
		{"stripe-webhook-secret", "STRIPE_WEBHOOK=%s\n", cat("wh", "sec_", gen(27, 32, alnum))},
		{"google-api-key", "https://maps.googleapis.com/maps/api/js?key=%s&callback=init", cat("AI", "za", gen(28, 35, urlsafe))},
		{"google-oauth-client-secret", `"client_secret":"%s"`, cat("GOC", "SPX-", gen(29, 28, urlsafe))},
		{"google-oauth-token", "Authorization header was set from %s", cat("ya", "29.", gen(30, 120, urlsafe))},
		{"gcp-service-account-key-id", `{"type": "service_account", "private_key_id": "%s", "client_email": "x@p.iam.gserviceaccount.com"}`, gen(31, 40, lowerHex)},
		{"private-key", `{"type": "service_account", "private_key": "%s\n"}`, pem("", 1200, `\n`)},
		{"anthropic-api-key", "ANTHROPIC_API_KEY=%s\n", cat("sk", "-ant-", "api03-", gen(32, 93, urlsafe), "AA")},
		{"openai-api-key", "OPENAI_API_KEY=%s\n", cat("sk", "-proj-", gen(33, 156, urlsafe))},
		{"openai-api-key", "key: %s", cat("sk", "-", gen(34, 20, alnum), "T3Blbk", "FJ", gen(35, 20, alnum))},
		{"openai-api-key", "legacy %s.", cat("sk", "-", gen(36, 48, alnum))},
		{"huggingface-token", "HF_TOKEN=%s\n", cat("h", "f_", gen(37, 34, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))},
		{"npm-token", "//registry.npmjs.org/:_authToken=%s\n", cat("np", "m_", gen(38, 36, alnum))},
		{"pypi-token", "password = %s\n", cat("py", "pi-", "AgEIcHlwaS5vcmc", gen(39, 150, urlsafe))},
		{"twilio-api-key", "api key sid %s, then", cat("S", "K", gen(40, 32, lowerHex))},
		{"twilio-auth-token", "TWILIO_AUTH_TOKEN=%s\n", gen(41, 32, lowerHex)},
		{"sendgrid-api-key", "SENDGRID_API_KEY='%s'", cat("S", "G.", gen(42, 22, urlsafe), ".", gen(43, 43, urlsafe))},
		{"mailgun-api-key", "api:%s@", cat("ke", "y-", gen(44, 32, lowerHex))},
		{"mailgun-api-key", "MAILGUN_API_KEY=%s\n", cat(gen(45, 32, lowerHex), "-", gen(46, 8, lowerHex), "-", gen(47, 8, lowerHex))},
		{"discord-bot-token", "DISCORD_TOKEN=%s\n", cat("MT", gen(48, 24, alnum), ".", gen(49, 6, urlsafe), ".", gen(50, 38, urlsafe))},
		{"discord-webhook", "https://discord.com/api/webhooks/123456789012345678/%s", gen(51, 68, urlsafe)},
		{"telegram-bot-token", "https://api.telegram.org/bot%s/getMe", cat("123456789", ":A", "A", gen(52, 33, urlsafe))},
		{"jwt", "Cookie: session=%s; Path=/", jwt()},
		{"private-key", "id_rsa:\n%s\n(end)", pem("RSA ", 1700, "\n")},
		{"private-key", "key:\r\n%s\r\n", pem("EC ", 90, "\r\n")},
		{"private-key", "pgp\n%s\n", strings.ReplaceAll(pem("PGP ", 600, "\n"), "KEY-----", "KEY BLOCK-----")},
		{"private-key", "truncated output:\n%s", strings.Split(pem("", 900, "\n"), "-----END")[0]},
		{"ssh-private-key", "cat ~/.ssh/id_ed25519\n%s\n$ ", pem("OPENSSH ", 300, "\n")},
		{"ssh-private-key", "%s\n\nNot part of it.", cat("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key\nPublic-Lines: 2\n",
			gen(53, 64, b64chars), "\n", gen(54, 4, b64chars), "\nPrivate-Lines: 1\n", gen(55, 44, b64chars), "\nPrivate-MAC: ", gen(56, 64, lowerHex))},
		{"azure-storage-key", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=%s;EndpointSuffix=core.windows.net", cat(gen(57, 86, b64chars), "==")},
		{"azure-sas-token", "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&sig=%s", cat(gen(58, 43, alnum), "%3D")},
		{"db-connection-string", "DATABASE_URL=postgres://app:%s@db.internal:5432/app\n", cat("s3cr", "et-", gen(59, 12, alnum))},
		{"db-connection-string", "mongodb+srv://admin:%s@cluster0.example.net/?retryWrites=true", gen(60, 16, alnum)},
		{"db-connection-string", "REDIS_URL=redis://:%s@cache:6379/0", gen(61, 20, alnum)},
		{"connection-string-password", "Server=tcp:db.example.net,1433;Initial Catalog=app;User ID=sa;Password=%s;Encrypt=True;", cat("P@ss", gen(62, 10, alnum))},
		{"url-credentials", "pip install --index-url https://build:%s@pypi.example.com/simple pkg", gen(63, 18, alnum)},
		{"url-credentials", "git remote -v\norigin\thttps://user:%s@git.example.com/r.git (fetch)", cat("pa", "ss", "w0rd!")},
		{"authorization-header", "curl -H 'Authorization: Basic %s' https://api.example.com", base64.StdEncoding.EncodeToString([]byte(cat("user:", gen(64, 16, alnum))))},
		{"bearer-token", "-H \"X-Auth: Bearer %s\"", gen(65, 40, urlsafe)},
		{"generic-secret", "DB_PASSWORD=%s\n", cat("Tr0ub4dor", "&3-", gen(66, 6, alnum))},
		{"generic-secret", `{"user": "me", "api_key": "%s", "n": 1}`, gen(67, 32, alnum)},
		{"generic-secret", "  client_secret: %s\n", gen(68, 40, lowerHex)},
		{"generic-secret", `const secretKey = "%s";`, gen(69, 24, b64chars)},
		{"generic-secret", `args: {\"password\": \"%s\"}`, cat("hunter2", gen(70, 8, alnum))},
		{"generic-secret", "export ACCESS_TOKEN=%s", gen(71, 30, alnum)},
	}
}

func TestDetectors(t *testing.T) {
	s := NewScanner()
	covered := map[string]bool{}
	for _, tc := range detectCases() {
		covered[tc.rule] = true
		text := fmt.Sprintf(tc.text, tc.secret)
		start := strings.Index(tc.text, "%s")
		want := []Finding{{Rule: tc.rule, Start: start, End: start + len(tc.secret)}}
		got := s.Find(text)
		if !slices.Equal(got, want) {
			t.Errorf("%s: Find(%q) = %v, want %v", tc.rule, text, got, want)
			continue
		}
		red, fs := s.Redact(text)
		if wantText := fmt.Sprintf(tc.text, "[REDACTED:"+tc.rule+"]"); red != wantText {
			t.Errorf("%s: Redact(%q) = %q, want %q", tc.rule, text, red, wantText)
		}
		if !slices.Equal(fs, want) {
			t.Errorf("%s: Redact findings = %v, want %v", tc.rule, fs, want)
		}
	}
	for _, r := range builtinRules() {
		if !covered[r.id] {
			t.Errorf("rule %s has no detection test", r.id)
		}
	}
}

// TestKeywordsInMatches checks the invariant that the prefilter relies on:
// every match of a rule holds one of its keywords.
func TestKeywordsInMatches(t *testing.T) {
	rules := map[string]*rule{}
	for _, r := range builtinRules() {
		rules[r.id] = r
	}
	for _, tc := range detectCases() {
		r := rules[tc.rule]
		text := fmt.Sprintf(tc.text, tc.secret)
		for _, m := range r.re.FindAllStringIndex(text, -1) {
			match := text[m[0]:m[1]]
			ok := false
			for _, k := range r.keywords {
				if r.exact && strings.Contains(match, k) || !r.exact && strings.Contains(fold(match), fold(k)) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: match %q holds none of %q", tc.rule, match, r.keywords)
			}
		}
	}
}

// TestOrdinaryText checks that text without secrets, of the kinds tool
// results are made of, yields no finding and comes back as the same string.
func TestOrdinaryText(t *testing.T) {
	s := NewScanner()
	for _, text := range ordinaryTexts() {
		if fs := s.Find(text); fs != nil {
			for _, f := range fs {
				t.Errorf("false positive %s %q in %q", f.Rule, text[f.Start:f.End], text)
			}
		}
		out, fs := s.Redact(text)
		if out != text || fs != nil {
			t.Errorf("Redact changed %q", text)
		}
	}
}

func ordinaryTexts() []string {
	uuid := "f47ac10b-58cc-4372-a567-0e02b2c3d479"
	sha1 := gen(80, 40, lowerHex)
	sha256 := gen(81, 64, lowerHex)
	png := base64.StdEncoding.EncodeToString([]byte(gen(82, 3000, alnum+"\x00\x01\x89PNG")))
	return []string{
		"",
		"The quick brown fox jumps over the lazy dog. Ask about the task at the desk; the risk is low.",
		"Tokens are counted by the tokenizer; set max_tokens: 4096 and temperature: 0.7.",
		"Reset your password from the account page. Passwords must be 12 characters.",
		"The secret to good bread is patience. Keep the API key in a vault, not in code.",
		"password = os.environ[\"DB_PASSWORD\"]\nsecret_key = settings.SECRET_KEY\n",
		"api_key: ${API_KEY}\npassword: <your password here>\ntoken: \"{{ .Values.token }}\"\n",
		"password: ********\nsecret: REDACTED\napi_key: xxxxxxxxxxxxxxxx\n",
		"func (c *Client) Token() (string, error) {\n\ttoken := c.cache.Get(\"token\")\n\treturn token, nil\n}\n",
		"if (user.password === hashPassword(input)) { session.token = generateToken(); }",
		"PWD=/home/user/projects/mcpwarden\nOLDPWD=/home/user\nPATH=/usr/local/bin:/usr/bin\n",
		"request id " + uuid + ", trace " + strings.ReplaceAll(uuid, "-", ""),
		"commit " + sha1 + "\nAuthor: A Developer <dev@example.com>\n\n    Fix the token bucket\n",
		"\"integrity\": \"sha512-" + base64.StdEncoding.EncodeToString([]byte(gen(83, 64, alnum))) + "\",\n\"resolved\": \"https://registry.npmjs.org/x/-/x-1.0.0.tgz\"",
		"github.com/rs/zerolog v1.35.1 h1:" + base64.StdEncoding.EncodeToString([]byte(gen(84, 32, alnum))) + "\n",
		"checksum sha256:" + sha256 + "  go1.26.8.linux-amd64.tar.gz",
		"<img src=\"data:image/png;base64," + png + "\">",
		"Visit https://example.com/docs?page=2#section or git@github.com:org/repo.git or http://[::1]:8080/x",
		"https://example.com:8443/path@version and mailto:someone@example.com",
		"-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString([]byte(gen(85, 300, alnum))) + "\n-----END CERTIFICATE-----",
		"-----BEGIN PUBLIC KEY-----\n" + base64.StdEncoding.EncodeToString([]byte(gen(86, 200, alnum))) + "\n-----END PUBLIC KEY-----",
		"ssh-ed25519 " + base64.StdEncoding.EncodeToString([]byte(gen(87, 51, alnum))) + " dev@laptop",
		"Asia/Tokyo, ASIA-PACIFIC, AKIAKA the dog, SKU SK-1234, SG.tv and eyJump.",
		"The bot replied in the discord channel; the twilio docs mention key-value stores.",
		"Authorization: required. Bearer of bad news. token_type: bearer",
		"export GOFLAGS=-mod=mod GOPROXY=https://proxy.golang.org,direct",
		"hex " + hex.EncodeToString([]byte(gen(88, 64, alnum))) + " in a lockfile",
		"postgres://localhost:5432/app and redis://cache:6379/0 have no passwords",
		"Server=db;Database=app;Trusted_Connection=True;",
		"mysql://root:${MYSQL_ROOT_PASSWORD}@db/app",
		"env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db-secret\n        key: password\ntls:\n  secretName: my-tls-secret\n",
		"      - uses: actions/checkout@v4\n        with:\n          token: ${{ secrets.GITHUB_TOKEN }}\n          password: ${{ secrets.DB_PASSWORD }}\n",
		`{"usage": {"input_tokens": 1234, "output_tokens": 5678}, "stop_reason": "end_turn", "token_count": 123456789}`,
		`{"content":[{"type":"text","text":"The password policy requires 12 characters; rotate the secret yearly."}],"isError":false}`,
		"password_reset_url: https://example.com/reset?token=abc\nsecret_path: /var/run/secrets/kubernetes.io\n",
		"SECRET_KEY_BASE = Rails.application.credentials.secret_key_base\napi_key = config.fetch(:api_key)\n",
	}
}

func TestOverlappingFindingsMerged(t *testing.T) {
	s := NewScanner()
	token := jwt()
	// The JWT is found by "jwt", "authorization-header" and "bearer-token"
	// at once: one finding, named after the first rule in the table.
	text := "Authorization: Bearer " + token + "\n"
	fs := s.Find(text)
	start := strings.Index(text, token)
	if want := []Finding{{"jwt", start, start + len(token)}}; !slices.Equal(fs, want) {
		t.Errorf("Find = %v, want %v", fs, want)
	}
	// A GitHub token as the password of a URL: the two findings overlap
	// and are merged.
	ght := cat("gh", "p_", gen(90, 36, alnum))
	text = "https://x:" + ght + "@github.com/o/r.git"
	fs = s.Find(text)
	start = strings.Index(text, ght)
	if want := []Finding{{"github-pat", start, start + len(ght)}}; !slices.Equal(fs, want) {
		t.Errorf("Find = %v, want %v", fs, want)
	}
	// A generic assignment whose value is a known token.
	text = "OPENAI_API_KEY=" + cat("sk", "-proj-", gen(91, 64, urlsafe))
	if fs := s.Find(text); len(fs) != 1 || fs[0].Rule != "openai-api-key" {
		t.Errorf("Find(%q) = %v, want one openai-api-key", text, fs)
	}
}

func TestMerge(t *testing.T) {
	got := merge([]found{{2, 10, 20}, {0, 0, 5}, {1, 15, 30}, {3, 30, 35}, {4, 10, 12}, {5, 0, 5}})
	want := []found{{0, 0, 5}, {2, 10, 30}, {3, 30, 35}}
	if !slices.Equal(got, want) {
		t.Errorf("merge = %v, want %v", got, want)
	}
}

func TestSeveralSecrets(t *testing.T) {
	s := NewScanner()
	a := cat("AKIA", "IOSFODNN7", "EXAMPLE")
	g := cat("gh", "p_", gen(92, 36, alnum))
	k := pem("", 400, "\n")
	text := "first " + a + " then " + g + "\n" + k + "\nlast " + a
	out, fs := s.Redact(text)
	want := "first [REDACTED:aws-access-key-id] then [REDACTED:github-pat]\n[REDACTED:private-key]\nlast [REDACTED:aws-access-key-id]"
	if out != want {
		t.Errorf("Redact = %q, want %q", out, want)
	}
	if len(fs) != 4 {
		t.Errorf("findings = %v, want 4", fs)
	}
}

// TestLongMatchGrowsWindow checks that a match longer than a rule's first
// window is found whole.
func TestLongMatchGrowsWindow(t *testing.T) {
	s := NewScanner()
	k := pem("RSA ", 40000, "\n") // far longer than the 16 KiB window
	text := strings.Repeat("log line\n", 5000) + k + "\ntrailer"
	fs := s.Find(text)
	start := strings.Index(text, k)
	if want := []Finding{{"private-key", start, start + len(k)}}; !slices.Equal(fs, want) {
		t.Errorf("Find = %v, want %v", fs, want)
	}
	tok := cat("gh", "p_", gen(93, 250, alnum))
	// Windows shorter than the token but not than the shortest match.
	for _, w := range []int{40, 50, 100} {
		r := &rule{id: "t", keywords: []string{"ghp_"}, re: builtinRules()[4].re, window: w}
		sc, err := newScanner([]*rule{r})
		if err != nil {
			t.Fatal(err)
		}
		if fs := sc.Find("x " + tok + " y"); len(fs) != 1 || fs[0].End-fs[0].Start != len(tok) {
			t.Errorf("window %d: Find = %v, want all %d bytes", w, fs, len(tok))
		}
	}
}

func TestPEMAcrossLineBreaks(t *testing.T) {
	s := NewScanner()
	for _, nl := range []string{"\n", "\r\n", `\n`, `\r\n`, "\n    "} {
		k := pem("", 500, nl)
		text := "before" + nl + k + nl + "after"
		out, _ := s.Redact(text)
		if want := "before" + nl + "[REDACTED:private-key]" + nl + "after"; out != want {
			t.Errorf("line break %q: Redact = %q, want %q", nl, out, want)
		}
	}
	enc := pem("RSA ", 300, "\n")
	enc = strings.Replace(enc, "-----\n", "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,"+gen(94, 32, "0123456789ABCDEF")+"\n\n", 1)
	if out, _ := s.Redact("x\n" + enc + "\ny"); out != "x\n[REDACTED:private-key]\ny" {
		t.Errorf("encrypted PEM: Redact = %q", out)
	}
}

func TestRedactReturnsSameString(t *testing.T) {
	s := NewScanner()
	text := strings.Repeat("nothing to see here, just a token of appreciation\n", 100)
	out, fs := s.Redact(text)
	if fs != nil || unsafe.StringData(out) != unsafe.StringData(text) || len(out) != len(text) {
		t.Fatal("Redact did not return clean text itself")
	}
	// "token" occurs a hundred times, but never where a secret could follow.
	if n := testing.AllocsPerRun(10, func() { s.Redact(text) }); n != 0 {
		t.Errorf("Redact allocates %v times on clean text", n)
	}
	plain := strings.Repeat("nothing to see here, just words and more words\n", 100)
	if n := testing.AllocsPerRun(10, func() { s.Redact(plain) }); n != 0 {
		t.Errorf("Redact allocates %v times on text without keywords", n)
	}
}

// TestKeywordFoldedPatternNot checks that keywords are found whatever
// their case while the pattern still decides, and that the entropy floor
// holds for a rule's secret.
func TestKeywordFoldedPatternNot(t *testing.T) {
	r := &rule{id: "acme-key", keywords: []string{"acme_"}, re: regexp.MustCompile(`\bacme_([a-z0-9]{20})\b`), window: window, entropy: 3}
	s, err := newScanner([]*rule{r})
	if err != nil {
		t.Fatal(err)
	}
	key := gen(95, 20, "abcdefghijklmnopqrstuvwxyz0123456789")
	// The pattern is case-sensitive, the keyword not; the second
	// candidate is too regular.
	text := "ACME_" + key + " at acme_aaaaaaaaaaaaaaaaaaaa"
	if out, fs := s.Redact(text); out != text || fs != nil {
		t.Errorf("Redact(%q) = %q, %v", text, out, fs)
	}
	out, _ := s.Redact("use acme_" + key + ".")
	if want := "use acme_[REDACTED:acme-key]."; out != want {
		t.Errorf("Redact = %q, want %q", out, want)
	}
	if _, err := newScanner([]*rule{{id: "none", re: r.re, window: window}}); err == nil {
		t.Error("a rule without keywords was accepted")
	}
}

func TestKeywordSet(t *testing.T) {
	words := []string{"he", "she", "his", "hers", "://", "a"}
	k, err := newKeywordSet(words)
	if err != nil {
		t.Fatal(err)
	}
	text := "uSHErs hiS ://A"
	var got []string
	k.scan(text, func(start int, w int32) {
		got = append(got, fmt.Sprintf("%s@%d", words[w], start))
	})
	want := []string{"she@1", "he@2", "hers@2", "his@7", "://@11", "a@14"}
	if !slices.Equal(got, want) {
		t.Errorf("scan = %v, want %v", got, want)
	}
}

// TestKeywordScanMatchesNaive compares the automaton, with its skips at
// the root, with a plain search for each keyword, on random texts made of
// the keywords' bytes in both cases, so that keywords overlap, repeat and
// stand at both ends of the text.
func TestKeywordScanMatchesNaive(t *testing.T) {
	builtin := NewScanner().kw
	small, err := newKeywordSet([]string{"a", "ab", "bab", "b:", "://"})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range []*keywordSet{builtin, small} {
		var alphabet []byte
		for _, w := range k.words {
			for i := range len(w) {
				alphabet = append(alphabet, w[i], upper(w[i]))
			}
		}
		alphabet = append(alphabet, ' ', 'z', '\n')
		for range 2000 {
			b := make([]byte, r.IntN(40))
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			text := string(b)
			var got, want []string
			k.scan(text, func(start int, w int32) { got = append(got, fmt.Sprint(start, k.words[w])) })
			folded := fold(text)
			for end := 1; end <= len(text); end++ {
				for _, w := range k.words {
					if strings.HasSuffix(folded[:end], w) {
						want = append(want, fmt.Sprint(end-len(w), w))
					}
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("scan(%q) = %v, want %v", text, got, want)
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s := NewScanner()
	text := "token " + cat("gh", "p_", gen(96, 36, alnum)) + " and " + jwt()
	done := make(chan []Finding)
	for range 8 {
		go func() { done <- s.Find(text) }()
	}
	first := <-done
	for range 7 {
		if fs := <-done; !slices.Equal(fs, first) {
			t.Errorf("concurrent Find differs: %v vs %v", fs, first)
		}
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("password=" + gen(1, 20, alnum))
	f.Add("https://u:" + gen(2, 10, alnum) + "@h/x")
	f.Add(pem("", 100, "\n"))
	f.Add("Authorization: Bearer " + jwt())
	s := NewScanner()
	f.Fuzz(func(t *testing.T, text string) {
		out, fs := s.Redact(text)
		last := 0
		for _, f := range fs {
			if f.Start < last || f.End <= f.Start || f.End > len(text) {
				t.Fatalf("bad findings %v for %q", fs, text)
			}
			last = f.End
		}
		if len(fs) == 0 && out != text {
			t.Fatalf("Redact changed %q without findings", text)
		}
		// The output is the text with exactly the findings replaced.
		var b strings.Builder
		last = 0
		for _, f := range fs {
			b.WriteString(text[last:f.Start] + "[REDACTED:" + f.Rule + "]")
			last = f.End
		}
		if b.WriteString(text[last:]); b.String() != out {
			t.Fatalf("Redact(%q) = %q, not the text with %v replaced", text, out, fs)
		}
		if got := s.Find(text); !slices.Equal(got, fs) {
			t.Fatalf("Find(%q) = %v, Redact found %v", text, got, fs)
		}
	})
}

// reference finds what each rule's pattern finds over the whole of text,
// where the match holds one of the rule's keywords: what the scanner would
// find with no prefilter, no near tests and no windows.
func reference(text string) []found {
	var fs []found
	for r, rl := range builtinRules() {
		fs = rl.findIn(fs, r, text, 0, len(text), func(ms, me int) bool {
			m := text[ms:me]
			for _, k := range rl.keywords {
				if rl.exact && strings.Contains(m, k) || !rl.exact && strings.Contains(fold(m), fold(k)) {
					return true
				}
			}
			return false
		})
	}
	return fs
}

// missed returns the reference findings in text that no finding of s
// covers.
func missed(s *Scanner, text string) []Finding {
	got := s.Find(text)
	var out []Finding
	for _, f := range reference(text) {
		if !slices.ContainsFunc(got, func(g Finding) bool { return g.Start <= f.start && f.end <= g.End }) {
			out = append(out, Finding{Rule: builtinRules()[f.rule].id, Start: f.start, End: f.end})
		}
	}
	return out
}

// TestNearTestsMissNothing attacks the prefilter: a secret whose pattern
// matches must be found whatever white space joins its parts, so the cheap
// tests at keyword occurrences must accept every spacing the patterns do.
// Each space of each detection case is replaced by each other kind of
// white space in turn.
func TestNearTestsMissNothing(t *testing.T) {
	s := NewScanner()
	texts := ordinaryTexts()
	for _, tc := range detectCases() {
		for i := range len(tc.text) {
			if tc.text[i] != ' ' {
				continue
			}
			for _, ws := range []string{"\t", "\n", "\r", "\f", "\r\n", "  "} {
				texts = append(texts, fmt.Sprintf(tc.text[:i]+ws+tc.text[i+1:], tc.secret))
			}
		}
	}
	// Assignments spread over lines, as formatters and templates leave
	// them.
	v := gen(97, 24, alnum)
	texts = append(texts,
		"DB_PASSWORD\n= "+v,
		"\"api_key\"\n: \""+v+"\"",
		"Server=db;User ID=sa;Password\t=P@ss"+v+";",
		"Bearer\n"+gen(98, 40, urlsafe),
		"aws_secret_access_key\n= "+cat("wJalrXUtnFEMI", "/K7MDENG/bPxRfiCY", "EXAMPLEKEY"),
	)
	for _, text := range texts {
		if m := missed(s, text); m != nil {
			t.Errorf("Find(%q) misses %v", text, m)
		}
	}
}
