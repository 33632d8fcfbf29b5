#!/usr/bin/env bash
# End-to-end test of the Docker image: builds deploy/Dockerfile, runs it on a
# named volume with host networking on loopback, ingests and searches from
# the host with the CLI, stops and starts the container, and checks that the
# data is intact, health is SERVING (Docker's HEALTHCHECK too) and /metrics
# is served and valid. Prints the image size and the build and test times.
#
# Usage: deploy/docker-test.sh [BUILD_DIR]   (BUILD_DIR holds the host CLI;
#        default ./build). Needs root (or the docker group), docker.io and
#        debootstrap (deploy/install-deps.sh), promtool (prometheus) and
#        python3-numpy. Starts dockerd when none runs (no bridge network,
#        no iptables rules: every container here uses the host's network)
#        and stops it again at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=$(realpath "${1:-${BUILD_DIR:-build}}")
CLI="$BUILD_DIR/client/cli/hartonomous"
IMAGE=${IMAGE:-hartonomous:test}
# Debian's client, which speaks BuildKit without the buildx plugin.
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
export DOCKER_BUILDKIT=1
# Debian's Python, with python3-numpy (install-deps.sh).
PYTHON=/usr/bin/python3
NAME="hartonomous-test-$$"
VOLUME="hartonomous-test-data-$$"
WORK=$(mktemp -d)
STARTED_DOCKERD=""

log() { echo "docker-test: $*"; }
fail() { echo "docker-test: FAILED: $*" >&2; exit 1; }

cleanup() {
  set +e
  if [ -n "${NAME:-}" ] && "$DOCKER" container inspect "$NAME" >/dev/null 2>&1; then
    "$DOCKER" logs "$NAME" >"$WORK/container.log" 2>&1
    "$DOCKER" rm -f "$NAME" >/dev/null
  fi
  "$DOCKER" volume rm -f "$VOLUME" >/dev/null 2>&1
  if [ -n "$STARTED_DOCKERD" ]; then
    kill "$STARTED_DOCKERD" 2>/dev/null
    wait "$STARTED_DOCKERD" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$CLI" ] || fail "no CLI at $CLI (build first: deploy/build.sh)"

# 1. A Docker engine.
if ! "$DOCKER" info >/dev/null 2>&1; then
  log "starting dockerd"
  dockerd --bridge=none --iptables=false --ip6tables=false >"$WORK/dockerd.log" 2>&1 &
  STARTED_DOCKERD=$!
  for _ in $(seq 1 60); do
    "$DOCKER" info >/dev/null 2>&1 && break
    kill -0 "$STARTED_DOCKERD" 2>/dev/null || { cat "$WORK/dockerd.log" >&2; fail "dockerd exited"; }
    sleep 1
  done
  "$DOCKER" info >/dev/null 2>&1 || fail "dockerd did not come up in 60 s"
fi

# 2. The base images, made locally when no registry has them.
DOCKER="$DOCKER" deploy/docker-base-images.sh >/dev/null

# 3. The image, as users build it (the build stage needs the Debian archive).
log "building $IMAGE"
build_start=$(date +%s)
"$DOCKER" build --network host -f deploy/Dockerfile -t "$IMAGE" . >"$WORK/build.log" 2>&1 \
  || { tail -50 "$WORK/build.log" >&2; fail "docker build"; }
build_seconds=$(( $(date +%s) - build_start ))
test_start=$(date +%s)

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
GRPC_PORT=$(free_port)
METRICS_PORT=$(free_port)
SERVER="127.0.0.1:$GRPC_PORT"
METRICS="http://127.0.0.1:$METRICS_PORT/metrics"

"$DOCKER" volume create "$VOLUME" >/dev/null
"$DOCKER" run -d --name "$NAME" --network host -v "$VOLUME:/data" \
  -e HARTONOMOUS_LISTEN="$SERVER" -e HARTONOMOUS_SERVER="$SERVER" \
  -e HARTONOMOUS_METRICS_LISTEN="127.0.0.1:$METRICS_PORT" "$IMAGE" >/dev/null

wait_serving() {
  "$CLI" --server "$SERVER" --timeout 120 health --wait >/dev/null \
    || { "$DOCKER" logs "$NAME" >&2; fail "not SERVING"; }
}
wait_healthy() {  # Docker's own HEALTHCHECK (hartonomous health in the container)
  for _ in $(seq 1 120); do
    status=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$NAME")
    [ "$status" = healthy ] && return 0
    [ "$status" = unhealthy ] && fail "HEALTHCHECK reports unhealthy"
    sleep 1
  done
  fail "HEALTHCHECK not healthy after 120 s"
}

wait_serving
uid=$("$DOCKER" exec "$NAME" id -u)
[ "$uid" != 0 ] || fail "the server runs as root"
log "container up, server runs as uid $uid"

# 4. Ingest and search from the host.
echo "an atom stored through the container" >"$WORK/atom.txt"
"$CLI" --server "$SERVER" --json ingest "$WORK/atom.txt" >"$WORK/ingest.json"
atom_id=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["atom_id"])' \
  "$WORK/ingest.json")
"$PYTHON" -c 'import numpy as np; np.save("'"$WORK"'/vectors.npy", np.random.default_rng(7).standard_normal((300, 16)).astype(np.float32))'
"$CLI" --server "$SERVER" load-vectors -c docker "$WORK/vectors.npy" >/dev/null
"$CLI" --server "$SERVER" search docker --file "$WORK/vectors.npy" --row 5 -k 5 >"$WORK/search.before"
"$CLI" --server "$SERVER" get "$atom_id" >"$WORK/get.before"
grep -q . "$WORK/search.before" || fail "empty search result"

# 5. Stop and start the container: the data and the index come back.
"$DOCKER" stop -t 30 "$NAME" >/dev/null
"$DOCKER" start "$NAME" >/dev/null
wait_serving
"$CLI" --server "$SERVER" get "$atom_id" >"$WORK/get.after"
"$CLI" --server "$SERVER" search docker --file "$WORK/vectors.npy" --row 5 -k 5 >"$WORK/search.after"
diff -u "$WORK/get.before" "$WORK/get.after" || fail "the atom changed across the restart"
diff -u "$WORK/search.before" "$WORK/search.after" || fail "the search changed across the restart"
health=$("$CLI" --server "$SERVER" health)
[ "$health" = SERVING ] || fail "health after restart: $health"
wait_healthy

# 6. Metrics scraped from the host, valid, with the data's numbers.
"$PYTHON" - "$METRICS" "$WORK/metrics.txt" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=30) as r:
    open(sys.argv[2], "wb").write(r.read())
PY
promtool check metrics <"$WORK/metrics.txt" || fail "promtool rejects /metrics"
grep -qx 'hartonomous_collection_vectors{collection="docker"} 300' "$WORK/metrics.txt" \
  || fail "metrics: collection docker should hold 300 vectors"
grep -q '^hartonomous_rpc_requests_total{method="/grpc.health.v1.Health/Check",code="OK"}' \
  "$WORK/metrics.txt" || fail "metrics: no health checks counted"

size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
test_seconds=$(( $(date +%s) - test_start ))
log "image $IMAGE: $((size / 1024 / 1024)) MiB ($size bytes)"
log "build ${build_seconds} s, run and checks ${test_seconds} s"
log "PASSED"
