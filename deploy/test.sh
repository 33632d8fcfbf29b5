#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, integration
# against a real hartonomousd, and the installed-package check) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh RelWithDebInfo
# The Docker end-to-end test (label docker) builds the image: about an hour
# the first time on 2 cores, then under a minute plus what changed (Docker's
# layer cache and the image build's ccache mount). HARTONOMOUS_TEST_DOCKER=0
# skips it.
exclude=()
if [ "${HARTONOMOUS_TEST_DOCKER:-1}" = 0 ]; then exclude=(-LE docker); fi
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${JOBS:-$(nproc)}" "${exclude[@]}"

# Bounded proofs outside ctest (each in its own clang build dir): every fuzz
# target for FUZZ_SECONDS, the ThreadSanitizer build of the storage, engine
# and index concurrency tests, and the AddressSanitizer + UBSan build of
# every unit and integration test and the crash loop (the daemon
# sanitized). HARTONOMOUS_TEST_PROOFS=0 skips them.
if [ "${HARTONOMOUS_TEST_PROOFS:-1}" = 1 ]; then
  SECONDS_PER_TARGET=${FUZZ_SECONDS:-10} fuzz/run_fuzzers.sh
  deploy/sanitize.sh tsan ci
  deploy/sanitize.sh asan ci
fi
