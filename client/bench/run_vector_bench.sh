#!/usr/bin/env bash
# Vector benchmark: Fashion-MNIST (60000 x 784, L2) loaded into a fresh
# hartonomousd and searched, next to hnswlib in-process on the same data
# (hartonomous-vector-bench), then restart times: from a snapshot, and
# rebuilding from LMDB with the snapshots removed. Prints Markdown for
# docs/benchmarks.md. Builds nothing.
#
#   client/bench/run_vector_bench.sh [BUILD_DIR]      (default: build)
#
# Environment: DATA_ROOT=${TMPDIR:-/tmp}; extra bench flags in BENCH_FLAGS.
set -euo pipefail

BUILD=${1:-build}
DATA_ROOT=${DATA_ROOT:-${TMPDIR:-/tmp}}
SERVER_BIN=$BUILD/server/hartonomousd
BENCH_BIN=$BUILD/client/bench/hartonomous-vector-bench
for bin in "$SERVER_BIN" "$BENCH_BIN"; do
  [[ -x $bin ]] || { echo "run_vector_bench: $bin not found; build it first" >&2; exit 2; }
done
WORK=$(mktemp -d "$DATA_ROOT/hvbench.XXXXXX")
SERVER_PID=
cleanup() {
  [[ -z $SERVER_PID ]] || kill -TERM "$SERVER_PID" 2>/dev/null || true
  [[ -z $SERVER_PID ]] || wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Starts hartonomousd; sets SERVER_PID, SERVER_ADDR and STARTUP_S (process
# start to listening, which comes after every index is loaded).
start_server() {
  : > "$WORK/out"
  local t0; t0=$(date +%s.%N)
  "$SERVER_BIN" --listen 127.0.0.1:0 --data-dir "$WORK/data" >"$WORK/out" 2>>"$WORK/log" &
  SERVER_PID=$!
  for _ in $(seq 6000); do
    grep -q listening "$WORK/out" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/log" >&2; exit 1; }
    sleep 0.01
  done
  STARTUP_S=$(echo "$(date +%s.%N) - $t0" | bc)
  SERVER_ADDR=$(awk '/listening/ {print $4}' "$WORK/out")
}
stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=
}

echo "- Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
start_server
"$BENCH_BIN" --server "$SERVER_ADDR" ${BENCH_FLAGS:-}
stop_server  # a clean stop writes the snapshot
echo
echo "- Load average at end of the searches: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- Snapshot on disk: $(du -sh "$WORK/data/vector_indexes" | cut -f1); data.mdb: $(du -sh "$WORK/data/data.mdb" | cut -f1)"
start_server
echo "- Restart from the snapshot: ${STARTUP_S} s to listening ($(grep -o "collection 'fmnist'.*" "$WORK/log" | tail -1))"
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
rm -rf "$WORK/data/vector_indexes"
start_server
echo "- Restart without snapshots (index rebuilt from LMDB): ${STARTUP_S} s to listening"
stop_server
