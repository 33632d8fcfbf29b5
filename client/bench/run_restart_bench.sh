#!/usr/bin/env bash
# Restart after kill -9 with ROWS unsnapshotted vectors to replay: seconds
# from process start to the "listening" line and to the first answered
# Search (the probe waits for health SERVING, then searches), for each
# hartonomousd given, each run on a fresh copy of the same data dir.
#
# Usage: client/bench/run_restart_bench.sh BUILD_DIR [ROWS] [RUNS] [HARTONOMOUSD...]
#   BUILD_DIR  a build with hartonomousd, hartonomous and hartonomous-bench
#   ROWS       Fashion-MNIST training images loaded (default 12000)
#   RUNS       restarts per binary (default 3; report the median)
#   HARTONOMOUSD  binaries to compare (default BUILD_DIR's)
set -euo pipefail

BUILD=$1
ROWS=${2:-12000}
RUNS=${3:-3}
shift $(($# < 3 ? $# : 3))
BINS=("$@")
[[ ${#BINS[@]} -gt 0 ]] || BINS=("$BUILD/server/hartonomousd")
CLI=$BUILD/client/cli/hartonomous
BENCH=$BUILD/client/bench/hartonomous-bench
IMAGES=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
QUERIES=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz

WORK=$(mktemp -d)
PID=
cleanup() {
  [[ -z $PID ]] || kill -9 "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# start BIN DATA: sets PID, ADDR, T0_NS and LISTEN_S.
start() {
  : > "$WORK/out"
  T0_NS=$(date +%s%N)
  "$1" --listen 127.0.0.1:0 --data-dir "$2" --snapshot-interval 0 --projection-fit-after 0 \
    >"$WORK/out" 2>>"$WORK/log" &
  PID=$!
  until grep -q listening "$WORK/out"; do
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/log" >&2; exit 1; }
    sleep 0.005
  done
  LISTEN_S=$(echo "scale=3; ($(date +%s%N) - $T0_NS) / 1000000000" | bc)
  ADDR=$(awk '/listening/ {print $4}' "$WORK/out")
}

kill9() {
  kill -9 "$PID"
  wait "$PID" 2>/dev/null || true
  PID=
}

# The data: ROWS vectors in collection "fmnist", loaded with periodic
# snapshots and the projection fit off, then kill -9. The daemon snapshots a
# collection by itself after 10,000 changes; the snapshots are removed so
# that a restart replays all ROWS rows from LMDB.
start "${BINS[0]}" "$WORK/master"
"$CLI" --server "$ADDR" load-vectors "$IMAGES" -c fmnist --metric l2 --limit "$ROWS" >/dev/null
kill9
rm -rf "$WORK/master/vector_indexes"
echo "machine: $(nproc) cores, $(uname -r); $(date -u '+%Y-%m-%d %H:%M UTC'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rows: $ROWS (kill -9 after loading, no snapshot on disk)"
for bin in "${BINS[@]}"; do
  for run in $(seq "$RUNS"); do
    rm -rf "$WORK/data"
    cp -a "$WORK/master" "$WORK/data"
    : > "$WORK/log"
    start "$bin" "$WORK/data"
    listen=$LISTEN_S
    ready=$("$BENCH" restart-probe --since-ns "$T0_NS" --server "$ADDR" --queries "$QUERIES")
    kill9
    # A second kill -9 and restart: what is left to replay.
    start "$bin" "$WORK/data"
    listen2=$LISTEN_S
    again=$("$BENCH" restart-probe --since-ns "$T0_NS" --server "$ADDR" --queries "$QUERIES")
    kill9
    echo "$bin run $run: restart: listening ${listen}s, first Search ${ready}s;" \
         "after a second kill -9: listening ${listen2}s, first Search ${again}s"
  done
done
