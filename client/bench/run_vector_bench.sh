#!/usr/bin/env bash
# Vector benchmark: Fashion-MNIST (60000 x 784, L2) loaded into a fresh
# hartonomousd and searched (unary Search from 1, 2 and 8 clients, BatchSearch
# of 100 queries from 1 and 2 clients), next to hnswlib in-process on the same
# data with 1, 2 and 8 threads, built both like the daemon and with
# -march=native, and an exact scan per kernel table against a streaming sum
# (hartonomous-bench vector-suite), then restart times,
# from process start to the first answered Search: from a snapshot, and
# rebuilding from LMDB with the snapshots removed. Prints Markdown for
# docs/benchmarks.md. Builds nothing.
#
#   client/bench/run_vector_bench.sh [BUILD_DIR]      (default: build)
#
# Environment: DATA_ROOT=${TMPDIR:-/tmp}; extra bench flags in BENCH_FLAGS.
set -euo pipefail

source "$(dirname "$0")/bench_server.sh"
start_bench_server
"$BENCH_BIN" vector-suite --server "$SERVER_ADDR" --server-pid "$SERVER_PID" ${BENCH_FLAGS:-}
stop_server  # a clean stop writes the snapshot
echo "- Load average at the end of the searches: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Restart (same port; a probe started with the daemon sends one Search and waits for the answer):"
echo
echo "- Snapshot on disk: $(du -sh "$WORK/data/vector_indexes" | cut -f1); data.mdb: $(du -sh "$WORK/data/data.mdb" | cut -f1)"
PROBE=1 start_server "$SERVER_ADDR"
SNAP_S=$FIRST_QUERY_S
echo "- From the snapshot: ${SNAP_S} s from process start to the first answered Search (${LISTEN_S} s to listening; $(grep -o "collection 'fmnist'.*" "$WORK/log" | tail -1))"
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
rm -rf "$WORK/data/vector_indexes"
PROBE=1 start_server "$SERVER_ADDR"
REBUILD_S=$FIRST_QUERY_S
echo "- Without snapshots (index rebuilt from LMDB): ${REBUILD_S} s from process start to the first answered Search (${LISTEN_S} s to listening)"
echo "- Rebuild / snapshot: $(echo "scale=1; $REBUILD_S / $SNAP_S" | bc)x"
stop_server
print_run_time
