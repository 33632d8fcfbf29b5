#!/usr/bin/env bash
# Unary writes under load (docs/benchmarks.md, "Load"): IngestAtom (1 KiB
# text atoms, --prepare-atoms distinct ones) and LogInference (prompt/answer
# pairs from the license texts) at concurrency 1, 8, 64 and 256 (up to 8
# channels), closed loop, on one fresh hartonomousd. Prints one line per
# point and leaves the JSON reports in $OUT.
#
#   client/bench/run_write_bench.sh [BUILD_DIR]      (default: build)
#
# Environment (defaults): SECONDS_PER_POINT=8 CONCURRENCY="1 8 64 256"
#   WORKLOADS="ingest-atom log-inference" DISTINCT_ATOMS=200000
#   DATA_ROOT=${TMPDIR:-/tmp}
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/bench_server.sh"
BENCH_BIN=$BUILD/client/bench/hartonomous-bench
require_built "$BENCH_BIN"
SECS=${SECONDS_PER_POINT:-8}
CONCURRENCY=${CONCURRENCY:-1 8 64 256}
WORKLOADS=${WORKLOADS:-ingest-atom log-inference}
DISTINCT_ATOMS=${DISTINCT_ATOMS:-200000}
OUT=${OUT:-$(mktemp -d "$DATA_ROOT/hwrite.XXXXXX")}
mkdir -p "$OUT"

print_machine
start_server 127.0.0.1:0
echo "write bench: hartonomousd $SERVER_ADDR (pid $SERVER_PID), reports in $OUT"
for workload in $WORKLOADS; do
  for c in $CONCURRENCY; do
    channels=$(( c < 8 ? c : 8 ))
    "$BENCH_BIN" "$workload" --server "$SERVER_ADDR" --concurrency "$c" --channels "$channels" \
      --prepare-atoms "$DISTINCT_ATOMS" --duration-s "$SECS" --warmup-s 1 \
      --json-out "$OUT/$workload-c$c.json" >"$OUT/$workload-c$c.txt" 2>&1
    /usr/bin/python3 - "$OUT/$workload-c$c.json" "$workload" "$c" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
l = d["latency_us"]
print(f"{sys.argv[2]} concurrency {sys.argv[3]}: {d['calls_per_s']:.0f} calls/s, p50 {l['p50']:.0f} us,"
      f" p99 {l['p99']:.0f} us, errors {d['errors'] or 'none'}")
PY
  done
done
echo "server threads at the end: $(awk '/^Threads:/ {print $2}' "/proc/$SERVER_PID/status")"
print_run_time
