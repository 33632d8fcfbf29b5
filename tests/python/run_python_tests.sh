#!/usr/bin/env bash
# Installs the Python package as docs/python.md says (a venv over Debian's
# python3 with its site packages, pip without an index) into the build
# directory, then runs client/python/tests with pytest against a real
# hartonomousd.
#   run_python_tests.sh SOURCE_DIR BUILD_DIR HARTONOMOUSD
set -euo pipefail
src=$1 build=$2 daemon=$3
venv=$build/python-venv
stage=$build/python-src

rm -rf "$venv" "$stage"
/usr/bin/python3 -m venv --system-site-packages "$venv"
# Build from a copy, so that the source tree stays free of build output.
cp -r "$src/client/python" "$stage"
rm -rf "$stage/build" "$stage"/*.egg-info
HARTONOMOUS_PROTO_DIR=$src/proto "$venv/bin/pip" install --quiet --no-index \
  --no-build-isolation "$stage"

cd "$build"
PYTHONDONTWRITEBYTECODE=1 HARTONOMOUSD=$daemon \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$src/client/python/tests"
