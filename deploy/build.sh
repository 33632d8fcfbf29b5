#!/usr/bin/env bash
# Configures and builds Hartonomous into ./build (or $BUILD_DIR).
# Usage: deploy/build.sh [Release|RelWithDebInfo|Debug]
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache keys on paths relative to this checkout (not to the file system's
# root), so a clone at another path reuses the same cache entries.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
BUILD_DIR=${BUILD_DIR:-build}
TYPE=${1:-RelWithDebInfo}
JOBS=${JOBS:-$(nproc)}
# ccache, when installed, keeps rebuilds of unchanged files cheap.
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$TYPE" "${launcher[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
