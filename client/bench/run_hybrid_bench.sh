#!/usr/bin/env bash
# Hybrid search benchmark: Fashion-MNIST (60000 x 784, L2) loaded into a
# fresh hartonomousd, its projection fitted, then HybridSearch at radii
# keeping about 1%, 5% and 20% of the rows next to an exact scan and HNSW
# search of the same collection, and the in-process reference
# (hartonomous-bench hybrid-suite). Prints Markdown for docs/benchmarks.md.
# Builds nothing.
#
#   client/bench/run_hybrid_bench.sh [BUILD_DIR]      (default: build)
#
# Environment: DATA_ROOT=${TMPDIR:-/tmp}; extra bench flags in BENCH_FLAGS.
set -euo pipefail

source "$(dirname "$0")/bench_server.sh"
start_bench_server
"$BENCH_BIN" hybrid-suite --server "$SERVER_ADDR" ${BENCH_FLAGS:-}
stop_server
echo
print_run_time
