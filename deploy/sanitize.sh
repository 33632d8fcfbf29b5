#!/usr/bin/env bash
# Builds Hartonomous with clang under a sanitizer and runs tests on that
# build (a separate build dir; the normal build is untouched).
#
#   deploy/sanitize.sh asan            # ASan + UBSan: every unit and integration test
#   deploy/sanitize.sh tsan            # TSan: the same, every index test
#   deploy/sanitize.sh asan ci         # the same
#   deploy/sanitize.sh tsan ci         # TSan: storage and engine tests, index concurrency tests
# The "ci" scopes are what deploy/test.sh runs (about 10 minutes each on 2
# cores with a warm compiler cache); the full tsan scope adds every index test.
#
# asan: AddressSanitizer (heap, stack and global overflows, use after free,
# leaks at exit) and UndefinedBehaviorSanitizer, every finding fatal, in
# build-asan. The integration tests start the sanitized hartonomousd, so a
# finding in the server fails the test that caused it (its log holds the
# report).
# tsan: ThreadSanitizer in build-tsan, on the tests that run threads against
# shared state: the group-commit writer and LMDB environment, the vector
# indexes (parallel adds and searches), and the atom and embedding engines
# under concurrent callers, and the work pool.
#
# Exit status: non-zero when a build fails or any test (or sanitizer) fails.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to this checkout (not to the file system's
# root), so a clone at another path reuses the same cache entries.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
mode=${1:?usage: deploy/sanitize.sh asan|tsan [ci]}
scope=${2:-all}
JOBS=${JOBS:-$(nproc)}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

case "$mode" in
  asan)
    dir=${BUILD_DIR:-build-asan}
    sanitize="address,undefined"
    targets=(all)
    tests=(-LE "docker|bench|install|static|deploy")
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    export LSAN_OPTIONS="suppressions=$PWD/deploy/sanitizer/lsan.supp:print_suppressions=0"
    ;;
  tsan)
    dir=${BUILD_DIR:-build-tsan}
    sanitize="thread"
    targets=(storage_unit_tests index_unit_tests engine_unit_tests base_unit_tests)
    # Two groups. The first runs with lock-order (deadlock) checking. The
    # second runs without it: the index tests and the engine tests that
    # build HNSW graphs large enough for hnswlib's per-element link locks,
    # which addPoint takes in both orders even on one thread (TSan then
    # reports an inversion without stacks to suppress it by;
    # deploy/sanitizer/tsan.supp). Races are still reported there.
    hnsw_engine="replay with several threads|Load reports replay progress"
    work_pool="work posted to one thread|a full queue refuses work|several threads run work"
    tests=(-L unit -R "unit\.(storage|engine)\.|unit\.base\.($work_pool)" -E "unit\.engine\.($hnsw_engine)")
    index_tests=(-L unit -R "unit\.index\.(hnsw searches running during inserts|AddBatch with several threads)|unit\.engine\.($hnsw_engine)")
    if [ "$scope" != ci ]; then
      index_tests=(-L unit -R "unit\.index\.|unit\.engine\.($hnsw_engine)")
    fi
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/deploy/sanitizer/tsan.supp"
    ;;
  *)
    echo "usage: deploy/sanitize.sh asan|tsan [ci]" >&2
    exit 2
    ;;
esac

export CC=clang CXX=clang++
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHARTONOMOUS_SANITIZE="$sanitize" \
  -DHARTONOMOUS_BUILD_BENCHMARKS=OFF "${launcher[@]}" >/dev/null
cmake --build "$dir" -j "$JOBS" --target "${targets[@]}"
ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "${tests[@]}"
if [ "$mode" = tsan ]; then
  TSAN_OPTIONS="$TSAN_OPTIONS:detect_deadlocks=0" \
    ctest --test-dir "$dir" --output-on-failure -j "$JOBS" "${index_tests[@]}"
fi
