#!/usr/bin/env bash
# Installs what is missing, builds, and starts hartonomousd on its defaults:
# 127.0.0.1:50051 with LMDB in ./data. Extra arguments go to hartonomousd
# (e.g. --listen 0.0.0.0:50051 --data-dir /srv/hartonomous).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh Release
exec "${BUILD_DIR:-build}/server/hartonomousd" "$@"
