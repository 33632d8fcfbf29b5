#!/usr/bin/env bash
# Hybrid search benchmark: Fashion-MNIST (60000 x 784, L2) loaded into a
# fresh hartonomousd, its projection fitted, then HybridSearch at radii
# keeping about 1%, 5% and 20% of the rows next to an exact scan and HNSW
# search of the same collection, and the in-process reference
# (hartonomous-hybrid-bench). Prints Markdown for docs/benchmarks.md.
# Builds nothing.
#
#   client/bench/run_hybrid_bench.sh [BUILD_DIR]      (default: build)
#
# Environment: DATA_ROOT=${TMPDIR:-/tmp}; extra bench flags in BENCH_FLAGS.
set -euo pipefail

BUILD=${1:-build}
DATA_ROOT=${DATA_ROOT:-${TMPDIR:-/tmp}}
SERVER_BIN=$BUILD/server/hartonomousd
BENCH_BIN=$BUILD/client/bench/hartonomous-hybrid-bench
for bin in "$SERVER_BIN" "$BENCH_BIN"; do
  [[ -x $bin ]] || { echo "run_hybrid_bench: $bin not found; build it first" >&2; exit 2; }
done
source "$(dirname "$0")/bench_server.sh"
print_machine
START=$(date +%s)
start_server 127.0.0.1:0
"$BENCH_BIN" --server "$SERVER_ADDR" ${BENCH_FLAGS:-}
stop_server
echo
echo "- Whole run: $(( $(date +%s) - START )) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
