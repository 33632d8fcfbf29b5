#!/usr/bin/env bash
# Soak: a fresh hartonomousd under a mixed load (search, atom ingest and
# inference logging) at 70% of the peak measured first, for DURATION
# seconds, sampling throughput, p99 and the server's memory every INTERVAL
# seconds. Fails (exit 1) when any call is lost or fails, or when the
# server's anonymous memory (RssAnon: the heap, not LMDB's file-backed map)
# at the end is more than GROWTH (default 10%) above its level after the
# warm-up (the first WARMUP seconds).
#
#   client/bench/run_soak.sh [BUILD_DIR]      (default: build)
#
# Environment (defaults): DURATION=600 INTERVAL=10 WARMUP=60 PEAK_SECONDS=10
#   VECTORS=5000 CONCURRENCY=32 GROWTH=0.10
#   MIX=search=8,ingest-atoms=1,log-inference=1 DATA_ROOT=${TMPDIR:-/tmp}
#   OUT (a new directory: the JSON reports)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/bench_server.sh"
BENCH_BIN=$BUILD/client/bench/hartonomous-bench
require_built "$BENCH_BIN"
DURATION=${DURATION:-600}
INTERVAL=${INTERVAL:-10}
WARMUP=${WARMUP:-60}
PEAK_SECONDS=${PEAK_SECONDS:-10}
VECTORS=${VECTORS:-5000}
CONCURRENCY=${CONCURRENCY:-32}
GROWTH=${GROWTH:-0.10}
MIX=${MIX:-search=8,ingest-atoms=1,log-inference=1}
OUT=${OUT:-$(mktemp -d "$DATA_ROOT/hsoak.XXXXXX")}
PY=/usr/bin/python3

start_server 127.0.0.1:0
common=(mixed --mix "$MIX" --server "$SERVER_ADDR" --vectors "$VECTORS" --atoms-per-call 10
        --concurrency "$CONCURRENCY" --channels 4 --server-pid "$SERVER_PID")
"$BENCH_BIN" "${common[@]}" --duration-s "$PEAK_SECONDS" --json-out "$OUT/peak.json" >"$OUT/peak.txt"
rate=$($PY -c "import json; print(round(0.7 * json.load(open('$OUT/peak.json'))['calls_per_s'], 1))")
echo "soak: peak $(grep throughput "$OUT/peak.txt"); soaking at $rate calls/s for $DURATION s"
"$BENCH_BIN" "${common[@]}" --rate "$rate" --duration-s "$DURATION" --interval-s "$INTERVAL" \
  --json-out "$OUT/soak.json" >"$OUT/soak.txt"
cat "$OUT/soak.txt"
$PY - "$OUT/soak.json" "$WARMUP" "$GROWTH" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
warmup, growth = float(sys.argv[2]), float(sys.argv[3])
print(f"{'t s':>6} {'calls/s':>9} {'p99 us':>9} {'errors':>6} {'RSS MB':>8} {'anon MB':>8}")
for s in report["intervals"]:
    print(f"{s['end_s']:6.0f} {s['calls_per_s']:9.1f} {s['p99_us']:9.0f} {s['errors']:6d}"
          f" {s['server_rss_kb'] / 1024:8.1f} {s['server_anon_kb'] / 1024:8.1f}")
failures = []
if report["sent"] != report["completed"]:
    failures.append(f"{report['sent'] - report['completed']} calls never completed")
if report["ok"] != report["calls"]:
    failures.append(f"{report['calls'] - report['ok']} calls failed: {report['errors']}")
after = [s for s in report["intervals"] if s["end_s"] > warmup and s["server_anon_kb"] > 0]
if len(after) >= 2:
    base, last = after[0]["server_anon_kb"], after[-1]["server_anon_kb"]
    change = last / base - 1
    print(f"anonymous memory after the warm-up: {base / 1024:.1f} MB -> {last / 1024:.1f} MB"
          f" ({change * 100:+.1f}%, limit +{growth * 100:.0f}%)")
    if change > growth:
        failures.append(f"anonymous memory grew {change * 100:.1f}% after the warm-up")
else:
    failures.append("fewer than two samples after the warm-up: raise DURATION")
if failures:
    print("soak FAILED: " + "; ".join(failures))
    sys.exit(1)
print(f"soak passed: {report['calls']} calls, none lost or failed")
PY
