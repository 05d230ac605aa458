#!/usr/bin/env bash
# bench.sh: measure mcpwarden against baselines taken in the same run, on
# the same machine, and print one table of ratios (medians of several runs;
# these machines are noisy, so only ratios measured side by side mean much).
#
#   start-up   `mcpwarden run --profile default -- /bin/true`, every sandbox
#              layer on, against bubblewrap running the same /bin/true;
#   per call   sequential tools/call round trips with the Go SDK client
#              through mcpwarden against the same server direct, everything
#              pinned to one CPU (taskset -c 0);
#   in flight  1,000 calls at once, every one answered;
#   large      a 64 MiB result, guards off and on, against the same bytes
#              direct; mcpwarden's RSS idle and at its peak;
#   soak       1,000,000 calls in-process, the live heap's growth;
# then the package micro-benchmarks, raw. Raw output goes to bin/bench.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="/usr/local/go/bin:$PATH"
COUNT=${BENCH_COUNT:-5}
RUNS=${BENCH_RUNS:-100}
OUT=bin/bench.txt

for tool in taskset hyperfine bwrap; do
	command -v "$tool" >/dev/null || { echo "bench: $tool not found; run scripts/setup.sh" >&2; exit 1; }
done
[[ -x bin/mcpwarden ]] || { echo "bench: bin/mcpwarden missing; run make build" >&2; exit 1; }

mkdir -p bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
	echo "# mcpwarden benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# $(go version); $(nproc) CPUs; $(uname -r); uid $(id -u)"
} >"$OUT"

# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"; exit} if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# root needs --best-effort without a delegated cgroup (no process limit).
extra=""
[[ $(id -u) -eq 0 ]] && extra="--best-effort"
echo "bench: start-up, $RUNS runs each (hyperfine)"
hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$tmp/start.json" \
	--command-name bwrap "bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc /bin/true" \
	--command-name mcpwarden "bin/mcpwarden run --profile default --audit-log $tmp/audit.jsonl $extra -- /bin/true" \
	>>"$OUT" 2>&1
# hyperfine's JSON keeps every run's time; pull the two medians out of it.
start_median() {
	tr -d ' \n' <"$tmp/start.json" | grep -o "\"command\":\"$1\"[^}]*\"median\":[0-9.e-]*" | sed 's/.*"median"://'
}
bw=$(start_median bwrap)
mw=$(start_median mcpwarden)

echo "bench: per-call round trips, count=$COUNT, pinned to CPU 0"
go test -exec 'taskset -c 0' -run='^$' -bench='^Benchmark(CallDirect|CallProxied)$' -benchmem -count="$COUNT" ./e2e/ \
	| tee -a "$OUT" >"$tmp/calls.txt"
call_median() { awk -v n="$1" '$1 ~ "^"n"(-[0-9]+)?$" {print $3}' "$tmp/calls.txt" | median; }

# ---- concurrency, large results, memory -----------------------------------
# 1,000 tools/call in flight at once through mcpwarden (recorder and
# server-everything), each to be answered exactly once; a 64 MiB result
# from the recorder's -blast mode to a raw client, direct and through
# mcpwarden with the result guards off and on (not pinned: the kernel's
# pipe copies and mcpwarden run side by side, as on a user's machine),
# with mcpwarden's RSS idle and at its peak; and a soak of 1,000,000 small
# calls through the in-process proxy, reporting the live heap's growth.
echo "bench: 1,000 calls in flight"
inflight_ok=$(go test -count=1 -run='^TestThousandCallsInFlight$' -v ./e2e/ 2>&1 | tee -a "$OUT" \
	| grep -c 'of 1000 calls in flight answered exactly once' || true)
echo "bench: 64 MiB results, count=$COUNT"
go test -run='^$' -bench='^BenchmarkLargeResult$' -benchtime=5x -count="$COUNT" ./e2e/ \
	| tee -a "$OUT" >"$tmp/large.txt"
echo "bench: soak, 1,000,000 calls through the in-process proxy"
go test -run='^$' -bench='^BenchmarkSoak$' -benchtime=1000000x ./proxy/ | tee -a "$OUT" >"$tmp/soak.txt"
# large_metric NAME UNIT: median of a metric of BenchmarkLargeResult/NAME.
large_metric() {
	awk -v n="$1" -v u="$2" '$1 ~ "^BenchmarkLargeResult/"n"(-[0-9]+)?$" {for (i = 2; i < NF; i++) if ($(i+1) == u) print $i}' "$tmp/large.txt" | median
}
warden_rows() {
	local d off on
	d=$(large_metric direct MB/s)
	off=$(large_metric guards_off MB/s)
	on=$(large_metric guards_on MB/s)
	printf '| tools/call answered, 1,000 in flight at once (recorder, everything) | %s of 2 servers all answered once | - | - | all |\n' "$inflight_ok"
	printf '| 64 MiB result, guards off (median of %s) | %.0f MB/s | direct %.0f MB/s | %s | >= 1000 MB/s |\n' "$COUNT" "$off" "$d" "$(ratio "$off" "$d")"
	printf '| 64 MiB result, secrets + hidden text on (median of %s) | %.0f MB/s | direct %.0f MB/s | %s | >= 300 MB/s |\n' "$COUNT" "$on" "$d" "$(ratio "$on" "$d")"
	printf '| RSS idle, after initialize + tools/list | %.1f MiB | - | - | <= 20 MiB |\n' "$(large_metric guards_off idle-RSS-MiB)"
	for g in off on; do
		printf '| peak RSS, 64 MiB results, guards %s | %.0f MiB | max message 80 MiB | %.2f | < 3 |\n' "$g" \
			"$(large_metric "guards_$g" peak-RSS-MiB)" "$(large_metric "guards_$g" peak/max-message)"
	done
	awk '$1 ~ /^BenchmarkSoak/ {for (i = 2; i < NF; i++) {if ($(i+1) == "heap-growth-KiB") g = $i; if ($(i+1) == "in-flight-left") l = $i}}
		END {printf "| soak, 1,000,000 calls: live heap growth | %.0f KiB, %d in flight left | - | - | ~0 |\n", g, l}' "$tmp/soak.txt"
}
# ---- end of concurrency, large results, memory ------------------------------

echo "bench: package micro-benchmarks, count=$COUNT"
mapfile -t pkgs < <(go list ./... | grep -v '/e2e\(/\|$\)')
go test -exec 'taskset -c 0' -run='^$' -bench=. -benchmem -count="$COUNT" "${pkgs[@]}" >>"$OUT" 2>&1

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}'; }
{
	echo
	echo "| measure | mcpwarden | baseline | ratio | target |"
	echo "|---|---|---|---|---|"
	printf '| start-up, /bin/true (median of %s) | %.2f ms | bwrap %.2f ms | %s | <= 1.0 |\n' "$RUNS" \
		"$(awk -v s="$mw" 'BEGIN {print s*1000}')" "$(awk -v s="$bw" 'BEGIN {print s*1000}')" "$(ratio "$mw" "$bw")"
	for srv in recorder everything; do
		d=$(call_median "BenchmarkCallDirect/$srv")
		p=$(call_median "BenchmarkCallProxied/$srv")
		printf '| tools/call round trip, %s (median of %s) | %.0f us | direct %.0f us | %s | <= 1.3 |\n' "$srv" "$COUNT" \
			"$(awk -v s="$p" 'BEGIN {print s/1000}')" "$(awk -v s="$d" 'BEGIN {print s/1000}')" "$(ratio "$p" "$d")"
	done
	warden_rows
	tp() { awk -v n="$1" '$1 ~ "^BenchmarkThroughput/"n"(-[0-9]+)?$" {print $5}' "$OUT" | median; }
	printf '| egress proxy throughput, 64 KiB writes over CONNECT (median of %s) | %.0f MB/s | direct %.0f MB/s | %s | >= 0.3 |\n' "$COUNT" \
		"$(tp proxy)" "$(tp direct)" "$(ratio "$(tp proxy)" "$(tp direct)")"
} | tee -a "$OUT"
echo "bench: raw output in $OUT"
