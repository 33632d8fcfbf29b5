#!/usr/bin/env bash
# Runs run_h2load_check.sh against a fresh hartonomousd (the ctest
# bench.h2load_check): BUILD_DIR SCRIPTS_DIR.
set -euo pipefail
BUILD=$1
SCRIPTS=$2
source "$SCRIPTS/bench_server.sh" "$BUILD"
require_built "$BUILD/client/bench/hartonomous-bench"
start_server 127.0.0.1:0
SERVER_ADDR=$SERVER_ADDR BENCH_BIN=$BUILD/client/bench/hartonomous-bench OUT=$WORK \
  "$SCRIPTS/run_h2load_check.sh" | tee "$WORK/summary"
grep -q "h2load .* ($REQUESTS of $REQUESTS succeeded)" "$WORK/summary"
grep -q "hartonomous-bench .* ($REQUESTS of $REQUESTS OK)" "$WORK/summary"
