#!/usr/bin/env bash
# bench.sh: run the package and end-to-end benchmarks and keep the raw output.
#
# Every benchmark binary runs pinned to CPU 0 (go test -exec 'taskset -c 0'),
# and so do the processes it starts (mcpwarden, the MCP servers), which keeps
# the numbers comparable between runs on a 2-core machine; compiling is not
# pinned. Raw `go test -bench` output, five counts each, goes to
# bin/bench.txt for benchstat, and is printed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="/usr/local/go/bin:$PATH"
COUNT=${BENCH_COUNT:-5}
OUT=bin/bench.txt

command -v taskset >/dev/null || {
	echo "bench: taskset not found (util-linux); run scripts/setup.sh" >&2
	exit 1
}
[[ -x bin/mcpwarden ]] || {
	echo "bench: bin/mcpwarden missing; run make build" >&2
	exit 1
}

mapfile -t e2e < <(go list ./e2e/... 2>/dev/null || true)
mapfile -t pkgs < <(go list ./... | grep -v '/e2e\(/\|$\)' || true)

mkdir -p bin
{
	echo "# mcpwarden benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# $(go version); $(nproc) CPUs; pinned to CPU 0; count=$COUNT"
} >"$OUT"

run() {
	go test -exec 'taskset -c 0' -run='^$' -bench=. -benchmem -count="$COUNT" "$@" 2>&1 | tee -a "$OUT"
}

if [[ ${#pkgs[@]} -gt 0 ]]; then
	echo "bench: package benchmarks"
	run "${pkgs[@]}"
fi
if [[ ${#e2e[@]} -gt 0 && -n ${e2e[0]} ]]; then
	echo "bench: end-to-end benchmarks"
	run "${e2e[@]}"
else
	echo "bench: no e2e package yet" | tee -a "$OUT"
fi
echo "bench: raw output in $OUT"
