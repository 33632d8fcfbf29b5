#!/usr/bin/env bash
# Inference log benchmark: for each of RUNS runs, a fresh hartonomousd, the
# atom ingest of hartonomous-bench as the reference measured in the same
# run, then hartonomous-bench inference-suite (log ROWS inferences with 3 steps
# each from CLIENTS clients in streams of BATCH, analytics latency, newest
# 100 of a model, prune of the older half). Prints each run's JSON lines.
#
#   client/bench/run_inference_bench.sh [BUILD_DIR]      (default: build)
#
# Environment (defaults): RUNS=3 ROWS=1000000 CLIENTS=8 BATCH=500
#   REF_ATOMS=100000 DATA_ROOT=${TMPDIR:-/tmp} (a real disk: commits fsync)
set -euo pipefail

BUILD=${1:-build}
RUNS=${RUNS:-3}
ROWS=${ROWS:-1000000}
CLIENTS=${CLIENTS:-8}
BATCH=${BATCH:-500}
REF_ATOMS=${REF_ATOMS:-100000}
DATA_ROOT=${DATA_ROOT:-${TMPDIR:-/tmp}}
SERVER_BIN=$BUILD/server/hartonomousd
BENCH_BIN=$BUILD/client/bench/hartonomous-bench
for bin in "$SERVER_BIN" "$BENCH_BIN"; do
  [[ -x $bin ]] || { echo "run_inference_bench: $bin not found; build it first" >&2; exit 2; }
done

WORK=$(mktemp -d "$DATA_ROOT/hbench.XXXXXX")
SERVER_PID=
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
trap 'stop_server; rm -rf "$WORK"' EXIT

start_server() {
  rm -rf "$WORK/data" && : > "$WORK/out"
  "$SERVER_BIN" --listen 127.0.0.1:0 --data-dir "$WORK/data" >"$WORK/out" 2>>"$WORK/log" &
  SERVER_PID=$!
  for _ in $(seq 6000); do
    grep -q listening "$WORK/out" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/log" >&2; exit 1; }
    sleep 0.01
  done
  SERVER_ADDR=$(awk '/listening/ {print $4}' "$WORK/out")
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, ROWS=$ROWS CLIENTS=$CLIENTS BATCH=$BATCH"
for run in $(seq "$RUNS"); do
  start_server
  echo "run $run reference: $("$BENCH_BIN" ingest --server "$SERVER_ADDR" --atoms "$REF_ATOMS" \
      --atom-bytes 1024 --clients 8 --batch 1000 --json)"
  stop_server
  start_server
  if ! result=$("$BENCH_BIN" inference-suite --server "$SERVER_ADDR" --rows "$ROWS" \
      --clients "$CLIENTS" --batch "$BATCH" --json); then
    kill -0 "$SERVER_PID" 2>/dev/null && alive=alive || alive="not running"
    echo "run $run inference: failed (hartonomousd $alive); its log:" && tail -20 "$WORK/log"
  fi
  echo "run $run inference: $result"
  stop_server
done
