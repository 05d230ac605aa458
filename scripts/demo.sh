#!/usr/bin/env bash
# demo.sh: show mcpwarden in front of the reference filesystem MCP server.
#
# A profile allows the server's tools but denies the four that change files.
# Through mcpwarden, an MCP client (e2e/npm/mcp-client.mjs, on the official
# TypeScript SDK) lists the tools, reads a file (allowed) and tries to write
# one (refused); then the audit log is printed. Exits non-zero when a denied
# tool is listed, the read fails, or the write is not refused.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
NPM_DIR=$ROOT/e2e/npm
SERVER=$NPM_DIR/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js
MCPWARDEN=$ROOT/bin/mcpwarden

[[ -x $MCPWARDEN ]] || { echo "demo: $MCPWARDEN missing; run make build" >&2; exit 1; }
[[ -f $SERVER ]] || { echo "demo: $SERVER missing; run scripts/setup.sh" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mcpwarden-demo.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FILES=$TMP/files
mkdir "$FILES"
echo "Hello from a file that mcpwarden lets the server read." >"$FILES/hello.txt"

# node may live outside /usr (nvm, a tarball): let the sandbox read its tree.
NODE_PREFIX=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
extra_read=""
case $NODE_PREFIX in
/usr | /usr/*) ;;
*) extra_read="\"$NODE_PREFIX\", " ;;
esac

PROFILE=$TMP/filesystem-readonly.toml
cat >"$PROFILE" <<EOF
# The built-in filesystem profile, made read-only: every tool that creates,
# changes or moves files is denied, so the client never sees it and a call to
# it never reaches the server.
[server]
name = "filesystem-readonly"
description = "Filesystem server that may only read the directories given as arguments."

[sandbox]
network = "none"
read = [
  "/usr", "/bin", "/lib", "/lib64",
  "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
  "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group",
  ${extra_read}"$NPM_DIR",
  "{arg_dirs}",
]
write = ["{arg_dirs}"]
hide = ["~/.ssh", "~/.aws", "~/.gnupg"]
env = ["PATH", "HOME", "LANG"]

[tools]
allow = ["*"]
deny = ["write_file", "edit_file", "move_file", "create_directory"]
EOF

AUDIT=$TMP/audit.jsonl
STEPS=$(
	cat <<EOF
[
  {"op": "listTools"},
  {"op": "callTool", "name": "read_text_file", "arguments": {"path": "$FILES/hello.txt"}},
  {"op": "callTool", "name": "write_file", "arguments": {"path": "$FILES/evil.txt", "content": "overwritten"}}
]
EOF
)

heading() { printf '\n== %s\n' "$1"; }

heading "Profile ($PROFILE)"
sed -n '/^\[tools\]/,$p' "$PROFILE"

heading "Command"
# As root the kernel cannot limit the server's processes without a
# delegated cgroup, and mcpwarden refuses to start unless told to do its
# best; a normal user needs no flag.
EXTRA=()
[[ $(id -u) -eq 0 ]] && EXTRA=(--best-effort)
echo "mcpwarden run --profile $PROFILE --audit-log $AUDIT ${EXTRA[*]} -- node .../server-filesystem/dist/index.js $FILES"

OUT=$TMP/client.jsonl
rc=0
node "$NPM_DIR/mcp-client.mjs" --roots "[\"$FILES\"]" --steps "$STEPS" -- \
	"$MCPWARDEN" run --profile "$PROFILE" --audit-log "$AUDIT" "${EXTRA[@]}" -- \
	node "$SERVER" "$FILES" >"$OUT" 2>"$TMP/stderr.txt" || rc=$?
if ((rc != 0)); then
	echo "demo: the MCP client could not talk to mcpwarden (exit $rc); its stderr:" >&2
	cat "$TMP/stderr.txt" >&2
	exit 1
fi

# Turn the client's JSON lines into the story; the exit status says whether
# mcpwarden behaved as the profile says.
status=0
node --input-type=module - "$OUT" "$FILES/evil.txt" <<'EOF' || status=$?
import fs from 'node:fs';

const [out, evil] = process.argv.slice(2);
const lines = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const step = (i) => lines.find((l) => l.step === i);
const text = (result) => (result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
const denied = ['write_file', 'edit_file', 'move_file', 'create_directory'];
let failed = false;

console.log('\n== 1. tools/list: the tools the client is shown');
const list = step(0);
if (!list?.ok) {
    console.log(`   FAILED: ${list?.error?.message ?? 'no answer'}`);
    failed = true;
} else {
    const names = list.result.tools.map((t) => t.name);
    console.log(`   ${names.join(', ')}`);
    const leaked = denied.filter((n) => names.includes(n));
    if (leaked.length > 0) {
        console.log(`   FAILED: denied tools listed: ${leaked.join(', ')}`);
        failed = true;
    } else {
        console.log(`   hidden by the profile: ${denied.join(', ')}`);
    }
}

console.log('\n== 2. tools/call read_text_file (allowed)');
const read = step(1);
if (read?.ok && !read.result.isError) {
    console.log(text(read.result).trimEnd().replace(/^/gm, '   '));
} else {
    console.log(`   FAILED: ${read?.error?.message ?? (text(read?.result) || 'no answer')}`);
    failed = true;
}

console.log('\n== 3. tools/call write_file (denied)');
const write = step(2);
const written = fs.existsSync(evil);
if (write && !write.ok) {
    console.log(`   refused: JSON-RPC error ${write.error.code}: ${write.error.message}`);
} else if (write?.ok && write.result.isError) {
    console.log(`   refused: ${text(write.result)}`);
} else {
    console.log('   FAILED: the call was not refused');
    failed = true;
}
if (written) {
    console.log(`   FAILED: ${evil} was written`);
    failed = true;
}
process.exit(failed ? 1 : 0);
EOF

heading "Audit log ($AUDIT)"
if [[ -s $AUDIT ]]; then
	cat "$AUDIT"
else
	echo "   (empty)"
	status=1
fi

if [[ -s $TMP/stderr.txt ]]; then
	heading "stderr (mcpwarden and the server)"
	cat "$TMP/stderr.txt"
fi

echo
if ((status == 0)); then
	echo "demo: ok: the profile was enforced"
else
	echo "demo: FAILED: see above" >&2
fi
exit "$status"
