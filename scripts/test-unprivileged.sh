#!/usr/bin/env bash
# test-unprivileged.sh: run the security test suites a second time as an
# unprivileged user (uid/gid 65534, no supplementary groups), the way most
# people run mcpwarden. The test binaries and the programs they start are
# built here, as the invoking user, because the unprivileged user cannot
# reach the Go module cache; each suite then runs from its package directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="/usr/local/go/bin:$PATH"

if [[ $(id -u) -ne 0 ]]; then
	echo "test-unprivileged: needs root to switch to uid 65534; skipped (the normal run is already unprivileged)"
	exit 0
fi
command -v setpriv >/dev/null || { echo "test-unprivileged: setpriv not found (util-linux); run scripts/setup.sh" >&2; exit 1; }

pkgs=()
for p in jsonrpc proxy filter audit profile sandbox egress pathguard urlguard sqlguard cmdguard secrets sanitize pin statedir e2e; do
	[[ -d $p ]] && compgen -G "$p/*_test.go" >/dev/null && pkgs+=("$p")
done

work=$(mktemp -d /tmp/mcpwarden-unpriv.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/home" "$work/tmp"
# Built as make build builds them: the small init (static, without cgo)
# beside mcpwarden.
CGO_ENABLED=0 go build -o "$work/bin/mcpwarden-init" ./cmd/mcpwarden-init
go build -race -ldflags "-X main.initBuildID=$(go tool buildid "$work/bin/mcpwarden-init")" -o "$work/bin/mcpwarden" ./cmd/mcpwarden
[[ -d e2e/recorder ]] && go build -o "$work/bin/recorder" ./e2e/recorder
[[ -d e2e/escaper ]] && go build -o "$work/bin/escaper" ./e2e/escaper
# The collector's receiver is a module of its own (e2e/otelcol/go.mod).
[[ -d e2e/otelcol ]] && (cd e2e/otelcol && go build -o "$work/bin/otelcol" .)
for p in "${pkgs[@]}"; do
	go test -race -c -o "$work/bin/$p.test" "./$p"
done
chmod -R a+rX "$work"
chown -R 65534:65534 "$work/home" "$work/tmp"

passed=0 failed=0
for p in "${pkgs[@]}"; do
	echo "test-unprivileged: $p as uid 65534"
	if (cd "$p" && setpriv --reuid=65534 --regid=65534 --clear-groups \
		env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$work/home" TMPDIR="$work/tmp" \
		MCPWARDEN_BIN="$work/bin/mcpwarden" MCPWARDEN_RECORDER="$work/bin/recorder" \
		MCPWARDEN_ESCAPER="$work/bin/escaper" MCPWARDEN_OTELCOL="$work/bin/otelcol" \
		"$work/bin/$p.test" -test.count=1 -test.timeout=15m </dev/null); then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "test-unprivileged: FAIL $p"
	fi
done
echo "unprivileged: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
