#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, integration
# against a real hartonomousd, and the installed-package check) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh RelWithDebInfo
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${JOBS:-$(nproc)}"
